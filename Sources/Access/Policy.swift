import Foundation
import Inventory

/// The trust rules for one population (the seed's "separate human, NHI and agent trust rules").
public struct PopulationPolicy: Sendable, Equatable, Codable {
    /// The longest a grant may last.
    public var maxTTLSeconds: Double
    public var requireReason: Bool
    /// Approvals a request needs.
    public var approvals: Int
    /// Approvals an admin scope needs: the two-person rule.
    public var adminApprovals: Int
    /// Glob patterns (`*`, `?`) of scopes this population may never hold.
    public var forbiddenScopes: [String]

    public init(maxTTLSeconds: Double, requireReason: Bool = true, approvals: Int = 1, adminApprovals: Int = 2, forbiddenScopes: [String] = []) {
        self.maxTTLSeconds = maxTTLSeconds
        self.requireReason = requireReason
        self.approvals = approvals
        self.adminApprovals = adminApprovals
        self.forbiddenScopes = forbiddenScopes
    }

    /// Defaults when the config is silent: agents 1h and never admin, service accounts 8h, devices and apps 24h;
    /// a reason always; admin scopes need two approvals.
    public static func defaults(for p: Population) -> PopulationPolicy {
        switch p {
        case .agent: PopulationPolicy(maxTTLSeconds: 3600, forbiddenScopes: ["*admin", "*admin:*", "[*]"])
        case .serviceAccount: PopulationPolicy(maxTTLSeconds: 8 * 3600)
        case .device, .app: PopulationPolicy(maxTTLSeconds: 24 * 3600)
        }
    }
}

/// Policy for every population, enforced here so the dashboard and the CLI get the same answer.
public struct AccessPolicy: Sendable, Equatable, Codable {
    public var populations: [Population: PopulationPolicy]
    /// How long a request waits for a decision before it lapses.
    public var requestLapseSeconds: Double

    public init(populations: [Population: PopulationPolicy] = [:], requestLapseSeconds: Double = 24 * 3600) {
        var all = populations
        for p in Population.allCases where all[p] == nil { all[p] = .defaults(for: p) }
        self.populations = all
        self.requestLapseSeconds = requestLapseSeconds
    }

    public subscript(p: Population) -> PopulationPolicy { populations[p] ?? .defaults(for: p) }

    /// Admin scopes: `admin`, `…:admin`, `…:admin:…`, and the all-powerful `*`.
    public static func isAdmin(_ scope: String) -> Bool {
        let parts = scope.lowercased().split(separator: ":")
        return scope == "*" || parts.contains { $0 == "admin" || $0.hasSuffix("admin") }
    }

    /// Shell-style glob matching of a scope against a pattern.
    public static func matches(_ pattern: String, _ scope: String) -> Bool {
        fnmatch(pattern.lowercased(), scope.lowercased(), 0) == 0
    }

    public func approvalsNeeded(_ population: Population, scope: String) -> Int {
        let p = self[population]
        return max(1, Self.isAdmin(scope) ? max(p.adminApprovals, p.approvals) : p.approvals)
    }

    /// Checks a new request or a direct grant: scope, TTL and reason.
    public func checkRequest(population: Population, scope: String, ttlSeconds: Double, reason: String) throws(AccessError) {
        let p = self[population]
        guard !scope.trimmingCharacters(in: .whitespaces).isEmpty else { throw .invalid("the scope is empty") }
        guard ttlSeconds > 0 else { throw .invalid("the duration must be longer than zero") }
        if let pattern = p.forbiddenScopes.first(where: { Self.matches($0, scope) }) {
            throw .refused(rule: "forbidden_scopes", message: "\(population.title.lowercased()) may never hold \(scope) (matches \(pattern))")
        }
        try checkTTL(population: population, ttlSeconds: ttlSeconds)
        try checkReason(population: population, reason: reason)
    }

    public func checkTTL(population: Population, ttlSeconds: Double) throws(AccessError) {
        let max = self[population].maxTTLSeconds
        if ttlSeconds > max + 0.5 {
            throw .refused(rule: "max_ttl", message: "\(population.title.lowercased()) may hold access for at most \(DurationText.format(max)); asked for \(DurationText.format(ttlSeconds))")
        }
    }

    public func checkReason(population: Population, reason: String) throws(AccessError) {
        if self[population].requireReason, reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw .refused(rule: "require_reason", message: "a reason is required for \(population.title.lowercased())")
        }
    }

    /// Checks one analyst's approval of a pending request.
    public func checkApproval(_ request: AccessRequest, by analyst: Analyst, ttlSeconds: Double, reason: String) throws(AccessError) {
        if analyst.user == request.requester {
            throw .refused(rule: "no_self_approval", message: "\(analyst.user) asked for this access and can't approve it")
        }
        if request.approvals.contains(where: { $0.analyst == analyst.user }) {
            throw .refused(rule: "two_person", message: "\(analyst.user) already approved; another analyst must give the next approval")
        }
        try checkRequest(population: request.population, scope: request.scope, ttlSeconds: ttlSeconds, reason: reason)
    }
}
