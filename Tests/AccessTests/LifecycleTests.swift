import Foundation
import GRDB
import TestSupport
import Testing

@testable import Access
@testable import Inventory

@Suite("Requests and grants (injected clock)")
struct LifecycleTests {
    @Test("request, approve, expire: each step durable and audited")
    func approveAndExpire() throws {
        let store = try tempStore()
        let r = try store.file(
            subject: agent, scope: "repo:acme/api:write", ttlSeconds: 1800, reason: "fix flaky test", by: alice, policy: policy, now: t0)
        #expect(r.state == .pending)
        #expect(r.requester == "alice")
        guard case .granted(let g) = try store.approve(r.id, reason: "ok", by: bob, policy: policy, now: t0.plus(60)) else {
            Issue.record("not granted")
            return
        }
        #expect(g.expiresAt == t0.plus(60 + 1800))
        #expect(g.approvers == ["bob"])
        #expect(try store.request(id: r.id)?.state == .approved)
        #expect(try store.sweep(by: carol, now: t0.plus(1000)).expired.isEmpty, "not yet")
        #expect(try store.sweep(by: carol, now: t0.plus(1860)).expired == [g.id])
        #expect(try store.grant(id: g.id)?.state == .expired)
        #expect(try store.sweep(by: carol, now: t0.plus(2000)).expired.isEmpty, "expires exactly once")
        let actions = try store.audit().map(\.action)
        #expect(actions == ["request", "approve", "expire"])
        let first = try store.audit()[0]
        #expect(first.analyst == "alice")
        #expect(first.sshClient == "203.0.113.5")
        #expect(try store.verifyAudit().ok)
    }

