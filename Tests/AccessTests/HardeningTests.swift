import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Inventory

/// Issue 10, items 1 and 2: look-alike scopes, and the two-person and agent rules everywhere.
@Suite("Hardening: scopes that look alike, two-person rules everywhere")
struct HardeningTests {
    /// Each displays like `iam:admin` (or hides an admin scope) and was approved by one person.
    static let lookAlikes: [(scope: String, named: String)] = [
        ("iam:admin ", "a space at character 10"),
        ("iam:ad\u{200B}min", "U+200B ZERO WIDTH SPACE at character 7"),
        ("iam:\u{FF41}dmin", "U+FF41 FULLWIDTH LATIN SMALL LETTER A at character 5 is not allowed (it looks like 'a')"),
        ("iam:\u{0430}dmin", "U+0430 CYRILLIC SMALL LETTER A at character 5 is not allowed (it looks like 'a')"),
        ("iam:admin\u{202E}", "U+202E RIGHT-TO-LEFT OVERRIDE at character 10"),
        ("iam:admi\u{006E}\u{0301}", "U+0301 COMBINING ACUTE ACCENT at character 10"),
        ("admin/", "it ends with a separator '/'"),
        (":admin", "it starts with a separator ':'"),
        ("iam:admin\u{E0041}", "U+E0041 TAG LATIN CAPITAL LETTER A at character 10"),
        ("iam\tadmin", "at character 4 is not allowed"),
        ("", "it is empty"),
    ]

    @Test(
        "a scope outside the grammar is refused where it enters, naming the character and its position",
        arguments: lookAlikes)
    func lookAlikeScopes(_ c: (scope: String, named: String)) throws {
        let store = try tempStore()
        do {
            try store.file(subject: deployer, scope: c.scope, ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
            Issue.record("\(ScopeGrammar.visible(c.scope)) was accepted")
        } catch {
            guard case .invalid(let message) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(message.contains(c.named), "\(message)")
            #expect(UnsafeCharactersFree(message), "the message itself is safe to print: \(message)")
        }
        #expect(throws: AccessError.self) {
            try store.directGrant(subject: laptop, scope: c.scope, ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        }
        #expect(try store.requests().isEmpty)
        #expect(try store.grants().isEmpty)
    }

    @Test("scopes in the grammar are accepted; case is one canonical form for policy")
    func grammarAccepts() throws {
        for scope in [
            "iam:admin", "repo:acme/api:write", "k8s:prod:cluster-admin", "s3:prod-exports", "crm.objects.contacts.write",
            "arn:aws:iam::123456789012:role/deploy", "user@example.com", "iam:*", "*", "a=b,c+d",
        ] {
            #expect(ScopeGrammar.fits(scope), "\(scope)")
        }
        #expect(AccessPolicy.isAdmin("IAM:Admin"))
        #expect(AccessPolicy.isAdmin("repo/admin/x"), "a / separates segments as : does")
        #expect(AccessPolicy.isAdmin("k8s:prod:cluster-admin"))
        #expect(!AccessPolicy.isAdmin("repo:acme/api:write"))
        #expect(AccessPolicy.isAdmin("cloud:*"), "a wildcard could be an admin scope")
        let store = try tempStore()
        let r = try store.file(subject: deployer, scope: "IAM:Admin", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        #expect(
            try store.approve(r.id, reason: "ok", by: bob, policy: policy, now: t0) == .recorded(approvalsLeft: 1),
            "upper case is still admin: two approvals")
    }

    @Test("agents can't be given wildcard scopes that include forbidden ones", arguments: ["*:*", "**", "cloud:*", "*", "prod/*", "*min"])
    func agentWildcards(_ scope: String) throws {
        let store = try tempStore()
        #expect(throws: AccessError.self, "\(scope)") {
            try store.file(subject: agent, scope: scope, ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        }
        #expect(throws: AccessError.self, "\(scope)") {
            try store.directGrant(subject: agent, scope: scope, ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        }
        // A wildcard that can't reach a forbidden scope is still fine for an agent.
        #expect(throws: Never.self) {
            try store.file(subject: agent, scope: "repo:acme/api:read", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        }
    }

    @Test("pattern overlap: a wildcard scope meets a forbidden pattern when some scope matches both")
    func overlap() throws {
        func o(_ p: String, _ s: String) -> Bool { AccessPolicy.matches(p, s) }
        #expect(o("*admin", "cloud:*"))
        #expect(o("*admin", "cloud:admin"))
        #expect(!o("*admin", "cloud:read"))
        #expect(o("[*]", "*"))
        #expect(!o("[*]", "iam:x"))
        #expect(o("iam:?dmin", "IAM:ADMIN"))
        #expect(!o("iam:[!a]dmin", "iam:admin"))
        #expect(o("s3:prod-*", "s3:*"))
        #expect(!o("s3:prod-*", "s3:dev-*"))
        #expect(o("*admin:*", "prod:*:read"))
        #expect(throws: ScopeGrammar.Violation.self) { try ScopeGrammar.check("iam:[a", as: .pattern) }
    }

    @Test("a reason of only blank or invisible characters is no reason")
    func blankReasons() throws {
        let store = try tempStore()
        for reason in ["", "   ", "\u{200B}\u{200B}", "\u{3000}", "\u{202E}\u{2066}", "\u{E0041}\u{E0042}", "\t\n", "\u{00A0}\u{FEFF}"] {
            #expect(throws: AccessError.self, "\(ScopeGrammar.visible(reason))") {
                try store.file(subject: deployer, scope: "db:read", ttlSeconds: 600, reason: reason, by: alice, policy: policy, now: t0)
            }
        }
        let r = try store.file(subject: deployer, scope: "db:read", ttlSeconds: 600, reason: "on-call", by: alice, policy: policy, now: t0)
        #expect(throws: AccessError.self) { try store.approve(r.id, reason: "\u{200B}", by: bob, policy: policy, now: t0) }
        #expect(throws: AccessError.self) { try store.deny(r.id, reason: " \u{2060} ", by: bob, policy: policy, now: t0) }
    }

