import Foundation
import Synchronization

/// The runner's source of time, injected so tests control it.
public protocol RunnerClock: Sendable {
    func now() -> Date
    /// Sleeps, throwing `CancellationError` when the task is cancelled.
    func sleep(for seconds: Double) async throws
}

/// Wall-clock time.
public struct SystemRunnerClock: RunnerClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for seconds: Double) async throws {
        try await Task.sleep(for: .milliseconds(Int64(max(0, seconds) * 1000)))
    }
}

/// A clock that moves only when told: `advance(by:)` wakes the sleepers whose time has come.
/// Ships with the library as the test double for everything scheduled by time.
public final class ManualClock: RunnerClock {
    struct Sleeper {
        let id: UInt64
        let deadline: Date
        let continuation: CheckedContinuation<Void, any Error>
    }
    struct State {
        var now: Date
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }
    private let state: Mutex<State>

    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = Mutex(State(now: start))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for seconds: Double) async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { s in
                    if Task.isCancelled { return true }
                    let deadline = s.now.addingTimeInterval(seconds)
                    if seconds <= 0 { return false }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: c))
                    return false
                }
                if resumeNow {
                    c.resume(throwing: CancellationError())
                } else if seconds <= 0 {
                    c.resume()
                }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has passed.
    public func advance(by seconds: Double) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = s.now.addingTimeInterval(seconds)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for s in due { s.continuation.resume() }
    }

    /// Waits until at least `count` tasks sleep on this clock, looking every millisecond of real time (a loop of
    /// `Task.yield()` would spin a thread of the cooperative pool, starving everything else in the process).
    public func waitForSleepers(_ count: Int) async {
        while sleeperCount < count { try? await Task.sleep(for: .milliseconds(1)) }
    }
}
