import Foundation
import Synchronization

@testable import Collectors
@testable import Inventory

let t0 = Date(timeIntervalSince1970: 1_800_000_000)

func entity(_ id: String, _ name: String = "e") -> Entity {
    Entity(id: id, population: .serviceAccount, kind: "test", name: name, lastSeen: t0)
}

/// Returns what it's told, counting its runs.
final class ScriptedCollector: Collector {
    enum Step: Sendable {
        case report([Entity])
        case fail(String)
        case hang
        case hangIgnoringCancellation
        case garbage
    }
    private let steps: Mutex<[Step]>
    let runs = Atomic<Int>(0)

    init(_ steps: [Step]) { self.steps = Mutex(steps) }

    func collect(_ context: CollectContext) async throws -> CollectorReport {
        runs.add(1, ordering: .relaxed)
        let step = steps.withLock { s in s.count > 1 ? s.removeFirst() : s[0] }
        switch step {
        case .report(let e): return CollectorReport(entities: e)
        case .fail(let why): throw CollectorError.failed(why)
        case .hang:
            try await Task.sleep(for: .seconds(3600))
            return CollectorReport(entities: [])
        case .hangIgnoringCancellation:
            // Never returns, and ignores cancellation: the runner must abandon it.
            await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
            return CollectorReport(entities: [])
        case .garbage:
            return CollectorReport(entities: [Entity(id: "", population: .agent, kind: "x", name: "")])
        }
    }
}

/// Numbers its reports, as the demo and file collectors do: answers `unchanged` while its slice stays the one the
/// runner holds, until `change()` or `fail()`.
final class RevisionCollector: Collector {
    private struct State {
        var revision: UInt64 = 1
        var entities: [Entity]
        var failing = false
    }
    private let state: Mutex<State>
    init(_ entities: [Entity]) { state = Mutex(State(entities: entities)) }

    func change(_ entities: [Entity]) {
        state.withLock {
            $0.entities = entities
            $0.revision += 1
        }
    }

    func fail(_ on: Bool) { state.withLock { $0.failing = on } }

    func collect(_ context: CollectContext) async throws -> CollectorReport {
        let s = state.withLock { $0 }
        if s.failing { throw CollectorError.failed("down") }
        if context.heldRevision == s.revision { return .unchanged(revision: s.revision) }
        return CollectorReport(entities: s.entities, revision: s.revision)
    }
}
