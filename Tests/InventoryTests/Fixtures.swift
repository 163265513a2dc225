import Foundation

@testable import Inventory

let now = Date(timeIntervalSince1970: 1_800_000_000)

func daysAgo(_ d: Double) -> Date { now.addingTimeInterval(-d * 86_400) }

/// A service account with nothing wrong with it: owned, vaulted, least-privileged, fresh credentials.
func cleanServiceAccount(_ id: String = "aws:iam:user/clean") -> Entity {
    Entity(
        id: id, population: .serviceAccount, kind: "iam_user", name: "clean",
        owner: Owner(name: "priya.shah", status: .active), environment: "prod", coverage: [.vault],
        privileges: [Privilege(scope: "s3:prod-reports", level: .read, used: true)],
        credentials: [Credential(id: "AKIA1", kind: .accessKey, fingerprint: "SHA256:one", createdAt: daysAgo(10), lastUsedAt: daysAgo(1))],
        firstSeen: daysAgo(100), lastSeen: now, lastUsedAt: daysAgo(1))
}

func cleanDevice() -> Entity {
    Entity(
        id: "mdm:device/1", population: .device, kind: "laptop", name: "MBP-1",
        owner: Owner(name: "priya.shah"), coverage: [.mdm],
        posture: DevicePosture(diskEncrypted: true, screenLock: true, os: "macOS", osVersion: "15.1", osPatchedAt: daysAgo(5)))
}

func cleanApp() -> Entity {
    Entity(
        id: "saas:slack", population: .app, kind: "saas", name: "Slack", owner: Owner(name: "it"), coverage: [.sso],
        privileges: [Privilege(scope: "tenant:acme", level: .write)], lastUsedAt: daysAgo(1),
        signals: Signals(sanctioned: true, oauthScopes: ["channels:read"]))
}

func rules(of e: Entity, with others: [Entity] = []) -> [String] {
    let r = RiskRules()
    return r.findings(for: e, now: now, cross: RiskRules.CrossIndex([e] + others)).map(\.rule)
}
