import KeyfleetCLI
import KeyfleetCommandLine
import KeyfleetStore

extension ServerMain {
    /// `keyfleet server migrate`: the embedded registry copied into an empty PostgreSQL database; one line.
    static func migrate(_ options: ServerCommand<Self>.Migrate) async throws {
        let environment = ProcessEnvironment.self
        guard let databaseURL = options.databaseURL ?? environment["KEYFLEET_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CLIError.usage("give --to-database-url URL (or KEYFLEET_DATABASE_URL): the empty PostgreSQL database to copy the registry into")
        }
        let directory = dataDirectory(options.dataDirectory)
        let logger = try options.logging.bootstrap(label: "keyfleet.server")
        do {
            let copy = try await SQLStore.migrate(dataDirectory: directory, toDatabaseURL: databaseURL, logger: logger)
            let target = (try? DatabaseURL(databaseURL)).map { "the database \($0.database) at \($0.host):\($0.port)" } ?? "the database"
            let tables = copy.tables.map { "\($0.name) \($0.rows)" }.joined(separator: ", ")
            Terminal.print(
                "migrated the registry in \(Terminal.safe(directory)) to \(Terminal.safe(target)): \(copy.rows) rows in \(copy.tables.count) tables, "
                    + "every count verified (\(tables)); change version \(copy.version), audit log up to entry \(copy.auditSequence)")
        } catch let error as StoreError {
            throw CLIError(Terminal.safe(error.reason))
        }
    }

    /// `keyfleet server backup`: a consistent copy of the embedded registry in a new file; one line.
    static func backup(_ options: ServerCommand<Self>.Backup) async throws {
        let directory = dataDirectory(options.dataDirectory)
        let logger = try options.logging.bootstrap(label: "keyfleet.server")
        do {
            let backup = try await SQLStore.backup(dataDirectory: directory, to: options.output, logger: logger)
            Terminal.print(
                "backed up the registry in \(Terminal.safe(directory)) to \(Terminal.safe(backup.file)): \(backup.bytes) bytes, "
                    + "change version \(backup.version), audit log up to entry \(backup.auditSequence)")
        } catch let error as StoreError {
            throw CLIError(Terminal.safe(error.reason))
        }
    }

    /// The data directory given, else KEYFLEET_DATA_DIR, else the default, as `keyfleet server` finds it.
    static func dataDirectory(_ given: String?) -> String {
        given ?? ProcessEnvironment["KEYFLEET_DATA_DIR"] ?? defaultDataDirectory()
    }
}
