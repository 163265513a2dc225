import Foundation
import GRDB
import Inventory

/// The durable, shared store of requests, grants and the audit log: SQLite in WAL mode through GRDB.
///
/// Every decision is one IMMEDIATE transaction with a compare-and-set on the current state, and appends its audit
/// entry in the same transaction: when two analysts decide the same request at once, exactly one wins and the other
/// is told who decided and how. Policy is checked here, so the dashboard and the CLI get the same answers.
public final class AccessStore: Sendable {
    public let path: String
    public let readonly: Bool
    let pool: DatabasePool

    /// Opens (creating if needed, unless read-only) the store at `path`.
    public init(path: String, readonly: Bool = false) throws(AccessError) {
        self.path = path
        self.readonly = readonly
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            if readonly { throw .store("\(path): no store here yet, and read-only mode won't create one") }
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
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // Checking costs a read; migrating (which takes the write lock) happens only when the schema is behind.
            if !readonly, try !pool.read({ try Self.migrator.hasCompletedMigrations($0) }) { try Self.migrator.migrate(pool) }
        } catch {
            throw Self.map(error, path: path)
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
            fchmod(fd, mode)  // umask may have removed the group bits
            close(fd)
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
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
        return m
    }

    static func map(_ error: any Error, path: String) -> AccessError {
        if let e = error as? AccessError { return e }
        if let db = error as? DatabaseError {
            switch db.resultCode.primaryResultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return .store("\(path): the store is locked by another process; nothing was changed, try again")
            case .SQLITE_FULL:
                return .store("\(path): the disk is full; nothing was changed")
            case .SQLITE_READONLY:
                return .store("\(path): the store is read-only for this user (check the group and permissions: docs/access.md); nothing was changed")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
                return .store("\(path): can't open the store (\(db.message ?? "permission denied")); check the path and permissions")
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return .store("\(path): this is not a trustgap store, or it is damaged")
            default:
                return .store("\(path): \(db.message ?? "\(db)")")
            }
        }
        return .store("\(path): \(error)")
    }

    // MARK: Transactions

    /// One immediate transaction: the writer lock is taken at the start, so a compare-and-set sees the latest state.
    func write<T>(_ body: @escaping (Database) throws -> T) throws(AccessError) -> T {
        guard !readonly else { throw .readonly }
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw Self.map(error, path: path)
        }
    }

    func read<T>(_ body: @escaping (Database) throws -> T) throws(AccessError) -> T {
        do { return try pool.read(body) } catch { throw Self.map(error, path: path) }
    }

    static func newID(_ prefix: String) -> String {
        var g = SystemRandomNumberGenerator()
        return prefix + "-" + String(g.next() & 0xFF_FFFF_FFFF, radix: 16).leftPadded(10)
    }

    // MARK: Audit

    struct AuditFields {
        var action: String
        var subject: String
        var scope: String
        var ttlSeconds: Double?
        var reason: String
        var result: String
        var target: String
        var detail: String = ""
    }

    @discardableResult
    static func appendAudit(_ db: Database, _ f: AuditFields, by analyst: Analyst, at now: Date) throws -> AuditEntry {
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1")!
        let prevSeq: Int64 = head["seq"]
        let prevHash: String = head["hash"]
        var e = AuditEntry(
            seq: prevSeq + 1, at: Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded() / 1000),
            analyst: analyst.user, sshClient: analyst.sshClient, action: f.action, subject: f.subject, scope: f.scope,
            ttlSeconds: f.ttlSeconds, reason: f.reason, result: f.result, target: f.target, detail: f.detail,
            prevHash: prevHash, hash: "")
        e.hash = AuditEntry.chainHash(prev: prevHash, canonical: e.canonical)
        try db.execute(sql: """
            INSERT INTO audit (seq, at_ms, analyst, ssh_client, action, subject, scope, ttl_seconds, reason, result, target, detail, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [e.seq, Int64((e.at.timeIntervalSince1970 * 1000).rounded()), e.analyst, e.sshClient, e.action, e.subject,
                             e.scope, e.ttlSeconds, e.reason, e.result, e.target, e.detail, e.prevHash, e.hash])
        try db.execute(sql: "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", arguments: [e.seq, e.hash])
        return e
    }

    static func auditEntry(_ row: Row) -> AuditEntry {
        AuditEntry(
            seq: row["seq"], at: Date(timeIntervalSince1970: Double(row["at_ms"] as Int64) / 1000), analyst: row["analyst"],
            sshClient: row["ssh_client"], action: row["action"], subject: row["subject"], scope: row["scope"],
            ttlSeconds: row["ttl_seconds"], reason: row["reason"], result: row["result"], target: row["target"],
            detail: row["detail"], prevHash: row["prev_hash"], hash: row["hash"])
    }

    /// The audit log, oldest first (or the newest `limit` entries).
    public func audit(limit: Int? = nil) throws(AccessError) -> [AuditEntry] {
        try read { db in
            if let limit {
                return try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq DESC LIMIT ?", arguments: [limit]).map(Self.auditEntry).reversed()
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq").map(Self.auditEntry)
        }
    }

    /// Checks every entry's hash and link, the sequence, and the head: finds edits, deletions and reorderings.
    public func verifyAudit() throws(AccessError) -> AuditVerification {
        try read { db in
            var prev = AuditEntry.genesis
            var expected: Int64 = 1
            var count = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY rowid")
            while let row = try rows.next() {
                let e = Self.auditEntry(row)
                count += 1
                if e.seq != expected {
                    return AuditVerification(entries: count, problem: e.seq > expected
                        ? "entry \(expected) is missing (found \(e.seq) next)" : "entry \(e.seq) is out of order (expected \(expected))")
                }
                if e.prevHash != prev { return AuditVerification(entries: count, problem: "entry \(e.seq) does not link to entry \(e.seq - 1): the log was reordered or an entry removed") }
                if AuditEntry.chainHash(prev: prev, canonical: e.canonical) != e.hash {
                    return AuditVerification(entries: count, problem: "entry \(e.seq) was altered: its hash does not match its contents")
                }
                prev = e.hash
                expected += 1
            }
            let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1")
            let headSeq: Int64 = head?["seq"] ?? 0
            let headHash: String = head?["hash"] ?? AuditEntry.genesis
            if headSeq != expected - 1 || headHash != prev {
                return AuditVerification(entries: count, problem: headSeq > expected - 1
                    ? "entries \(expected) to \(headSeq) are missing from the end of the log" : "the log's head does not match its last entry \(expected - 1)")
            }
            return AuditVerification(entries: count, problem: nil)
        }
    }

    /// Changes whenever anything is decided, by any process: the dashboards poll it as their change feed.
    public func changeToken() throws(AccessError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM audit_head WHERE id = 1") ?? 0 }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
