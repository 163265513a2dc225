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
            let r = try store.file(subject: laptop, scope: "vpn:prod:\(i)", ttlSeconds: 600, reason: "r\(i)", by: alice, policy: policy, now: t0.plus(Double(i)))
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
        #expect(try store.verifyAudit().problem == "entry 3 was altered: its hash does not match its contents")
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
        try tamper(store, """
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
}
