import Foundation
import TestSupport
import Testing

@testable import Inventory

/// Random entities over a small space of ids, owners, environments and fingerprints, so reports collide, owners
/// leave, and fingerprints are shared across entities and environments.
struct World {
    var r: SplitMix
    init(seed: UInt64) { r = SplitMix(state: seed) }

    mutating func entity(_ n: Int, source: Int) -> Entity {
        let population = Population.allCases[n % 4]
        let envs = ["prod", "dev", "staging", nil]
        var credentials: [Credential] = []
        for k in 0..<r.int(3) {
            credentials.append(
                Credential(
                    id: "key-\(n)-\(k)", kind: r.chance(0.5) ? .accessKey : .token,
                    fingerprint: r.chance(0.8) ? "SHA256:fp\(r.int(40))" : nil, createdAt: daysAgo(Double(r.int(200))),
                    lastUsedAt: r.chance(0.7) ? daysAgo(Double(r.int(120))) : nil,
                    exposures: r.chance(0.1) ? ["plaintext in ~/.env"] : []))
        }
        let levels: [PrivilegeLevel] = [.read, .write, .admin]
        let privileges = (0..<r.int(3)).map { k in
            Privilege(
                scope: ["s3:prod-\(k)", "repo:acme/\(k)", "*", "k8s:dev:admin"][r.int(4)], level: levels[r.int(3)], used: r.chance(0.5))
        }
        let controls: [Control] = [.sso, .mdm, .vault, .secretsManager, .pam]
        return Entity(
            id: "e\(n)", population: population, kind: "k\(r.int(3))", name: "name-\(n)-\(source)",
            owner: r.chance(0.8) ? Owner(name: "person\(r.int(6))", status: r.chance(0.2) ? .departed : .active) : nil,
            environment: envs[r.int(envs.count)], coverage: Set(controls.filter { _ in r.chance(0.3) }), privileges: privileges,
            credentials: credentials, firstSeen: daysAgo(Double(200 + r.int(100))), lastSeen: daysAgo(Double(r.int(3))),
            lastUsedAt: r.chance(0.6) ? daysAgo(Double(r.int(150))) : nil,
            signals: Signals(sanctioned: r.chance(0.3) ? false : (r.chance(0.5) ? true : nil), mfa: r.chance(0.5) ? true : nil),
            attributes: r.chance(0.3) ? ["team": "t\(source)"] : [:])
    }
}

/// Serialized, and on threads of their own: hundreds of builds must not crowd out the suites that start beside them.
@Suite(.serialized) struct IncrementalSnapshotTests {
    let sources = ["a", "b", "c"]
    let health = ["a", "b", "c"].map {
        CollectorHealth(name: $0, type: "file", state: .ok, lastRun: now, lastSuccess: now, entityCount: 0, intervalSeconds: 60)
    }

    /// Everything a snapshot shows, compared field by field: entities with findings and scores, and the figures.
    /// What differs, described (empty when nothing does).
    static func differences(_ a: Snapshot, _ b: Snapshot, _ note: String) -> [String] {
        var out: [String] = []
        if a.entities.map(\.id) != b.entities.map(\.id) { out.append("\(note): ids") }
        if let (x, y) = zip(a.entities, b.entities).first(where: {
            $0.entity != $1.entity || $0.findings != $1.findings || $0.risk != $1.risk
        }) {
            out.append("\(note): \(x.id) differs: \(x.findings.map(\.evidence)) / \(y.findings.map(\.evidence))")
        }
        if a.gap != b.gap { out.append("\(note): gap \(a.gap) / \(b.gap)") }
        if a.basis?.cross.byFingerprint != b.basis?.cross.byFingerprint { out.append("\(note): shared fingerprints") }
        if a.basis?.cross.census != b.basis?.cross.census { out.append("\(note): fingerprint census") }
        return out
    }

