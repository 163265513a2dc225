import Foundation
import Testing

@testable import Collectors
@testable import Inventory

@Suite("Demo collector")
struct DemoCollectorTests {
    @Test("with a life file, another process's demo starts at the steps the first one lived, and doesn't set them back")
    func sharedLife() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tg-demo-life-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let life = dir.appendingPathComponent("trustgap/demo-7-120.life").path
        // Real time: the file's age is told from its modification time.
        let now = Date()
        let start = now.addingTimeInterval(-610)
        let dashboard = DemoCollector(seed: 7, size: 120, lifeFile: life)
        _ = try await dashboard.collect(CollectContext(now: start, run: 0))
        #expect(!FileManager.default.fileExists(atPath: life), "collecting once writes nothing")
        // Ten minutes on: shadow agents found, keys aged, people gone. The dashboard records when its demo started.
        let shown = try await dashboard.collect(CollectContext(now: now, run: 1))
        let recorded = try String(contentsOfFile: life, encoding: .utf8).split(whereSeparator: \.isWhitespace)
        #expect(recorded.count == 2 && Double(recorded[0]) == start.timeIntervalSince1970 && recorded[1] == "1.0")
        // A CLI command collects once: it builds the organisation from that start and lives it up to now.
        let once = try await DemoCollector(seed: 7, size: 120, lifeFile: life).collect(CollectContext(now: now, run: 0))
        #expect(once.entities.map(\.id) == shown.entities.map(\.id))
        #expect(once.entities.map(\.owner?.status) == shown.entities.map(\.owner?.status), "the same owners have left")
        #expect(once.requests.map(\.key) == shown.requests.map(\.key))
        // Without the file, each process is alone: what the CLI saw before, an organisation that has not lived.
        let alone = try await DemoCollector(seed: 7, size: 120).collect(CollectContext(now: now, run: 0))
        #expect(alone.entities.map(\.id) != shown.entities.map(\.id))
        #expect(!alone.entities.contains { $0.id.hasSuffix("-new6") } && shown.entities.contains { $0.id.hasSuffix("-new6") })
        // A start older than the horizon's refresh is a demo nobody watches: the next one starts afresh.
        try FileManager.default.setAttributes(
            [.modificationDate: now.addingTimeInterval(-DemoCollector.lifeHorizon - 60)], ofItemAtPath: life)
        let afresh = try await DemoCollector(seed: 7, size: 120, lifeFile: life).collect(CollectContext(now: now, run: 0))
        #expect(afresh.entities.map(\.id) == alone.entities.map(\.id))
        // A symlink to a good record is not followed, and a big file is not read.
        let real = dir.appendingPathComponent("real.life").path
        try "\(start.timeIntervalSince1970) 1.0\n".write(toFile: real, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: life)
        try FileManager.default.createSymbolicLink(atPath: life, withDestinationPath: real)
        let linked = try await DemoCollector(seed: 7, size: 120, lifeFile: life).collect(CollectContext(now: now, run: 0))
        #expect(linked.entities.map(\.id) == alone.entities.map(\.id), "a symlinked life file is nobody's demo")
        try FileManager.default.removeItem(atPath: life)
        try ("\(start.timeIntervalSince1970) 1.0" + String(repeating: " ", count: 200) + "\n").write(
            toFile: life, atomically: true, encoding: .utf8)
        let big = try await DemoCollector(seed: 7, size: 120, lifeFile: life).collect(CollectContext(now: now, run: 0))
        #expect(big.entities.map(\.id) == alone.entities.map(\.id), "a life file over 128 bytes is not read")
        // Garbage in the file is ignored.
        try "not a time\n".write(toFile: life, atomically: true, encoding: .utf8)
        let garbage = try await DemoCollector(seed: 7, size: 120, lifeFile: life).collect(CollectContext(now: now, run: 0))
        #expect(garbage.entities.map(\.id) == alone.entities.map(\.id))
    }

    @Test("between two changes the demo answers 'unchanged'; at a change what changed, and to a runner without its slice, the whole")
    func unchangedBetweenEvents() async throws {
        let demo = DemoCollector(seed: 5, size: 300)
        // t0 is on a minute: a request arrived then; the next change (a key ages, a request arrives) is at t0 + 60 s.
        let first = try await demo.collect(CollectContext(now: t0, run: 0, source: "demo"))
        let revision = try #require(first.revision)
        #expect(!first.isUnchanged && first.entities.count >= 300)
        for (run, seconds) in [5.0, 30, 59].enumerated() {
            let quiet = try await demo.collect(CollectContext(now: t0 + seconds, run: run + 1, source: "demo", heldRevision: revision))
            #expect(quiet.isUnchanged && quiet.revision == revision && quiet.entities.isEmpty, "at +\(seconds)s")
        }
        // Asked without the slice (a runner that lost it, or another revision), it sends the whole slice again.
        let whole = try await demo.collect(CollectContext(now: t0 + 59, run: 4, source: "demo"))
        #expect(!whole.isUnchanged && whole.revision == revision && whole.entities.map(\.id) == first.entities.map(\.id))
        // A minute on, a request arrived (and a key aged, when one was found to age): a new revision, in full.
        let changed = try await demo.collect(CollectContext(now: t0 + 61, run: 5, source: "demo", heldRevision: revision))
        let next = try #require(changed.revision)
        #expect(!changed.isUnchanged && next > revision)
        #expect(changed.requests != first.requests, "a request arrived")
        let after = try await demo.collect(CollectContext(now: t0 + 70, run: 6, source: "demo", heldRevision: next))
        #expect(after.isUnchanged)
        // A shadow agent at 90 s is a change too.
        let shadow = try await demo.collect(CollectContext(now: t0 + 91, run: 7, source: "demo", heldRevision: next))
        #expect(!shadow.isUnchanged && shadow.entities.contains { $0.id.hasSuffix("-new3") })
    }

    @Test("at a change the demo sends only what changed, and through the runner that equals the whole slice built afresh")
    func deltasThroughRunner() async throws {
        let demo = DemoCollector(seed: 5, size: 400)
        let first = try await demo.collect(CollectContext(now: t0, run: 0, source: "demo"))
        let revision = try #require(first.revision)
        // 91 s on: a key aged and a shadow agent was found, retiring the oldest: a delta against the report held.
        let delta = try await demo.collect(CollectContext(now: t0 + 91, run: 1, source: "demo", heldRevision: revision))
        #expect(delta.isDelta && delta.deltaBase == revision)
        #expect(delta.entities.count < 20 && delta.removed.count == 1, "\(delta.entities.count) sent, \(delta.removed) removed")
        #expect(delta.entities.contains { $0.id.hasSuffix("-new3") })
        // Through the runner: the delta updates the snapshot by difference, and it equals one built from the whole
        // slice (what the same collector sends a runner that holds nothing).
        let collector = DemoCollector(seed: 5, size: 400)
        let clock = ManualClock(start: t0)
        let r = CollectorRunner(
            specs: [CollectorSpec(name: "demo", type: "demo", intervalSeconds: 5, timeoutSeconds: 60, collector: collector)], clock: clock)
        await r.runOnce("demo")
        let before = await r.snapshot
        clock.advance(by: 91)
        await r.runOnce("demo")
        let updated = await r.snapshot
        let change = try #require(updated.change, "worked out by difference")
        #expect(change.base == 1 && change.added.count == 1 && change.removed.count == 1)
        let whole = try await collector.collect(CollectContext(now: t0 + 91, run: 2, source: "demo"))
        #expect(!whole.isDelta)
        let full = Snapshot.build(
            version: 2, now: t0 + 91, slices: [.init(source: "demo", entities: whole.entities)], collectors: updated.collectors,
            requests: whole.requests)
        // The same entities; those that changed assessed as a full build does; the others keep the findings they had
        // (time-dependent findings of entities nothing changed are redone by the full rebuild every `rebuildAfter`).
        #expect(updated.entities.map(\.id) == full.entities.map(\.id))
        #expect(zip(updated.entities, full.entities).allSatisfy { $0.entity == $1.entity })
        let moved = Set(change.updated + change.added)
        #expect(!moved.isEmpty)
        for (a, b) in zip(updated.entities, full.entities) where moved.contains(a.id) {
            #expect(a.findings == b.findings && a.risk == b.risk, "\(a.id) as a full build assesses it")
        }
        for a in updated.entities where !moved.contains(a.id) { #expect(a === before[a.id], "\(a.id) kept as it was") }
        // The figures moved by difference are those of the entities as they stand.
        let fresh = Set(updated.collectors.filter { $0.isFresh(at: t0 + 91) }.map(\.name))
        #expect(updated.gap == Tally.count(updated.entities, freshSources: fresh, anyCollectors: true).gap)
    }

    @Test("a large first run comes in parts: a sample of every population first, then the whole organisation")
    func partsThenWhole() async throws {
        let demo = DemoCollector(seed: 5, size: 2_000, parts: true, partsFrom: 1_000)
        let one = try await demo.collect(CollectContext(now: t0, run: 0, source: "demo"))
        #expect(one.loading == .init(done: 63, total: 2_000) && one.requests.isEmpty)
        #expect(Set(one.entities.map(\.population)) == Set(Population.allCases), "every population in the first sample")
        let rest = try await demo.collect(CollectContext(now: t0 + 2, run: 1, source: "demo"))
        #expect(rest.loading == nil)
        // The same organisation as one made whole at the first run's moment.
        let whole = try await DemoCollector(seed: 5, size: 2_000).collect(CollectContext(now: t0, run: 0, source: "demo"))
        #expect(rest.entities == whole.entities)
        #expect(rest.requests.map(\.key) == whole.requests.map(\.key))
        // Through the runner: runAllOnce returns with the whole, and a running one asks for each part without waiting.
        let clock = ManualClock(start: t0)
        func runner() -> CollectorRunner {
            let demo = DemoCollector(seed: 5, size: 2_000, parts: true, partsFrom: 1_000)
            return CollectorRunner(
                specs: [CollectorSpec(name: "demo", type: "demo", intervalSeconds: 3600, timeoutSeconds: 60, collector: demo)], clock: clock
            )
        }
        let r = runner()
        await r.runAllOnce()
        #expect(await r.snapshot.entities.count == whole.entities.count)
        #expect(await r.snapshot.collectors[0].loading == nil)
        let running = runner()
        await running.start()
        // The clock never moves: only asking for each part at once brings the whole.
        for _ in 0..<6_000 where await running.snapshot.entities.count < whole.entities.count {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await running.snapshot.entities.count == whole.entities.count)
        #expect(await running.snapshot.version == 2, "one snapshot per part")
        await running.stop()
    }

    @Test("through the runner, the demo's quiet runs publish no new version")
    func demoThroughRunner() async throws {
        let clock = ManualClock(start: t0)
        let r = CollectorRunner(
            specs: [
                CollectorSpec(
                    name: "demo", type: "demo", intervalSeconds: 5, timeoutSeconds: 60, collector: DemoCollector(seed: 5, size: 300))
            ],
            clock: clock)
        await r.runOnce("demo")
        #expect(await r.snapshot.version == 1)
        for _ in 0..<11 {
            clock.advance(by: 5)
            await r.runOnce("demo")
        }
        #expect(await r.snapshot.version == 1, "55 s: nothing happened")
        #expect(await r.snapshot.collectors[0].lastRun == t0 + 55)
        clock.advance(by: 6)
        await r.runOnce("demo")
        #expect(await r.snapshot.version == 2, "61 s: a key aged, a request arrived")
    }

    func json(_ report: CollectorReport) throws -> Data {
        try SnapshotDocument.encoder(pretty: false).encode(report.entities)
    }

    @Test("the same seed gives the same organisation; another seed a different one")
    func determinism() async throws {
        let a = try await DemoCollector(seed: 1).collect(CollectContext(now: t0, run: 0))
        let b = try await DemoCollector(seed: 1).collect(CollectContext(now: t0, run: 0))
        let c = try await DemoCollector(seed: 2).collect(CollectContext(now: t0, run: 0))
        #expect(try json(a) == json(b))
        #expect(try json(a) != json(c))
        #expect(a.requests == b.requests)
    }

    @Test("the default is a believable mid-size company that tells the seed's story")
    func believable() async throws {
        let report = try await DemoCollector().collect(CollectContext(now: t0, run: 0))
        let snap = Snapshot.build(version: 1, now: t0, slices: [.init(source: "demo", entities: report.entities)])
        let g = snap.gap
        #expect((20...99).contains(g[.app]!.total), "tens of apps")
        #expect((100...999).contains(g[.device]!.total), "hundreds of devices")
        #expect((100...999).contains(g[.serviceAccount]!.total), "hundreds of service accounts")
        #expect((12...99).contains(g[.agent]!.total), "dozens of agents")
        let sa = g[.serviceAccount]!
        #expect(Double(sa.overprivileged) / Double(sa.total) > 0.8, "most NHIs are overprivileged")
        #expect(Double(sa.unmanaged) / Double(sa.total) > 0.4, "a large unmanaged share")
        #expect(sa.unowned > 0, "some owners departed")
        let names = Set(report.entities.map(\.name))
        for name in ["ci-deployer-prod", "terraform-prod"] { #expect(names.contains(name)) }
        #expect(names.contains { $0.hasPrefix("cursor-mcp-github") })
        #expect(!report.requests.isEmpty, "a walkthrough has requests to decide")
        let ids = report.entities.map(\.id)
        #expect(Set(ids).count == ids.count, "ids are unique")
    }

    @Test("it scales with --demo-size", arguments: [50, 5_000, 100_000])
    func scales(size: Int) async throws {
        let report = try await DemoCollector(seed: 3, size: size).collect(CollectContext(now: t0, run: 0))
        #expect(report.entities.count == size)
        #expect(Set(report.entities.map(\.id)).count == size)
    }

    @Test("it keeps living, deterministically per seed and moment")
    func living() async throws {
        func history(_ seed: UInt64) async throws -> [CollectorReport] {
            let demo = DemoCollector(seed: seed, size: 400)
            var out: [CollectorReport] = []
            for minute in 0...12 {
                out.append(try await demo.collect(CollectContext(now: t0.addingTimeInterval(Double(minute) * 60), run: minute)))
            }
            return out
        }
        let h = try await history(9)
        // A new shadow agent every 90 s takes the place of the oldest one found: as many entities as before.
        #expect(h[2].entities.count == h[0].entities.count)
        let before = Set(h[0].entities.map(\.id))
        let shadow = try #require(h[2].entities.first { !before.contains($0.id) })
        #expect(shadow.population == .agent)
        #expect(shadow.signals.sanctioned == false)
        #expect(shadow.firstSeen == t0.addingTimeInterval(120), "found at the run that saw it")
        #expect(Set(h[0].entities.map(\.id)).subtracting(h[2].entities.map(\.id)).count == 1, "the oldest one found is gone")
        // Reported in id order, so the merge has nothing to sort.
        #expect(h[2].entities.map(\.id) == h[2].entities.map(\.id).sorted())
        // An owner leaves at 4 minutes (what they own now belongs to someone gone), and the one who left before last
        // has handed their things over to a colleague.
        func departed(_ r: CollectorReport) -> Set<String> { Set(r.entities.filter { $0.owner?.status == .departed }.map(\.id)) }
        #expect(!departed(h[4]).subtracting(departed(h[3])).isEmpty)
        #expect(!departed(h[3]).subtracting(departed(h[4])).isEmpty)
        #expect(departed(h[3]) == departed(h[2]), "nobody left in between")
        // A request arrives every minute, each waiting five; the same moment gives the same requests.
        let keys = h.map { Set($0.requests.map(\.key)) }
        #expect(keys[1].subtracting(keys[0]).count == 1)
        #expect(h.allSatisfy { (4...5).contains($0.requests.count) })
        // Same seed, same life.
        let again = try await history(9)
        #expect(try json(again[12]) == json(h[12]))
        #expect(again[12].requests == h[12].requests)
    }
}
