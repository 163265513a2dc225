import Foundation
import Inventory
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The durable, shared store of requests, grants and the audit log: an SQLite file for one host, or PostgreSQL
/// for a team's many (`StoreBackend`); the logic, and so every answer, is the same on both.
///
/// Every decision is one transaction that takes the store's writer lock first and compare-and-sets the current
/// state, and appends its audit entry in the same transaction: when two analysts decide the same request at once,
/// on one host or two, exactly one wins and the other is told who decided and how. Policy is checked here, so the
/// dashboard and the CLI get the same answers.
public final class AccessStore: Sendable {
    /// The store's path, or its PostgreSQL URL without a password.
    public let path: String
    public let readonly: Bool
    let backend: any StoreBackend
    /// The key that authenticates the audit chain; nil only when a read-only opener can't read it.
    let key: AuditKey?
    public let keyPath: String
    /// Where each new chain head is written outside the store.
    public let anchor: AuditAnchor
    /// This store's random identity, recorded with every anchored head: a replaced store has another.
    public let storeID: String
    /// The first entry authenticated with the key; earlier ones (written before keyed chains) are SHA-256 linked.
    let keyedFrom: Int64
    /// Why the last head could not be anchored, if it couldn't.
    public let anchorFailure = Mutex<String?>(nil)
    /// The furthest head this process anchored.
    let lastAnchored = Mutex<Int64>(0)

