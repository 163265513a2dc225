import Foundation
import Inventory
import Logging
import Synchronization

/// One configured collector: what to run, how often, and how long to wait for it.
public struct CollectorSpec: Sendable {
    public var name: String
    public var type: String
    public var intervalSeconds: Double
    public var timeoutSeconds: Double
    public var collector: any Collector
    /// What `Intake` cuts text fields to.
    public var limits: Intake.Limits = Intake.Limits()

    public init(name: String, type: String, intervalSeconds: Double, timeoutSeconds: Double, collector: any Collector) {
        self.name = name
        self.type = type
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.collector = collector
    }
}

/// Runs each collector on its own interval with its own timeout, keeps each one's last good slice and its
/// health, and publishes a new `Snapshot` whenever any of them finishes with a new slice.
///
/// A collector that throws, hangs past its timeout or returns an invalid report keeps its last good slice,
/// marked stale; the others are never delayed by it. One that reports `unchanged` costs no rebuild: only its health
/// moves, in a snapshot of the same version (see `snapshots(health:)`), unless the snapshot is older than
/// `rebuildAfter` (the rules read the clock: a key ages past its limit while nothing is reported) or the collector
/// was not ok before (freshness counts in the gap figures).
public actor CollectorRunner {
    private let specs: [CollectorSpec]
    private let clock: any RunnerClock
    private let rules: RiskRules
    private let logger: Logger
    /// Per collector that has reported: its revision and requests. Its entities are the builder's (`SnapshotBuilder`).
    private var held: [String: (revision: UInt64?, requests: [RequestProposal])] = [:]
    private let builder = SnapshotBuilder()
    /// Collectors whose last report said more is to come: run again at once.
    private var loading: Set<String> = []
    private var health: [String: CollectorHealth] = [:]
    private var runs: [String: Int] = [:]
    private var running: Set<String> = []
    private var version = 0
    private var loops: [Task<Void, Never>] = []
    private var listeners: [UUID: (continuation: AsyncStream<Snapshot>.Continuation, health: Bool)] = [:]
    public private(set) var snapshot: Snapshot = .empty
    /// An unchanged report still rebuilds a snapshot older than this, so findings that depend on the time are redone.
    public let rebuildAfter: TimeInterval

    public init(
        specs: [CollectorSpec], clock: any RunnerClock = SystemRunnerClock(), rules: RiskRules = RiskRules(),
        logger: Logger = Logger(label: "trustgap.collectors"), rebuildAfter: TimeInterval = 600
    ) {
        self.specs = specs
        self.clock = clock
        self.rules = rules
        self.logger = logger
        self.rebuildAfter = rebuildAfter
        for s in specs {
            health[s.name] = CollectorHealth(name: s.name, type: s.type, intervalSeconds: s.intervalSeconds)
        }
    }

    /// The health of every collector, in config order.
    public var collectorHealth: [CollectorHealth] { specs.compactMap { health[$0.name] } }

    /// A stream of every snapshot published from now on. With `health`, also the health-only updates: the same
    /// version again, with newer `collectors` (a collector ran and reported no change). The newest is kept, and it
    /// always holds everything published before it.
    public func snapshots(health: Bool = false) -> AsyncStream<Snapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        listeners[id] = (continuation, health)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeListener(id) }
        }
        return stream
    }

    private func removeListener(_ id: UUID) { listeners[id] = nil }

    /// Runs every collector once, concurrently, and returns when all have finished or timed out (a slice that comes
    /// in parts, all of its parts). Each publishes its snapshot as soon as it finishes.
    public func runAllOnce() async {
        await withTaskGroup(of: Void.self) { group in
            for s in specs {
                group.addTask {
                    repeat { await self.runOnce(s.name) } while await self.isLoading(s.name)
                }
            }
        }
    }

    /// Runs one collector once, with its timeout, and publishes the result.
    public func runOnce(_ name: String) async {
        guard let spec = specs.first(where: { $0.name == name }), !running.contains(name) else { return }
        running.insert(name)
        defer { running.remove(name) }
        let started = clock.now()
        let context = CollectContext(now: started, run: runs[name, default: 0], source: name, heldRevision: held[name]?.revision)
        runs[name, default: 0] += 1
        let collector = spec.collector
        let result: Result<CollectorReport, any Error>
        do {
            var report = try await withTimeout(spec.timeoutSeconds, clock: clock) {
                try await collector.collect(context)
            }
            if report.isUnchanged {
                guard let held = held[name]?.revision, held == report.revision else {
                    throw CollectorError.invalidReport(
                        "it reported no change, but the slice held is not the one it numbered \(report.revision ?? 0)")
                }
            } else if let base = report.deltaBase, held[name]?.revision != base {
                let holding = held[name]?.revision.map { "the one numbered \($0)" } ?? "none"
                throw CollectorError.invalidReport(
                    "it reported changes since its report numbered \(base), but the slice held is \(holding)")
            } else if collector.admittedAlready {
                try report.validate()
            } else if !report.admitted {
                try Intake.admit(&report, source: name, limits: spec.limits)
            }
            result = .success(report)
        } catch {
            result = .failure(error)
        }
        let finished = clock.now()
        var update: SliceUpdate?
        var h = health[name]!
        let wasOK = h.state == .ok
        h.lastRun = started
        h.duration = finished.timeIntervalSince(started)
        switch result {
        case .success(let report) where report.isUnchanged:
            // The slice held stands: only the health moves, and nothing is rebuilt unless it must be.
            h.state = .ok
            h.lastSuccess = finished
            h.lastError = nil
            health[name] = h
            loading.remove(name)
            if wasOK, finished.timeIntervalSince(snapshot.assessedAt) < rebuildAfter {
                publishHealth()
                return
            }
        case .success(var report):
            // The source is recorded here, once per run, so the merge doesn't copy every entity to add it.
            let alone = [name] // one array shared by every entity only this collector reports
            for i in report.entities.indices where !report.entities[i].sources.contains(name) {
                if report.entities[i].sources.isEmpty {
                    report.entities[i].sources = alone
                } else {
                    report.entities[i].sources.append(name)
                }
            }
            for i in report.requests.indices { report.requests[i].source = name }
            held[name] = (report.revision, report.requests)
            if report.loading != nil { loading.insert(name) } else { loading.remove(name) }
            update = SliceUpdate(source: name, entities: report.entities, removed: report.isDelta ? report.removed : nil)
            h.state = .ok
            h.lastSuccess = finished
            h.loading = report.loading
            h.lastError = nil
            h.warnings = Array(report.warnings.prefix(100))
            if !report.warnings.isEmpty {
                logger.warning(
                    "collector reported problems",
                    metadata: ["collector": "\(name)", "count": "\(report.warnings.count)", "first": "\(report.warnings[0])"])
            }
        case .failure(let error):
            h.state = held[name] == nil ? .failed : .stale
            loading.remove(name)
            h.lastError = Self.describe(error)
            logger.error("collector failed", metadata: ["collector": "\(name)", "error": "\(h.lastError!)"])
        }
        health[name] = h
        await publish(now: finished, update: update)
    }

    /// Whether the collector's last report said more of its slice is to come.
    func isLoading(_ name: String) -> Bool { loading.contains(name) }

    static func describe(_ error: any Error) -> String {
        if let e = error as? CollectorError { return e.description }
        if error is CancellationError { return "cancelled" }
        return String(describing: error)
    }

    /// The snapshot as it was, with the collectors' newest health, to the listeners that asked for it.
    private func publishHealth() {
        snapshot = snapshot.replacingCollectors(collectorHealth)
        for l in listeners.values where l.health { l.continuation.yield(snapshot) }
    }

    /// Builds the snapshot on a thread of its own (the merge, the rules and the gap run on every core with
    /// `concurrentPerform`, which would otherwise hold this actor's pool thread while it waits), one build at a time,
    /// in version order: by difference from the last one where it can (`SnapshotBuilder`).
    private func publish(now: Date, update: SliceUpdate? = nil) async {
        version += 1
        let version = version
        var seen = Set<String>()
        let requests = specs.flatMap { held[$0.name]?.requests ?? [] }.filter { seen.insert($0.key).inserted }
        let (rules, collectors, order, builder, rebuildAfter) = (rules, collectorHealth, specs.map(\.name), builder, rebuildAfter)
        let previous = building
        let next = Task {
            await previous?.value
            let started = DispatchTime.now()
            let (built, counts) = await BlockingWork.perform("trustgap-snap") {
                builder.build(
                    version: version, now: now, update: update, order: order, rules: rules, collectors: collectors, requests: requests,
                    rebuildAfter: rebuildAfter)
            }
            self.apply(built, counts: counts, buildNanoseconds: DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds)
        }
        building = next
        await next.value
    }
    private var building: Task<Void, Never>?

    private func apply(_ built: Snapshot, counts: [String: Int], buildNanoseconds: UInt64) {
        guard built.version > snapshot.version else { return }
        for (name, n) in counts where health[name]?.entityCount != n { health[name]?.entityCount = n }
        snapshot = built.collectors == collectorHealth ? built : built.replacingCollectors(collectorHealth)
        let ms = Double(buildNanoseconds) / 1e6
        // The first inventory is what the analyst waits for at launch: say what it took.
        if !loggedFirst, !snapshot.entities.isEmpty {
            loggedFirst = true
            logger.info(
                "first inventory built",
                metadata: [
                    "entities": "\(snapshot.entities.count)", "build_ms": "\(Int(ms))",
                    "collect_ms": "\(collectorHealth.map { "\($0.name)=\(Int(($0.duration ?? 0) * 1000))" }.joined(separator: ","))",
                ])
        }
        for l in listeners.values { l.continuation.yield(snapshot) }
    }
    private var loggedFirst = false

    /// Starts a loop per collector: run, then sleep its interval, until `stop()`.
    public func start() {
        guard loops.isEmpty else { return }
        for s in specs {
            let name = s.name
            let interval = s.intervalSeconds
            let clock = self.clock
            loops.append(
                Task {
                    while !Task.isCancelled {
                        await self.runOnce(name)
                        if await self.isLoading(name) { continue } // the rest of a slice that comes in parts
                        do { try await clock.sleep(for: interval) } catch { return }
                    }
                })
        }
    }

    public func stop() {
        for l in loops { l.cancel() }
        loops.removeAll()
        for l in listeners.values { l.continuation.finish() }
        listeners.removeAll()
    }
}

