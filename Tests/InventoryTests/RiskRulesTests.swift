import Foundation
import Testing

@testable import Inventory

@Suite("Risk rules")
struct RiskRulesTests {
    @Test("clean entities raise no findings")
    func cleanEntities() {
        #expect(rules(of: cleanServiceAccount()) == [])
        #expect(rules(of: cleanDevice()) == [])
        #expect(rules(of: cleanApp()) == [])
    }

    @Test("NHI1 fires when the owner departed or is missing, not when active")
    func nhi1() {
        var e = cleanServiceAccount()
        e.owner?.status = .departed
        #expect(rules(of: e).contains("NHI1"))
        e.owner = nil
        #expect(rules(of: e).contains("NHI1"))
        #expect(!rules(of: cleanServiceAccount()).contains("NHI1"))
    }

    @Test("NHI2 fires on an exposed secret, as critical")
    func nhi2() throws {
        var e = cleanServiceAccount()
        e.credentials[0].exposures = ["committed to acme/infra in .env"]
        let f = try #require(RiskRules().findings(for: e, now: now, cross: .init([e])).first { $0.rule == "NHI2" })
        #expect(f.severity == .critical)
        #expect(f.evidence.contains("committed to acme/infra"))
        #expect(!f.evidence.contains("SHA256"), "evidence names the credential, never its fingerprint or secret")
    }

    @Test("NHI3 fires on a vendor advisory only")
    func nhi3() {
        var e = cleanServiceAccount()
        e.signals.vendor = "Datadog"
        #expect(!rules(of: e).contains("NHI3"))
        e.signals.vendorAdvisory = "token exposure 2025-11"
        #expect(rules(of: e).contains("NHI3"))
    }

    @Test("NHI4 fires on passwords without MFA and machines using personal tokens")
    func nhi4() {
        var e = cleanServiceAccount()
        e.credentials = [Credential(id: "pw", kind: .password, createdAt: daysAgo(1))]
        #expect(rules(of: e).contains("NHI4"))
        e.signals.mfa = true
        #expect(!rules(of: e).contains("NHI4"))
        e.credentials = [Credential(id: "pat", kind: .personalAccessToken, createdAt: daysAgo(1))]
        #expect(rules(of: e).contains("NHI4"))
    }

    @Test("NHI5 fires on admin, wildcard or unused write privileges")
    func nhi5() {
        var e = cleanServiceAccount()
        e.privileges = [Privilege(scope: "iam:*", level: .write)]
        #expect(rules(of: e).contains("NHI5"))
        e.privileges = [Privilege(scope: "s3:reports", level: .admin)]
        #expect(rules(of: e).contains("NHI5"))
        e.privileges = [Privilege(scope: "s3:reports", level: .write, used: false)]
        #expect(rules(of: e).contains("NHI5"))
        e.privileges = [Privilege(scope: "s3:reports", level: .write, used: true)]
        #expect(!rules(of: e).contains("NHI5"))
    }

    @Test("NHI6 fires on static keys in CI, not federated ones")
    func nhi6() {
        var e = cleanServiceAccount()
        e.signals.ciPipeline = true
        #expect(rules(of: e).contains("NHI6"))
        e.credentials = [Credential(id: "oidc", kind: .federated)]
        #expect(!rules(of: e).contains("NHI6"))
    }

    @Test("NHI7 fires past the key age threshold, with the age in the evidence")
    func nhi7() throws {
        var e = cleanServiceAccount()
        e.credentials[0].createdAt = daysAgo(412)
        let f = try #require(RiskRules().findings(for: e, now: now, cross: .init([e])).first { $0.rule == "NHI7" })
        #expect(f.evidence.contains("412 days old"))
        #expect(f.evidence.contains("never rotated"))
        e.credentials[0].createdAt = daysAgo(89)
        #expect(!rules(of: e).contains("NHI7"))
        var t = RuleThresholds()
        t.keyMaxAgeDays = 30
        #expect(RiskRules(thresholds: t).findings(for: e, now: now, cross: .init([e])).contains { $0.rule == "NHI7" })
    }

