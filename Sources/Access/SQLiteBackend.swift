import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// The store for one host: an SQLite file in WAL mode through GRDB. Every write is one IMMEDIATE transaction,
/// which takes SQLite's writer lock at its start.
final class SQLiteBackend: StoreBackend {
    let path: String
    let readonly: Bool
    let pool: DatabasePool
    var location: String { path }
    var insertionOrder: String { "rowid" }

    /// Opens (creating if needed, unless read-only) the store file at `path`. `keyPath` and `anchorPath` are checked
    /// with it: a link planted at any of them is refused, and a store that vanished while its anchor remains is
    /// not silently replaced by an empty one.
    init(path: String, readonly: Bool, keyPath: String, anchor: AuditAnchor) throws(AccessError) {
        self.path = path
        self.readonly = readonly
        let fm = FileManager.default
        var st = stat()
        if stat(path, &st) != 0, errno == EACCES {
            if let advice = GroupAdvice.advice(for: path) {
                throw .store("\(path): this user can't reach the store yet: \(advice)")
            }
            throw .store(
                "\(path): permission denied (a folder on the way can't be searched by this user). If the access service keeps this store, "
                    + "connect through its socket instead (`service: {socket: …}` in your config, or --service SOCKET)")
        }
        // SQLite follows links when it makes its -wal and -shm files: a planted one would send the store's writes
        // elsewhere, or make it unopenable for everyone. Refuse, naming it.
        for p in [path, path + "-wal", path + "-shm", keyPath, anchor.path] {
            var l = stat()
            if lstat(p, &l) == 0, l.st_mode & S_IFMT == S_IFLNK {
                throw .store(
                    "\(p) is a symbolic link; trustgap refuses to open a store through one (it could redirect the store's writes). "
                        + "Remove the link, and check who made it")
            }
        }
        if stat(path, &st) != 0, errno != ENOENT {
            throw .store("\(path): \(String(cString: strerror(errno)))")
        }
        if !fm.fileExists(atPath: path) {
            if readonly { throw .store("\(path): no store here yet, and read-only mode won't create one") }
            // A folder this user can see but not write is someone else's store's: a new store must not be made there.
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            if fm.fileExists(atPath: dir), access(dir, W_OK) != 0, let advice = GroupAdvice.advice(for: path) {
                throw .store("\(path): this user can't use the store's folder yet: \(advice)")
            }
            // A store that disappeared must not be silently replaced by an empty one.
            if let head = try? anchor.latest(), head.seq > 0 {
                throw .store(
                    "\(path): the store is missing, but its audit anchor \(anchor.path) records \(head.seq) entries: "
                        + "restore the store from backup (or, to start afresh on purpose, move the anchor and key away)")
            }
            try Self.create(path)
        }
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.readonly = readonly
        config.label = "trustgap.store"
        config.prepareDatabase { db in
            // Acknowledged means on disk: a crash or power loss after a decision returns loses nothing.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        try Self.checkIsTrustgapStore(path)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // Checking costs a read; migrating (which takes the write lock) happens only when the schema is behind.
            if !readonly, try !pool.read({ try Self.migrator.hasCompletedMigrations($0) }) { try Self.migrator.migrate(pool) }
        } catch {
            throw Self.map(error, path: path)
        }
    }

    func write<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> T {
        do {
            return try withoutActuallyEscaping(body) { body in
                try pool.writeWithoutTransaction { db in
                    var result: T?
                    try db.inTransaction(.immediate) {
                        result = try body(SQLiteConnection(db: db))
                        return .commit
                    }
                    return result!
                }
            }
        } catch {
            throw Self.map(error, path: path)
        }
    }

    func read<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> T {
        do {
            return try withoutActuallyEscaping(body) { body in try pool.read { db in try body(SQLiteConnection(db: db)) } }
        } catch {
            throw Self.map(error, path: path)
        }
    }

    func close() { try? pool.close() }