    /// Seeded random deltas to three overlapping collectors, each step's snapshot updated by difference and built in
    /// full: what differs, and how many steps were worked out by difference. On a thread of its own (`offThePool`):
    /// hundreds of builds must not hold one of the cooperative pool's two threads while the suite runs beside it.
    static func walk(seed: UInt64, sources: [String], health: [CollectorHealth]) -> (problems: [String], incremental: Int) {
        var w = World(seed: seed)
        // Three collectors, each with some of 300 ids (overlapping), reported in no particular order.
        var slices = sources.enumerated().map { s, name in
            HeldSlice(source: name, entities: (0..<300).filter { _ in w.r.chance(0.5) }.shuffled().map { w.entity($0, source: s) })
        }
        var current = Snapshot.build(
            version: 1, now: now, slices: slices.map { .init(source: $0.source, entities: $0.entities) }, collectors: health)
        var incremental = 0
        var problems: [String] = []
        for step in 0..<40 {
            // A delta to one collector: k changes, adds and removals (k from 1 to 40; every tenth step 300, which
            // takes the paths that work on every core).
            let s = w.r.int(slices.count)
            let k = step % 10 == 9 ? 300 : 1 + w.r.int(40)
            var upserts: [Entity] = []
            var removed: [String] = []
            for _ in 0..<k {
                let n = w.r.int(300)
                if w.r.chance(0.25) { removed.append("e\(n)") } else { upserts.append(w.entity(n, source: s)) }
            }
            // Sometimes a collector goes stale, which moves the fully-visible figures of the entities it reports.
            var collectors = health
            if w.r.chance(0.2) { collectors[w.r.int(3)].lastSuccess = now.addingTimeInterval(-3600) }
            let changed = slices[s].apply(upserts: upserts, removed: removed)
            let full = Snapshot.build(
                version: step + 2, now: now, slices: slices.map { .init(source: $0.source, entities: $0.entities) }, collectors: collectors)
            if let updated = Snapshot.update(current, version: step + 2, now: now, changed: changed, slices: slices, collectors: collectors)
            {
                problems += differences(updated, full, "seed \(seed) step \(step)")
                if updated.change?.base != current.version { problems.append("seed \(seed) step \(step): change base") }
                current = updated
                incremental += 1
            } else {
                current = full
            }
        }
        return (problems, incremental)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomChangesEqualAFullBuild(seed: UInt64) async throws {
        let (sources, health) = (sources, health)
        let (problems, incremental) = try await offThePool { Self.walk(seed: seed, sources: sources, health: health) }
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        // The fall-back to a full build (a shared fingerprint only a full build can place) is the exception.
        #expect(incremental >= 38, "only \(incremental) of 40 steps were incremental")
    }

    @Test func theChangeListsWhatMoved() {
        var w = World(seed: 99)
        var slice = HeldSlice(source: "a", entities: (0..<50).map { w.entity($0, source: 0) })
        let first = Snapshot.build(version: 1, now: now, slices: [.init(source: "a", entities: slice.entities)])
        var moved = slice.entity("e7")!
        moved.name = "renamed"
        let changed = slice.apply(upserts: [moved, w.entity(77, source: 0)], removed: ["e9", "e400"])
        #expect(changed == ["e7", "e77", "e9"])
        let next = Snapshot.update(first, version: 2, now: now, changed: changed, slices: [slice])!
        #expect(next.change?.added == ["e77"])
        #expect(next.change?.removed == ["e9"])
        #expect(next.change?.updated.contains("e7") == true)
        // Untouched entities are the very same objects: nothing was assessed again.
        #expect(next["e1"] === first["e1"])
        // Ids named twice or out of order are the same change.
        let again = Snapshot.update(first, version: 2, now: now, changed: ["e9", "e7", "e77", "e7"], slices: [slice])!
        #expect(again.change == next.change)
    }

    @Test func aSliceReportedOutOfOrderFoldsLikeTheMerge() {
        var w = World(seed: 5)
        let a = w.entity(3, source: 0)
        var b = w.entity(3, source: 1)
        b.lastSeen = now
        let reported = [w.entity(9, source: 0), b, w.entity(1, source: 0), a]
        let held = HeldSlice(source: "x", entities: reported)
        #expect(held.entities.map(\.id) == ["e1", "e3", "e9"])
        #expect(held.entity("e3") == Merge.entities([.init(source: "x", entities: reported)]).first { $0.id == "e3" })
        #expect(held.changedIDs(to: HeldSlice(source: "x", entities: [reported[0], reported[2]])) == ["e3"])
    }
}
