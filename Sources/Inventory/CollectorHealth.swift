import Foundation

/// How one collector is doing, as the runner last saw it.
public struct CollectorHealth: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Not run yet.
        case pending
        /// The last run succeeded.
        case ok
        /// The last run failed or timed out; the last good slice is still shown.
        case stale
        /// Never produced a good slice.
        case failed
    }

    public var name: String
    public var type: String
    public var state: State
    public var lastRun: Date?
    public var lastSuccess: Date?
    /// Seconds the last run took.
    public var duration: Double?
    public var entityCount: Int
    public var lastError: String?
    /// Problems that did not fail the run (bad records skipped, with file and line).
    public var warnings: [String]
    public var intervalSeconds: Double
    /// A slice that comes in parts, still arriving: how many entities are in and how many there will be.
    public var loading: Loading?

    public struct Loading: Sendable, Hashable, Codable {
        public var done: Int
        public var total: Int
        public init(done: Int, total: Int) {
            self.done = done
            self.total = total
        }
    }

    public init(
        name: String, type: String, state: State = .pending, lastRun: Date? = nil, lastSuccess: Date? = nil,
        duration: Double? = nil, entityCount: Int = 0, lastError: String? = nil, warnings: [String] = [],
        intervalSeconds: Double
    ) {
        self.name = name
        self.type = type
        self.state = state
        self.lastRun = lastRun
        self.lastSuccess = lastSuccess
        self.duration = duration
        self.entityCount = entityCount
        self.lastError = lastError
        self.warnings = warnings
        self.intervalSeconds = intervalSeconds
    }

    /// Whether its data is within its interval (full visibility).
    public func isFresh(at now: Date) -> Bool {
        guard let ok = lastSuccess else { return false }
        return state == .ok && now.timeIntervalSince(ok) <= intervalSeconds * 2 + 1
    }

    enum CodingKeys: String, CodingKey {
        case name, type, state, lastRun = "last_run", lastSuccess = "last_success", duration
        case entityCount = "entity_count", lastError = "last_error", warnings, intervalSeconds = "interval_seconds", loading
    }
}

/// An access request a source observed (the demo's agents asking for access, a ticket queue).
/// The `Access` module turns these into requests in its store.
public struct RequestProposal: Sendable, Hashable, Codable {
    /// Stable, so the same proposal is filed once.
    public var key: String
    public var subject: String
    public var scope: String
    public var requester: String
    public var reason: String
    public var ticket: String?
    public var ttlSeconds: Double
    public var createdAt: Date
    /// When the requester stops waiting (the source's own deadline); the earlier of this and the policy's lapse applies.
    public var lapsesAt: Date?
    /// The collector that reported it, as its runner names it (never what the collector says of itself).
    public var source: String? = nil

    public init(
        key: String, subject: String, scope: String, requester: String, reason: String, ticket: String? = nil, ttlSeconds: Double,
        createdAt: Date, lapsesAt: Date? = nil
    ) {
        self.key = key
        self.subject = subject
        self.scope = scope
        self.requester = requester
        self.reason = reason
        self.ticket = ticket
        self.ttlSeconds = ttlSeconds
        self.createdAt = createdAt
        self.lapsesAt = lapsesAt
    }

    enum CodingKeys: String, CodingKey {
        case key, subject, scope, requester, reason, ticket, ttlSeconds = "ttl_seconds", createdAt = "created_at", lapsesAt = "lapses_at"
        case source
    }
}
