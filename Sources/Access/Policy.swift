import Foundation
import Inventory
import TextSafety

/// The trust rules for one population (the seed's "separate human, NHI and agent trust rules").
public struct PopulationPolicy: Sendable, Equatable, Codable {
    /// The longest a grant may last.
    public var maxTTLSeconds: Double
    public var requireReason: Bool
    /// Approvals a request needs.
    public var approvals: Int
    /// Approvals an admin scope needs: the two-person rule.
    public var adminApprovals: Int
    /// Patterns (`*`, `?`, `[…]`, in the scope grammar) of scopes this population may never hold. A wildcard
    /// scope that could include one of them (`cloud:*` against `*admin`) is refused too.
    public var forbiddenScopes: [String]
    /// Requests for a subject nobody approved (shadow IT, shadow AI): flagged (the default), or refused.
    public var unapproved: UnapprovedRule?

    public enum UnapprovedRule: String, Sendable, Equatable, Codable {
        case flag, refuse
    }

    public init(
        maxTTLSeconds: Double, requireReason: Bool = true, approvals: Int = 1, adminApprovals: Int = 2, forbiddenScopes: [String] = []
    ) {
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
        case .agent: PopulationPolicy(maxTTLSeconds: 3600, forbiddenScopes: ["*admin", "*admin:*", "*admin/*", "[*]"])
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

    /// Admin scopes: a segment that is or ends in `admin` (`iam:admin`, `k8s:prod:cluster-admin`), and any wildcard,
    /// `*` above all, since it could be one.
    public static func isAdmin(_ scope: String) -> Bool { ScopeGrammar.isAdmin(scope) }

    /// Whether `scope` (its `*` a wildcard) could be a scope `pattern` matches, both in canonical form. A pattern that
    /// doesn't fit the grammar matches everything: policy fails closed.
    public static func matches(_ pattern: String, _ scope: String) -> Bool {
        guard let p = try? ScopePattern(pattern, as: .pattern) else { return true }
        guard let s = try? ScopePattern(scope, as: .scope) else { return true }
        return p.overlaps(s)
    }

    /// Whether a reason says something: not empty, and not only blanks or invisible characters.
    public static func saysSomething(_ reason: String) -> Bool {
        reason.unicodeScalars.contains { !UnsafeCharacters.contains($0) && !$0.properties.isWhitespace && $0.value != 0xFFFD }
    }

    public func approvalsNeeded(_ population: Population, scope: String) -> Int {
        let p = self[population]
        return max(1, Self.isAdmin(scope) ? max(p.adminApprovals, p.approvals) : p.approvals)
    }

    /// Checks a new request or a direct grant: scope, TTL and reason.
    public func checkRequest(population: Population, scope: String, ttlSeconds: Double, reason: String) throws(AccessError) {
        do { try ScopeGrammar.check(scope, as: .scope) } catch { throw .invalid(error.message) }
        guard ttlSeconds > 0 else { throw .invalid("the duration must be longer than zero") }
        try checkScope(population: population, scope: scope)
        try checkTTL(population: population, ttlSeconds: ttlSeconds)
        try checkReason(population: population, reason: reason)
    }

    /// Checks that the population may hold the scope at all: it fits the grammar and no forbidden pattern matches it.
    public func checkScope(population: Population, scope: String) throws(AccessError) {
        do { try ScopeGrammar.check(scope, as: .scope) } catch { throw .invalid(error.message) }
        if let pattern = self[population].forbiddenScopes.first(where: { Self.matches($0, scope) }) {
            throw .refused(
                rule: "forbidden_scopes", message: "\(population.title.lowercased()) may never hold \(scope) (matches \(pattern))")
        }
    }

    /// Refuses a request for a shadow subject when the population's policy says `unapproved: refuse`.
    public func checkUnapproved(_ subject: Subject) throws(AccessError) {
        guard subject.shadow, self[subject.population].unapproved == .refuse else { return }
        throw .refused(
            rule: "unapproved",
            message:
                "nobody approved \(subject.name) (shadow); \(subject.population.title.lowercased()) policy refuses its requests "
                + "until it is approved"
        )
    }

    public func checkTTL(population: Population, ttlSeconds: Double) throws(AccessError) {
        let max = self[population].maxTTLSeconds
        if ttlSeconds > max + 0.5 {
            throw .refused(
                rule: "max_ttl",
                message:
                    "\(population.title.lowercased()) may hold access for at most \(DurationText.format(max)); "
                    + "asked for \(DurationText.format(ttlSeconds))"
            )
        }
    }

    public func checkReason(population: Population, reason: String) throws(AccessError) {
        // Neither store could keep it as given (PostgreSQL refuses it in text), and it means nothing to a reader.
        if reason.unicodeScalars.contains("\0") { throw .invalid("the reason contains a NUL character (U+0000); remove it") }
        if self[population].requireReason, !Self.saysSomething(reason) {
            throw .refused(
                rule: "require_reason",
                message: "a reason is required for \(population.title.lowercased())"
                    + (reason.isEmpty ? "" : "; this one is only blank or invisible characters"))
        }
    }

    /// Checks one analyst's approval of a pending request: first its verdict (never the requester, never the subject's
    /// owner, never the same analyst twice, never a scope the population may not hold), then the TTL and reason.
    public func checkApproval(_ request: AccessRequest, by analyst: Analyst, ttlSeconds: Double, reason: String) throws(AccessError) {
        if let refusal = approvalVerdict(request, by: analyst).refusal { throw refusal }
        try checkRequest(population: request.population, scope: request.scope, ttlSeconds: ttlSeconds, reason: reason)
    }

    /// What `analyst` approving `request` comes to under this policy, before any TTL or reason is given: refused and
    /// why, or how many approvals it needs and whether this one grants. The store's `approve` checks exactly this
    /// (through `checkApproval`), so a dialog showing it before confirming says what the store will decide.
    /// `subjectOwner` is the owner recorded on the request unless given.
    public func approvalVerdict(_ request: AccessRequest, by analyst: Analyst, subjectOwner: Owner?? = nil) -> ApprovalVerdict {
        let owner = subjectOwner ?? request.subjectOwner
        var excluded = [ApprovalVerdict.Excluded(user: request.requesterClaim, why: .requester)]
        if let owner, !excluded.contains(where: { owner.isAnalyst($0.user) }) {
            excluded.append(.init(user: owner.name, why: .owner))
        }
        for a in request.approvals where !excluded.contains(where: { $0.user == a.analyst }) {
            excluded.append(.init(user: a.analyst, why: .approved))
        }
        var refusal: AccessError?
        do throws(AccessError) {
            if analyst.user == request.requesterClaim {
                throw .refused(rule: "no_self_approval", message: "\(analyst.user) asked for this access and can't approve it")
            }
            try Self.checkNotOwner(analyst, owner, subjectName: request.subjectName)
            if request.approvals.contains(where: { $0.analyst == analyst.user }) {
                throw .refused(
                    rule: "two_person", message: "\(analyst.user) already approved; another analyst must give the next approval")
            }
            try checkScope(population: request.population, scope: request.scope)
        } catch {
            refusal = error
        }
        return ApprovalVerdict(
            needed: approvalsNeeded(request.population, scope: request.scope), approvedBy: request.approvals.map(\.analyst),
            refusal: refusal, excluded: excluded)
    }

    /// The owner of a subject can't be the one who approves its access.
    public static func checkNotOwner(_ analyst: Analyst, _ owner: Owner?, subjectName: String) throws(AccessError) {
        guard let owner, owner.isAnalyst(analyst.user) else { return }
        throw .refused(
            rule: "no_owner_approval", message: "\(analyst.user) owns \(subjectName) and can't approve its access; another analyst must")
    }
}

extension Owner {
    /// Whether this owner is the analyst with login `user`: the owner's name, or the local part of the owner's email.
    public func isAnalyst(_ user: String) -> Bool {
        let u = user.lowercased()
        if name.lowercased() == u { return true }
        if let email, let at = email.firstIndex(of: "@"), email[..<at].lowercased() == u { return true }
        return false
    }
}

/// What an analyst's approval of a request comes to, by the policy alone (`AccessPolicy.approvalVerdict`).
public struct ApprovalVerdict: Sendable, Equatable {
    /// Someone whose approval the policy won't take for this request, and why.
    public struct Excluded: Sendable, Equatable {
        public enum Why: String, Sendable, Equatable {
            /// Asked for the access (`no_self_approval`).
            case requester
            /// Owns the subject (`no_owner_approval`).
            case owner
            /// Gave an approval already (`two_person`).
            case approved
        }
        public var user: String
        public var why: Why
    }

    /// Approvals the request needs in all.
    public var needed: Int
    /// Who approved it so far, in order.
    public var approvedBy: [String]
    /// Why this analyst's approval would be refused whatever the TTL and reason; nil when it may be given.
    public var refusal: AccessError?
    /// Whose approval is never taken: the requester, the subject's owner, those who approved already.
    public var excluded: [Excluded]

    /// Approvals still needed before this one.
    public var approvalsLeft: Int { max(0, needed - approvedBy.count) }
    /// Whether this analyst's approval, once given, grants the access: it may be given and is the last one needed.
    public var grants: Bool { refusal == nil && approvalsLeft <= 1 }
    /// The policy rule that refuses it, if any (`no_self_approval`, `no_owner_approval`, `two_person`, `forbidden_scopes`).
    public var rule: String? {
        if case .refused(let rule, _)? = refusal { return rule }
        return nil
    }
}
