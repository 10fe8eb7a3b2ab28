/// Everything that differs between the SQL engines the store runs on, in one place.
///
/// The rest of the store writes SQL that both SQLite and PostgreSQL accept: `TEXT`, `BIGINT` and `INTEGER`
/// columns, standard foreign keys, `UNIQUE` constraints, `EXISTS` and `IN` subqueries, and placeholders
/// that SQLKit renders per dialect.
public struct SQLFlavor: Sendable {
    /// The engine's name.
    public let name: String
    /// The statement that starts a transaction that will write.
    let beginWrite: String
    /// The statement that starts a transaction that only reads.
    let beginRead: String
    /// The statement that starts a migration's transaction.
    let beginMigration: String
    /// Statements that make the audit log refuse updates and deletes (added by the first migration).
    let appendOnlyAuditLog: [String]
    /// The `LISTEN`/`NOTIFY` channel that tells other servers of a change, where the engine has one.
    let changeChannel: String?
    /// A statement run at the start of each migration's transaction, so that servers starting together
    /// migrate one after the other.
    let migrationLock: String?
    /// Statements that take and give back the one turn to write, outside the transaction, where the engine
    /// lets several processes write at once. Every write changes the registry's one state row (version and
    /// audit sequence), so concurrent writers conflict anyway; retried optimistically, a server could lose
    /// every race (1,000 agents enrolling through two servers made one answer 500). Taken before the
    /// transaction's snapshot, so the writer that waited sees what the one before it committed.
    let writeTurn: (take: String, give: String)?
    /// Statements run around a bulk import inside its transaction, where the engine needs them.
    let bulkWrite: (start: String, end: String)?

    /// SQLite: `BEGIN IMMEDIATE` takes the write lock at once, so a transaction never fails half way for
    /// want of it (the busy timeout waits instead); triggers refuse changes to the audit log.
    public static let sqlite = SQLFlavor(
        name: "sqlite",
        beginWrite: "BEGIN IMMEDIATE",
        beginRead: "BEGIN",
        beginMigration: "BEGIN IMMEDIATE",
        appendOnlyAuditLog: [
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        ],
        changeChannel: nil,
        migrationLock: nil,
        // BEGIN IMMEDIATE takes SQLite's write lock.
        writeTurn: nil,
        // A million random keys touch most pages of their indexes: with them in the cache each page is written
        // once per import, not spilled and read again insert by insert.
        bulkWrite: ("PRAGMA cache_size = -1048576", SQLFlavor.sqliteCacheSize))

    /// The page cache of SQLite's connection (64 MiB; SQLite's default is 2 MiB): a registry of a million keys
    /// has indexes of hundreds of MiB, and a large write that outgrew the cache spilled pages one by one.
    static let sqliteCacheSize = "PRAGMA cache_size = -65536"

    /// PostgreSQL: the same statements, with a trigger function in place of SQLite's triggers (refusing `TRUNCATE` too); writes are `SERIALIZABLE`
    /// (several servers check and write at once), reads see one snapshot.
    public static let postgres = SQLFlavor(
        name: "postgresql",
        beginWrite: "BEGIN ISOLATION LEVEL SERIALIZABLE",
        beginRead: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        beginMigration: "BEGIN ISOLATION LEVEL READ COMMITTED",
        appendOnlyAuditLog: [
            """
            CREATE FUNCTION keyfleet_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
            $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$
            """,
            """
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log \
            FOR EACH STATEMENT EXECUTE FUNCTION keyfleet_audit_log_append_only()
            """,
        ],
        changeChannel: "keyfleet_changes",
        // Any fixed number: the lock is held until the migration's transaction ends.
        migrationLock: "SELECT pg_advisory_xact_lock(7262537)",
        // A session lock (the transaction's own would come after its snapshot), given back after COMMIT or
        // ROLLBACK; a lost connection gives it back with the session.
        writeTurn: ("SELECT pg_advisory_lock(7262538)", "SELECT pg_advisory_unlock(7262538)"),
        bulkWrite: nil)
}
