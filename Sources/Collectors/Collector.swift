import Foundation
import Inventory

/// A source of entities: the demo organisation, a file, a program, a cloud export.
///
/// Requirements of every conformer (checked by the shared conformance test):
/// - `collect(_:)` returns the collector's **whole** slice; the runner replaces the previous slice with it, and works
///   out what changed by comparing the two (the cost of a refresh follows what changed, not the size).
///   A collector that knows nothing changed since the report the runner holds (`CollectContext.heldRevision` is its
///   current `CollectorReport.revision`) may return `CollectorReport.unchanged(revision:)` instead: the runner keeps
///   the slice, updates only the collector's health and publishes no new snapshot. One that knows what changed since
///   that report may return `CollectorReport.delta(...)`: the entities added or changed and the ids removed.
/// - A large first slice may come in parts (`CollectorReport.loading`): the runner publishes each part and asks for the
///   next at once, so the first entities are on screen while the rest are made.
/// - It is `Sendable`. The runner never runs one collector concurrently with itself, but runs different
///   collectors at the same time.
/// - It honours cancellation: when its task is cancelled (a timeout, shutdown) it stops promptly and throws
///   `CancellationError`. One that doesn't is abandoned by the runner, which moves on regardless.
/// - It never blocks the cooperative pool: file reads, folder walks and `concurrentPerform` run on a `BlockingLane`,
///   checking its `BlockingStop` between files and records, and keeping nothing once it says stop.
/// - It reports failure by throwing. Problems with single records (a bad line in a file) are skipped and
///   reported as `warnings` naming where they are, so one bad record does not lose the rest.
/// - It never returns or logs a secret: credentials carry fingerprints only.
/// - It does no terminal I/O.
public protocol Collector: Sendable {
    func collect(_ context: CollectContext) async throws -> CollectorReport
    /// Whether its entities are already safe to hold (the built-in demo; the access service's inventory, admitted
    /// there), so they skip `Intake`. Anything reading the outside world says no.
    var admittedAlready: Bool { get }
}

extension Collector {
    public var admittedAlready: Bool { false }
}

/// What the runner tells a collector about this run.
public struct CollectContext: Sendable {
    /// The time of this run, from the runner's clock.
    public var now: Date
    /// How many runs came before this one (0 on the first).
    public var run: Int
    /// The collector's name in the config: the source the merge records on each entity. A collector that keeps
    /// its entities between runs may record it itself, so the runner and the merge never copy them to add it.
    public var source: String
    /// The `revision` of the report the runner holds for this collector (nil: none held, or the collector doesn't
    /// number its reports). A collector may answer `.unchanged(revision:)` only when its slice is still this one.
    public var heldRevision: UInt64?

    public init(now: Date, run: Int, source: String = "", heldRevision: UInt64? = nil) {
        self.now = now
        self.run = run
        self.source = source
        self.heldRevision = heldRevision
    }
}

/// One collector's result: its slice of the inventory.
public struct CollectorReport: Sendable {
    public var entities: [Entity]
    /// Access requests the source observed.
    public var requests: [RequestProposal]
    /// Records skipped, with where they were.
    public var warnings: [String]
    /// Already through `Intake` (a file collector's cached report is admitted once, not on every run).
    public var admitted = false
    /// The collector's own number for this slice, bumped whenever its entities or requests change (nil: not numbered).
    /// The runner hands it back as `CollectContext.heldRevision`.
    public var revision: UInt64?
    /// True for `unchanged(revision:)`: the slice the runner holds still stands; `entities` and `requests` are empty.
    public private(set) var isUnchanged = false
    /// For `delta(...)`: the revision of the slice it applies to (the runner's `heldRevision`). `entities` are then the
    /// entities added or changed, `removed` the ids that are gone, and `requests` all of the source's requests.
    public private(set) var deltaBase: UInt64?
    public private(set) var removed: [String] = []
    /// More of the slice is still to come: what is reported so far and how much there will be. The runner asks for
    /// the rest at once instead of after the interval.
    public var loading: Loading?
    /// The same progress the collector's health shows while the parts arrive.
    public typealias Loading = CollectorHealth.Loading

    public var isDelta: Bool { deltaBase != nil }

    public init(entities: [Entity], requests: [RequestProposal] = [], warnings: [String] = [], revision: UInt64? = nil) {
        self.entities = entities
        self.requests = requests
        self.warnings = warnings
        self.revision = revision
    }

    /// "Nothing changed since the report numbered `revision`": the runner keeps that slice and rebuilds nothing.
    public static func unchanged(revision: UInt64) -> CollectorReport {
        var r = CollectorReport(entities: [], revision: revision)
        r.isUnchanged = true
        return r
    }

    /// "Since the report numbered `base`, these entities were added or changed and these ids removed."
    public static func delta(
        since base: UInt64, revision: UInt64, upserts: [Entity], removed: [String], requests: [RequestProposal] = [],
        warnings: [String] = []
    ) -> CollectorReport {
        var r = CollectorReport(entities: upserts, requests: requests, warnings: warnings, revision: revision)
        r.deltaBase = base
        r.removed = removed
        return r
    }
}

public enum CollectorError: Error, CustomStringConvertible, Equatable {
    case timedOut(seconds: Double)
    case invalidReport(String)
    case failed(String)

    public var description: String {
        switch self {
        case .timedOut(let s): "timed out after \(DurationText.format(s))"
        case .invalidReport(let why): "returned an invalid report: \(why)"
        case .failed(let why): why
        }
    }
}

extension CollectorReport {
    /// The contract a report must meet to replace a good slice: ids and names present and of sane size.
    func validate() throws(CollectorError) {
        for (i, e) in entities.enumerated() {
            if let problem = e.validationProblem {
                throw .invalidReport("entity #\(i + 1)\(e.id.isEmpty ? "" : " (\(e.id.prefix(80)))"): \(problem)")
            }
        }
    }
}