    @Test("an undecided request lapses, and can't be approved after")
    func lapse() throws {
        let store = try tempStore()
        let r = try store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        #expect(throws: AccessError.conflict("request \(r.id) lapsed at \(AccessStore.when(r.lapsesAt)): nobody decided in time")) {
            try store.approve(r.id, reason: "late", by: bob, policy: policy, now: t0.plus(policy.requestLapseSeconds + 1))
        }
        #expect(throws: AccessError.self) {
            try store.deny(r.id, reason: "late", by: bob, policy: policy, now: t0.plus(policy.requestLapseSeconds + 1))
        }
        #expect(try store.sweep(by: bob, now: t0.plus(policy.requestLapseSeconds + 1)).lapsed == [r.id])
        #expect(try store.request(id: r.id)?.state == .lapsed)
    }

    @Test("extend keeps a grant active under a new expiry, within the cap")
    func extend() throws {
        let store = try tempStore()
        let g = try store.directGrant(
            subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        guard case .extended(let e) = try store.extend(g.id, ttlSeconds: 3600, reason: "more", by: bob, policy: policy, now: t0.plus(300))
        else {
            Issue.record("not extended")
            return
        }
        #expect(e.state == .active)
        #expect(e.expiresAt == t0.plus(3900))
        #expect(throws: AccessError.refused(rule: "max_ttl", message: "agents may hold access for at most 1h; asked for 2h")) {
            try store.extend(g.id, ttlSeconds: 7200, reason: "more", by: bob, policy: policy, now: t0.plus(400))
        }
        _ = try store.sweep(by: bob, now: t0.plus(4000))
        #expect(throws: AccessError.conflict("grant \(g.id) already expired at \(AccessStore.when(t0.plus(3900)))")) {
            try store.extend(g.id, ttlSeconds: 600, reason: "late", by: bob, policy: policy, now: t0.plus(4100))
        }
    }

    @Test("caps: the requested TTL is capped by policy on approval; an explicit TTL over the cap is refused")
    func caps() throws {
        let store = try tempStore()
        var loose = AccessPolicy()
        loose.populations[.agent]?.maxTTLSeconds = 7200
        let r = try store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 7200, reason: "r", by: alice, policy: loose, now: t0)
        #expect(throws: AccessError.refused(rule: "max_ttl", message: "agents may hold access for at most 1h; asked for 2h")) {
            try store.approve(r.id, ttlSeconds: 7200, reason: "ok", by: bob, policy: policy, now: t0)
        }
        guard case .granted(let g) = try store.approve(r.id, reason: "ok", by: bob, policy: policy, now: t0) else {
            Issue.record("not granted")
            return
        }
        #expect(g.expiresAt == t0.plus(3600), "capped at the agent maximum")
    }

    @Test("no self-approval")
    func selfApproval() throws {
        let store = try tempStore()
        let r = try store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        #expect(throws: AccessError.refused(rule: "no_self_approval", message: "alice asked for this access and can't approve it")) {
            try store.approve(r.id, reason: "mine", by: alice, policy: policy, now: t0)
        }
        #expect(try store.request(id: r.id)?.state == .pending)
    }

    @Test("two-person rule for admin scopes: two different analysts, neither the requester")
    func twoPerson() throws {
        let store = try tempStore()
        let r = try store.file(
            subject: deployer, scope: "iam:admin", ttlSeconds: 3600, reason: "rotate KMS policy", by: alice, policy: policy, now: t0)
        #expect(try store.approve(r.id, reason: "ok", by: bob, policy: policy, now: t0) == .recorded(approvalsLeft: 1))
        #expect(try store.request(id: r.id)?.state == .pending)
        #expect(
            throws: AccessError.refused(rule: "two_person", message: "bob already approved; another analyst must give the next approval")
        ) {
            try store.approve(r.id, reason: "again", by: bob, policy: policy, now: t0)
        }
        guard case .granted(let g) = try store.approve(r.id, reason: "ok too", by: carol, policy: policy, now: t0.plus(5)) else {
            Issue.record("not granted")
            return
        }
        #expect(g.approvers == ["bob", "carol"])
        #expect(
            throws: AccessError.refused(
                rule: "two_person", message: "iam:admin needs 2 approvals; file a request (trustgap request) for another analyst to approve"
            )
        ) {
            try store.directGrant(subject: deployer, scope: "iam:admin", ttlSeconds: 600, reason: "r", by: bob, policy: policy, now: t0)
        }
    }

    @Test("forbidden scopes: agents never hold admin, from a request or a direct grant")
    func forbidden() throws {
        let store = try tempStore()
        #expect(throws: AccessError.self) {
            try store.file(subject: agent, scope: "k8s:prod:admin", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        }
        #expect(throws: AccessError.self) {
            try store.directGrant(subject: agent, scope: "iam:admin", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        }
        #expect(try store.requests().isEmpty)
        #expect(try store.audit().isEmpty, "refused actions change nothing")
    }

    @Test("the loser of a race is told who decided and how")
    func decidedFirst() throws {
        let store = try tempStore()
        let r = try store.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 3600, reason: "on call", by: alice, policy: policy, now: t0)
        _ = try store.deny(r.id, reason: "not on the rota", by: bob, policy: policy, now: t0.plus(1))
        #expect(
            throws: AccessError.conflict("request \(r.id) was already denied by bob at \(AccessStore.when(t0.plus(1))): not on the rota")
        ) {
            try store.approve(r.id, reason: "ok", by: carol, policy: policy, now: t0.plus(2))
        }
        let g = try store.directGrant(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: carol, policy: policy, now: t0)
        _ = try store.revoke(g.id, reason: "done", by: bob, policy: policy, now: t0.plus(10))
        #expect(throws: AccessError.conflict("grant \(g.id) was already revoked by bob at \(AccessStore.when(t0.plus(10))): done")) {
            try store.revoke(g.id, reason: "again", by: carol, policy: policy, now: t0.plus(11))
        }
    }

    @Test("only the requester cancels; unknown ids are not found")
    func cancelAndNotFound() throws {
        let store = try tempStore()
        let r = try store.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 3600, reason: "r", by: alice, policy: policy, now: t0)
        #expect(throws: AccessError.refused(rule: "requester_only", message: "only alice, who asked, can cancel request \(r.id)")) {
            try store.cancel(r.id, reason: "x", by: bob, policy: policy, now: t0)
        }
        #expect(try store.cancel(r.id, reason: "not needed", by: alice, policy: policy, now: t0).state == .cancelled)
        #expect(throws: AccessError.notFound("no request req-nope")) {
            try store.approve("req-nope", reason: "r", by: bob, policy: policy, now: t0)
        }
        #expect(throws: AccessError.notFound("no grant gr-nope")) {
            try store.revoke("gr-nope", reason: "r", by: bob, policy: policy, now: t0)
        }
    }

    @Test("read-only refuses every change and creates nothing")
    func readonly() throws {
        let store = try tempStore()
        _ = try store.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        let ro = try AccessStore(path: store.path, readonly: true)
        #expect(throws: AccessError.readonly) {
            try ro.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        }
        #expect(try ro.requests().count == 1)
        #expect(throws: AccessError.self) { try AccessStore(path: "/nonexistent-\(UUID())/x.db", readonly: true) }
    }

    @Test("observed requests are filed once")
    func ingest() throws {
        let store = try tempStore()
        let p = RequestProposal(
            key: "demo-1", subject: agent.id, scope: "repo:x:write", requester: "priya", reason: "r", ttlSeconds: 600, createdAt: t0)
        let lookup: (String) -> Subject? = { $0 == agent.id ? agent : nil }
        #expect(try store.ingest([p], subjects: lookup, by: alice, policy: policy, now: t0) == 1)
        #expect(try store.ingest([p], subjects: lookup, by: bob, policy: policy, now: t0) == 0)
        #expect(try store.requests(state: .pending).first?.requester == "priya (reported)", "a collector's word, marked")
    }

    @Test("the store's files are group-writable in a group-shared folder")
    func sharedPermissions() throws {
        let dir = TestTemporary.directory.appendingPathComponent("tg-shared-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o2770])
        chmod(dir.path, 0o2770)
        let store = try AccessStore(path: dir.appendingPathComponent("trustgap.db").path)
        _ = try store.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        for name in ["trustgap.db", "trustgap.db-wal", "trustgap.db-shm"] {
            var st = stat()
            #expect(stat(dir.appendingPathComponent(name).path, &st) == 0, "\(name) missing")
            #expect(st.st_mode & 0o060 == 0o060, "\(name) is not group read-write: \(String(st.st_mode & 0o777, radix: 8))")
            #expect(st.st_mode & 0o007 == 0, "\(name) is open to others")
        }
    }
}

