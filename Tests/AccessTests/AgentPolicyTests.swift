import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Inventory

/// Issue 12, item 2: what is risky about an agent travels with its request, and policy can refuse shadow agents.
@Suite("Agent requests carry what is being trusted")
struct AgentPolicyTests {
    func shadowAgent() -> AssessedEntity {
        let e = Entity(
            id: "host:jump/mcp/cursor/alice/github", population: .agent, kind: "mcp_server", name: "cursor-mcp-github-alice",
            owner: Owner(name: "alice", status: .departed), coverage: [],
            credentials: [
                Credential(id: "env:GITHUB_TOKEN", kind: .token, fingerprint: "SHA256:x", exposures: ["plaintext in ~/.cursor/mcp.json"])
            ],
            signals: Signals(sanctioned: false))
        return AssessedEntity(
            entity: e,
            findings: [Finding(rule: "NHI2", title: "Secret exposed", severity: .critical, evidence: "x", remediation: "rotate")], risk: 91)
    }

    @Test("a shadow agent's request is flagged with its shadow status, critical findings, exposed secrets, owner and risk")
    func flags() throws {
        let subject = Subject(shadowAgent())
        #expect(subject.shadow)
        #expect(subject.flags == ["shadow agent", "1 critical finding", "1 exposed secret", "owner alice left", "risk 91"])
        let store = try tempStore()
        let r = try store.file(
            subject: subject, scope: "repo:acme/api:read", ttlSeconds: 600, reason: "r", via: "mcp:cursor", by: bob, policy: policy, now: t0
        )
        let back = try #require(try store.request(id: r.id))
        #expect(back.flags == subject.flags, "stored with the request, so every analyst sees the same")
        #expect(back.askedByAgent)
        #expect(back.via == "mcp:cursor")
        #expect(try store.audit().last?.detail == "asked through mcp:cursor")
    }

    @Test("policy.agent.unapproved: refuse refuses a shadow agent's requests; flag (the default) files them")
    func unapprovedRefuse() throws {
        let store = try tempStore()
        var strict = AccessPolicy()
        strict.populations[.agent]?.unapproved = .refuse
        #expect(
            throws: AccessError.refused(
                rule: "unapproved",
                message: "nobody approved cursor-mcp-github-alice (shadow); agents policy refuses its requests until it is approved")
        ) {
            try store.file(
                subject: Subject(shadowAgent()), scope: "repo:x:read", ttlSeconds: 600, reason: "r", by: bob, policy: strict, now: t0)
        }
        #expect(throws: Never.self) {
            try store.file(
                subject: Subject(shadowAgent()), scope: "repo:x:read", ttlSeconds: 600, reason: "r", by: bob, policy: policy, now: t0)
        }
    }
}
