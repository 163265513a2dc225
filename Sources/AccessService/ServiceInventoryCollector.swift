import Collectors
import Foundation
import Inventory

/// The inventory of a dashboard attached to the access service: the service's own, so every analyst sees the same
/// entities. It reads them over the socket on a thread of its own (never the cooperative pool), and only when the
/// service's inventory has a new version.
public final class ServiceInventoryCollector: Collector, @unchecked Sendable {
    /// The service admitted these entities when its collectors reported them.
    public var admittedAlready: Bool { true }
    let socket: String
    private let lock = NSLock()
    private var version: Int?
    private var entities: [Entity] = []

    public init(socket: String) { self.socket = socket }

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        let since = lock.withLock { version }
        let socket = socket
        let result: Result<WireResult, WireError> = await withCheckedContinuation { done in
            let t = Thread {
                do {
                    let c = try AccessClient(socketPath: socket)
                    done.resume(returning: .success(try c.call(WireRequest(op: "inventory", since: since))))
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
            return lock.withLock {
                if let fresh = r.entities {
                    entities = fresh
                    version = r.version
                }
                // The service's inventory version numbers the slice: the same one again rebuilds nothing here.
                let revision = version.map { UInt64(bitPattern: Int64($0)) }
                if let revision, context.heldRevision == revision { return .unchanged(revision: revision) }
                return CollectorReport(entities: entities, revision: revision)
            }
        }
    }
}
