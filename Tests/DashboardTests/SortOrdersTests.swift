import Foundation
import Testing

@testable import Dashboard
@testable import Inventory
@testable import Terminal

@Suite("Background sort orders")
struct SortOrdersTests {
    @Test("orders computed in the background give the same rows as sorting on the keystroke, for every column")
    func sameAsOnDemand() async throws {
        let snap = try await demoSnapshot()
        let (withOrders, t1) = makeApp(snap)
        let (plain, t2) = makeApp(snap)
        withOrders.press(.character("4"), on: t1)
        plain.press(.character("4"), on: t2)
        let job = try #require(withOrders.sortOrdersJob())
        withOrders.receive(job())
        for _ in 0..<10 {
            withOrders.press(.character("s"), on: t1)
            plain.press(.character("s"), on: t2)
            #expect(
                withOrders.state.rows[.serviceAccounts] == plain.state.rows[.serviceAccounts],
                "column \(withOrders.state.tables[.serviceAccounts]!.sortColumn)")
            #expect(t1.text == t2.text)
        }
    }
}

@Suite("Refreshes prepared in the table's sort")
struct PreparedSortTests {
    /// A refresh in which some entities changed, prepared off the UI thread.
    func refresh(of snap: Snapshot) async throws -> Snapshot {
        try await demoSnapshot(size: 300, seed: 12, version: snap.version + 1)
    }

    @Test("a refresh prepared in the analyst's sort shows the same rows as sorting it on the UI thread")
    func preparedInSort() async throws {
        let snap = try await demoSnapshot()
        let next = try await refresh(of: snap)
        let (app, t) = makeApp(snap)
        let (reference, rt) = makeApp(snap)
        for a in [(app, t), (reference, rt)] {
            a.0.press(.character("4"), .character("s"), .character("s"), on: a.1)
            // The same column again reverses it.
            a.0.run(command: "sort \(a.0.model(.serviceAccounts).columns[a.0.state.table(.serviceAccounts).sortColumn].title)")
        }
        let column = app.state.table(.serviceAccounts).sortColumn
        #expect(column > 1, "two columns on from RISK")
        #expect(app.sortChoices[.serviceAccounts] == SortChoice(column: column, reversed: true))
        app.receive(PreparedSnapshot.prepare(next, previous: snap, now: app.state.now, sorts: app.sortChoices))
        reference.receive(next) // prepared in the default order: the UI sorts it itself
        app.press(.character("j"), on: t)
        reference.press(.character("j"), on: rt)
        #expect(app.state.rows[.serviceAccounts] == reference.state.rows[.serviceAccounts])
        #expect(t.text == rt.text)
    }

    @Test("a refresh prepared before the sort changed is still shown in the new sort")
    func stalePreparation() async throws {
        let snap = try await demoSnapshot()
        let next = try await refresh(of: snap)
        let (app, t) = makeApp(snap)
        let (reference, rt) = makeApp(snap)
        app.press(.character("4"), on: t)
        reference.press(.character("4"), on: rt)
        let prepared = PreparedSnapshot.prepare(next, previous: snap, now: app.state.now, sorts: app.sortChoices)
        app.press(.character("s"), on: t) // the analyst sorts while the refresh is being prepared
        reference.press(.character("s"), on: rt)
        app.receive(prepared)
        reference.receive(next)
        app.press(.character("k"), on: t)
        reference.press(.character("k"), on: rt)
        #expect(app.state.tables[.serviceAccounts]?.sortColumn == 1)
        #expect(app.state.rows[.serviceAccounts] == reference.state.rows[.serviceAccounts])
        #expect(t.text == rt.text)
    }
}

@Suite("The quick first preparation")
struct OverviewFirstTests {
    @Test("the Overview shows at once; a table opened before the full preparation sorts itself; the full one then takes over")
    func quickThenFull() async throws {
        let snap = try await demoSnapshot()
        let (app, t) = makeApp(Snapshot.empty)
        let (reference, rt) = makeApp(snap)
        app.receive(PreparedSnapshot.overview(snap))
        #expect(app.state.snapshot.version == snap.version)
        #expect(!app.preparedComplete)
        app.press(.character("4"), on: t)
        reference.press(.character("4"), on: rt)
        #expect(app.state.rows[.serviceAccounts] == reference.state.rows[.serviceAccounts])
        #expect(t.text == rt.text)
        let trend = app.state.trendRisk.count
        app.receive(PreparedSnapshot.prepare(snap, previous: nil, now: app.state.now, sorts: app.sortChoices))
        #expect(app.preparedComplete)
        #expect(app.state.trendRisk.count == trend, "the same snapshot is not a new point on the trend")
        #expect(app.cache.haystacks[.serviceAccounts] != nil, "the full preparation's filter text is in use")
        app.press(.character("/"), on: t)
        reference.press(.character("/"), on: rt)
        app.type("prod", on: t)
        reference.type("prod", on: rt)
        #expect(app.state.rows[.serviceAccounts] == reference.state.rows[.serviceAccounts])
        #expect(t.text == rt.text)
        // A second full preparation of the same snapshot changes nothing.
        app.receive(PreparedSnapshot.prepare(snap, previous: nil, now: app.state.now))
        #expect(app.state.trendRisk.count == trend)
    }
}

@Suite("Filter text")
struct HaystacksTests {
    @Test(
        "a filter searched on every core finds the same rows, in the same order, as one searched on one",
        arguments: ["macos", "!macos", "a", "zzz-none"])
    func parallelFilter(query: String) async throws {
        let snap = try await demoSnapshot(size: 600)
        let (parallel, t1) = makeApp(snap)
        let (serial, t2) = makeApp(snap)
        parallel.cache.parallelFilterBelow = 2
        for (a, t) in [(parallel, t1), (serial, t2)] {
            a.press(.character("3"), .character("/"), on: t)
            a.type(query, on: t)
        }
        #expect(parallel.state.rows[.devices] == serial.state.rows[.devices])
        #expect(t1.text == t2.text)
        #expect(query == "zzz-none" ? serial.state.rows[.devices]!.isEmpty : !serial.state.rows[.devices]!.isEmpty)
    }

    @Test("each row's text is searched on its own: a match never spans two rows")
    func rows() {
        var h = Haystacks()
        for text in ["alpha", "beta", "", "gamma-deploy"] {
            h.bytes.append(contentsOf: text.utf8)
            h.ends.append(Int32(h.bytes.count))
        }
        #expect(h.contains(row: 0, Array("alpha".utf8)))
        #expect(!h.contains(row: 0, Array("ab".utf8)), "alpha+beta must not match across the boundary")
        #expect(!h.contains(row: 1, Array("alpha".utf8)))
        #expect(h.contains(row: 1, Array("eta".utf8)))
        #expect(!h.contains(row: 2, Array("a".utf8)))
        #expect(h.contains(row: 3, Array("deploy".utf8)))
        #expect(!h.contains(row: 3, Array("deployx".utf8)))
    }
}
