import Foundation
import GRDB
import Inventory
import Synchronization

/// The durable, shared store of requests, grants and the audit log: SQLite in WAL mode through GRDB.
///
/// Every decision is one IMMEDIATE transaction with a compare-and-set on the current state, and appends its audit
/// entry in the same transaction: when two analysts decide the same request at once, exactly one wins and the other
/// is told who decided and how. Policy is checked here, so the dashboard and the CLI get the same answers.
public final class AccessStore: Sendable {
    public let path: String
    public let readonly: Bool
    let pool: DatabasePool
    /// The key that authenticates the audit chain (`<store>.key`); nil only when a read-only opener can't read it.
    let key: AuditKey?
    /// Where each new chain head is written outside the store (`<store>.anchor`).
    public let anchor: AuditAnchor
    /// This store's random identity, recorded with every anchored head: a replaced store has another.
    public let storeID: String
    /// The first entry authenticated with the key; earlier ones (written before keyed chains) are SHA-256 linked.
    let keyedFrom: Int64
    /// Why the last head could not be anchored, if it couldn't.
    public let anchorFailure = Mutex<String?>(nil)

    /// Opens (creating if needed, unless read-only) the store at `path`, with its audit key and anchor beside it.
    /// `service` is true only for the access service: any other opener refuses a store the service has claimed.
    public init(path: String, readonly: Bool = false, syslogAnchor: Bool = false, service: Bool = false) throws(AccessError) {
        self.path = path
        self.readonly = readonly
        let keyPath = path + ".key"
        anchor = AuditAnchor(path: path + ".anchor", syslog: syslogAnchor)
        let fm = FileManager.default
        var st = stat()
        if stat(path, &st) != 0, errno == EACCES {
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
        let pool = pool
        let meta: (String, Int64, Int64, String?)? = try? pool.read { db in
            guard try db.tableExists("meta") else { return nil }
            let id = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'store_id'") ?? ""
            let from = Int64(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'keyed_from'") ?? "1") ?? 1
            let head = try Int64.fetchOne(db, sql: "SELECT seq FROM audit_head WHERE id = 1") ?? 0
            return (id, from, head, try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'writer'"))
        }
        guard let meta else {
            throw .store("\(path): this store was written by an older trustgap; open it once without read-only mode to upgrade it")
        }
        if meta.3 == "service", !service {
            throw .store(
                "\(path) is the access service's store: only `trustgap serve` writes it. Connect through the service "
                    + "instead (`service: {socket: /run/trustgap/trustgap.sock}` in your config, or --service SOCKET)")
        }
        storeID = meta.0
        keyedFrom = meta.1
        if fm.fileExists(atPath: keyPath) || readonly {
            key = readonly ? try? AuditKey.load(keyPath) : try AuditKey.load(keyPath)
        } else if meta.2 < meta.1 {
            key = try AuditKey.create(keyPath) // a new store, or one upgraded just now: nothing was keyed yet
        } else {
            key = try AuditKey.load(keyPath) // names the missing key
        }
        // A store upgraded from before keyed chains has history but no anchor yet: anchor its head now (trust on
        // first use), so verify doesn't call an honest old store broken, and later truncation is caught.
        if !readonly, meta.2 > 0, meta.2 < meta.1, (try? anchor.latest()) == nil,
            let head = try? pool.read({ try Row.fetchOne($0, sql: "SELECT seq, hash FROM audit_head WHERE id = 1") })
        {
            try anchor.append(AuditAnchor.Head(store: storeID, seq: head["seq"], mac: head["hash"]))
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
            close(fd)
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
                arguments: [Self.newID("st"), String(head + 1)])
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
        return m
    }

    /// Marks the store as the access service's (other openers then refuse it) and makes it and its key, anchor,
    /// WAL and shared-memory files readable by the service's user alone.
    public func claimForService() throws(AccessError) {
        _ = try write { db in
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('writer', 'service') ON CONFLICT(key) DO UPDATE SET value = 'service'")
        }
        // The anchor exists from the start, private like the rest, even before the first decision.
        let fd = open(anchor.path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600)
        if fd >= 0 { close(fd) }
        for p in [path, path + "-wal", path + "-shm", path + ".key", anchor.path] where FileManager.default.fileExists(atPath: p) {
            guard chmod(p, 0o600) == 0 else {
                throw .store("\(p): can't make it private to the service: \(String(cString: strerror(errno)))")
            }
        }
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

    // MARK: Transactions

    /// One immediate transaction: the writer lock is taken at the start, so a compare-and-set sees the latest state.
    func write<T>(_ body: @escaping (Database) throws -> T) throws(AccessError) -> T {
        guard !readonly else { throw .readonly }
        guard key != nil else { throw .store("\(path).key: can't read the audit key; nothing was changed") }
        let (result, head): (T, AuditAnchor.Head?)
        do {
            (result, head) = try pool.writeWithoutTransaction { [storeID] db in
                var result: T?
                var head: AuditAnchor.Head?
                try db.inTransaction(.immediate) {
                    let before = try Int64.fetchOne(db, sql: "SELECT seq FROM audit_head WHERE id = 1") ?? 0
                    result = try body(db)
                    if let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1"), (row["seq"] as Int64) > before
                    {
                        head = AuditAnchor.Head(store: storeID, seq: row["seq"], mac: row["hash"])
                    }
                    return .commit
                }
                return (result!, head)
            }
        } catch {
            throw Self.map(error, path: path)
        }
        // Committed: the decision stands even if the anchor can't be written, so that is not reported as its failure;
        // the running verification (the Audit panel, the service's state) says the anchor has stopped.
        if let head {
            do { try anchor.append(head) } catch { anchorFailure.withLock { $0 = error.description } }
        }
        return result
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
    func appendAudit(_ db: Database, _ f: AuditFields, by analyst: Analyst, at now: Date) throws -> AuditEntry {
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1")!
        let prevSeq: Int64 = head["seq"]
        let prevHash: String = head["hash"]
        var e = AuditEntry(
            seq: prevSeq + 1, at: Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded() / 1000),
            analyst: analyst.user, sshClient: analyst.sshClient, action: f.action, subject: f.subject, scope: f.scope,
            ttlSeconds: f.ttlSeconds, reason: f.reason, result: f.result, target: f.target, detail: f.detail,
            prevHash: prevHash, hash: "")
        e.hash = e.seq >= keyedFrom ? key!.mac(prev: prevHash, entry: e) : AuditEntry.chainHash(prev: prevHash, canonical: e.canonical)
        try db.execute(
            sql: """
                INSERT INTO audit (seq, at_ms, analyst, ssh_client, action, subject, scope, \
                ttl_seconds, reason, result, target, detail, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                e.seq, Int64((e.at.timeIntervalSince1970 * 1000).rounded()), e.analyst, e.sshClient, e.action, e.subject,
                e.scope, e.ttlSeconds, e.reason, e.result, e.target, e.detail, e.prevHash, e.hash,
            ])
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

    /// The audit log, oldest first (or the newest `limit` entries; with `after`, only entries after that sequence
    /// number, so a dashboard that has the rest reads only what is new).
    public func audit(limit: Int? = nil, after: Int64? = nil) throws(AccessError) -> [AuditEntry] {
        try read { db in
            if let after {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq DESC LIMIT ?", arguments: [after, limit ?? Int.max]
                )
                .map(Self.auditEntry).reversed()
            }
            if let limit {
                return try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq DESC LIMIT ?", arguments: [limit]).map(Self.auditEntry)
                    .reversed()
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq").map(Self.auditEntry)
        }
    }

    /// Checks the whole audit trail: every entry's MAC (HMAC-SHA256 with the store's key) and link, the sequence and
    /// the head; the anchor outside the store (a truncated, rolled-back or replaced store no longer matches it); and
    /// that every request, approval and grant in the store has the entries that explain its state.
    public func verifyAudit() throws(AccessError) -> AuditVerification {
        guard let key else {
            return AuditVerification(entries: 0, problem: "can't read the audit key \(path).key, so the chain can't be checked")
        }
        let anchored: AuditAnchor.Head?
        do { anchored = try anchor.latest() } catch { return AuditVerification(entries: 0, problem: error.description) }
        return try read { [keyedFrom, storeID] db in
            var prev = AuditEntry.genesis
            var expected: Int64 = 1
            var count = 0
            var explained = AuditExplanations()
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY rowid")
            while let row = try rows.next() {
                let e = Self.auditEntry(row)
                count += 1
                if e.seq != expected {
                    return AuditVerification(
                        entries: count,
                        problem: e.seq > expected
                            ? "entry \(expected) is missing (found \(e.seq) next)" : "entry \(e.seq) is out of order (expected \(expected))"
                    )
                }
                if e.prevHash != prev {
                    return AuditVerification(
                        entries: count,
                        problem: "entry \(e.seq) does not link to entry \(e.seq - 1): the log was reordered or an entry removed")
                }
                let mac = e.seq >= keyedFrom ? key.mac(prev: prev, entry: e) : AuditEntry.chainHash(prev: prev, canonical: e.canonical)
                if mac != e.hash {
                    return AuditVerification(
                        entries: count,
                        problem: "entry \(e.seq) was altered or forged: its MAC does not match its contents and the store's key")
                }
                explained.add(e)
                prev = e.hash
                expected += 1
            }
            let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1")
            let headSeq: Int64 = head?["seq"] ?? 0
            let headHash: String = head?["hash"] ?? AuditEntry.genesis
            if headSeq != expected - 1 || headHash != prev {
                return AuditVerification(
                    entries: count,
                    problem: headSeq > expected - 1
                        ? "entries \(expected) to \(headSeq) are missing from the end of the log"
                        : "the log's head does not match its last entry \(expected - 1)")
            }
            if let anchored {
                if anchored.store != storeID {
                    return AuditVerification(
                        entries: count,
                        problem:
                            "the store was replaced: its anchor records store \(anchored.store) with \(anchored.seq) entries, "
                            + "this is store \(storeID)"
                    )
                }
                if anchored.seq > headSeq {
                    return AuditVerification(
                        entries: count,
                        problem:
                            "the log was truncated or rolled back: the anchor records \(anchored.seq) entries, the store has \(headSeq)")
                }
                let at = try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [anchored.seq])
                if at != anchored.mac {
                    return AuditVerification(
                        entries: count,
                        problem: "entry \(anchored.seq) is not the one anchored: the log was rewritten or rolled back to another copy")
                }
            } else if headSeq > 0 {
                return AuditVerification(
                    entries: count, problem: "the audit anchor \(self.anchor.path) is missing, so truncation or rollback can't be ruled out"
                )
            }
            if let problem = try explained.unexplained(db) { return AuditVerification(entries: count, problem: problem) }
            return AuditVerification(entries: count, problem: nil)
        }
    }

    /// Checks only the entries after `seq` (whose MAC was `mac`): their numbering, links and MACs. What a running
    /// verification costs per change: O(the new entries), not O(history). Returns the new head, or the problem.
    public func verifyEntries(after seq: Int64, mac: String) throws(AccessError) -> (seq: Int64, mac: String, count: Int, problem: String?)
    {
        guard let key else { return (seq, mac, 0, "can't read the audit key \(path).key, so the chain can't be checked") }
        return try read { [keyedFrom] db in
            var prev = mac
            var expected = seq + 1
            var count = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq", arguments: [seq])
            while let row = try rows.next() {
                let e = Self.auditEntry(row)
                if e.seq != expected { return (expected - 1, prev, count, "entry \(expected) is missing (found \(e.seq) next)") }
                if e.prevHash != prev {
                    return (
                        expected - 1, prev, count,
                        "entry \(e.seq) does not link to entry \(e.seq - 1): the log was reordered or an entry removed"
                    )
                }
                let m = e.seq >= keyedFrom ? key.mac(prev: prev, entry: e) : AuditEntry.chainHash(prev: prev, canonical: e.canonical)
                if m != e.hash {
                    return (
                        expected - 1, prev, count,
                        "entry \(e.seq) was altered or forged: its MAC does not match its contents and the store's key"
                    )
                }
                prev = e.hash
                expected += 1
                count += 1
            }
            return (expected - 1, prev, count, nil)
        }
    }

    /// The head the store holds now (sequence number and MAC).
    public func head() throws(AccessError) -> (seq: Int64, mac: String) {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1")
            return (row?["seq"] ?? 0, row?["hash"] ?? AuditEntry.genesis)
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
