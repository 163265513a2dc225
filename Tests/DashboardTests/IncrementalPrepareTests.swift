import Collectors
import Foundation
import Terminal
import TestSupport
import Testing

@testable import Dashboard
@testable import Inventory

/// A refresh worked out by difference shows exactly what a full preparation of the same data would: the population
/// index, the riskiest, every table's order in the analyst's sort, every column's order, the filter text and what a
/// filter finds. Random changes (seeded), at one injected time, so nothing sleeps and every failure reproduces.
/// Serialized, and on threads of their own: hundreds of preparations must not crowd out the suites beside them.
@Suite(.serialized) struct IncrementalPrepareTests {
    /// One random change to an entity: what collectors report moving (an owner leaving, a key used, a new exposure,
    /// coverage gained, a rename that moves it in a NAME sort, a change of population).
    func mutate(_ e: Entity, _ r: inout SplitMix, serial: Int) -> Entity {
        var e = e
        switch r.int(7) {
        case 0:
            e.owner = e.owner.map { Owner(name: $0.name, status: $0.status == .active ? .departed : .active) } ?? Owner(name: "new.owner")
        case 1: e.lastUsedAt = now.addingTimeInterval(-Double(r.int(400)) * 86_400)
        case 2:
            if !e.credentials.isEmpty { e.credentials[0].exposures.append("committed to acme/repo-\(serial)") }
        case 3: e.coverage = e.coverage.isEmpty ? [.vault, .sso, .mdm] : []
        case 4: e.name = "renamed-\(r.int(1000))"
        case 5: e.population = Population.allCases[r.int(4)]
        default: e.signals.sanctioned = e.signals.sanctioned == false ? true : false
        }
        return e
    }

    static func differences(_ a: PreparedSnapshot, _ b: PreparedSnapshot, sorts: [Panel: SortChoice], _ note: String) -> [String] {
        var out: [String] = []
        if a.populationIndex != b.populationIndex { out.append("\(note): population index") }
        if a.riskiest != b.riskiest { out.append("\(note): riskiest") }
        for panel in Panel.allCases where panel.population != nil {
            if a.sortedRows[panel]?.rows != b.sortedRows[panel]?.rows {
                out.append("\(note): \(panel) order \(sorts[panel] ?? SortChoice())")
            }
            if a.haystacks[panel]?.bytes != b.haystacks[panel]?.bytes || a.haystacks[panel]?.ends != b.haystacks[panel]?.ends {
                out.append("\(note): \(panel) filter text")
            }
        }
        if a.changed != b.changed { out.append("\(note): change marks") }
        return out
    }

