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
    /// The agent package a new host installs when its image has no agent; nil when images bring it.
    public let agentPackage: AgentPackage?

    /// Checks and keeps the values.
    ///
    /// - Throws: ``PolicyError/Code-swift.struct/invalidEnrollment`` when the URL is not `http(s)://` with a
    ///   host and no blanks or control characters, the token is not 16 to 512 characters of base64url
    ///   (`A-Z a-z 0-9 - _`, `.` and `~`), or a hash is given that is not `sha256:` and 64 lower-case hex digits.
    public init(serverURL: String, token: String, caCertHash: String?, agentPackage: AgentPackage? = nil) throws(PolicyError) {
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
        self.agentPackage = agentPackage
    }
}

/// Where a new host downloads the `keyfleet-agent` Debian package, and the SHA-256 it must have.
public struct AgentPackage: Hashable, Sendable {
    /// `https://` (or `http://`; the hash is what is trusted) URL of printable ASCII without quotes or blanks.
    public let url: String
    /// 64 lower-case hex digits.
    public let sha256: String

    /// Checks and keeps both.
    ///
    /// - Throws: ``PolicyError/Code-swift.struct/invalidEnrollment`` for a URL that is not http(s) of printable
    ///   ASCII, or a hash that is not 64 hex digits (upper case is accepted and kept in lower case).
    public init(url: String, sha256: String) throws(PolicyError) {
        guard url.utf8.count <= 2048, url.hasPrefix("https://") || url.hasPrefix("http://"), url.utf8.count > 8,
            url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "'") })
        else {
            throw PolicyError(
                .invalidEnrollment, "the agent package URL \"\(PolicyError.printable(url))\" is not an http(s) URL of printable ASCII",
                field: "agentPackageURL")
        }
        let hex = sha256.lowercased()
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw PolicyError(.invalidEnrollment, "the agent package's SHA-256 is not 64 hex digits", field: "agentPackageSHA256")
        }
        self.url = url
        self.sha256 = hex
    }
}
