import KeyfleetCLI
import ArgumentParser
import Foundation
import KeyfleetAPI
import SSHKeys

/// `keyfleet ssh-key`: the registry's named public keys.
struct SSHKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh-key",
        abstract: "Import, generate, list, describe, update and delete SSH keys in the registry.",
        subcommands: [Create.self, Generate.self, List.self, Describe.self, Update.self, Delete.self]
    )

    static func describe(_ key: Components.Schemas.SSHKey) {
        ClientOutput.printFields([
            ("ID", key.id), ("Name", key.name), ("Owner", ClientOutput.owner(key.owner)), ("Type", key._type),
            ("Bits", String(key.bits)), ("SHA256", key.fingerprintSha256), ("MD5", key.fingerprintMd5),
            ("Comment", key.comment), ("Labels", ClientOutput.labels(key.labels)),
            ("Expires", ClientOutput.time(key.expiresAt)), ("Created", ClientOutput.time(key.createdAt)),
            ("Created by", ClientOutput.name(key.createdByName, or: key.createdBy)), ("Public key", key.publicKey),
        ])
    }

    static func printWarnings(_ warnings: [Components.Schemas.ImportWarning]) {
        for warning in warnings {
            Terminal.printInfo("warning: \(Terminal.safe(warning.message)) (\(Terminal.safe(warning.code)))")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import one public key (any format the toolkit reads; of a private key only the public key is kept).")

        @Option(help: "The key's name.") var name: String
        @Option(name: .customLong("public-key-from-file"), help: ArgumentHelp("The key file; - for standard input.", valueName: "file"))
        var file: String
        @Option(help: "Make it a key of this project (name or id) instead of a personal key.") var project: String?
        @Option(name: .customLong("label"), help: ArgumentHelp("A label, KEY=VALUE; repeatable.", valueName: "k=v")) var labels: [String] = []
        @Option(help: ArgumentHelp("Expiry: a duration (30d, 12h) or an RFC 3339 time.", valueName: "when")) var expires: String?
        @OptionGroup var passphrases: PassphraseOptions
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            // A little over the 16 KiB the server takes is read, so that the server, not the client, says a
            // public key is too large.
            let bytes = try FileSystem.read(file, limit: 1 << 20)
            let text = try Self.publicText(bytes, path: file, passphrases: passphrases)
            let labels = try ClientInput.labels(labels)
            let expiry = try ClientInput.expiry(expires)
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.optionalProjectID(project)
            let answer = try await registry.call(about: file) { client in
                try await client.createSSHKey(body: .json(.init(name: name, publicKey: text, project: projectID, labels: labels, expiresAt: expiry)))
                    .created.body.json
            }
            SSHKeyCommand.printWarnings(answer.warnings)
            if output.output == .json {
                try ClientOutput.printJSON(answer.key)
            } else {
                SSHKeyCommand.describe(answer.key)
            }
        }

        /// The text to send for `bytes`: public key text as it is (the server parses and checks it), but of a
        /// private key only its public key, derived here, so that the private key never leaves the machine.
        /// The public key comes from the file's clear public part where the format keeps one (OpenSSH,
        /// PuTTY), else from decrypting the key with the passphrase given or asked for.
        static func publicText(_ bytes: [UInt8], path: String, passphrases: PassphraseOptions) throws(CLIError) -> String {
            let text = String(decoding: bytes, as: UTF8.self)
            let head = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
            guard PrivateKeyDocument.looksLikePrivateKey(head) else { return text }
            let document = try KeyError.located(in: path) { () throws(KeyError) in try PrivateKeyDocument(text: text) }
            var key: PublicKey
            if let clear = document.info.publicKey {
                key = clear
            } else {
                key = try passphrases.decrypt(document, path: path).publicKey
            }
            if let comment = document.info.comment, let commented = try? key.withComment(comment) { key = commented }
            Terminal.printInfo("\(Terminal.safe(path)) is a private key: sending only its public key; the private key stays here")
            return key.openSSHLine
        }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Have the server make a key pair: the public key is stored, the private key written to FILE (0600) and FILE.pub.")

        @Option(help: "The key's name.") var name: String
        @Option(name: .customShort("t"), help: "Key type: ed25519 (default), ecdsa or rsa.") var type: String = "ed25519"
        @Option(name: .customShort("b"), help: "Bits (rsa: 2048 or more; ecdsa: 256, 384 or 521).") var bits: Int?
        @Option(name: .customShort("C"), parsing: .unconditional, help: "Comment.") var comment: String?
        @Option(help: "Make it a key of this project (name or id).") var project: String?
        @Option(name: .customLong("label"), help: ArgumentHelp("A label, KEY=VALUE; repeatable.", valueName: "k=v")) var labels: [String] = []
        @Option(help: ArgumentHelp("Expiry: a duration (30d, 12h) or an RFC 3339 time.", valueName: "when")) var expires: String?
        @Option(name: .customShort("N"), parsing: .unconditional, help: "Passphrase to encrypt the private key with; empty for none.")
        var passphrase: String?
        @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("Read the passphrase from the first line of a file.", valueName: "file"))
        var passphraseFile: String?
        @Option(name: .customShort("f"), help: ArgumentHelp("Private key file to write (never overwritten).", valueName: "file"))
        var file: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            guard let keyType = Components.Schemas.GenerateSSHKeyRequest._TypePayload(rawValue: type) else {
                throw CLIError.usage("-t \"\(Terminal.safe(type))\" is not ed25519, ecdsa or rsa")
            }
            if passphrase != nil, passphraseFile != nil { throw CLIError.usage("-N and --passphrase-file exclude each other") }
            var secret = passphrase
            if let passphraseFile { secret = try ClientInput.firstLine(of: passphraseFile) }
            if secret?.isEmpty == true { secret = nil }
            for path in [file, file + ".pub"] where FileSystem.exists(path) {
                throw CLIError("\(Terminal.safe(path)): already exists; refusing to overwrite it")
            }
            let labels = try ClientInput.labels(labels)
            let expiry = try ClientInput.expiry(expires)
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.optionalProjectID(project)
            let request = Components.Schemas.GenerateSSHKeyRequest(
                name: name, _type: keyType, bits: bits, comment: comment, passphrase: secret, project: projectID,
                labels: labels, expiresAt: expiry)
            let answer = try await registry.call { client in try await client.generateSSHKey(body: .json(request)).created.body.json }
            var privateKey = answer.privateKey
            if !privateKey.hasSuffix("\n") { privateKey += "\n" }
            try FileSystem.writeAtomically(file, Array(privateKey.utf8), mode: 0o600, replace: false)
            try FileSystem.writeAtomically(file + ".pub", Array((answer.key.publicKey + "\n").utf8), mode: 0o644, replace: false)
            if output.output == .json {
                try ClientOutput.printJSON(answer.key)
            } else {
                Terminal.print("Private key written to \(Terminal.safe(file)), public key to \(Terminal.safe(file)).pub")
                SSHKeyCommand.describe(answer.key)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys you may see.")

        @Option(help: "Keys of this project only (name or id).") var project: String?
        @Option(help: "Personal keys of this user only (name, id or me).") var owner: String?
        @Option(help: ArgumentHelp("Keys with this label only, KEY=VALUE.", valueName: "k=v")) var label: String?
        @Option(help: ArgumentHelp("Keys with this SHA256 fingerprint only.", valueName: "SHA256:...")) var fingerprint: String?
        @Option(help: "Keys of this name only.") var name: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let label = try ClientInput.labelFilter(label)
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.optionalProjectID(project)
            var ownerID: String?
            if let owner { ownerID = owner == "me" ? "me" : try await registry.userID(owner) }
            let keys = try await registry.all { client, cursor in
                let page = try await client.listSSHKeys(
                    query: .init(cursor: cursor, label: label, name: name, owner: ownerID, project: projectID, fingerprint: fingerprint)
                ).ok.body.json
                return (page.items, page.nextCursor)
            }
            if output.output == .json { return try ClientOutput.printJSON(keys) }
            ClientOutput.printTable(
                ["ID", "NAME", "OWNER", "TYPE", "BITS", "FINGERPRINT", "EXPIRES", "LABELS"],
                keys.map {
                    [
                        $0.id, $0.name, ClientOutput.owner($0.owner), $0._type, String($0.bits), $0.fingerprintSha256,
                        ClientOutput.time($0.expiresAt), ClientOutput.labels($0.labels),
                    ]
                })
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe one key.")

        @Argument(help: "The key's name or id.") var key: String
        @Option(help: "Look the name up among this project's keys (name or id).") var project: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.optionalProjectID(project)
            let id = try await registry.keyID(key, project: projectID)
            let found = try await registry.call { client in try await client.getSSHKey(path: .init(keyId: id)).ok.body.json }
            if output.output == .json { return try ClientOutput.printJSON(found) }
            SSHKeyCommand.describe(found)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a key, or change its comment, labels or expiry.")

        @Argument(help: "The key's name or id.") var key: String
        @Option(help: "Look the name up among this project's keys (name or id).") var project: String?
        @Option(name: .customLong("name"), help: "The new name.") var newName: String?
        @Option(parsing: .unconditional, help: "The new comment.") var comment: String?
        @Option(name: .customLong("label"), help: ArgumentHelp("Replace the labels with these, KEY=VALUE; repeatable.", valueName: "k=v"))
        var labels: [String] = []
        @Flag(name: .customLong("clear-labels"), help: "Remove every label.") var clearLabels = false
        @Option(help: ArgumentHelp("New expiry: a duration (30d, 12h) or an RFC 3339 time.", valueName: "when")) var expires: String?
        @Flag(name: .customLong("clear-expiry"), help: "Remove the expiry.") var clearExpiry = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            if clearLabels, !labels.isEmpty { throw CLIError.usage("--label and --clear-labels exclude each other") }
            if clearExpiry, expires != nil { throw CLIError.usage("--expires and --clear-expiry exclude each other") }
            var newLabels = try ClientInput.labels(labels)
            if clearLabels { newLabels = .init(additionalProperties: [:]) }
            let expiry = try ClientInput.expiry(expires)
            guard newName != nil || comment != nil || newLabels != nil || expiry != nil || clearExpiry else {
                throw CLIError.usage("nothing to change: give --name, --comment, --label, --clear-labels, --expires or --clear-expiry")
            }
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.optionalProjectID(project)
            let id = try await registry.keyID(key, project: projectID)
            let request = Components.Schemas.UpdateSSHKeyRequest(
                name: newName, comment: comment, labels: newLabels, expiresAt: expiry, clearExpiry: clearExpiry ? true : nil)
            let updated = try await registry.call { client in
                try await client.updateSSHKey(path: .init(keyId: id), body: .json(request)).ok.body.json
            }
            if output.output == .json { return try ClientOutput.printJSON(updated) }
            SSHKeyCommand.describe(updated)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key: it leaves every host at the agents' next sync.")

        @Argument(help: "The key's name or id.") var key: String
        @Option(help: "Look the name up among this project's keys (name or id).") var project: String?
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.optionalProjectID(project)
            let id = try await registry.keyID(key, project: projectID)
            _ = try await registry.call { client in try await client.deleteSSHKey(path: .init(keyId: id)).noContent }
            Terminal.print("Key \(Terminal.safe(key)) deleted")
        }
    }
}
