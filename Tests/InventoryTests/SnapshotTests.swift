import Foundation
import Testing

@testable import Inventory

@Suite("Snapshot")
struct SnapshotTests {
    @Test("gap figures count each population")
    func gap() {
        var unmanaged = cleanServiceAccount("aws:iam:user/u")
        unmanaged.coverage = []
        var departed = cleanServiceAccount("aws:iam:user/d")
        departed.owner?.status = .departed
        var old = cleanServiceAccount("aws:iam:user/o")
        old.credentials[0].createdAt = daysAgo(400)
        old.credentials[0].fingerprint = "SHA256:old"
        var admin = cleanServiceAccount("aws:iam:user/a")
        admin.privileges = [Privilege(scope: "*", level: .admin)]
        admin.credentials[0].fingerprint = "SHA256:admin"
        unmanaged.credentials[0].fingerprint = "SHA256:u"
        departed.credentials[0].fingerprint = "SHA256:d"
        let snap = Snapshot.build(
            version: 3, now: now, slices: [.init(source: "t", entities: [unmanaged, departed, old, admin, cleanDevice()])])
        let g = snap.gap[.serviceAccount]!
        #expect(g.total == 4)
        #expect(g.unmanaged == 1)
        #expect(g.unowned == 1)
        #expect(g.longLivedSecrets == 1)
        #expect(g.overprivileged == 1)
        #expect(snap.gap[.device]!.total == 1)
        #expect(snap.totalGap.total == 5)
        #expect(snap.version == 3)
    }

    @Test("the JSON document uses the published snake_case shape")
    func jsonShape() throws {
        var e = cleanServiceAccount()
        e.credentials[0].createdAt = daysAgo(400)
        let snap = Snapshot.build(version: 1, now: now, slices: [.init(source: "t", entities: [e])])
        let data = try SnapshotDocument.encoder().encode(SnapshotDocument(snap))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(json.keys) == ["generated_at", "version", "entities", "gap", "collectors", "requests"])
        let entity = try #require((json["entities"] as? [[String: Any]])?.first)
        for key in [
            "id", "population", "kind", "name", "owner", "coverage", "unmanaged", "privileges", "credentials", "risk", "findings",
            "first_seen", "last_seen", "sources",
        ] {
            #expect(entity[key] != nil, "missing \(key)")
        }
        #expect(entity["population"] as? String == "service_account")
        let finding = try #require((entity["findings"] as? [[String: Any]])?.first)
        #expect(Set(finding.keys) == ["rule", "title", "severity", "evidence", "remediation"])
        let cred = try #require((entity["credentials"] as? [[String: Any]])?.first)
        #expect(cred["created_at"] as? String != nil)
        let gap = try #require(json["gap"] as? [String: [String: Any]])
        #expect(Set(gap.keys) == ["app", "device", "service_account", "agent", "all"])
        #expect(gap["service_account"]?["long_lived_secrets"] as? Int == 1)
    }

    @Test("an entity survives a round trip through its JSON shape")
    func roundTrip() throws {
        var e = cleanServiceAccount()
        e.signals = Signals(sanctioned: false, vendor: "V", ciPipeline: true, oauthScopes: ["repo"])
        e.attributes = ["team": "platform"]
        let data = try SnapshotDocument.encoder().encode(e)
        let back = try SnapshotDocument.decoder().decode(Entity.self, from: data)
        #expect(back == e)
    }
}

@Suite("Durations")
struct DurationTests {
    @Test(
        "parses the units people write",
        arguments: [("30s", 30.0), ("15m", 900), ("1h", 3600), ("8h", 28_800), ("2d", 172_800), ("1w", 604_800), ("1h30m", 5400)])
    func parses(text: String, seconds: Double) throws {
        #expect(try DurationText.seconds(text) == seconds)
    }

    @Test("refuses what is not a duration", arguments: ["", "h", "10", "1x", "-1h", "1h5", "fast"])
    func refuses(text: String) {
        #expect(throws: DurationText.ParseError.self) { try DurationText.seconds(text) }
    }

    @Test("formats compactly")
    func formats() {
        #expect(DurationText.format(45) == "45s")
        #expect(DurationText.format(900) == "15m")
        #expect(DurationText.format(7500) == "2h05m")
        #expect(DurationText.format(86_400 * 3) == "3d")
    }
}