/// Runs `operation` with a deadline. A collector that ignores cancellation is abandoned (cancelled, not awaited),
/// so a hang never holds the caller past the timeout.
func withTimeout<T: Sendable>(
    _ seconds: Double, clock: any RunnerClock, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = TimeoutRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            race.begin(c)
            let work = Task { @Sendable in
                do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
            }
            let timer = Task { @Sendable in
                do {
                    try await clock.sleep(for: seconds)
                    race.finish(.failure(CollectorError.timedOut(seconds: seconds)))
                } catch {}
            }
            race.track([work, timer])
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first of the work, the timer and cancellation to finish resumes the caller; the rest are cancelled.
final class TimeoutRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var pending: Result<T, any Error>?
        var tasks: [Task<Void, Never>] = []
        var done = false
    }
    private let state = Mutex(State())

    func begin(_ c: CheckedContinuation<T, any Error>) {
        let early = state.withLock { s -> Result<T, any Error>? in
            if s.done { return s.pending }
            s.continuation = c
            return nil
        }
        if let early { c.resume(with: early) }
    }

    func track(_ tasks: [Task<Void, Never>]) {
        let cancelNow = state.withLock { s -> Bool in
            s.tasks = tasks
            return s.done
        }
        if cancelNow { for t in tasks { t.cancel() } }
    }

    func finish(_ result: Result<T, any Error>) {
        let (c, tasks) = state.withLock { s -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard !s.done else { return (nil, []) }
            s.done = true
            let c = s.continuation
            s.continuation = nil
            if c == nil { s.pending = result }
            return (c, s.tasks)
        }
        for t in tasks { t.cancel() }
        c?.resume(with: result)
    }
}

