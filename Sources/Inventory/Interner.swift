import Foundation
import Synchronization

/// Shares the storage of values that many entities repeat — the same coverage set, the same list of sources, the
/// same owner — so that 100,000 entities owned by a few thousand people hold a few thousand owners, not 100,000
/// copies of their strings. Equal values are interchangeable, so this changes memory, never meaning.
///
/// Each table stops growing at `limit` entries (values past it are kept as they came), so a long-running
/// dashboard whose sources keep naming new owners can't grow it without bound.
final class Interner<Value: Hashable & Sendable>: Sendable {
    private let table = Mutex<[Value: Value]>([:])
    let limit: Int

    init(limit: Int = 1 << 16) { self.limit = limit }

    var count: Int { table.withLock { $0.count } }

    func intern(_ value: Value) -> Value {
        table.withLock { t in
            if let shared = t[value] { return shared }
            if t.count < limit { t[value] = value }
            return value
        }
    }
}

enum Shared {
    static let coverage = Interner<Set<Control>>()
    static let sources = Interner<[String]>()
    static let owners = Interner<Owner>()
}
