import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What `trustgap store migrate` copied.
public struct StoreMigration: Sendable, Equatable {
    public var requests = 0
    public var approvals = 0
    public var grants = 0
    public var extensionApprovals = 0
    public var auditEntries = 0
    /// The copy's own verification: nil when its chain verifies.
    public var problem: String?
}

extension AccessStore {
    /// The tables a store holds, in the order their rows can be inserted (referenced rows first).
    static let copiedTables = ["requests", "approvals", "grants", "extension_approvals", "audit"]

    /// Moves a team over: copies the SQLite store at `source` into the empty PostgreSQL store at `url`, every request,
    /// approval, grant and audit entry as they are, keeping the store's identity and its audit key (copied to
    /// `keyPath`, which every host's service then uses), so the copied chain verifies. The source must verify first;
    /// a destination that already holds anything is refused. One transaction: on any failure nothing is copied.
    public static func migrate(from source: String, to url: String, keyPath: String, anchorPath: String) throws(AccessError)
        -> StoreMigration
    {
        guard isPostgres(url) else { throw .store("\(url): the destination must be a PostgreSQL URL (postgres://USER@HOST/DB)") }
        guard !isPostgres(source) else { throw .store("\(source): the source must be an SQLite store file") }
        guard FileManager.default.fileExists(atPath: source) else { throw .store("\(source): no store here") }
        let from = try AccessStore(path: source, readonly: true, service: true)
        defer { from.close() }
        guard let key = from.key else { throw .store("\(from.keyPath): can't read the source's audit key; nothing was copied") }
        let verified = try from.verifyAudit()
        if let problem = verified.problem {
            throw .store("\(source): the source's audit chain does not verify (\(problem)); nothing was copied")
        }
        let target = try PostgresTarget(url: url)
        // The rows, the head and the identity in one read: a service still writing the source can't split them.
        let (rows, head): ([String: [StoreRow]], (seq: Int64, mac: String)) = try from.read { db in
            var all: [String: [StoreRow]] = [:]
            for table in copiedTables {
                all[table] = try db.rows("SELECT * FROM \(table) ORDER BY \(table == "audit" ? "seq" : "rowid")")
            }
            let h = try db.row("SELECT seq, hash FROM audit_head WHERE id = 1")
            return (all, (h?["seq"] ?? 0, h?["hash"] ?? AuditEntry.genesis))
        }
        guard (rows["audit"]?.last.map { $0["seq"] as Int64 } ?? 0) == head.seq else {
            throw .store("\(source): the store changed while it was read (is its service still running? stop it first); nothing was copied")
        }
        // The destination's key is the source's: copied if absent, and another key there is refused.
        let keyBytes = key.bytes
        if let existing = FileManager.default.contents(atPath: keyPath) {
            guard existing == keyBytes else {
                throw .store("\(keyPath) holds another audit key; move it away (or point --audit-key elsewhere). Nothing was copied")
            }
        } else {
            let dir = URL(fileURLWithPath: keyPath).deletingLastPathComponent().path
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let fd = open(keyPath, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw .store("\(keyPath): can't write the audit key: \(String(cString: strerror(errno)))") }
            let written = keyBytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            fsync(fd)
            Glibc.close(fd)
            guard written == keyBytes.count else {
                unlink(keyPath)
                throw .store("\(keyPath): can't write the audit key; nothing was copied")
            }
        }
        let destination = try PostgresBackend(target: target, readonly: false)
        defer { destination.close() }
        var copied = StoreMigration()
        let meta: (storeID: String, keyedFrom: Int64) = (from.storeID, from.keyedFrom)
        try destination.write { db in
            let used: Int64 = try db.scalar("SELECT seq FROM audit_head WHERE id = 1") ?? 0
            let requests: Int64 = try db.scalar("SELECT count(*) FROM requests") ?? 0
            guard used == 0, requests == 0 else {
                throw AccessError.store(
                    "\(target.description) already holds \(used) audit entries and \(requests) requests: "
                        + "migrate only into a new, empty store. Nothing was copied")
            }
            // A service already started on it keyed it: its identity and key must not change under it.
            if let keyed: String = try db.scalar("SELECT value FROM meta WHERE key = 'key_id'"), keyed != key.identity {
                throw AccessError.store(
                    "\(target.description) was already set up by a service with another audit key: "
                        + "stop that service and migrate into a new database. Nothing was copied")
            }
            for table in copiedTables {
                for row in rows[table] ?? [] {
                    let marks = Array(repeating: "?", count: row.names.count).joined(separator: ", ")
                    try db.execute("INSERT INTO \(table) (\(row.names.joined(separator: ", "))) VALUES (\(marks))", row.values)
                }
            }
            // A source from before v8-grant-asked-ttl (read-only here, so not migrated) has no asked TTLs: fill them in
            // as that migration does.
            try db.execute(Self.backfillAskedTTL)
            try db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", [head.seq, head.mac])
            for (k, v) in [
                ("store_id", meta.storeID), ("keyed_from", String(meta.keyedFrom)), ("key_id", key.identity), ("writer", "service"),
            ] {
                try db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [k, v])
            }
        }
        copied.requests = rows["requests"]?.count ?? 0
        copied.approvals = rows["approvals"]?.count ?? 0
        copied.grants = rows["grants"]?.count ?? 0
        copied.extensionApprovals = rows["extension_approvals"]?.count ?? 0
        copied.auditEntries = rows["audit"]?.count ?? 0
        // This host's anchor starts at the copied head; then the copy is checked as a service would check it.
        if head.seq > 0 { try AuditAnchor(path: anchorPath).append(AuditAnchor.Head(store: meta.storeID, seq: head.seq, mac: head.mac)) }
        let to = try AccessStore(path: url, service: true, keyPath: keyPath, anchorPath: anchorPath)
        defer { to.close() }
        copied.problem = try to.verifyAudit().problem
        return copied
    }
}