/// One collector's new slice, or its change.
struct SliceUpdate: Sendable {
    var source: String
    var entities: [Entity]
    /// Nil for a whole slice; the ids removed for a delta (whose `entities` are the added and changed).
    var removed: [String]?
}

/// The collectors' slices and the last snapshot built from them, touched only by the runner's builds, one at a time,
/// in version order (on the snapshot thread). Each build works by difference from the last where it can: it knows
/// which ids a delta touched, or finds them by comparing a whole slice with the one it replaces.
final class SnapshotBuilder: Sendable {
    private struct State {
        var slices: [String: HeldSlice] = [:]
        var last: Snapshot = .empty
    }
    private let state = Mutex(State())
    /// Past this share of the inventory changed, a full build costs less than the difference.
    static let fullBuildShare = 0.25

    func build(
        version: Int, now: Date, update: SliceUpdate?, order: [String], rules: RiskRules, collectors: [CollectorHealth],
        requests: [RequestProposal], rebuildAfter: TimeInterval
    ) -> (Snapshot, [String: Int]) {
        state.withLock { s in
            var changed: [String] = []
            if let update {
                // Taken out while it changes, so it is changed in place rather than copied.
                if let removed = update.removed, var slice = s.slices.removeValue(forKey: update.source) {
                    changed = slice.apply(upserts: update.entities, removed: removed)
                    s.slices[update.source] = slice
                } else {
                    let slice = HeldSlice(source: update.source, entities: update.entities)
                    let before = s.slices[update.source]?.entities.count ?? 0
                    let others = s.slices.filter { $0.key != update.source }.reduce(0) { $0 + $1.value.entities.count }
                    if Double(abs(slice.entities.count - before)) > Double(others + slice.entities.count) * Self.fullBuildShare {
                        changed = slice.entities.map(\.id) // grown or shrunk by more than a full build's share: no need to compare
                    } else {
                        changed = s.slices[update.source]?.changedIDs(to: slice) ?? slice.entities.map(\.id)
                    }
                    s.slices[update.source] = slice
                }
            }
            let slices = order.compactMap { s.slices[$0] }
            let total = slices.reduce(0) { $0 + $1.entities.count }
            let snapshot: Snapshot
            if now.timeIntervalSince(s.last.assessedAt) < rebuildAfter, Double(changed.count) <= Double(total) * Self.fullBuildShare,
                let updated = Snapshot.update(
                    s.last, version: version, now: now, changed: changed, slices: slices, rules: rules, collectors: collectors,
                    requests: requests)
            {
                snapshot = updated
            } else {
                snapshot = Snapshot.build(
                    version: version, now: now, slices: slices.map { Merge.Slice(source: $0.source, entities: $0.entities) }, rules: rules,
                    collectors: collectors, requests: requests)
            }
            s.last = snapshot
            return (snapshot, s.slices.mapValues(\.entities.count))
        }
    }
}
