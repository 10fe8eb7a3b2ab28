internal import AuthorizedKeysCache
internal import KeyfleetCore
internal import SSHKeys

/// The keys of every login of this host, as the server last answered them completely, checked line by
/// line and rendered again from parsed values: nothing the server sent reaches sshd as raw text.
///
/// Decoding (the agent's own `access.json`) checks exactly as ``init(version:logins:)`` does.
public struct AccessSet: Hashable, Sendable, Codable {
    /// The server's version of this set.
    public let version: Int64
    /// Every login of the host with its authorized_keys lines, in order (possibly none).
    public let logins: [String: [String]]
    /// Each line's SHA-256 fingerprint (sshd's `%f`), in the order of ``logins``; found while checking.
    let fingerprints: [String: [String]]

    enum CodingKeys: String, CodingKey {
        case version, logins
    }

    /// The most lines one login may have, and the most bytes of all lines together; a larger answer is refused.
    public static let maximumLinesPerLogin = 200_000
    static let maximumTotalBytes = 256 << 20
    /// The most bytes of a sync answer's body: 256 MiB of lines and a quarter more for the JSON around them
    /// (quotes, commas, indentation, escaped slashes). The agent stops reading there (``AnswerLimit``).
    static let maximumAnswerBytes = maximumTotalBytes + maximumTotalBytes / 4

    /// Checks an answer: every login a valid Unix name, every line a plain key whose only option is
    /// `expiry-time` (the one the server renders). Any fault refuses the whole answer.
    public init(version: Int64, logins: [String: [String]]) throws(AgentError) {
        var fingerprints: [String: [String]] = [:]
        var totalBytes = 0
        for (login, lines) in logins {
            guard (try? LoginName(login)) != nil, CacheFile.isValidLogin(Array(login.utf8)) else {
                throw AgentError.malformedAnswer("the login \"\(AgentError.printable(login))\" is not a valid user name")
            }
            guard lines.count <= Self.maximumLinesPerLogin else {
                throw AgentError.malformedAnswer("the login \(login) has more than \(Self.maximumLinesPerLogin) keys")
            }
            var found: [String] = []
            found.reserveCapacity(lines.count)
            for line in lines {
                // One line each: a line break here could carry a second key or options past the parser.
                guard
                    !line.unicodeScalars.contains(where: {
                        $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{85}" || $0 == "\u{2028}" || $0 == "\u{2029}"
                    })
                else {
                    throw AgentError.malformedAnswer("a line for \(login) contains a line break or control character")
                }
                let key: AuthorizedKey
                do {
                    key = try AuthorizedKey(line: line)
                } catch {
                    throw AgentError.malformedAnswer("a line for \(login) is not an authorized_keys line: \(error.description)")
                }
                for option in key.options {
                    guard case .expiryTime = option else {
                        throw AgentError.malformedAnswer("a line for \(login) carries the option \(option.name), which Keyfleet never sends")
                    }
                }
                // The server renders every line from a parsed value; anything else is not its answer.
                guard key.line == line else {
                    throw AgentError.malformedAnswer("a line for \(login) is not in the canonical form the server renders")
                }
                totalBytes += line.utf8.count + 1
                guard totalBytes <= Self.maximumTotalBytes else { throw AgentError.malformedAnswer("the answer is over 256 MiB of keys") }
                found.append(key.key.fingerprint(.sha256))
            }
            fingerprints[login] = found
        }
        self.version = version
        self.logins = logins
        self.fingerprints = fingerprints
    }

    /// A set taken as given, without the checks: only for tests of the writers' own defences.
    init(uncheckedVersion version: Int64, logins: [String: [String]]) {
        self.version = version
        self.logins = logins
        self.fingerprints = logins.mapValues { lines in
            lines.map { line in (try? AuthorizedKey(line: line))?.key.fingerprint(.sha256) ?? "" }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(Int64.self, forKey: .version)
        let logins = try container.decode([String: [String]].self, forKey: .logins)
        do {
            try self.init(version: version, logins: logins)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.logins], debugDescription: error.description))
        }
    }

    /// The lines of `login` with their fingerprints, for the lookup cache.
    func fingerprinted(_ login: String) -> [(fingerprint: String, line: String)] {
        Array(zip(fingerprints[login] ?? [], logins[login] ?? []))
    }
}
