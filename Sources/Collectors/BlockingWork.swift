import Foundation
import Synchronization

/// Work that blocks a thread (reading files, walking home folders, `concurrentPerform`), run on a `Thread` of its
/// own so that it never holds a thread of Swift's cooperative pool: a hung NFS home or a huge file costs one thread
/// of ours, and every other task keeps running.
///
/// Not Dispatch's global queues: on Linux their workers and the cooperative pool draw on the same threads, and work
/// items blocked there starve it (measured on 2 cores: with 8 items blocked, no task runs).
public enum BlockingWork {
    /// Runs `body` on a new thread and returns its value. For work that ends by itself (building a snapshot): the
    /// caller waits for it, cancelled or not.
    public static func perform<T: Sendable>(_ name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            start(name) { c.resume(returning: body()) }
        }
    }

    /// Starts `body` on a new thread and returns at once.
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let t = Thread(block: body)
        t.name = name
        t.start()
    }
}

/// Tells blocking work that its caller has gone (the run timed out or was cancelled): it checks between files and
/// records, and stops at the next one.
public final class BlockingStop: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    public var isRequested: Bool { requested.load(ordering: .acquiring) }

    func request() { requested.store(true, ordering: .releasing) }

    /// Throws `CancellationError` once the caller has gone.
    public func check() throws(CancellationError) {
        if isRequested { throw CancellationError() }
    }
}

/// One collector's blocking work: each `run` on a thread of its own, returning to the caller as soon as its task is
/// cancelled (a timeout, shutdown) while the thread stops at its next `BlockingStop.check()`.
///
/// A thread blocked in the kernel (a read from a hung NFS server) can't be stopped; the lane counts such threads,
/// and while `cap` of them have not returned, a new run fails at once ("still stuck in a previous run") instead of
/// leaving one more thread behind.
public final class BlockingLane: Sendable {
    public let name: String
    public let cap: Int
    private struct State {
        var next = 0
        var outstanding: [Int: String] = [:]
    }
    private let state = Mutex(State())

    /// - Parameters:
    ///   - name: the threads' name (Linux shows its first 15 bytes).
    ///   - cap: how many threads may be out at once, the running one included.
    public init(_ name: String, cap: Int = 1) {
        self.name = name
        self.cap = max(1, cap)
    }

    /// How many of its threads have not returned yet.
    public var outstanding: Int { state.withLock { $0.outstanding.count } }

    /// Runs `body` on a thread of its own. `what` says what it does (`reading /etc/trustgap/x.jsonl`), for the error
    /// a later run reports while this one is stuck.
    public func run<T: Sendable>(_ what: String, _ body: @escaping @Sendable (BlockingStop) throws -> T) async throws -> T {
        try Task.checkCancellation()
        let id = try state.withLock { s throws(CollectorError) -> Int in
            if s.outstanding.count >= cap, let stuck = s.outstanding.sorted(by: { $0.key < $1.key }).first?.value {
                throw .failed("still stuck in a previous run: \(stuck) has not returned; not started again until it does")
            }
            s.next += 1
            s.outstanding[s.next] = what
            return s.next
        }
        let stop = BlockingStop()
        let race = TimeoutRace<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
                race.begin(c)
                BlockingWork.start(name) {
                    let result = Result { () throws -> T in
                        try stop.check()
                        return try body(stop)
                    }
                    // Counted out before the caller hears, so its next run finds the lane free.
                    _ = self.state.withLock { $0.outstanding.removeValue(forKey: id) }
                    race.finish(result)
                }
            }
        } onCancel: {
            stop.request()
            race.finish(.failure(CancellationError()))
        }
    }
}
