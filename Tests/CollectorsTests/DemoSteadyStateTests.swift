import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Collectors
@testable import Inventory

/// The demo left alone for an hour (its clock injected, nothing sleeps): its figures hold near their opening values,
/// its queue holds a handful of requests, and a restart on the same store brings requests of its own.
@Suite("Demo steady state")
struct DemoSteadyStateTests {
    struct Figures {
        var agents = 0
        var shadowAgents = 0
        var unownedPercent = 0.0
        var critical = 0
        var staleKeys = 0
    }

    static func figures(_ report: CollectorReport, at now: Date) -> Figures {
        let snap = Snapshot.build(version: 1, now: now, slices: [.init(source: "demo", entities: report.entities)])
        let all = snap.totalGap
        let agents = snap.entities.filter { $0.entity.population == .agent }
        return Figures(
            agents: agents.count, shadowAgents: agents.filter { $0.entity.signals.sanctioned == false }.count,
            unownedPercent: 100 * Double(all.unowned) / Double(max(1, all.total)), critical: all.findings[.critical, default: 0],
            staleKeys: all.longLivedSecrets)
    }

    /// Runs a demo every 5 s from `start` for `seconds` against `store`, as the dashboard does: ingest, then sweep.
    /// Synchronous, on a thread of its own (see `offThePool`): an hour of runs, builds and store writes must not hold
    /// one of the cooperative pool's few threads while the rest of the suite runs beside it.
    static func run(
        _ demo: DemoCollector, store: AccessStore, from start: Date, seconds: Double, policy: AccessPolicy,
        each: (Date, CollectorReport, Int) throws -> Void
    ) throws {
        var run = 0
        var now = start
        while now <= start.addingTimeInterval(seconds) {
            let report = try demo.run(CollectContext(now: now, run: run), stop: BlockingStop())
            let byID = Dictionary(report.entities.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            _ = try store.sweep(by: Analyst(user: "sweeper"), now: now)
            try store.ingest(
                report.requests, subjects: { id in byID[id].map { Subject(id: $0.id, name: $0.name, population: $0.population) } },
                by: Analyst(user: "collector"), policy: policy, now: now)
            _ = try store.sweep(by: Analyst(user: "sweeper"), now: now)
            try each(now, report, try store.requests(state: .pending).count)
            run += 1
            now = now.addingTimeInterval(5)
        }
    }

    /// A personal store in a folder of its own.
    static func freshStore() throws -> (ScratchDirectory, AccessStore) {
        let dir = try ScratchDirectory("tg-steady")
        return (dir, try AccessStore(path: dir.appending("trustgap.db").path))
    }
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("over an hour the figures stay within a few points of their opening values and 3 to 8 requests wait")
    func anHour() async throws {
        try await offThePool {
            let (dir, store) = try Self.freshStore()
            defer { withExtendedLifetime(dir) {} } // the store's folder stays until the test ends
            let (policy, start) = (TestDemoPolicy.policy, Self.start)
            var opening: Figures?
            var pendingSeen: [Int] = []
            var filedKeys = Set<String>()
            var arrivals: [Date] = []
            var worst = (agents: 0, shadow: 0, unowned: 0.0, critical: 0, stale: 0)
            try Self.run(DemoCollector(seed: 42), store: store, from: start, seconds: 3600, policy: policy) { now, report, pending in
                pendingSeen.append(pending)
                let new = Set(report.requests.map(\.key)).subtracting(filedKeys)
                if !new.isEmpty, now > start { arrivals.append(now) }
                filedKeys.formUnion(new)
                guard Int(now.timeIntervalSince(start)) % 60 == 0 else { return }
                let f = Self.figures(report, at: now)
                guard let o = opening else {
                    opening = f
                    return
                }
                worst.agents = max(worst.agents, abs(f.agents - o.agents))
                worst.shadow = max(worst.shadow, abs(f.shadowAgents - o.shadowAgents))
                worst.unowned = max(worst.unowned, abs(f.unownedPercent - o.unownedPercent))
                worst.critical = max(worst.critical, abs(f.critical - o.critical))
                worst.stale = max(worst.stale, abs(f.staleKeys - o.staleKeys))
            }
            let o = try #require(opening)
            #expect(worst.agents == 0, "agents \(o.agents): one found, one removed")
            #expect(worst.shadow <= 1, "shadow agents \(o.shadowAgents) moved by \(worst.shadow)")
            #expect(worst.unowned <= 3, "unowned \(o.unownedPercent)% moved by \(worst.unowned) points")
            #expect(
                Double(worst.critical) <= max(3, Double(o.critical) * 0.05), "critical findings \(o.critical) moved by \(worst.critical)")
            #expect(worst.stale <= 3, "long-lived secrets \(o.staleKeys) moved by \(worst.stale)")
            #expect(pendingSeen.allSatisfy { (3...8).contains($0) }, "pending: \(Set(pendingSeen).sorted())")
            #expect(try #require(arrivals.first) <= start.addingTimeInterval(60), "a request arrives in the first minute")
            let gaps = zip(arrivals.dropFirst(), arrivals).map { $0.timeIntervalSince($1) }
            #expect(gaps.allSatisfy { $0 <= 60 }, "one arrives at least every minute")
            // Every change the demo made is one an organisation sees; none left a request behind.
            #expect(try store.verifyAudit().ok)
        }
    }

    @Test("a restart on the same store brings new requests within a minute, and the queue stays 3 to 8")
    func restart() async throws {
        try await offThePool {
            let (dir, store) = try Self.freshStore()
            defer { withExtendedLifetime(dir) {} } // the store's folder stays until the test ends
            let (policy, start) = (TestDemoPolicy.policy, Self.start)
            var pending: [Int] = []
            try Self.run(DemoCollector(seed: 42), store: store, from: start, seconds: 600, policy: policy) { _, _, p in pending.append(p)
            }
            let before = try store.requests().count
            // The same seed again, ten minutes later (and again straight away), as a presenter restarting the demo would.
            for restartAt in [start.addingTimeInterval(1200), start.addingTimeInterval(1205)] {
                var filedInFirstMinute = 0
                try Self.run(DemoCollector(seed: 42), store: store, from: restartAt, seconds: 120, policy: policy) { now, _, p in
                    pending.append(p)
                    if now.timeIntervalSince(restartAt) <= 60 { filedInFirstMinute = try store.requests().count - before }
                }
                #expect(filedInFirstMinute > 0, "the restarted demo filed requests of its own")
            }
            #expect(pending.allSatisfy { (3...8).contains($0) }, "pending: \(Set(pending).sorted())")
        }
    }

    @Test("--demo-speed 4 lives four times as fast: a request every 15 s, still a handful waiting")
    func faster() async throws {
        let demo = DemoCollector(seed: 42, pace: DemoPace(speed: 4))
        let start = Self.start
        var keys = Set<String>()
        for k in 0...24 {
            let r = try await demo.collect(CollectContext(now: start.addingTimeInterval(Double(k) * 5), run: k))
            #expect((4...5).contains(r.requests.count))
            keys.formUnion(r.requests.map(\.key))
        }
        // 120 s at speed 4: the five waiting at the start and eight more.
        #expect((12...14).contains(keys.count), "\(keys.count) requests")
    }
}

enum TestDemoPolicy {
    /// The built-in demo's policy: requests lapse on the demo's clock.
    static var policy: AccessPolicy {
        var p = AccessPolicy()
        p.requestLapseSeconds = DemoPace().requestLapseSeconds
        return p
    }
}
