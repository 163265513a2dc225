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
        while await r.snapshot.collectors[1].lastRun == nil { try await Task.sleep(for: .milliseconds(2)) } // published, not only run
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

    @Test("an unchanged report publishes no new snapshot version, only newer health; a changed one does")
    func unchanged() async throws {
        let clock = ManualClock(start: t0)
        let c = RevisionCollector([entity("u:1"), entity("u:2")])
        let r = CollectorRunner(
            specs: [CollectorSpec(name: "u", type: "t", intervalSeconds: 5, timeoutSeconds: 5, collector: c)], clock: clock,
            rebuildAfter: 600)
        let health = await r.snapshots(health: true)
        var updates = health.makeAsyncIterator()
        await r.runOnce("u")
        let first = await r.snapshot
        #expect(first.version == 1)
        #expect(await updates.next()?.version == 1)
        clock.advance(by: 5)
        await r.runOnce("u")
        let same = await r.snapshot
        #expect(same.version == 1, "nothing changed: nothing rebuilt")
        #expect(same.generatedAt == t0)
        #expect(same.entities.count == 2 && same.entities[0] === first.entities[0], "the very same assessed entities")
        #expect(same.collectors[0].lastRun == t0.addingTimeInterval(5), "but its health moved")
        #expect(same.collectors[0].state == .ok)
        let update = await updates.next()
        #expect(update?.version == 1 && update?.collectors[0].lastSuccess == t0.addingTimeInterval(5))
        // A change is published as a new version.
        c.change([entity("u:1"), entity("u:2"), entity("u:3")])
        clock.advance(by: 5)
        await r.runOnce("u")
        #expect(await r.snapshot.version == 2)
        #expect(await r.snapshot.entities.count == 3)
        #expect(await updates.next()?.version == 2)
        // A failure marks it stale (a rebuild, as before); the next unchanged run is ok again, and rebuilt, since
        // freshness counts in the gap figures.
        c.fail(true)
        await r.runOnce("u")
        #expect(await r.snapshot.version == 3)
        #expect(await r.snapshot.collectors[0].state == .stale)
        c.fail(false)
        await r.runOnce("u")
        #expect(await r.snapshot.version == 4)
        #expect(await r.snapshot.collectors[0].state == .ok)
        #expect(await r.snapshot.entities.count == 3)
        // Unchanged for longer than `rebuildAfter`: rebuilt, as the rules read the clock.
        clock.advance(by: 300)
        await r.runOnce("u")
        #expect(await r.snapshot.version == 4)
        clock.advance(by: 301)
        await r.runOnce("u")
        #expect(await r.snapshot.version == 5)
        #expect(await r.snapshot.generatedAt == clock.now())
    }

    @Test("'unchanged' about a slice the runner doesn't hold is refused, and the collector asked again in full")
    func unchangedWithoutSlice() async throws {
        final class Liar: Collector {
            func collect(_ context: CollectContext) async throws -> CollectorReport { .unchanged(revision: 7) }
        }
        let r = CollectorRunner(
            specs: [CollectorSpec(name: "l", type: "t", intervalSeconds: 5, timeoutSeconds: 5, collector: Liar())],
            clock: ManualClock(start: t0))
        await r.runOnce("l")
        let h = await r.collectorHealth[0]
        #expect(h.state == .failed)
        #expect(h.lastError?.contains("reported no change") == true)
    }
}
