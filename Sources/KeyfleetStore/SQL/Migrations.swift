import SQLKit

/// One numbered schema change, applied once in its own transaction and recorded in `schema_migrations`.
struct Migration: Sendable {
    let number: Int
    let name: String
    let statements: @Sendable (SQLFlavor) -> [String]
}

enum Migrations {
    /// Every migration, in order. Append only: a released migration is never edited.
    static let all: [Migration] = [
        Migration(number: 1, name: "registry") { flavor in
            [
                "CREATE TABLE registry_state (id INTEGER PRIMARY KEY, version BIGINT NOT NULL, audit_sequence BIGINT NOT NULL)",
                "INSERT INTO registry_state (id, version, audit_sequence) VALUES (1, 0, 0)",
                "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, created_at BIGINT NOT NULL)",
                """
                CREATE TABLE api_tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, \
                token_hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT)
                """,
                "CREATE INDEX api_tokens_user ON api_tokens (user_id)",
                "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)",
                """
                CREATE TABLE project_members (project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, \
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, role TEXT NOT NULL, PRIMARY KEY (project_id, user_id))
                """,
                "CREATE INDEX project_members_user ON project_members (user_id)",
                """
                CREATE TABLE ssh_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, \
                owner_user_id TEXT REFERENCES users(id) ON DELETE CASCADE, owner_project_id TEXT REFERENCES projects(id) ON DELETE CASCADE, \
                public_key TEXT NOT NULL, comment TEXT NOT NULL, key_type TEXT NOT NULL, bits INTEGER NOT NULL, \
                sha256_fingerprint TEXT NOT NULL, md5_fingerprint TEXT NOT NULL, expires_at BIGINT, created_by TEXT NOT NULL, \
                created_at BIGINT NOT NULL, CHECK ((owner_user_id IS NULL) <> (owner_project_id IS NULL)), \
                UNIQUE (owner_user_id, name), UNIQUE (owner_project_id, name), \
                UNIQUE (owner_user_id, sha256_fingerprint), UNIQUE (owner_project_id, sha256_fingerprint))
                """,
                "CREATE INDEX ssh_keys_fingerprint ON ssh_keys (sha256_fingerprint)",
                """
                CREATE TABLE labels (object_type TEXT NOT NULL, object_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, \
                PRIMARY KEY (object_type, object_id, name))
                """,
                "CREATE INDEX labels_selector ON labels (object_type, name, value)",
                """
                CREATE TABLE clusters (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, \
                name TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (project_id, name))
                """,
                """
                CREATE TABLE cluster_keys (cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE, \
                key_id TEXT NOT NULL REFERENCES ssh_keys(id) ON DELETE CASCADE, position INTEGER NOT NULL, PRIMARY KEY (cluster_id, key_id))
                """,
                """
                CREATE TABLE hosts (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, \
                name TEXT NOT NULL, cluster_id TEXT REFERENCES clusters(id) ON DELETE SET NULL, created_at BIGINT NOT NULL, \
                UNIQUE (project_id, name))
                """,
                "CREATE INDEX hosts_cluster ON hosts (cluster_id)",
                """
                CREATE TABLE host_logins (host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, login TEXT NOT NULL, \
                position INTEGER NOT NULL, mode TEXT NOT NULL, PRIMARY KEY (host_id, login))
                """,
                """
                CREATE TABLE host_login_keys (host_id TEXT NOT NULL, login TEXT NOT NULL, \
                key_id TEXT NOT NULL REFERENCES ssh_keys(id) ON DELETE CASCADE, position INTEGER NOT NULL, \
                PRIMARY KEY (host_id, login, key_id), FOREIGN KEY (host_id, login) REFERENCES host_logins (host_id, login) ON DELETE CASCADE)
                """,
                "CREATE INDEX host_login_keys_key ON host_login_keys (key_id)",
                """
                CREATE TABLE host_rescue_keys (host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, \
                key_id TEXT NOT NULL REFERENCES ssh_keys(id) ON DELETE CASCADE, position INTEGER NOT NULL, PRIMARY KEY (host_id, key_id))
                """,
                "CREATE INDEX host_rescue_keys_key ON host_rescue_keys (key_id)",
                "CREATE INDEX cluster_keys_key ON cluster_keys (key_id)",
                """
                CREATE TABLE enrollment_tokens (id TEXT PRIMARY KEY, host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, \
                token_hash TEXT NOT NULL UNIQUE, expires_at BIGINT NOT NULL, used_at BIGINT, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE host_credentials (id TEXT PRIMARY KEY, host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, \
                credential_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT)
                """,
                """
                CREATE TABLE audit_log (sequence BIGINT PRIMARY KEY, at BIGINT NOT NULL, user_id TEXT, token_id TEXT, \
                action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL, before_json TEXT, after_json TEXT)
                """,
                "CREATE INDEX audit_log_object ON audit_log (object_type, object_id)",
                "CREATE INDEX audit_log_user ON audit_log (user_id)",
                "CREATE INDEX audit_log_at ON audit_log (at)",
            ] + flavor.appendOnlyAuditLog
        },
        Migration(number: 2, name: "host-agents") { _ in
            [
                "CREATE TABLE host_agents (host_id TEXT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE, agent_version TEXT NOT NULL, "
                    + "applied_version BIGINT, host_keys TEXT NOT NULL, error TEXT, reported_at BIGINT NOT NULL)",
                "CREATE INDEX host_credentials_host ON host_credentials (host_id)",
            ]
        },
        // The credentials of deleted hosts, by hash only, so the server can tell their agents that the host is
        // gone (an instruction to remove its keys) rather than that the credential is unknown (a fault).
        Migration(number: 3, name: "retired-host-credentials") { _ in
            [
                "CREATE TABLE retired_host_credentials (credential_hash TEXT PRIMARY KEY, host_id TEXT NOT NULL, retired_at BIGINT NOT NULL)"
            ]
        },
        // Membership by consent: a project's owner invites, the invited user accepts; until then nothing of
        // theirs is visible to the project or delivered to its hosts.
        Migration(number: 4, name: "project-invitations") { _ in
            [
                """
                CREATE TABLE project_invitations (project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, \
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, role TEXT NOT NULL, invited_by TEXT, \
                created_at BIGINT NOT NULL, PRIMARY KEY (project_id, user_id))
                """,
                "CREATE INDEX project_invitations_user ON project_invitations (user_id)",
            ]
        },
        // Legacy mode's report of revoked keys the account's user kept outside the keyfleet block.
        Migration(number: 5, name: "revoked-keys-outside-block") { _ in
            ["ALTER TABLE host_agents ADD COLUMN revoked_outside TEXT"]
        },
        // Where a host is reached, for people (host update --address).
        Migration(number: 6, name: "host-address") { _ in
            ["ALTER TABLE hosts ADD COLUMN address TEXT"]
        },
        // Rescue keys become break-glass keys per login, delivered while the host is flagged for rescue. A
        // key of the old host-wide list goes to root, or to the host's first login when it has no root.
        Migration(number: 7, name: "rescue-keys-per-login") { _ in
            [
                "ALTER TABLE hosts ADD COLUMN rescue_active INTEGER NOT NULL DEFAULT 0",
                """
                CREATE TABLE host_login_rescue_keys (host_id TEXT NOT NULL, login TEXT NOT NULL, \
                key_id TEXT NOT NULL REFERENCES ssh_keys(id) ON DELETE CASCADE, position INTEGER NOT NULL, \
                PRIMARY KEY (host_id, login, key_id), FOREIGN KEY (host_id, login) REFERENCES host_logins (host_id, login) ON DELETE CASCADE)
                """,
                """
                INSERT INTO host_login_rescue_keys (host_id, login, key_id, position) \
                SELECT r.host_id, (SELECT l.login FROM host_logins l WHERE l.host_id = r.host_id \
                ORDER BY CASE WHEN l.login = 'root' THEN 0 ELSE 1 END, l.position LIMIT 1), r.key_id, r.position \
                FROM host_rescue_keys r WHERE EXISTS (SELECT 1 FROM host_logins l WHERE l.host_id = r.host_id)
                """,
                "DROP TABLE host_rescue_keys",
                "CREATE INDEX host_login_rescue_keys_key ON host_login_rescue_keys (key_id)",
            ]
        },
        // What each version changed, so that servers move their registry forward by the change
        // (RegistryChangeLog). The version at migration has mark 0 and no changes before it.
        Migration(number: 8, name: "registry-change-log") { _ in
            [
                "CREATE TABLE registry_versions (version BIGINT PRIMARY KEY, mark BIGINT NOT NULL)",
                "CREATE TABLE registry_changes (version BIGINT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL)",
                "CREATE INDEX registry_changes_version ON registry_changes (version)",
                "INSERT INTO registry_versions (version, mark) SELECT version, 0 FROM registry_state WHERE id = 1",
            ]
        },
        // How each agent hands keys to sshd, as it reports it (for the portal's host page).
        Migration(number: 9, name: "agent-delivery-mode") { _ in
            ["ALTER TABLE host_agents ADD COLUMN delivery TEXT"]
        },
    ]