    @Test("NHI8 fires when non-production reaches production")
    func nhi8() {
        var e = cleanServiceAccount()
        e.environment = "dev"
        e.privileges = [Privilege(scope: "s3:prod-exports", level: .read, used: true)]
        #expect(rules(of: e).contains("NHI8"))
        e.privileges = [Privilege(scope: "s3:dev-exports", level: .read, used: true)]
        #expect(!rules(of: e).contains("NHI8"))
        e.privileges = [Privilege(scope: "s3:product-catalogue", level: .read, used: true)]
        #expect(!rules(of: e).contains("NHI8"), "'product' is not 'prod'")
    }

    @Test("NHI9 fires when two identities share a credential; NHI8 when across environments")
    func nhi9() {
        let a = cleanServiceAccount("aws:iam:user/a")
        var b = cleanServiceAccount("aws:iam:user/b")
        #expect(rules(of: a, with: [b]).contains("NHI9"))
        #expect(!rules(of: a, with: [b]).contains("NHI8"))
        b.environment = "dev"
        #expect(rules(of: a, with: [b]).contains("NHI8"))
        b.credentials[0].fingerprint = "SHA256:two"
        #expect(!rules(of: a, with: [b]).contains("NHI9"))
    }

    @Test("NHI10 fires on human use of a machine identity")
    func nhi10() {
        var e = cleanServiceAccount()
        #expect(!rules(of: e).contains("NHI10"))
        e.signals.humanUse = "console sign-in by james.okafor"
        #expect(rules(of: e).contains("NHI10"))
    }

    @Test("device posture rules fire on each weakness")
    func devicePosture() {
        var d = cleanDevice()
        d.posture?.diskEncrypted = false
        #expect(rules(of: d) == ["DEV-ENC"])
        d = cleanDevice()
        d.posture?.osPatchedAt = daysAgo(61)
        #expect(rules(of: d) == ["DEV-OS"])
        d = cleanDevice()
        d.posture?.screenLock = false
        #expect(rules(of: d) == ["DEV-LOCK"])
        d = cleanDevice()
        d.coverage = []
        #expect(rules(of: d) == ["DEV-MDM"])
    }

    @Test("app rules: shadow, not behind SSO, broad OAuth scopes")
    func appRules() {
        var a = cleanApp()
        a.signals.sanctioned = false
        #expect(rules(of: a) == ["APP-SHADOW"])
        a = cleanApp()
        a.coverage = []
        #expect(rules(of: a) == ["APP-SSO"])
        a = cleanApp()
        a.signals.oauthScopes = ["https://mail.google.com/", "https://www.googleapis.com/auth/drive"]
        #expect(rules(of: a) == ["APP-SCOPE"])
        var agent = cleanServiceAccount("host:agent/x")
        agent.population = .agent
        agent.signals.sanctioned = false
        #expect(rules(of: agent).contains("AI-SHADOW"))
    }

    @Test("stale identities are flagged after the threshold")
    func stale() {
        var e = cleanServiceAccount()
        e.lastUsedAt = daysAgo(120)
        e.credentials[0].lastUsedAt = daysAgo(120)
        #expect(rules(of: e) == ["NHI1"], "an unused machine identity is one nobody offboarded")
        var app = cleanApp()
        app.lastUsedAt = daysAgo(120)
        #expect(rules(of: app) == ["STALE"])
    }

    @Test("risk score grows with severity and count and stays in 0...100")
    func score() {
        let low = Finding(rule: "X", title: "", severity: .low, evidence: "", remediation: "")
        let crit = Finding(rule: "Y", title: "", severity: .critical, evidence: "", remediation: "")
        #expect(RiskRules.score([], unmanaged: false) == 0)
        #expect(RiskRules.score([low], unmanaged: false) < RiskRules.score([crit], unmanaged: false))
        #expect(RiskRules.score([crit, low], unmanaged: false) > RiskRules.score([crit], unmanaged: false))
        #expect(RiskRules.score(Array(repeating: crit, count: 50), unmanaged: true) == 100)
    }
}
