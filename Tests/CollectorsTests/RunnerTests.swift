import Foundation
import Synchronization
import Testing

@testable import Collectors
@testable import Inventory

@Suite("Collector runner")
struct RunnerTests {
    func runner(_ specs: [(String, ScriptedCollector, Double)], clock: ManualClock) -> CollectorRunner {
        CollectorRunner(
            specs: specs.map { CollectorSpec(name: $0.0, type: "test", intervalSeconds: 10, timeoutSeconds: $0.2, collector: $0.1) },
            clock: clock)
    }

    @Test("a collector that throws keeps its last good slice, marked stale")
    func throwing() async throws {
        let clock = ManualClock(start: t0)
        let c = ScriptedCollector([.report([entity("t:a"), entity("t:b")]), .fail("boom")])
        let r = runner([("flaky", c, 5)], clock: clock)
        await r.runOnce("flaky")
        #expect(await r.snapshot.entities.count == 2)
        #expect(await r.collectorHealth[0].state == .ok)
        await r.runOnce("flaky")
        let snap = await r.snapshot
        #expect(snap.entities.count == 2, "the last good slice is kept")
        let h = try #require(snap.collectors.first)
        #expect(h.state == .stale)
        #expect(h.lastError == "boom")
        #expect(h.entityCount == 2)
    }

    @Test("a collector that never succeeded is failed, not stale")
    func neverSucceeded() async {
        let r = runner([("bad", ScriptedCollector([.fail("no route")]), 5)], clock: ManualClock(start: t0))
        await r.runOnce("bad")
        #expect(await r.collectorHealth[0].state == .failed)
        #expect(await r.snapshot.entities.isEmpty)
    }

    @Test("a hanging collector times out on the injected clock and never delays the others", arguments: [false, true])
    func hanging(ignoresCancellation: Bool) async throws {
        let clock = ManualClock(start: t0)
        let hang = ScriptedCollector([.report([entity("h:1")]), ignoresCancellation ? .hangIgnoringCancellation : .hang])
        let fast = ScriptedCollector([.report([entity("f:1")])])
        let r = runner([("hang", hang, 30), ("fast", fast, 5)], clock: clock)
        await r.runOnce("hang")
        let running = Task { await r.runAllOnce() }
        // The fast collector finishes and publishes while the other hangs.
        while await r.snapshot.collectors[1].lastRun == nil { await Task.yield() } // published, not only run
        #expect(await r.snapshot.entities.map(\.id).contains("f:1"))
        #expect(await r.collectorHealth[0].state == .ok)
        // The hang's timer plus the fast one's finished: wait for the hang's timeout sleeper and pass it.
        await clock.waitForSleepers(1)
        clock.advance(by: 30)
        await running.value
        let h = await r.collectorHealth[0]
        #expect(h.state == .stale)
        #expect(h.lastError == "timed out after 30s")
        #expect(await r.snapshot.entities.map(\.id) == ["f:1", "h:1"])
    }

    @Test("a garbage report is refused and the last good slice kept")
    func garbage() async {
        let c = ScriptedCollector([.report([entity("g:1")]), .garbage])
        let r = runner([("g", c, 5)], clock: ManualClock(start: t0))
        await r.runOnce("g")
        await r.runOnce("g")
        let h = await r.collectorHealth[0]
        #expect(h.state == .stale)
        #expect(h.lastError?.contains("invalid report") == true)
        #expect(await r.snapshot.entities.map(\.id) == ["g:1"])
    }

    @Test("a slow collector that finishes within its timeout is ok, and its duration is recorded")
    func slow() async throws {
        final class Slow: Collector {
            let clock: ManualClock
            init(clock: ManualClock) { self.clock = clock }
            func collect(_ context: CollectContext) async throws -> CollectorReport {
                try await clock.sleep(for: 4)
                return CollectorReport(entities: [entity("s:1")])
            }
        }
        let clock = ManualClock(start: t0)
        let r = CollectorRunner(
            specs: [CollectorSpec(name: "slow", type: "t", intervalSeconds: 10, timeoutSeconds: 5, collector: Slow(clock: clock))],
            clock: clock)
        let run = Task { await r.runOnce("slow") }
        await clock.waitForSleepers(2) // the collector's own sleep and the timeout timer
        clock.advance(by: 4)
        await run.value
        let h = await r.collectorHealth[0]
        #expect(h.state == .ok)
        #expect(h.duration == 4)
    }

    @Test("each collector runs on its own interval")
    func schedule() async throws {
        let clock = ManualClock(start: t0)
        let a = ScriptedCollector([.report([entity("a:1")])])
        let r = CollectorRunner(
            specs: [CollectorSpec(name: "a", type: "t", intervalSeconds: 10, timeoutSeconds: 5, collector: a)], clock: clock)
        let stream = await r.snapshots()
        await r.start()
        var it = stream.makeAsyncIterator()
        _ = await it.next()
        #expect(a.runs.load(ordering: .relaxed) == 1)
        await clock.waitForSleepers(1)
        clock.advance(by: 9)
        #expect(a.runs.load(ordering: .relaxed) == 1)
        clock.advance(by: 1)
        let second = await it.next()
        #expect(second?.version == 2)
        #expect(a.runs.load(ordering: .relaxed) == 2)
        await r.stop()
    }

    @Test("snapshot versions grow with every publish")
    func versions() async {
        let r = runner([("a", ScriptedCollector([.report([entity("a:1")])]), 5)], clock: ManualClock(start: t0))
        await r.runOnce("a")
        await r.runOnce("a")
        #expect(await r.snapshot.version == 2)
    }
}
