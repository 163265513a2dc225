import Access
import AccessService
import Collectors
import Foundation
import Inventory

/// Everything a dashboard runs besides the UI thread's loop, started and stopped in one order: the collectors, the
/// preparation of each snapshot for the UI (off its thread), the access feed, and the signals that end it.
///
/// `trustgap` (the executable) only builds the pieces from the config and runs the loop; what happens between
/// them lives here, where tests can reach it.
public final class DashboardSession: Sendable {
    public let mailbox = Mailbox()
    public let runner: CollectorRunner
    public let access: AccessController?
    /// A first inventory at least this large is shown on the Overview from a quick preparation while the tables are
    /// prepared behind it, so data is on screen sooner.
    public let quickOverviewAt: Int
    private let tasks = Locked<[Task<Void, Never>]>([])
    private let signals = Locked<SignalWatcher?>(nil)

    public init(specs: [CollectorSpec], rules: RiskRules, access: AccessController?, quickOverviewAt: Int = 20_000) {
        runner = CollectorRunner(specs: specs, rules: rules)
        self.access = access
        self.quickOverviewAt = quickOverviewAt
    }

    /// Starts the feeds and the collectors; with `watchSignals`, SIGTERM, SIGHUP and SIGINT become a stop request in
    /// the mailbox, so the UI thread restores the terminal before the process ends.
    public func start(watchSignals: Bool = true) async {
        let stream = await runner.snapshots(health: true)
        let accessStream = await runner.snapshots()
        let mailbox = mailbox
        let quick = quickOverviewAt
        // Snapshots are prepared for the UI here, off its thread: indexes, change marks, default orders, filter text.
        // On a thread of their own, since `concurrentPerform` would hold a pool thread while it waits.
        let feed = Task {
            var previous: PreparedSnapshot?
            for await s in stream {
                // The same version again: a collector ran and changed nothing. Only its health moves.
                if let previous, s.version == previous.snapshot.version {
                    mailbox.post(health: s.collectors)
                    continue
                }
                let (last, sorts) = (previous, mailbox.sorts)
                previous = await BlockingWork.perform("trustgap-prepare") {
                    // The first one is shown on the Overview at once; its tables follow from the full preparation. So is
                    // the whole after a first part (`CollectorReport.loading`).
                    let first = last == nil || last!.snapshot.collectors.contains { $0.loading != nil }
                    if first, s.entities.count >= quick, s.change == nil { mailbox.post(PreparedSnapshot.overview(s)) }
                    // By difference from the last when the snapshot was updated from it; else in full.
                    let prepared =
                        last.flatMap { PreparedSnapshot.update($0, to: s, now: Date(), sorts: sorts) }
                        ?? PreparedSnapshot.prepare(s, previous: last?.snapshot, now: Date(), sorts: sorts)
                    mailbox.post(prepared)
                    return prepared
                }
            }
        }
        let access = access
        let accessFeed = Task { if let access { await access.runFeed(mailbox: mailbox, snapshots: accessStream) } }
        tasks.withLock { $0 = [feed, accessFeed] }
        if watchSignals { signals.withLock { $0 = SignalWatcher(mailbox: mailbox) } }
        await runner.start()
    }

    /// Stops in the reverse order: signals, then the feeds, then the collectors.
    public func stop() async {
        signals.withLock { w in
            w?.cancel()
            w = nil
        }
        for t in tasks.withLock({ t in
            defer { t = [] }
            return t
        }) { t.cancel() }
        await runner.stop()
    }
}

/// Turns SIGTERM, SIGHUP (a dropped SSH connection) and SIGINT into a stop request, so the UI thread restores
/// the terminal before the process ends.
public final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    public init(mailbox: Mailbox) {
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGHUP, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { mailbox.requestStop(signal: sig) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    public func cancel() { for s in sources { s.cancel() } }
}
