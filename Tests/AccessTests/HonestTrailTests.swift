import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Inventory

/// Who each entry says acted: the requester a collector names (marked as reported), the system for expiry and
/// lapses; never whoever's process happened to file or sweep. The same on both stores, and the chain verifies.
@Suite("An honest audit trail")
struct HonestTrailTests {
    @Test(
        "an observed request is recorded as asked by its requester, marked reported, naming who ingested it", arguments: StoreKind.allCases)
    func ingestedRequest(_ kind: StoreKind) throws {
        let s = try StoreUnderTest(kind)
        var p = RequestProposal(
            key: "demo-42-1", subject: agent.id, scope: "repo:acme/api:write", requester: "nina.vega", reason: "fix the build",
            ticket: "SEC-4001", ttlSeconds: 600, createdAt: t0)
        p.source = "demo"
        #expect(try s.store.ingest([p], subjects: { _ in agent }, by: alice, policy: policy, now: t0) == 1)
        let e = try #require(try s.store.audit().first)
        #expect(e.analyst == "nina.vega (reported)", "the requester, marked: a collector's word, not a login")
        #expect(e.sshClient == nil, "alice's address is not the requester's")
        #expect(e.detail == "ticket SEC-4001; for cursor-mcp-github-x; reported by collector demo, ingested by alice@203.0.113.5")
        let r = try #require(try s.store.requests(state: .pending).first)
        #expect(r.requester == "nina.vega (reported)", "marked wherever the request is shown")
        #expect(r.requesterReported && r.requesterClaim == "nina.vega")
        // A claim only restricts: the login nina.vega may not approve it, nor cancel it (she did not file it).
        #expect(throws: AccessError.self) {
            try s.store.approve(r.id, reason: "mine", by: Analyst(user: "nina.vega"), policy: policy, now: t0.plus(1))
        }
        #expect(throws: AccessError.self) {
            try s.store.cancel(r.id, reason: "mine", by: Analyst(user: "nina.vega"), policy: policy, now: t0.plus(1))
        }
        let v = try s.store.verifyAudit()
        #expect(v.ok, "\(v.problem ?? "")")
    }

    @Test("expiry and lapses are the system's; the sweeper is named in the detail", arguments: StoreKind.allCases)
    func sweptBySystem(_ kind: StoreKind) throws {
        let s = try StoreUnderTest(kind)
        let g = try s.store.directGrant(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: bob, policy: policy, now: t0)
        let r = try s.store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        let late = t0.plus(max(700, policy.requestLapseSeconds + 1))
        let swept = try s.store.sweep(by: carol, now: late)
        #expect(swept.expired == [g.id] && swept.lapsed == [r.id])
        let entries = try s.store.audit().suffix(2)
        #expect(entries.map(\.action) == ["expire", "lapse"])
        #expect(entries.allSatisfy { $0.analyst == "trustgap (system)" }, "\(entries.map(\.analyst))")
        #expect(entries.allSatisfy { $0.detail == "swept by carol" })
        #expect(try s.store.grant(id: g.id)?.endedBy == "trustgap (system)")
        // The service sweeps as the system itself: nothing to add.
        let g2 = try s.store.directGrant(
            subject: laptop, scope: "vpn:dev", ttlSeconds: 600, reason: "r", by: bob, policy: policy, now: late)
        #expect(try s.store.sweep(by: .system, now: late.plus(601)).expired == [g2.id])
        let last = try #require(try s.store.audit().last)
        #expect(last.analyst == "trustgap (system)" && last.detail.isEmpty)
        let v = try s.store.verifyAudit()
        #expect(v.ok, "\(v.problem ?? "")")
    }

    @Test("a reported name can ask and give back, never decide")
    func reportedNeverDecides() throws {
        let store = try tempStore()
        let demoOwner = Analyst.reported("nina.vega", by: "the demo's simulated agent, run by alice")
        let r = try store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: demoOwner, policy: policy, now: t0)
        let e = try #require(try store.audit().last)
        #expect(e.analyst == "nina.vega (reported)")
        #expect(e.detail == "reported by the demo's simulated agent, run by alice")
        #expect(r.requester == "nina.vega (reported)")
        let other = try store.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        #expect(throws: AccessError.self) { try store.approve(other.id, reason: "ok", by: demoOwner, policy: policy, now: t0) }
        #expect(throws: AccessError.self) { try store.deny(other.id, reason: "no", by: demoOwner, policy: policy, now: t0) }
        #expect(throws: AccessError.self) {
            try store.directGrant(subject: laptop, scope: "vpn:x", ttlSeconds: 60, reason: "r", by: demoOwner, policy: policy, now: t0)
        }
        #expect(try store.cancel(r.id, reason: "not needed", by: demoOwner, policy: policy, now: t0.plus(1)).state == .cancelled)
        #expect(try store.verifyAudit().ok)
    }

    @Test("the system's name is one no OS user can have")
    func systemNameIsReserved() {
        let name = Analyst.system.user
        #expect(name.contains(" ") && name.contains("("), "useradd refuses spaces and parentheses")
        #expect(name != Analyst.current().user)
    }
}

@Suite("Reserved name shapes")
struct ReservedNameTests {
    @Test("a name shaped like a reported or the system's name is one the access service refuses as a peer")
    func shapes() {
        for name in ["nina.vega (reported)", Analyst.system.user, "a b", "x(y", "z)"] { #expect(Analyst.isReservedShape(name), "\(name)") }
        for name in ["alice", "nina.vega", "svc_deploy-1", "uid1000"] { #expect(!Analyst.isReservedShape(name), "\(name)") }
        #expect(Analyst.reported("bob", by: "collector x").recordedName == "bob" + Analyst.reportedMark)
    }
}
