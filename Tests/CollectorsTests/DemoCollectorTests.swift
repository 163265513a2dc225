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
        let dashboard = DemoCollector(seed: 7, size: 120, lifeFile: life)
        var shown = try await dashboard.collect(CollectContext(now: now, run: 0))
        #expect(!FileManager.default.fileExists(atPath: life), "nothing lived yet, nothing written")
        for run in 1...3 { shown = try await dashboard.collect(CollectContext(now: now, run: run)) }
        #expect(try String(contentsOfFile: life, encoding: .utf8) == "3\n")
        // A CLI command collects once: it starts where the dashboard is, and knows its discovered agents.
        let once = try await DemoCollector(seed: 7, size: 120, lifeFile: life).collect(CollectContext(now: now, run: 0))
        #expect(once.entities.map(\.id) == shown.entities.map(\.id))
        #expect(once.entities.filter { $0.id.hasSuffix("-new3") }.count == 1)
        #expect(once.entities.map(\.owner?.status) == shown.entities.map(\.owner?.status), "the same owners have left")
        #expect(try String(contentsOfFile: life, encoding: .utf8) == "3\n", "collecting once records nothing")
        // Without the file, each process is alone: what the CLI saw before.
        let alone = try await DemoCollector(seed: 7, size: 120).collect(CollectContext(now: now, run: 0))
        #expect(alone.entities.count == shown.entities.count - 3)
        // A second dashboard carries on from there; an older life than the horizon is a demo nobody watches.
        _ = try await DemoCollector(seed: 7, size: 120, lifeFile: life).collect(CollectContext(now: now, run: 1))
        #expect(try String(contentsOfFile: life, encoding: .utf8) == "4\n")
        try FileManager.default.setAttributes(
            [.modificationDate: now.addingTimeInterval(-DemoCollector.lifeHorizon - 60)], ofItemAtPath: life)
        let afresh = try await DemoCollector(seed: 7, size: 120, lifeFile: life).collect(CollectContext(now: now, run: 0))
        #expect(afresh.entities.map(\.id) == alone.entities.map(\.id))
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

    @Test("it keeps living, deterministically per seed and run")
    func living() async throws {
        func history(_ seed: UInt64) async throws -> [CollectorReport] {
            let demo = DemoCollector(seed: seed, size: 400)
            var out: [CollectorReport] = []
            for run in 0...6 { out.append(try await demo.collect(CollectContext(now: t0.addingTimeInterval(Double(run) * 5), run: run))) }
            return out
        }
        let h = try await history(9)
        // A new shadow agent each run.
        #expect(h[1].entities.count == h[0].entities.count + 1)
        let before = Set(h[0].entities.map(\.id))
        let shadow = try #require(h[1].entities.first { !before.contains($0.id) })
        // Reported in id order, so the merge has nothing to sort.
        #expect(h[1].entities.map(\.id) == h[1].entities.map(\.id).sorted())
        #expect(shadow.population == .agent)
        #expect(shadow.signals.sanctioned == false)
        // An owner leaves on run 3: more departed owners than before.
        func departed(_ r: CollectorReport) -> Int { r.entities.filter { $0.owner?.status == .departed }.count }
        #expect(departed(h[3]) > departed(h[2]))
        // A request arrives every run.
        #expect(h[6].requests.count == h[0].requests.count + 6)
        // Same seed, same life.
        let again = try await history(9)
        #expect(try json(again[6]) == json(h[6]))
        #expect(again[6].requests == h[6].requests)
    }
}