    /// Makes the store file and the WAL and shared-memory files beside it readable by the service's user alone.
    func makePrivate() throws(AccessError) {
        for p in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: p) {
            guard chmod(p, 0o600) == 0 else {
                throw .store("\(p): can't make it private to the service: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The tables a trustgap store has; a database with other tables and none of these is someone else's.
    static let ownTables: Set<String> = [
        "requests", "approvals", "grants", "audit", "audit_head", "meta", "extension_approvals", "grdb_migrations",
    ]

    /// Refuses, before anything is written (opening a pool switches a database to WAL), a file that is not a
    /// trustgap store: another application's SQLite database, or something that isn't SQLite at all.
    static func checkIsTrustgapStore(_ path: String) throws(AccessError) {
        var st = stat()
        guard stat(path, &st) == 0, st.st_size > 0 else { return } // new and empty: ours to create
        if let h = FileHandle(forReadingAtPath: path) {
            let magic = (try? h.read(upToCount: 16)) ?? Data()
            try? h.close()
            if magic != Data("SQLite format 3\0".utf8) {
                throw .store(
                    "\(path): this is not a trustgap store (not an SQLite database at all); nothing was changed. Check --store or `store:`")
            }
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        let tables: [String]
        do {
            let q = try DatabaseQueue(path: path, configuration: config)
            tables = try q.read {
                try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            }
            try q.close()
        } catch {
            throw map(error, path: path)
        }
        let foreign = tables.filter { !ownTables.contains($0) }
        if !tables.isEmpty, !tables.contains("audit") || !tables.contains("requests") {
            throw .store(
                "\(path): this is another application's SQLite database (tables: \(foreign.prefix(5).joined(separator: ", "))"
                    + "\(foreign.count > 5 ? ", …" : "")), not a trustgap store; nothing was changed. Check --store or `store:`")
        }
    }

    /// Creates the database file: group read-write when its folder is shared with a group (setgid or g+w),
    /// so the WAL and shared-memory files SQLite creates beside it keep working for the whole group.
    static func create(_ path: String) throws(AccessError) {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir) {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
                throw .store("\(dir): can't create the store's folder: \((error as NSError).localizedDescription)")
            }
        }
        var st = stat()
        let shared = stat(dir, &st) == 0 && (st.st_mode & S_IWGRP != 0 || st.st_mode & S_ISGID != 0)
        let mode: mode_t = shared ? 0o660 : 0o600
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, mode)
        if fd < 0, errno != EEXIST {
            throw .store("\(path): can't create the store: \(String(cString: strerror(errno)))")
        }
        if fd >= 0 {
            fchmod(fd, mode) // umask may have removed the group bits
            Glibc.close(fd)
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE requests (
                        id TEXT PRIMARY KEY, subject TEXT NOT NULL, subject_name TEXT NOT NULL, population TEXT NOT NULL,
                        scope TEXT NOT NULL, requester TEXT NOT NULL, reason TEXT NOT NULL, ticket TEXT,
                        ttl_seconds REAL NOT NULL, created_at REAL NOT NULL, lapses_at REAL NOT NULL, state TEXT NOT NULL,
                        decided_by TEXT, decided_at REAL, decision_reason TEXT, grant_id TEXT, source_key TEXT UNIQUE);
                    CREATE INDEX requests_state ON requests(state, created_at);
                    CREATE TABLE approvals (
                        request_id TEXT NOT NULL REFERENCES requests(id), analyst TEXT NOT NULL, at REAL NOT NULL,
                        reason TEXT NOT NULL, PRIMARY KEY (request_id, analyst));
                    CREATE TABLE grants (
                        id TEXT PRIMARY KEY, request_id TEXT, subject TEXT NOT NULL, subject_name TEXT NOT NULL,
                        population TEXT NOT NULL, scope TEXT NOT NULL, approvers TEXT NOT NULL, reason TEXT NOT NULL,
                        starts_at REAL NOT NULL, expires_at REAL NOT NULL, state TEXT NOT NULL, ended_by TEXT, ended_at REAL,
                        end_reason TEXT, actuation TEXT NOT NULL, actuation_detail TEXT, actuation_attempts INTEGER NOT NULL DEFAULT 0,
                        actuation_event TEXT, actuation_next REAL);
                    CREATE INDEX grants_state ON grants(state, expires_at);
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, analyst TEXT NOT NULL, ssh_client TEXT,
                        action TEXT NOT NULL, subject TEXT NOT NULL, scope TEXT NOT NULL, ttl_seconds REAL, reason TEXT NOT NULL,
                        result TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
                    CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
                    INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\(AuditEntry.genesis)');
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """)
        }
        // Keyed chains: entries from `keyed_from` on carry an HMAC; the store gets an identity for its anchor.
        m.registerMigration("v2-keyed-audit") { db in
            let head = try Int64.fetchOne(db, sql: "SELECT seq FROM audit_head WHERE id = 1") ?? 0
            try db.execute(sql: "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('store_id', ?), ('keyed_from', ?)",
                arguments: [AccessStore.newID("st"), String(head + 1)])
        }
        m.registerMigration("v3-actuation-index") { db in
            try db.execute(sql: "CREATE INDEX grants_actuation ON grants(actuation)")
        }
        // A running hook's claim, apart from the retry back-off: a revoke while the approve hook runs waits for it.
        m.registerMigration("v4-actuation-claim") { db in
            try db.execute(sql: "ALTER TABLE grants ADD COLUMN actuation_claim REAL")
        }
        // Extensions of a grant that needed two approvals need two again: the first waits here, per expiry ("round").
        // The subject's owner, from the inventory when the request was filed, can approve neither.
        m.registerMigration("v5-extension-approvals") { db in
            try db.execute(
                sql: """
                    CREATE TABLE extension_approvals (
                        grant_id TEXT NOT NULL REFERENCES grants(id), round REAL NOT NULL, analyst TEXT NOT NULL, at REAL NOT NULL,
                        reason TEXT NOT NULL, ttl_seconds REAL NOT NULL, PRIMARY KEY (grant_id, round, analyst));
                    ALTER TABLE requests ADD COLUMN subject_owner TEXT;
                    ALTER TABLE grants ADD COLUMN subject_owner TEXT;
                    """)
        }
        // How a request was asked: `mcp:AGENT` for the agent gateway.
        m.registerMigration("v6-request-via") { db in
            try db.execute(sql: "ALTER TABLE requests ADD COLUMN via TEXT")
        }
        // What was risky about the subject when it was filed: shown to everyone deciding.
        m.registerMigration("v7-request-flags") { db in
            try db.execute(sql: "ALTER TABLE requests ADD COLUMN flags TEXT")
        }
        // The TTL first asked for, which an extension proposes again: for grants already made, their request's, or the
        // direct grant's own as its audit entry recorded it.
        m.registerMigration("v8-grant-asked-ttl") { db in
            try db.execute(sql: "ALTER TABLE grants ADD COLUMN asked_ttl_seconds REAL")
            try db.execute(sql: AccessStore.backfillAskedTTL)
        }
        return m
    }

    /// Whether the filesystem holding `path` has no room left.
    static func diskFull(_ path: String) -> Bool {
        var fs = statvfs()
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard statvfs(dir, &fs) == 0 else { return false }
        return fs.f_bavail == 0 || (getuid() == 0 && fs.f_bfree == 0)
    }

    static func map(_ error: any Error, path: String) -> AccessError {
        if let e = error as? AccessError { return e }
        if let db = error as? DatabaseError {
            switch db.resultCode.primaryResultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return .store("\(path): the store is locked by another process; nothing was changed, try again")
            case .SQLITE_FULL:
                return .store("\(path): the disk is full; nothing was changed")
            case .SQLITE_IOERR where diskFull(path):
                return .store(
                    "\(path): the disk is full (SQLite needs room for the store's -wal and -shm files even to read); nothing was changed")
            case .SQLITE_READONLY:
                return .store(
                    "\(path): the store is read-only for this user (check the group and permissions: docs/access.md); nothing was changed")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
                return .store(
                    "\(path): can't open the store (\(db.message ?? "permission denied")); check the path and permissions. "
                        + "If the access service keeps this store, connect through its socket instead "
                        + "(`service: {socket: …}` in your config, or --service SOCKET)"
                )
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return .store("\(path): this is not a trustgap store, or it is damaged")
            default:
                return .store("\(path): \(db.message ?? "\(db)")")
            }
        }
        return .store("\(path): \(error)")
    }

}

/// One GRDB connection, inside the backend's transaction.
struct SQLiteConnection: StoreConnection {
    let db: Database

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try db.execute(sql: sql, arguments: StatementArguments(arguments.map { Self.value($0) }))
        return db.changesCount
    }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [StoreRow] {
        let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments.map { Self.value($0) }))
        var out: [StoreRow] = []
        var names: [String]?
        while let row = try rows.next() {
            let n = names ?? Array(row.columnNames)
            names = n
            out.append(Self.storeRow(row, names: n))
        }
        return out
    }

    static func storeRow(_ row: Row, names: [String]? = nil) -> StoreRow {
        StoreRow(
            names: names ?? Array(row.columnNames),
            values: row.databaseValues.map { v in
                switch v.storage {
                case .null: .null
                case .int64(let i): .integer(i)
                case .double(let d): .real(d)
                case .string(let s): .text(s)
                case .blob(let b): .text(String(decoding: b, as: UTF8.self))
                }
            })
    }

    static func value(_ v: (any SQLBindable)?) -> DatabaseValue {
        switch v?.sqlValue ?? .null {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        }
    }
}