    /// Thirty seeded refreshes, each prepared by difference and in full: what differs, and how many were worked out by
    /// difference. On a thread of its own (`offThePool`), so hundreds of preparations don't hold the cooperative pool.
    func walk(seed: UInt64, report: CollectorReport) -> (problems: [String], byDifference: Int) {
        var r = SplitMix(state: seed)
        var problems: [String] = []
        var slice = HeldSlice(source: "demo", entities: report.entities)
        var snapshot = Snapshot.build(version: 1, now: now, slices: [.init(source: "demo", entities: slice.entities)])
        var sorts: [Panel: SortChoice] = [:]
        var prepared = PreparedSnapshot.prepare(snapshot, previous: nil, now: now, sorts: sorts)
        // Every column's order of the Service accounts table, carried along as the dashboard does in the background.
        let panel = Panel.serviceAccounts
        func orders(_ p: PreparedSnapshot) -> SortOrders {
            SortOrders.compute(
                panel: panel, version: Int64(p.snapshot.version), snapshot: p.snapshot, population: .serviceAccount,
                base: p.populationIndex[.serviceAccount] ?? [], now: now)
        }
        var carried = orders(prepared)
        var byDifference = 0
        for step in 0..<30 {
            let note = "seed \(seed) step \(step)"
            // Now and then the analyst picks another sort on some table.
            if r.chance(0.3) {
                let p = [Panel.apps, .devices, .serviceAccounts, .agents][r.int(4)]
                sorts[p] = SortChoice(column: r.int(8), reversed: r.chance(0.5))
            }
            let ids = slice.entities.map(\.id)
            var upserts: [Entity] = []
            var removed: [String] = []
            // From 1 to 25 changes; every tenth step 500, which takes the paths that work on every core.
            for k in 0..<(step % 10 == 9 ? 500 : 1 + r.int(25)) {
                switch r.int(5) {
                case 0: removed.append(ids[r.int(ids.count)])
                case 1:
                    var fresh = slice.entities[r.int(ids.count)]
                    fresh.id = "zz-new-\(step)-\(k)-\(fresh.id)"
                    upserts.append(fresh)
                default: upserts.append(mutate(slice.entities[r.int(ids.count)], &r, serial: step * 100 + k))
                }
            }
            let changed = slice.apply(upserts: upserts, removed: removed)
            let version = step + 2
            let full = Snapshot.build(version: version, now: now, slices: [.init(source: "demo", entities: slice.entities)])
            let expected = PreparedSnapshot.prepare(full, previous: snapshot, now: now, sorts: sorts)
            guard let next = Snapshot.update(snapshot, version: version, now: now, changed: changed, slices: [slice]),
                let updated = PreparedSnapshot.update(prepared, to: next, now: now, sorts: sorts),
                let rebase = updated.rebases[panel]
            else {
                (snapshot, prepared, carried) = (full, expected, orders(expected))
                continue
            }
            byDifference += 1
            problems += Self.differences(updated, expected, sorts: sorts, note)
            let model = EntityTable(snapshot: next, population: .serviceAccount, base: updated.populationIndex[.serviceAccount] ?? [])
            carried = carried.rebased(rebase, version: Int64(version), model: model, now: now)
            if carried.byColumn != orders(expected).byColumn { problems.append("\(note): every column's order") }
            // And what a filter finds, through the cache the UI uses.
            for needle in ["prod", "left", "!ok", "renamed"] {
                let a = TableCache()
                a.haystacks[panel] = (Int64(version), updated.haystacks[panel]!)
                let b = TableCache()
                if a.rows(model, panel: panel, version: Int64(version), filter: needle, column: 1, reversed: false, now: now)
                    != b.rows(model, panel: panel, version: Int64(version), filter: needle, column: 1, reversed: false, now: now)
                {
                    problems.append("\(note): filter \(needle)")
                }
            }
            (snapshot, prepared) = (next, updated)
        }
        return (problems, byDifference)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomRefreshesEqualAFullPreparation(seed: UInt64) async throws {
        let report = try await DemoCollector(seed: seed, size: 600).collect(CollectContext(now: now, run: 0, source: "demo"))
        let (problems, byDifference) = try await offThePool { self.walk(seed: seed, report: report) }
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(byDifference >= 27, "only \(byDifference) of 30 refreshes were worked out by difference")
    }
}

/// While a slice still comes in parts, the header says how much of it is in before any figure.
@Suite struct LoadingHeaderTests {
    @Test(arguments: [(80, 24), (200, 50)])
    func theHeaderSaysHowMuchIsIn(size: (Int, Int)) async throws {
        let first = try await demoSnapshot(size: 300)
        var health = first.collectors
        health[0].loading = .init(done: 31_250, total: 1_000_000)
        let loading = Snapshot(
            version: 2, generatedAt: first.generatedAt, entities: first.entities, gap: first.gap, collectors: health, requests: [])
        let (app, t) = makeApp(loading, width: size.0, height: size.1)
        #expect(t.row(0).contains("assessing 31,250 of 1,000,000…"), "\(t.row(0))")
        #expect(t.row(0).contains("entities"), "the figures so far follow when there is room: \(t.row(0))")
        // When the last part is in, the line goes.
        app.receive(first.replacingCollectors(first.collectors))
        t.draw(app.render())
        #expect(!t.row(0).contains("assessing"))
        #expect(Renderer.grouped(1_234_567) == "1,234,567" && Renderer.grouped(999) == "999" && Renderer.grouped(0) == "0")
    }
}