@Suite("Store errors")
struct StoreErrorTests {
    @Test("locked, full, read-only and damaged stores give clear errors")
    func messages() {
        func message(_ code: ResultCode) -> String { SQLiteBackend.map(DatabaseError(resultCode: code), path: "/s.db").description }
        #expect(message(.SQLITE_BUSY) == "/s.db: the store is locked by another process; nothing was changed, try again")
        #expect(message(.SQLITE_FULL) == "/s.db: the disk is full; nothing was changed")
        #expect(message(.SQLITE_READONLY).hasPrefix("/s.db: the store is read-only for this user"))
        #expect(message(.SQLITE_NOTADB) == "/s.db: this is not a trustgap store, or it is damaged")
    }

    @Test("a file that is not a store is refused, not overwritten")
    func notAStore() throws {
        let path = TestTemporary.directory.appendingPathComponent("tg-notdb-\(UUID())").path
        try "precious notes, not a database\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            throws: AccessError.store(
                "\(path): this is not a trustgap store (not an SQLite database at all); nothing was changed. Check --store or `store:`")
        ) {
            try AccessStore(path: path)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious notes, not a database\n")
    }
}

@Suite("Observed requests' own deadline")
struct ProposalDeadlineTests {
    @Test("a proposal lapses at its own deadline when that is sooner than the policy's, and one already past is not filed")
    func deadline() throws {
        let store = try tempStore()
        let subjects: (String) -> Subject? = { $0 == agent.id ? agent : nil }
        let soon = RequestProposal(
            key: "k1", subject: agent.id, scope: "repo:a:read", requester: "nina", reason: "look", ttlSeconds: 900, createdAt: t0,
            lapsesAt: t0.plus(300))
        let past = RequestProposal(
            key: "k2", subject: agent.id, scope: "repo:b:read", requester: "nina", reason: "look", ttlSeconds: 900,
            createdAt: t0.plus(-600), lapsesAt: t0.plus(-1))
        let plain = RequestProposal(
            key: "k3", subject: agent.id, scope: "repo:c:read", requester: "nina", reason: "look", ttlSeconds: 900, createdAt: t0)
        #expect(try store.ingest([soon, past, plain], subjects: subjects, by: alice, policy: policy, now: t0) == 2)
        let byScope = Dictionary(uniqueKeysWithValues: try store.requests().map { ($0.scope, $0) })
        #expect(byScope["repo:a:read"]?.lapsesAt == t0.plus(300))
        #expect(byScope["repo:c:read"]?.lapsesAt == t0.plus(policy.requestLapseSeconds))
        #expect(byScope["repo:b:read"] == nil)
        #expect(try store.sweep(by: alice, now: t0.plus(301)).lapsed.count == 1)
    }
}
