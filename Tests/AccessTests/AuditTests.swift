import Foundation
import GRDB
import Testing

@testable import Access
@testable import Inventory

@Suite("Audit chain tamper detection")
struct AuditTests {
    /// A store with six audited decisions.
    func populated() throws -> AccessStore {
        let store = try tempStore()
        for i in 0..<3 {
            let r = try store.file(
                subject: laptop, scope: "vpn:prod:\(i)", ttlSeconds: 600, reason: "r\(i)", by: alice, policy: policy,
                now: t0.plus(Double(i)))
            _ = try store.approve(r.id, reason: "ok", by: bob, policy: policy, now: t0.plus(Double(i) + 0.5))
        }
        #expect(try store.verifyAudit() == AuditVerification(entries: 6, problem: nil))
        return store
    }

    /// Edits the database behind the store's back, as an attacker with file access would (triggers dropped first).
    func tamper(_ store: AccessStore, _ sql: String) throws {
        let q = try DatabaseQueue(path: store.path)
        try q.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete")
            try db.execute(sql: sql)
        }
    }

    @Test("the log is append-only through SQLite too")
    func appendOnly() throws {
        let store = try populated()
        let q = try DatabaseQueue(path: store.path)
        #expect(throws: (any Error).self) { try q.write { try $0.execute(sql: "UPDATE audit SET reason = 'x' WHERE seq = 2") } }
        #expect(throws: (any Error).self) { try q.write { try $0.execute(sql: "DELETE FROM audit WHERE seq = 2") } }
    }

    @Test("an edited entry is named")
    func edit() throws {
        let store = try populated()
        try tamper(store, "UPDATE audit SET reason = 'nothing to see' WHERE seq = 3")
        #expect(try store.verifyAudit().problem == "entry 3 was altered or forged: its MAC does not match its contents and the store's key")
    }

    @Test("a removed entry is named, in the middle or at the end")
    func delete() throws {
        let store = try populated()
        try tamper(store, "DELETE FROM audit WHERE seq = 4")
        #expect(try store.verifyAudit().problem == "entry 4 is missing (found 5 next)")
        let other = try populated()
        try tamper(other, "DELETE FROM audit WHERE seq = 6")
        #expect(try other.verifyAudit().problem == "entries 6 to 6 are missing from the end of the log")
    }

    @Test("reordered entries are found")
    func reorder() throws {
        let store = try populated()
        // Swap the contents of entries 2 and 3, keeping their sequence numbers.
        try tamper(
            store,
            """
            CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (2, 3);
            UPDATE audit SET at_ms = (SELECT at_ms FROM t WHERE seq = 3), analyst = (SELECT analyst FROM t WHERE seq = 3),
                action = (SELECT action FROM t WHERE seq = 3), subject = (SELECT subject FROM t WHERE seq = 3),
                scope = (SELECT scope FROM t WHERE seq = 3), reason = (SELECT reason FROM t WHERE seq = 3),
                result = (SELECT result FROM t WHERE seq = 3), target = (SELECT target FROM t WHERE seq = 3),
                ttl_seconds = (SELECT ttl_seconds FROM t WHERE seq = 3), detail = (SELECT detail FROM t WHERE seq = 3),
                prev_hash = (SELECT prev_hash FROM t WHERE seq = 3), hash = (SELECT hash FROM t WHERE seq = 3) WHERE seq = 2;
            UPDATE audit SET at_ms = (SELECT at_ms FROM t WHERE seq = 2), analyst = (SELECT analyst FROM t WHERE seq = 2),
                action = (SELECT action FROM t WHERE seq = 2), subject = (SELECT subject FROM t WHERE seq = 2),
                scope = (SELECT scope FROM t WHERE seq = 2), reason = (SELECT reason FROM t WHERE seq = 2),
                result = (SELECT result FROM t WHERE seq = 2), target = (SELECT target FROM t WHERE seq = 2),
                ttl_seconds = (SELECT ttl_seconds FROM t WHERE seq = 2), detail = (SELECT detail FROM t WHERE seq = 2),
                prev_hash = (SELECT prev_hash FROM t WHERE seq = 2), hash = (SELECT hash FROM t WHERE seq = 2) WHERE seq = 3;
            """)
        let problem = try #require(try store.verifyAudit().problem)
        #expect(problem.hasPrefix("entry 2 "))
    }

    /// Rewrites the chain from entry 1 as an attacker without the key would: SHA-256 links (the old, unkeyed scheme),
    /// optionally after changing `keyed_from` so the store claims no entry was ever keyed.
    func recompute(_ store: AccessStore, claimUnkeyed: Bool) throws {
        let q = try DatabaseQueue(path: store.path)
        try q.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete")
            try db.execute(sql: "UPDATE audit SET reason = 'nothing to see' WHERE seq = 2")
            if claimUnkeyed { try db.execute(sql: "UPDATE meta SET value = '999999' WHERE key = 'keyed_from'") }
            var prev = AuditEntry.genesis
            for row in try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq") {
                var e = AccessStore.auditEntry(SQLiteConnection.storeRow(row))
                e.prevHash = prev
                e.hash = AuditEntry.chainHash(prev: prev, canonical: e.canonical)
                try db.execute(sql: "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", arguments: [e.prevHash, e.hash, e.seq])
                prev = e.hash
            }
            try db.execute(sql: "UPDATE audit_head SET hash = ? WHERE id = 1", arguments: [prev])
        }
    }

    @Test("a chain recomputed without the key fails, even when the store claims it was never keyed")
    func recomputed() throws {
        let store = try populated()
        try recompute(store, claimUnkeyed: false)
        #expect(try store.verifyAudit().problem == "entry 1 was altered or forged: its MAC does not match its contents and the store's key")
        let other = try populated()
        try recompute(other, claimUnkeyed: true)
        let reopened = try AccessStore(path: other.path)
        #expect(
            try reopened.verifyAudit().problem == "entry 6 is not the one anchored: the log was rewritten or rolled back to another copy")
    }

    @Test("a truncated log (entries and head removed together) fails against the anchor")
    func truncated() throws {
        let store = try populated()
        let q = try DatabaseQueue(path: store.path)
        try q.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_delete")
            try db.execute(sql: "DELETE FROM audit WHERE seq > 4")
            try db.execute(sql: "UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit WHERE seq = 4) WHERE id = 1")
            try db.execute(
                sql: "DELETE FROM grants WHERE id IN (SELECT grant_id FROM requests WHERE created_at > ?)",
                arguments: [t0.plus(1.5).timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM approvals WHERE at > ?", arguments: [t0.plus(2).timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM requests WHERE created_at > ?", arguments: [t0.plus(1.5).timeIntervalSince1970])
        }
        #expect(try store.verifyAudit().problem == "the log was truncated or rolled back: the anchor records 6 entries, the store has 4")
    }

    @Test("a store rolled back to an earlier copy fails against the anchor")
    func rolledBack() throws {
        let store = try tempStore()
        let r = try store.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        let copy = store.path + ".copy"
        let q = try DatabaseQueue(path: store.path)
        try q.writeWithoutTransaction { try $0.execute(sql: "VACUUM INTO ?", arguments: [copy]) }
        _ = try store.deny(r.id, reason: "no", by: bob, policy: policy, now: t0.plus(1))
        #expect(try store.verifyAudit().ok)
        try FileManager.default.removeItem(atPath: store.path)
        try? FileManager.default.removeItem(atPath: store.path + "-wal")
        try? FileManager.default.removeItem(atPath: store.path + "-shm")
        try FileManager.default.moveItem(atPath: copy, toPath: store.path)
        let restored = try AccessStore(path: store.path)
        #expect(try restored.verifyAudit().problem == "the log was truncated or rolled back: the anchor records 2 entries, the store has 1")
    }

    @Test("a store that was moved away is not silently replaced by an empty one; another store put in its place fails")
    func replaced() throws {
        let store = try populated()
        let path = store.path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        #expect(throws: AccessError.self) { _ = try AccessStore(path: path) }
        do { _ = try AccessStore(path: path) } catch {
            #expect(error.description.contains("the store is missing, but its audit anchor"))
            #expect(error.description.contains("records 6 entries"))
        }
        // Another trustgap store (its own key) put where the old one was.
        let other = try tempStore()
        _ = try other.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        let q = try DatabaseQueue(path: other.path)
        try q.writeWithoutTransaction { try $0.execute(sql: "VACUUM INTO ?", arguments: [path]) }
        try FileManager.default.removeItem(atPath: path + ".key")
        try FileManager.default.copyItem(atPath: other.path + ".key", toPath: path + ".key")
        let swapped = try AccessStore(path: path)
        #expect(try swapped.verifyAudit().problem?.hasPrefix("the store was replaced: its anchor records store ") == true)
    }

    @Test("rows written into the store behind trustgap's back fail verify: a grant, an approval, a decision, an expiry")
    func unexplainedRows() throws {
        var store = try populated()
        let g = try #require(try store.grants().first)
        try tamper(
            store,
            """
            INSERT INTO grants (id, request_id, subject, subject_name, population, scope, approvers, \
            reason, starts_at, expires_at, state, actuation)
            VALUES ('gr-forged', NULL, 'host:agent/x', 'x', 'agent', 'iam:admin', '["bob"]', 'r', \
            \(t0.timeIntervalSince1970), \(t0.plus(31_536_000).timeIntervalSince1970), 'active', 'not_configured')
            """)
        #expect(try store.verifyAudit().problem == "grant gr-forged has no audit entry: it was written into the store outside trustgap")

        store = try populated()
        let g2 = try #require(try store.grants().first)
        try tamper(store, "UPDATE grants SET expires_at = expires_at + 31536000 WHERE id = '\(g2.id)'")
        #expect(try store.verifyAudit().problem?.hasPrefix("grant \(g2.id) expires at ") == true)

        store = try populated()
        let r = try store.file(
            subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0.plus(9))
        try tamper(
            store,
            "INSERT INTO approvals (request_id, analyst, at, reason) "
                + "VALUES ('\(r.id)', 'carol', \(t0.plus(10).timeIntervalSince1970), 'forged')"
        )
        #expect(
            try store.verifyAudit().problem
                == "the approval of \(r.id) by carol has no audit entry: it was written into the store outside trustgap")

        store = try populated()
        let r2 = try store.file(
            subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0.plus(9))
        try tamper(store, "UPDATE requests SET state = 'approved' WHERE id = '\(r2.id)'")
        #expect(try store.verifyAudit().problem == "request \(r2.id) is approved in the store, but the audit log says pending")
        _ = g
    }
}
