import Foundation
import Testing

@testable import Access
@testable import Inventory

/// Issue 14, item 4: the approve dialog shows the policy's verdict before confirming, and the store decides by the same
/// function, so the two can't disagree.
@Suite("The approval verdict")
struct VerdictTests {
    /// Files a request as `requester` under `filing` policy (so a test can file what the default policy would refuse).
    func filed(
        _ subject: Subject, scope: String, by requester: Analyst, filing: AccessPolicy = policy, store: AccessStore
    ) throws -> AccessRequest {
        try store.file(subject: subject, scope: scope, ttlSeconds: 1800, reason: "work", by: requester, policy: filing, now: t0)
    }

    /// The store's answer to `analyst` approving `id`, as an error (nil when it took the approval).
    func storeRefusal(_ store: AccessStore, _ id: String, by analyst: Analyst) -> AccessError? {
        do {
            _ = try store.approve(id, reason: "ok", by: analyst, policy: policy, now: t0.plus(60))
            return nil
        } catch {
            return error
        }
    }

    @Test("self-approval: refused before confirming, and the store refuses it the same way")
    func selfApproval() throws {
        let store = try tempStore()
        let r = try filed(deployer, scope: "iam:admin", by: alice, store: store)
        let v = policy.approvalVerdict(r, by: alice)
        #expect(v.rule == "no_self_approval")
        #expect(v.needed == 2)
        #expect(v.approvedBy.isEmpty)
        #expect(!v.grants)
        #expect(v.excluded == [.init(user: "alice", why: .requester)])
        #expect(storeRefusal(store, r.id, by: alice) == v.refusal)
    }

    @Test("two-person: the first approval records, the second grants; nobody approves twice")
    func twoPerson() throws {
        let store = try tempStore()
        let owned = Subject(id: deployer.id, name: deployer.name, population: .serviceAccount, owner: Owner(name: "dave"))
        let r = try filed(owned, scope: "iam:admin", by: alice, store: store)
        let first = policy.approvalVerdict(r, by: bob)
        #expect(first.refusal == nil)
        #expect(first.needed == 2)
        #expect(first.approvalsLeft == 2)
        #expect(!first.grants, "the first of two approvals only records")
        #expect(first.excluded == [.init(user: "alice", why: .requester), .init(user: "dave", why: .owner)])
        #expect(storeRefusal(store, r.id, by: bob) == nil)
        let after = try #require(try store.request(id: r.id))
        let twice = policy.approvalVerdict(after, by: bob)
        #expect(twice.rule == "two_person")
        #expect(twice.approvedBy == ["bob"])
        #expect(twice.excluded.last == .init(user: "bob", why: .approved))
        #expect(storeRefusal(store, r.id, by: bob) == twice.refusal)
        let owner = policy.approvalVerdict(after, by: Analyst(user: "dave"))
        #expect(owner.rule == "no_owner_approval")
        #expect(storeRefusal(store, r.id, by: Analyst(user: "dave")) == owner.refusal)
        let second = policy.approvalVerdict(after, by: carol)
        #expect(second.refusal == nil)
        #expect(second.grants, "the last approval needed grants")
        #expect(storeRefusal(store, r.id, by: carol) == nil)
        #expect(try store.request(id: r.id)?.state == .approved)
    }

    @Test("a forbidden scope: agents may never hold k8s:prod:admin, whoever approves; the store says the same")
    func forbiddenScope() throws {
        let store = try tempStore()
        // Filed under a policy that allowed it (as a service with another policy could have), decided under the default.
        let lax = AccessPolicy(populations: [.agent: PopulationPolicy(maxTTLSeconds: 3600)])
        let r = try filed(agent, scope: "k8s:prod:admin", by: alice, filing: lax, store: store)
        let v = policy.approvalVerdict(r, by: bob)
        #expect(v.rule == "forbidden_scopes")
        guard case .refused(_, let message)? = v.refusal else {
            Issue.record("not refused: \(v)")
            return
        }
        #expect(message.hasPrefix("agents may never hold k8s:prod:admin (matches "))
        #expect(storeRefusal(store, r.id, by: bob) == v.refusal)
        #expect(lax.approvalVerdict(r, by: bob).refusal == nil, "the verdict is the policy's")
    }

    @Test("one approval needed: it grants")
    func single() throws {
        let store = try tempStore()
        let r = try filed(agent, scope: "repo:acme/api:write", by: alice, store: store)
        let v = policy.approvalVerdict(r, by: bob)
        #expect(v.refusal == nil)
        #expect(v.needed == 1)
        #expect(v.grants)
        #expect(storeRefusal(store, r.id, by: bob) == nil)
    }
}
