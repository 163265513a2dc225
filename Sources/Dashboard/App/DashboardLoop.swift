import Access
import Collectors
import Foundation
import Inventory
import Synchronization
import Terminal

/// Where the background world hands things to the UI thread: the latest snapshot and a stop request.
public final class Mailbox: Sendable {
    private let latest = Mutex<PreparedSnapshot?>(nil)
    private let latestAccess = Mutex<AccessView?>(nil)
    private let latestOrders = Mutex<[SortOrders]>([])
    private let latestHealth = Mutex<[CollectorHealth]?>(nil)

    func post(_ orders: SortOrders) { latestOrders.withLock { $0.append(orders) } }

    func takeOrders() -> [SortOrders] {
        latestOrders.withLock { o in
            defer { o = [] }
            return o
        }
    }
    private let stop = Atomic<Int32>(0)
    private let currentSorts = Mutex<[Panel: SortChoice]>([:])

    /// Each table's sort as the UI has it, so snapshots are prepared already in that order.
    public var sorts: [Panel: SortChoice] {
        get { currentSorts.withLock { $0 } }
        set { currentSorts.withLock { $0 = newValue } }
    }

    public init() {}

    /// Keeps only the newest snapshot: the UI never falls behind. It carries the newest health, so older health
    /// waiting is dropped.
    public func post(_ snapshot: PreparedSnapshot) {
        latestHealth.withLock { $0 = nil }
        latest.withLock { $0 = snapshot }
    }

    /// Newer collector health for the snapshot already posted (a run that reported no change).
    public func post(health: [CollectorHealth]) { latestHealth.withLock { $0 = health } }

    func takeHealth() -> [CollectorHealth]? {
        latestHealth.withLock { h in
            defer { h = nil }
            return h
        }
    }

    func take() -> PreparedSnapshot? {
        latest.withLock { s in
            defer { s = nil }
            return s
        }
    }

    /// The newest view of the access store.
    public func post(_ view: AccessView) { latestAccess.withLock { $0 = view } }

    public func takeAccess() -> AccessView? {
        latestAccess.withLock { s in
            defer { s = nil }
            return s
        }
    }

    /// Asks the loop to restore the terminal and stop (a signal number, or -1).
    public func requestStop(signal: Int32) { stop.store(signal == 0 ? -1 : signal, ordering: .relaxed) }

    public var stopSignal: Int32 { stop.load(ordering: .relaxed) }
}

/// The app loop. It owns the terminal and runs on one thread: read a key (with a timeout, so nothing spins),
/// take the newest snapshot, render, and draw only what changed.
public final class DashboardLoop {
    let app: App
    let terminal: any Terminal
    let mailbox: Mailbox
    let clock: () -> Date
    /// Milliseconds to wait for a key before looking at the mailbox again.
    public var keyTimeout = 100

    public init(app: App, terminal: any Terminal, mailbox: Mailbox, clock: @escaping () -> Date = Date.init) {
        self.app = app
        self.terminal = terminal
        self.mailbox = mailbox
        self.clock = clock
    }

    /// Runs until the user quits or a stop is requested; restores the terminal either way.
    public func run() {
        defer { terminal.shutdown() }
        var lastSecond = -1
        var dirty = true
        var fastFailures = 0
        var lastSorts = app.sortChoices
        mailbox.sorts = lastSorts
        while mailbox.stopSignal == 0, !app.quitRequested {
            if let s = mailbox.take() {
                app.receive(s)
                dirty = true
            }
            if let h = mailbox.takeHealth() {
                app.receive(health: h)
                dirty = true
            }
            if let a = mailbox.takeAccess() {
                app.receive(a)
                dirty = true
            }
            if app.receiveOutcomes() { dirty = true }
            for o in mailbox.takeOrders() { app.receive(o) }
            if let job = app.sortOrdersJob() {
                let mailbox = self.mailbox
                BlockingWork.start("trustgap-sort") { mailbox.post(job()) }
            }
            let now = clock()
            app.tick(now: now)
            let size = terminal.size
            if size != app.size {
                app.resize(width: size.width, height: size.height)
                dirty = true
            }
            let second = Int(now.timeIntervalSince1970)
            if second != lastSecond {
                lastSecond = second
                dirty = true
            }
            if app.wantsFullRedraw {
                terminal.invalidate()
                app.wantsFullRedraw = false
                dirty = true
            }
            if dirty {
                terminal.draw(app.render())
                dirty = false
            }
            let before = Date()
            // Until the first data arrives, look for it often: it is what the analyst is waiting to see.
            let timeout = app.state.snapshot.version == 0 ? min(keyTimeout, 10) : keyTimeout
            if let key = terminal.readKey(timeout: timeout) {
                app.handle(key)
                let sorts = app.sortChoices
                if sorts != lastSorts {
                    mailbox.sorts = sorts
                    lastSorts = sorts
                }
                dirty = true
                fastFailures = 0
            } else if Date().timeIntervalSince(before) < Double(timeout) / 4000 {
                // The read returned at once with nothing: the terminal has gone (a dropped SSH connection).
                fastFailures += 1
                if fastFailures > 50 { break }
            } else {
                fastFailures = 0
            }
        }
    }
}
