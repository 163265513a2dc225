import Foundation
import Inventory

/// Where an access request is in its life.
public enum RequestState: String, Codable, Sendable, CaseIterable {
    case pending, approved, denied, cancelled
    /// Nobody decided before the request's deadline.
    case lapsed
}

/// Where a grant is in its life. Extending keeps it `active` under a new expiry.
public enum GrantState: String, Codable, Sendable, CaseIterable {
    case active, expired, revoked
}

/// Whether the real-world effect (the actuator hook) has happened.
public enum ActuationState: String, Codable, Sendable {
    /// No hook is configured for the event.
    case notConfigured = "not_configured"
    /// Decided, hook not run yet (or the process stopped before it finished): the sweeper runs it.
    case pending
    case ok
    /// The hook failed or timed out: shown on screen and retried by the sweeper.
    case failed = "actuation_failed"
}

/// One analyst's approval of a request.
public struct Approval: Codable, Sendable, Hashable {
    public var analyst: String
    public var at: Date
    public var reason: String
}

/// Someone asking for time-bound access for an entity.
public struct AccessRequest: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var subject: String
    public var subjectName: String
    public var population: Population
    public var scope: String
    /// Who asked: a login the kernel named, or a name a source reported, marked `NAME (reported)` (a collector's
    /// requester, the owner a demo agent says runs it).
    public var requester: String
    public var reason: String
    public var ticket: String?
    public var ttlSeconds: Double
    public var createdAt: Date
    /// When it lapses if nobody decides.
    public var lapsesAt: Date
    public var state: RequestState
    public var approvals: [Approval]
    public var decidedBy: String?
    public var decidedAt: Date?
    public var decisionReason: String?
    public var grantID: String?
    /// The source's key for a request a collector observed, so it is filed once.
    public var sourceKey: String?
    /// Who the inventory said owned the subject when the request was filed: they can't approve it.
    public var subjectOwner: Owner? = nil
    /// How it was asked: `mcp:AGENT` when the agent asked through the gateway (the requester runs the agent).
    public var via: String? = nil

    /// What was risky about the subject when it was filed (`shadow agent`, `2 critical findings`, `risk 87`).
    public var flags: [String] = []

    /// Whether an agent asked for this itself, through the gateway.
    public var askedByAgent: Bool { via?.hasPrefix("mcp:") == true }

    enum CodingKeys: String, CodingKey {
        case via, flags
        case id, subject, subjectName = "subject_name", population, scope, requester, reason, ticket
        case ttlSeconds = "ttl_seconds", createdAt = "created_at", lapsesAt = "lapses_at", state, approvals
        case decidedBy = "decided_by", decidedAt = "decided_at", decisionReason = "decision_reason"
        case grantID = "grant_id", sourceKey = "source_key", subjectOwner = "subject_owner"
    }
}

/// Time-bound access held by an entity.
public struct Grant: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var requestID: String?
    public var subject: String
    public var subjectName: String
    public var population: Population
    public var scope: String
    public var approvers: [String]
    public var reason: String
    public var startsAt: Date
    public var expiresAt: Date
    public var state: GrantState
    public var endedBy: String?
    public var endedAt: Date?
    public var endReason: String?
    public var actuation: ActuationState
    /// The hook's exit status and first lines of output, or why it failed.
    public var actuationDetail: String?
    public var actuationAttempts: Int
    /// The event whose hook is owed (approve, extend, revoke, expire) while actuation is pending or failed.
    public var actuationEvent: String?
    /// Who owned the subject when access was granted: they can't approve its extension.
    public var subjectOwner: Owner? = nil
    /// The TTL first asked for: the request's, or a direct grant's own. Extensions propose it again. Nil for grants made
    /// before trustgap recorded it (a direct grant from before store migration v8).
    public var askedTTLSeconds: Double? = nil

    /// Seconds left, never negative.
    public func remaining(at now: Date) -> Double { max(0, expiresAt.timeIntervalSince(now)) }

    enum CodingKeys: String, CodingKey {
        case id, requestID = "request_id", subject, subjectName = "subject_name", population, scope, approvers, reason
        case startsAt = "starts_at", expiresAt = "expires_at", state, endedBy = "ended_by", endedAt = "ended_at"
        case endReason = "end_reason", actuation, actuationDetail = "actuation_detail"
        case actuationAttempts = "actuation_attempts", actuationEvent = "actuation_event", subjectOwner = "subject_owner"
        case askedTTLSeconds = "asked_ttl_seconds"
    }
}

/// Everything that can go wrong with an access action, each with the exit code the CLI documents.
public enum AccessError: Error, CustomStringConvertible, Equatable {
    /// Bad input: a malformed duration, a missing reason field. Exit 2.
    case invalid(String)
    /// Policy said no; `rule` names the rule (max_ttl, require_reason, no_self_approval, forbidden_scopes…). Exit 3.
    case refused(rule: String, message: String)
    /// Read-only mode refuses every change. Exit 3.
    case readonly
    /// Someone else decided first, or the state is not what the action needs. Exit 4.
    case conflict(String)
    /// No such request, grant or subject. Exit 5.
    case notFound(String)
    /// The store is locked, full, read-only or unreadable; nothing acknowledged was lost. Exit 1.
    case store(String)

    public var description: String {
        switch self {
        case .invalid(let m): m
        case .refused(let rule, let m): "refused by policy (\(rule)): \(m)"
        case .readonly: "read-only mode: actions that change access are turned off"
        case .conflict(let m), .notFound(let m), .store(let m): m
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .store: 1
        case .invalid: 2
        case .refused, .readonly: 3
        case .conflict: 4
        case .notFound: 5
        }
    }
}

extension AccessRequest {
    /// Whether the requester is only a name a source reported, not a login.
    public var requesterReported: Bool { requester.hasSuffix(Analyst.reportedMark) }
    /// The person the requester names: the login, or the reported name without its mark. Used only to restrict (that
    /// person may not approve or extend it), never to allow (cancelling, collecting a credential need the exact
    /// requester, which no login can be).
    public var requesterClaim: String {
        requesterReported ? String(requester.dropLast(Analyst.reportedMark.count)) : requester
    }
}
