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
    /// Statements that make the audit log refuse updates and deletes (added by the first migration).
    let appendOnlyAuditLog: [String]

    /// SQLite: `BEGIN IMMEDIATE` takes the write lock at once, so a transaction never fails half way for
    /// want of it (the busy timeout waits instead); triggers refuse changes to the audit log.
    public static let sqlite = SQLFlavor(
        name: "sqlite",
        beginWrite: "BEGIN IMMEDIATE",
        beginRead: "BEGIN",
        appendOnlyAuditLog: [
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        ])

    /// PostgreSQL (not wired up yet): the same statements, with rules in place of SQLite's triggers.
    public static let postgres = SQLFlavor(
        name: "postgresql",
        beginWrite: "BEGIN ISOLATION LEVEL SERIALIZABLE",
        beginRead: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        appendOnlyAuditLog: [
            "CREATE RULE audit_log_no_update AS ON UPDATE TO audit_log DO INSTEAD NOTHING",
            "CREATE RULE audit_log_no_delete AS ON DELETE TO audit_log DO INSTEAD NOTHING",
        ])
}