    /// Whether `location` names a PostgreSQL store (`postgres://…` or `postgresql://…`) rather than a file.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Opens (creating if needed, unless read-only) the store at `path` (a file, or a PostgreSQL URL), with its
    /// audit key and anchor: beside an SQLite file, at `keyPath` and `anchorPath` for PostgreSQL (each host keeps
    /// its own anchor; every host has a copy of the one key).
    /// `service` is true only for the access service: any other opener refuses a store the service has claimed,
    /// and a PostgreSQL store is the service's alone.
    public init(
        path: String, readonly: Bool = false, syslogAnchor: Bool = false, service: Bool = false, keyPath: String? = nil,
        anchorPath: String? = nil
    ) throws(AccessError) {
        self.readonly = readonly
        if Self.isPostgres(path) {
            guard service else {
                throw .store(
                    "a PostgreSQL store is kept by the access service: connect through its socket "
                        + "(`service: {socket: …}` in your config, or --service SOCKET)")
            }
            let target = try PostgresTarget(url: path)
            self.path = target.description
            guard let keyPath, let anchorPath else {
                throw .store("\(target.description): a PostgreSQL store needs `audit_key` and `audit_anchor` paths in the config")
            }
            self.keyPath = keyPath
            for dir in Set([keyPath, anchorPath].map { URL(fileURLWithPath: $0).deletingLastPathComponent().path })
            where !FileManager.default.fileExists(atPath: dir) {
                do {
                    try FileManager.default.createDirectory(
                        atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                } catch {
                    throw .store("\(dir): can't create the folder for the audit key and anchor: \((error as NSError).localizedDescription)")
                }
            }
            anchor = AuditAnchor(path: anchorPath, syslog: syslogAnchor)
            backend = try PostgresBackend(target: target, readonly: readonly)
        } else {
            self.path = path
            self.keyPath = keyPath ?? path + ".key"
            anchor = AuditAnchor(path: anchorPath ?? path + ".anchor", syslog: syslogAnchor)
            backend = try SQLiteBackend(path: path, readonly: readonly, keyPath: self.keyPath, anchor: anchor)
        }
        let backend = backend
        let meta: (String, Int64, Int64, String?, String?)? = try? backend.read { db in
            guard try db.scalar("SELECT value FROM meta WHERE key = 'store_id'") as String? != nil else { return nil }
            let id: String = try db.scalar("SELECT value FROM meta WHERE key = 'store_id'") ?? ""
            let from = Int64(try db.scalar("SELECT value FROM meta WHERE key = 'keyed_from'") ?? "1") ?? 1
            let head: Int64 = try db.scalar("SELECT seq FROM audit_head WHERE id = 1") ?? 0
            return (
                id, from, head, try db.scalar("SELECT value FROM meta WHERE key = 'writer'"),
                try db.scalar("SELECT value FROM meta WHERE key = 'key_id'")
            )
        }
        guard let meta else {
            throw .store("\(self.path): this store was written by an older trustgap; open it once without read-only mode to upgrade it")
        }
        if meta.3 == "service", !service {
            throw .store(
                "\(path) is the access service's store: only `trustgap serve` writes it. Connect through the service "
                    + "instead (`service: {socket: /run/trustgap/trustgap.sock}` in your config, or --service SOCKET)")
        }
        storeID = meta.0
        keyedFrom = meta.1
        let keyPath = self.keyPath
        var created = false
        if FileManager.default.fileExists(atPath: keyPath) || readonly {
            key = readonly ? try? AuditKey.load(keyPath) : try AuditKey.load(keyPath)
        } else if meta.2 < meta.1 {
            key = try AuditKey.create(keyPath) // a new store, or one upgraded just now: nothing was keyed yet
            created = true
        } else if backend is PostgresBackend {
            throw .store(
                "\(keyPath): this host has no copy of the audit key of \(self.path), which already holds \(meta.2) entries. "
                    + "Copy the key from a host that runs the service on this store (mode 0600, owned by the service's user)")
        } else {
            key = try AuditKey.load(keyPath) // names the missing key
        }
        // Every host must hold the same key, or one host's entries would fail everyone else's verification: the store
        // records which key it was keyed with (a MAC of a fixed text, never the key) and a host with another is refused.
        if let key, !readonly {
            let id = key.identity
            if let recorded = meta.4, recorded != id {
                if created { unlink(keyPath) } // made just now, for nothing: don't leave it to be mistaken for the key
                throw .store(
                    "\(keyPath) is not the audit key of \(self.path) (the store was keyed with another): "
                        + "copy the key from a host that runs the service on this store")
            }
            if meta.4 == nil {
                // Two hosts starting on a new store at once each make a key: the first recorded wins, the other is
                // refused (and its key removed), never left writing entries nobody else can verify.
                let recorded: String? = try backend.write { db in
                    try db.execute("INSERT INTO meta (key, value) VALUES ('key_id', ?) ON CONFLICT(key) DO NOTHING", [id])
                    return try db.scalar("SELECT value FROM meta WHERE key = 'key_id'")
                }
                if recorded != id {
                    if created { unlink(keyPath) }
                    throw .store(
                        "\(keyPath) is not the audit key of \(self.path): another host keyed the store first. "
                            + "Copy the key from a host that runs the service on this store")
                }
            }
        }
        // A store upgraded from before keyed chains has history but no anchor yet: anchor its head now (trust on
        // first use), so verify doesn't call an honest old store broken, and later truncation is caught.
        // Likewise a host joining a PostgreSQL store that others already write: it anchors what it finds, and every
        // head after that (its own and, through the change feed, the other hosts').
        if !readonly, meta.2 > 0, meta.2 < meta.1 || backend is PostgresBackend, (try? anchor.latest()) == nil,
            let head = try? backend.read({ try $0.row("SELECT seq, hash FROM audit_head WHERE id = 1") })
        {
            try anchor.append(AuditAnchor.Head(store: storeID, seq: head["seq"], mac: head["hash"]))
        }
    }

    /// Anchors a head another host wrote (seen through the change feed), so this host's anchor follows the whole
    /// chain, not only its own entries.
    public func anchorObserved(_ entry: AuditEntry) {
        // Its own heads are anchored as they commit: only what is further along is added.
        guard lastAnchored.withLock({ entry.seq > $0 }) else { return }
        lastAnchored.withLock { $0 = max($0, entry.seq) }
        do { try anchor.append(AuditAnchor.Head(store: storeID, seq: entry.seq, mac: entry.hash)) } catch {
            anchorFailure.withLock { $0 = error.description }
        }
    }

    /// Where a PostgreSQL store is; nil for an SQLite file.
    public var postgresTarget: PostgresTarget? { (backend as? PostgresBackend)?.target }

    /// Closes the store's connections.
    public func close() { backend.close() }

    /// Marks the store as the access service's (other openers then refuse it) and makes it and its key, anchor,
    /// WAL and shared-memory files readable by the service's user alone.
    public func claimForService() throws(AccessError) {
        _ = try write { db in
            try db.execute("INSERT INTO meta (key, value) VALUES ('writer', 'service') ON CONFLICT(key) DO UPDATE SET value = 'service'")
        }
        // The anchor exists from the start, private like the rest, even before the first decision.
        let fd = open(anchor.path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600)
        if fd >= 0 { Glibc.close(fd) }
        if let sqlite = backend as? SQLiteBackend { try sqlite.makePrivate() }
        for p in [keyPath, anchor.path] where FileManager.default.fileExists(atPath: p) {
            guard chmod(p, 0o600) == 0 else {
                throw .store("\(p): can't make it private to the service: \(String(cString: strerror(errno)))")
            }
        }
    }

    // MARK: Transactions

    /// One write transaction: the writer lock is taken at the start, so a compare-and-set sees the latest state.
    /// When it moved the audit head, the new head is anchored outside the store once it has committed.
    func write<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> T {
        guard !readonly else { throw .readonly }
        guard key != nil else { throw .store("\(keyPath): can't read the audit key; nothing was changed") }
        let (result, moved) = try backend.writeMovingHead(body)
        let head = moved.map { AuditAnchor.Head(store: storeID, seq: $0.seq, mac: $0.mac) }
        // Committed: the decision stands even if the anchor can't be written, so that is not reported as its failure;
        // the running verification (the Audit panel, the service's state) says the anchor has stopped.
        if let head {
            lastAnchored.withLock { $0 = max($0, head.seq) }
            do { try anchor.append(head) } catch { anchorFailure.withLock { $0 = error.description } }
        }
        return result
    }

    func read<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> T { try backend.read(body) }

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
    func appendAudit(_ db: any StoreConnection, _ f: AuditFields, by analyst: Analyst, at now: Date) throws -> AuditEntry {
        let head = try db.row("SELECT seq, hash FROM audit_head WHERE id = 1")!
        let prevSeq: Int64 = head["seq"]
        let prevHash: String = head["hash"]
        // A reported name says so twice: marked in `analyst`, and who reported it in `detail`.
        let detail = analyst.reportedBy.map { by in f.detail.isEmpty ? "reported by \(by)" : "\(f.detail); reported by \(by)" } ?? f.detail
        var e = AuditEntry(
            seq: prevSeq + 1, at: Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded() / 1000),
            analyst: analyst.recordedName, sshClient: analyst.sshClient, action: f.action, subject: f.subject, scope: f.scope,
            ttlSeconds: f.ttlSeconds, reason: f.reason, result: f.result, target: f.target, detail: detail,
            prevHash: prevHash, hash: "")
        e.hash = e.seq >= keyedFrom ? key!.mac(prev: prevHash, entry: e) : AuditEntry.chainHash(prev: prevHash, canonical: e.canonical)
        try db.execute(
            """
            INSERT INTO audit (seq, at_ms, analyst, ssh_client, action, subject, scope, \
            ttl_seconds, reason, result, target, detail, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                e.seq, Int64((e.at.timeIntervalSince1970 * 1000).rounded()), e.analyst, e.sshClient, e.action, e.subject,
                e.scope, e.ttlSeconds, e.reason, e.result, e.target, e.detail, e.prevHash, e.hash,
            ])
        try db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", [e.seq, e.hash])
        return e
    }

    static func auditEntry(_ row: StoreRow) -> AuditEntry {
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
                return try db.rows(
                    "SELECT * FROM audit WHERE seq > ? ORDER BY seq DESC LIMIT ?", [after, limit ?? Int.max]
                )
                .map(Self.auditEntry).reversed()
            }
            if let limit {
                return try db.rows("SELECT * FROM audit ORDER BY seq DESC LIMIT ?", [limit]).map(Self.auditEntry)
                    .reversed()
            }
            return try db.rows("SELECT * FROM audit ORDER BY seq").map(Self.auditEntry)
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
        let order = backend.insertionOrder
        return try read { [keyedFrom, storeID] db in
            var prev = AuditEntry.genesis
            var expected: Int64 = 1
            var count = 0
            var explained = AuditExplanations()
            let rows = try db.rows("SELECT * FROM audit ORDER BY \(order)")
            for row in rows {
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
            let head = try db.row("SELECT seq, hash FROM audit_head WHERE id = 1")
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
                let at = try db.stringScalar("SELECT hash FROM audit WHERE seq = ?", [anchored.seq])
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
            let rows = try db.rows("SELECT * FROM audit WHERE seq > ? ORDER BY seq", [seq])
            for row in rows {
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
            let row = try db.row("SELECT seq, hash FROM audit_head WHERE id = 1")
            return (row?["seq"] ?? 0, row?["hash"] ?? AuditEntry.genesis)
        }
    }

    /// Changes whenever anything is decided, by any process: the dashboards poll it as their change feed.
    public func changeToken() throws(AccessError) -> Int64 {
        try read { db in try db.int64Scalar("SELECT seq FROM audit_head WHERE id = 1") ?? 0 }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