    /// Applies the migrations not yet recorded, each in its own transaction.
    ///
    /// On PostgreSQL several servers may start at once: each migration's transaction first takes the
    /// migration lock, then checks again whether another server applied it meanwhile (the transaction is
    /// `READ COMMITTED`, so that check sees what committed while it waited).
    static func run(on database: any SQLDatabase, flavor: SQLFlavor, now: UInt64) async throws {
        try await transaction(on: database, flavor: flavor) {
            try await database.raw(
                "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            ).run()
        }
        let applied = try await appliedNumbers(database)
        if let newest = applied.max(), newest > (all.last?.number ?? 0) {
            throw StoreError(.database, "the database has schema version \(newest), newer than this program knows (\(all.last?.number ?? 0))")
        }
        for migration in all where !applied.contains(migration.number) {
            try await transaction(on: database, flavor: flavor) {
                guard try await !appliedNumbers(database).contains(migration.number) else { return }
                for statement in migration.statements(flavor) {
                    try await database.raw(SQLQueryString(statement)).run()
                }
                try await database.raw(
                    """
                    INSERT INTO schema_migrations (number, name, applied_at) \
                    VALUES (\(bind: migration.number), \(bind: migration.name), \(bind: Int64(clamping: now)))
                    """
                ).run()
            }
        }
    }

    private static func appliedNumbers(_ database: any SQLDatabase) async throws -> Set<Int> {
        Set(try await database.raw("SELECT number FROM schema_migrations").all().map { try $0.decode(column: "number", as: Int.self) })
    }

    /// Runs `body` in one migration transaction holding the migration lock.
    private static func transaction(on database: any SQLDatabase, flavor: SQLFlavor, _ body: () async throws -> Void) async throws {
        try await database.raw(SQLQueryString(flavor.beginMigration)).run()
        do {
            if let lock = flavor.migrationLock { try await database.raw(SQLQueryString(lock)).run() }
            try await body()
            try await database.raw("COMMIT").run()
        } catch {
            try? await database.raw("ROLLBACK").run()
            throw error
        }
    }
}
