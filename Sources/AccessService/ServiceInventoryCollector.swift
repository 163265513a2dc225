import Collectors
import Foundation
import Inventory

/// The inventory of a dashboard attached to the access service: the service's own, so every analyst sees the same
/// entities. It reads them over the socket on a thread of its own (never the cooperative pool), and only when the
/// service's inventory has a new version; then only what changed since the version it holds, when the service still
/// knows (a delta the runner applies by difference), else the whole.
public final class ServiceInventoryCollector: Collector, @unchecked Sendable {
    /// The service admitted these entities when its collectors reported them.
    public var admittedAlready: Bool { true }
    let socket: String
    private let lock = NSLock()
    private var version: Int?
    private var slice: HeldSlice?

    public init(socket: String) { self.socket = socket }

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        let since = lock.withLock { version }
        let socket = socket
        let result: Result<WireResult, WireError> = await withCheckedContinuation { done in
            let t = Thread {
                do {
                    let c = try AccessClient(socketPath: socket)
                    done.resume(returning: .success(try c.call(WireRequest(op: "inventory", since: since, deltas: true))))
                } catch {
                    done.resume(returning: .failure(error as? WireError ?? WireError(code: "unavailable", message: "\(error)", exit: 1)))
                }
            }
            t.name = "trustgap-inventory"
            t.start()
        }
        switch result {
        case .failure(let e): throw CollectorError.failed(e.message)
        case .success(let r):
            return try lock.withLock {
                // The service's inventory version numbers the slice: the same one again rebuilds nothing here.
                func revision(_ v: Int?) -> UInt64? { v.map { UInt64(bitPattern: Int64($0)) } }
                var delta: (base: UInt64, upserts: [Entity], removed: [String])?
                if let fresh = r.entities {
                    if let base = r.deltaSince {
                        guard base == version, var held = slice else {
                            throw CollectorError.invalidReport("the service sent changes since a version this dashboard doesn't hold")
                        }
                        slice = nil // changed in place, not copied
                        _ = held.apply(upserts: fresh, removed: r.removed ?? [])
                        slice = held
                        if let b = revision(base) { delta = (b, fresh, r.removed ?? []) }
                    } else {
                        slice = HeldSlice(source: context.source, entities: fresh)
                    }
                    version = r.version
                }
                let current = revision(version)
                if let current, context.heldRevision == current { return .unchanged(revision: current) }
                if let delta, let current, context.heldRevision == delta.base {
                    return .delta(since: delta.base, revision: current, upserts: delta.upserts, removed: delta.removed)
                }
                return CollectorReport(entities: slice?.entities ?? [], revision: current)
            }
        }
    }
}
