import Crypto

/// The digest a fingerprint is made with, as `ssh-keygen -E` names it.
public enum FingerprintHash: String, Sendable, CaseIterable {
    /// SHA-256 (`ssh-keygen`'s default) or MD5 (the older colon-separated hex form).
    case sha256, md5

    /// The name in a fingerprint prefix and a randomart footer: `SHA256` or `MD5`.
    public var displayName: String { self == .sha256 ? "SHA256" : "MD5" }
}

extension PublicKey {
    /// The digest of the plain key blob (a certificate is fingerprinted as its key, as OpenSSH does).
    public func fingerprintDigest(_ hash: FingerprintHash = .sha256) -> [UInt8] {
        let blob = isCertificate ? material.wireBytes : wireBytes
        switch hash {
        case .sha256: return Array(SHA256.hash(data: blob))
        case .md5: return Array(Insecure.MD5.hash(data: blob))
        }
    }

    /// `SHA256:` and unpadded base64, or `MD5:` and colon-separated lower-case hex, exactly as `ssh-keygen -l`.
    public func fingerprint(_ hash: FingerprintHash = .sha256) -> String {
        let digest = fingerprintDigest(hash)
        switch hash {
        case .sha256:
            return "SHA256:" + Base64.encodeUnpadded(digest)
        case .md5:
            return "MD5:" + Hex.encodeLower(digest, separator: UInt8(ascii: ":"))
        }
    }

    /// The "drunken bishop" picture `ssh-keygen -lv` draws, 11 lines without a final line break.
    public func randomart(_ hash: FingerprintHash = .sha256) -> String {
        Randomart.draw(digest: fingerprintDigest(hash), title: "\(displayTypeName) \(bits)", fallbackTitle: displayTypeName, footer: hash.displayName)
    }
}

/// OpenSSH's visual host key (randomart), drawn as `sshkey.c` draws it.
enum Randomart {
    static let width = 17
    static let height = 9
    private static let symbols = Array(" .o+=*BOX@%&#/^SE".utf8)

    static func draw(digest: [UInt8], title: String, fallbackTitle: String, footer: String) -> String {
        let top = symbols.count - 1  // 'E'
        var field = [Int](repeating: 0, count: width * height)
        var x = width / 2
        var y = height / 2
        for byte in digest {
            var input = byte
            for _ in 0..<4 {
                x += input & 1 != 0 ? 1 : -1
                y += input & 2 != 0 ? 1 : -1
                x = min(max(x, 0), width - 1)
                y = min(max(y, 0), height - 1)
                if field[x * height + y] < top - 2 { field[x * height + y] += 1 }
                input >>= 2
            }
        }
        field[(width / 2) * height + height / 2] = top - 1
        field[x * height + y] = top

        var out: [UInt8] = []
        out.reserveCapacity((width + 3) * (height + 2))
        func border(_ label: [UInt8]) {
            out.append(UInt8(ascii: "+"))
            let left = (width - label.count) / 2
            out += [UInt8](repeating: UInt8(ascii: "-"), count: left)
            out += label
            out += [UInt8](repeating: UInt8(ascii: "-"), count: width - left - label.count)
            out.append(UInt8(ascii: "+"))
        }
        // snprintf into a 17-byte buffer: "[type size]" if it fits in 17 (truncated to 16), else "[type]".
        var label = Array("[\(title)]".utf8)
        if label.count > width { label = Array("[\(fallbackTitle)]".utf8) }
        border(Array(label.prefix(width - 1)))
        out.append(UInt8(ascii: "\n"))
        for row in 0..<height {
            out.append(UInt8(ascii: "|"))
            for column in 0..<width { out.append(symbols[min(field[column * height + row], top)]) }
            out.append(UInt8(ascii: "|"))
            out.append(UInt8(ascii: "\n"))
        }
        border(Array("[\(footer)]".utf8.prefix(width - 1)))
        return String(decoding: out, as: UTF8.self)
    }
}
