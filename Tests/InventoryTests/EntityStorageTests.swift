import Foundation
import Testing

@testable import Inventory

/// Entity keeps its fields in a shared copy-on-write box; these pin down that it still behaves as a value.
@Suite("Entity storage")
struct EntityStorageTests {
    @Test("a copy is independent: changing it leaves the original as it was")
    func valueSemantics() {
        let original = cleanServiceAccount()
        var copy = original
        #expect(copy == original)
        copy.name = "renamed"
        copy.credentials[0].exposures.append("committed to acme/infra")
        copy.signals.mfa = false
        copy.posture = DevicePosture(diskEncrypted: false)
        copy.coverage.insert(.sso)
        #expect(original.name == "clean")
        #expect(original.credentials[0].exposures.isEmpty)
        #expect(original.signals == Signals())
        #expect(original.posture == nil)
        #expect(original.coverage == [.vault])
        #expect(copy != original)
        #expect(copy.signals.mfa == false)
        #expect(copy.coverage == [.vault, .sso])
    }

    @Test("equal fields mean equal entities and equal hashes, whoever built them")
    func equality() {
        let a = cleanApp()
        let b = cleanApp()
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        var c = b
        c.signals = Signals()
        #expect(c != a)
        c.signals = Signals(sanctioned: true, oauthScopes: ["channels:read"])
        #expect(c == a)
        #expect(Set([a, b, c]).count == 1)
    }

    @Test("empty signals and a missing posture round-trip through JSON unchanged")
    func codable() throws {
        for e in [cleanServiceAccount(), cleanDevice(), cleanApp()] {
            let back = try JSONDecoder().decode(Entity.self, from: JSONEncoder().encode(e))
            #expect(back == e)
        }
    }

    @Test("attributes read back as they were given, one by one or all, whatever order they came in")
    func attributes() {
        var a = cleanServiceAccount()
        a.attributes = ["namespace": "prod", "automount_token": "true", "users": "12"]
        var b = cleanServiceAccount()
        b.attributes = ["users": "12", "namespace": "prod"]
        b.attributes["automount_token"] = "true"
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.attribute("namespace") == "prod")
        #expect(a.attribute("users") == "12")
        #expect(a.attribute("missing") == nil)
        #expect(a.attributes == ["namespace": "prod", "automount_token": "true", "users": "12"])
        b.attributes["users"] = nil
        #expect(b.attribute("users") == nil)
        #expect(b.attributes.count == 2)
        #expect(a.attribute("users") == "12", "the copy's change stays in the copy")
    }

    @Test("a name of nothing but white space, the zero-width space included, is refused")
    func blankNames() {
        var e = cleanServiceAccount()
        for blank in ["", "  ", "\t\n", "\u{200B}", " \u{200B} ", "\u{3000}"] {
            e.name = blank
            #expect(e.validationProblem == "\"name\" is empty", "\(Array(blank.unicodeScalars))")
        }
        e.name = " x "
        #expect(e.validationProblem == nil)
    }

    @Test("the interner shares equal values and stops growing at its limit")
    func interner() {
        let i = Interner<[String]>(limit: 2)
        let first = i.intern(["aws"])
        let again = i.intern(["aws"])
        #expect(first.withUnsafeBufferPointer { $0.baseAddress } == again.withUnsafeBufferPointer { $0.baseAddress }, "one storage")
        _ = i.intern(["k8s"])
        #expect(i.count == 2)
        #expect(i.intern(["github"]) == ["github"]) // past the limit: returned as it came, not kept
        #expect(i.count == 2)
    }
}

@Suite("Snapshot lookup")
struct SnapshotLookupTests {
    func assessed(_ ids: [String]) -> [AssessedEntity] {
        ids.map { AssessedEntity(entity: cleanServiceAccount($0), findings: [], risk: 0) }
    }

    @Test("finds every id in a sorted snapshot by binary search, and nothing else")
    func sorted() {
        let ids = (0..<257).map { String(format: "aws:iam:user/u%04d", $0) }
        let s = Snapshot(version: 1, generatedAt: now, entities: assessed(ids), gap: [:], collectors: [], requests: [])
        #expect(s.index == nil)
        for id in ids { #expect(s[id]?.id == id) }
        #expect(s["aws:iam:user/u"] == nil)
        #expect(s["aws:iam:user/u9999"] == nil)
        #expect(s[""] == nil)
    }

    @Test("ids String can't order consistently (decomposed accents) are still found, through a dictionary")
    func decomposed() {
        // "é" written as e + U+0301 beside precomposed "é": `<` is false both ways for some pairs.
        let ids = ["e\u{301}", "éa", "e\u{301}b", "é", "ea", "aws:z"]
        let s = Snapshot.build(version: 1, now: now, slices: [.init(source: "t", entities: ids.map { cleanServiceAccount($0) })])
        #expect(s.index != nil, "non-ASCII ids are looked up in a dictionary")
        for id in ids { #expect(s[id]?.id == id) }
        let ascii = Snapshot.build(
            version: 1, now: now, slices: [.init(source: "t", entities: ["b", "a"].map { cleanServiceAccount($0) })])
        #expect(ascii.index == nil, "ASCII ids are binary-searched")
    }

    @Test("an unsorted snapshot still finds every id")
    func unsorted() {
        let ids = ["k8s:b", "aws:a", "gh:c", "aws:z"]
        let s = Snapshot(version: 1, generatedAt: now, entities: assessed(ids), gap: [:], collectors: [], requests: [])
        for id in ids { #expect(s[id]?.id == id) }
        #expect(s["nope"] == nil)
    }

    @Test("a reused fingerprint is found whichever entities hold it, and a fingerprint held once is not")
    func crossIndex() {
        var a = cleanServiceAccount("aws:a")
        var b = cleanServiceAccount("aws:b")
        var c = cleanServiceAccount("aws:c")
        b.environment = "staging"
        c.credentials[0].fingerprint = "SHA256:other"
        a.credentials.append(Credential(id: "AKIA2", kind: .accessKey, fingerprint: "SHA256:one")) // twice on one entity
        let cross = RiskRules.CrossIndex([a, b, c])
        #expect(cross.byFingerprint.keys.sorted() == ["SHA256:one"])
        #expect(cross.byFingerprint["SHA256:one"]?.entityIDs == ["aws:a", "aws:b"])
        #expect(cross.byFingerprint["SHA256:one"]?.environments == ["prod", "staging"])
    }
}