    @Test("extending a grant that needed two approvals needs two again, from two other analysts")
    func twoPersonExtend() throws {
        let store = try tempStore()
        let r = try store.file(
            subject: deployer, scope: "iam:admin", ttlSeconds: 600, reason: "incident", by: alice, policy: policy, now: t0)
        #expect(try store.approve(r.id, reason: "ok", by: bob, policy: policy, now: t0) == .recorded(approvalsLeft: 1))
        guard case .granted(let g) = try store.approve(r.id, reason: "ok", by: carol, policy: policy, now: t0.plus(10)) else {
            Issue.record("not granted")
            return
        }
        // The requester alone extended it, without limit, before.
        #expect(
            throws: AccessError.refused(
                rule: "no_self_approval", message: "alice asked for this access and can't extend it; another analyst must")
        ) {
            try store.extend(g.id, ttlSeconds: 3600, reason: "more", by: alice, policy: policy, now: t0.plus(60))
        }
        #expect(
            try store.extend(g.id, ttlSeconds: 3600, reason: "more", by: bob, policy: policy, now: t0.plus(60))
                == .recorded(approvalsLeft: 1))
        #expect(try store.grant(id: g.id)?.expiresAt == g.expiresAt, "one approval moves nothing")
        #expect(throws: AccessError.self, "the same analyst twice is one approval") {
            try store.extend(g.id, ttlSeconds: 3600, reason: "more", by: bob, policy: policy, now: t0.plus(70))
        }
        let dave = Analyst(user: "dave")
        guard case .extended(let e) = try store.extend(g.id, ttlSeconds: 1800, reason: "agreed", by: dave, policy: policy, now: t0.plus(80))
        else {
            Issue.record("not extended")
            return
        }
        #expect(e.expiresAt == t0.plus(80 + 1800), "the shorter of the two approved TTLs")
        // The next extension starts a new round: bob's earlier approval doesn't count.
        #expect(
            try store.extend(g.id, ttlSeconds: 3600, reason: "again", by: bob, policy: policy, now: t0.plus(90))
                == .recorded(approvalsLeft: 1))
        let audit = try store.audit()
        #expect(audit.filter { $0.action == "extend" }.map(\.result).first == "extension approval 1 of 2")
        #expect(try store.verifyAudit().ok, "the waiting approvals are explained by the audit log")
    }

    @Test("an approval is never longer than what was asked")
    func approveNoLongerThanAsked() throws {
        let store = try tempStore()
        let r = try store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 900, reason: "r", by: alice, policy: policy, now: t0)
        #expect(throws: AccessError.invalid("30m is longer than the 15m asked for; approve 15m or less")) {
            try store.approve(r.id, ttlSeconds: 1800, reason: "ok", by: bob, policy: policy, now: t0)
        }
        guard case .granted(let g) = try store.approve(r.id, ttlSeconds: 600, reason: "ok", by: bob, policy: policy, now: t0) else {
            Issue.record("not granted")
            return
        }
        #expect(g.expiresAt == t0.plus(600))
    }

    @Test("neither the requester nor the subject's owner can approve")
    func ownerCantApprove() throws {
        let store = try tempStore()
        let owned = Subject(
            id: "aws:iam:user/etl", name: "etl", population: .serviceAccount, owner: Owner(name: "Bob Jones", email: "bob@example.com"))
        let r = try store.file(subject: owned, scope: "db:write", ttlSeconds: 600, reason: "backfill", by: alice, policy: policy, now: t0)
        #expect(
            throws: AccessError.refused(
                rule: "no_owner_approval", message: "bob owns etl and can't approve its access; another analyst must")
        ) {
            try store.approve(r.id, reason: "mine", by: bob, policy: policy, now: t0)
        }
        guard case .granted(let g) = try store.approve(r.id, reason: "ok", by: carol, policy: policy, now: t0) else {
            Issue.record("not granted")
            return
        }
        #expect(
            throws: AccessError.refused(
                rule: "no_owner_approval", message: "bob owns etl and can't approve its access; another analyst must"),
            "nor grant it directly"
        ) {
            try store.directGrant(subject: owned, scope: "db:read", ttlSeconds: 600, reason: "mine", by: bob, policy: policy, now: t0)
        }
        #expect(throws: AccessError.self, "nor extend it") {
            try store.extend(g.id, ttlSeconds: 1200, reason: "more", by: bob, policy: policy, now: t0.plus(10))
        }
    }
}

func UnsafeCharactersFree(_ s: String) -> Bool { s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F } }
