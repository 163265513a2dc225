import AccessService
import Collectors
import Foundation
import Inventory
import TestSupport
import Testing

/// A dashboard attached to the access service holds the service's inventory; when it moves, the service sends what
/// changed since the version the dashboard holds, not every entity again.
@Suite struct InventoryDeltaTests {
    @Test("the service sends an attached dashboard what changed since its version, which adds up to the whole")
    func deltasAddUpToTheWhole() async throws {
        // At speed 20 the demo changes every few seconds (a key ages every 3 s, a shadow agent every 4.5 s).
        let svc = try await ServiceProcess(demoSize: 400, demoOptions: "    speed: 20\n    interval: 1s\n")
        let collector = ServiceInventoryCollector(socket: svc.socket)
        let first = try await collector.collect(CollectContext(now: Date(), run: 0, source: "service"))
        #expect(!first.isDelta && first.entities.count >= 400)
        var held = HeldSlice(source: "service", entities: first.entities)
        var revision = try #require(first.revision)
        var deltas = 0
        var run = 1
        let deadline = Date().addingTimeInterval(90)
        while deltas < 2, Date() < deadline {
            try await Task.sleep(for: .milliseconds(500))
            let next = try await collector.collect(CollectContext(now: Date(), run: run, source: "service", heldRevision: revision))
            run += 1
            if next.isUnchanged { continue }
            #expect(next.isDelta, "the service moved on: what changed, not the whole")
            #expect(next.deltaBase == revision)
            #expect(next.entities.count < 40, "\(next.entities.count) entities sent for a change of a few")
            _ = held.apply(upserts: next.entities, removed: next.removed)
            revision = try #require(next.revision)
            deltas += 1
            // What the deltas add up to is what a dashboard that just attached gets whole, at the same version.
            let fresh = try await ServiceInventoryCollector(socket: svc.socket).collect(
                CollectContext(now: Date(), run: 0, source: "service"))
            if fresh.revision == revision {
                #expect(HeldSlice(source: "service", entities: fresh.entities).entities == held.entities)
            }
        }
        #expect(deltas >= 2, "the service's inventory moved \(deltas) times in 90 s")
        // A dashboard that lost its slice (asks with none held) gets the whole again.
        let whole = try await collector.collect(CollectContext(now: Date(), run: run, source: "service"))
        #expect(!whole.isDelta && whole.entities.count >= 400)
    }
}
