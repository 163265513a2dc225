import Access
import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Dashboard
@testable import Inventory
@testable import Terminal

@Suite("Idle: a paused screen changes only its clock")
struct IdleTests {
    /// A dashboard on a personal store holding one grant that counts down and the demo's pending requests.
    func pausedApp() async throws -> (App, MemoryTerminal) {
        let (app, t, _) = try await demoDesk(width: 120, height: 40) { snap, store in
            let e = snap.entities[0].entity
            _ = try store.directGrant(
                subject: Subject(id: e.id, name: e.name, population: e.population), scope: "vpn:prod", ttlSeconds: 900, reason: "r",
                by: Analyst(user: "bob"), policy: AccessPolicy(), now: now)
        }
        return (app, t)
    }

    /// The cells of the status line's clock (`HH:MM:SS`, before " UTC ").
    func clockCells(width: Int) -> Range<Int> { (width - 13)..<(width - 5) }

    @Test("paused, frames seconds and minutes apart differ only in the clock's cells, on every panel", arguments: ["1", "5", "6", "8"])
    func pausedWritesOnlyTheClock(panel: Character) async throws {
        let (app, t) = try await pausedApp()
        app.press(.character(panel), .character("p"), on: t)
        // The "Paused" message has gone after 3 s.
        app.tick(now: now.addingTimeInterval(4))
        let settled = app.render()
        #expect(settled.rowText(39).contains("PAUSED"))
        var previous = settled
        for second in [5.0, 6, 7, 8, 9, 70, 3_700] {
            app.tick(now: now.addingTimeInterval(second))
            // A collector that ran and changed nothing, while paused.
            var h = app.state.snapshot.collectors[0]
            h.lastRun = now.addingTimeInterval(second)
            h.lastSuccess = now.addingTimeInterval(second)
            app.receive(health: [h])
            let frame = app.render()
            let runs = frame.changes(since: previous)
            #expect(!runs.isEmpty, "the clock moved")
            for r in runs {
                #expect(r.y == 39 && clockCells(width: 120).contains(r.x) && r.x + r.length <= clockCells(width: 120).upperBound, "\(r)")
            }
            previous = frame
        }
        // Resumed, the time shown catches up (the grant's countdown, refreshed …), and the health held is applied.
        app.press(.character("p"), on: t)
        app.tick(now: now.addingTimeInterval(3_701))
        #expect(app.state.now == now.addingTimeInterval(3_701))
        #expect(app.state.snapshot.collectors[0].lastRun == now.addingTimeInterval(3_700))
    }

    @Test("live, a health-only update moves the collector's health and 'refreshed' without a new snapshot")
    func healthOnly() async throws {
        let (app, t) = try await pausedApp()
        let version = app.state.snapshot.version
        let entities = app.state.snapshot.entities
        app.tick(now: now.addingTimeInterval(30))
        var h = app.state.snapshot.collectors[0]
        h.lastRun = now.addingTimeInterval(29)
        h.lastSuccess = now.addingTimeInterval(29)
        app.receive(health: [h])
        app.press(.character("8"), on: t)
        #expect(app.state.snapshot.version == version)
        #expect(app.state.snapshot.entities.count == entities.count)
        #expect(app.state.snapshot.collectors[0].lastRun == now.addingTimeInterval(29))
        #expect(t.row(39).contains("refreshed 1s ago"), "\(t.row(39))")
        #expect(t.text.contains("1s ago"), "the Collectors panel shows the last run")
    }

    @Test("the mailbox drops health older than a snapshot posted after it")
    func mailboxOrder() async throws {
        let box = Mailbox()
        let snap = try await demoSnapshot()
        box.post(health: snap.collectors)
        box.post(PreparedSnapshot.overview(snap))
        #expect(box.takeHealth() == nil)
        box.post(health: snap.collectors)
        #expect(box.takeHealth() == snap.collectors)
    }
}
