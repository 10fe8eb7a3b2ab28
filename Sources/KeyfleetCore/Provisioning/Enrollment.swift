/// What a new host needs to enroll its agent: where the server is, a one-time token, and the hash that
/// pins the server's CA certificate (nil for a plain-HTTP server, which has no certificate to pin).
public struct Enrollment: Hashable, Sendable {
    /// The server's base URL, `https://...` (or `http://` for a loopback or test server).
    public let serverURL: String
    /// The one-time enrollment token.
    public let token: String
    /// `sha256:` and 64 lower-case hex digits: the SHA-256 of the server's CA certificate (DER); nil for a
    /// plain-HTTP server.
    public let caCertHash: String?

    /// Checks and keeps the three values.
    ///
    /// - Throws: ``PolicyError/Code-swift.struct/invalidEnrollment`` when the URL is not `http(s)://` with a
    ///   host and no blanks or control characters, the token is not 16 to 512 characters of base64url
    ///   (`A-Z a-z 0-9 - _`, `.` and `~`), or a hash is given that is not `sha256:` and 64 lower-case hex digits.
    public init(serverURL: String, token: String, caCertHash: String?) throws(PolicyError) {
        guard serverURL.utf8.count <= 2048, serverURL.hasPrefix("https://") || serverURL.hasPrefix("http://"),
            serverURL.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }),
            let rest = serverURL.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).dropFirst(2).first,
            !rest.isEmpty
        else {
            throw PolicyError(
                .invalidEnrollment, "the server URL \"\(PolicyError.printable(serverURL))\" is not an http(s) URL of printable ASCII",
                field: "serverURL")
        }
        guard SecretText.isWellFormed(token) else {
            throw PolicyError(.invalidEnrollment, "the enrollment token is not 16 to 512 URL-safe characters", field: "token")
        }
        if let caCertHash {
            guard CertificatePin.isWellFormed(caCertHash) else {
                throw PolicyError(
                    .invalidEnrollment, "the CA certificate hash is not \"sha256:\" and 64 lower-case hex digits", field: "caCertHash")
            }
        }
        self.serverURL = serverURL
        self.token = token
        self.caCertHash = caCertHash
    }
}
