import Foundation
import Testing

@testable import Access
@testable import Inventory

@Suite("Access policy")
struct PolicyTests {
    @Test("defaults: agents 1h, service accounts 8h, devices and apps 24h; a reason always; admin needs two")
    func defaults() {
        #expect(policy[.agent].maxTTLSeconds == 3600)
        #expect(policy[.serviceAccount].maxTTLSeconds == 8 * 3600)
        #expect(policy[.device].maxTTLSeconds == 24 * 3600)
        #expect(policy[.app].maxTTLSeconds == 24 * 3600)
        for p in Population.allCases { #expect(policy[p].requireReason) }
        #expect(policy.approvalsNeeded(.serviceAccount, scope: "iam:admin") == 2)
        #expect(policy.approvalsNeeded(.serviceAccount, scope: "s3:prod-backups:write") == 1)
    }

    @Test(
        "admin scopes are recognised",
        arguments: [
            ("iam:admin", true), ("k8s:prod:admin", true), ("snowflake:accountadmin:admin", true), ("*", true),
            ("repo:acme/api:write", false), ("administration-docs:read", false),
        ])
    func adminScopes(scope: String, admin: Bool) {
        #expect(AccessPolicy.isAdmin(scope) == admin)
    }

    @Test("each refusal names its rule")
    func refusals() {
        #expect(throws: AccessError.refused(rule: "max_ttl", message: "agents may hold access for at most 1h; asked for 2h")) {
            try policy.checkRequest(population: .agent, scope: "repo:x:write", ttlSeconds: 7200, reason: "r")
        }
        #expect(
            throws: AccessError.refused(
                rule: "require_reason", message: "a reason is required for agents; this one is only blank or invisible characters")
        ) {
            try policy.checkRequest(population: .agent, scope: "repo:x:write", ttlSeconds: 60, reason: "  ")
        }
        #expect(throws: AccessError.refused(rule: "forbidden_scopes", message: "agents may never hold k8s:prod:admin (matches *admin)")) {
            try policy.checkRequest(population: .agent, scope: "k8s:prod:admin", ttlSeconds: 60, reason: "r")
        }
        for scope in ["*", "superadmin", "snowflake:accountadmin", "iam:admin:write"] {
            #expect(throws: AccessError.self, "agents must never hold \(scope)") {
                try policy.checkRequest(population: .agent, scope: scope, ttlSeconds: 60, reason: "r")
            }
        }
        #expect(throws: Never.self) {
            try policy.checkRequest(population: .agent, scope: "repo:acme/badminton:read", ttlSeconds: 60, reason: "r")
        }
        // Service accounts may hold admin (with two approvals).
        #expect(throws: Never.self) {
            try policy.checkRequest(population: .serviceAccount, scope: "iam:admin", ttlSeconds: 60, reason: "r")
        }
        var custom = AccessPolicy()
        custom.populations[.agent]?.requireReason = false
        #expect(throws: Never.self) { try custom.checkRequest(population: .agent, scope: "repo:x", ttlSeconds: 60, reason: "") }
    }
}
