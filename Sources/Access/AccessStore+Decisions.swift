import Foundation
import Inventory

/// The subject of a request, as the inventory knows it.
public struct Subject: Sendable, Hashable {
    public var id: String
    public var name: String
    public var population: Population
    /// Who the inventory says owns it: they can't approve its access.
    public var owner: Owner?

    public init(id: String, name: String, population: Population, owner: Owner? = nil) {
        self.id = id
        self.name = name
        self.population = population
        self.owner = owner
    }

    /// What the person deciding should know about it: shadow (nobody approved it), critical findings, exposed
    /// secrets, a departed owner. Recorded with each request, so everyone deciding sees the same.
    public var flags: [String] = []
    /// Nobody approved it (shadow IT, shadow AI).
    public var shadow = false

    /// The subject an inventory entity is.
    public init(_ e: Entity) { self.init(id: e.id, name: e.name, population: e.population, owner: e.owner) }

    /// The subject an assessed entity is, with what is risky about it.
    public init(_ a: AssessedEntity) {
        self.init(a.entity)
        shadow = a.entity.signals.sanctioned == false
        if shadow { flags.append(a.entity.population == .agent ? "shadow agent" : "shadow") }
        let critical = a.findings.filter { $0.severity == .critical }.count
        if critical > 0 { flags.append("\(critical) critical finding\(critical == 1 ? "" : "s")") }
        let exposed = a.entity.credentials.filter { !$0.exposures.isEmpty }.count
        if exposed > 0 { flags.append("\(exposed) exposed secret\(exposed == 1 ? "" : "s")") }
        if let o = a.entity.owner, o.status == .departed { flags.append("owner \(o.name) left") }
        if a.entity.owner == nil, a.entity.population != .device { flags.append("no owner") }
        flags.append("risk \(a.risk)")
    }
}

/// What an extension did: moved the expiry, or recorded one of the approvals a two-person rule needs.
public enum ExtensionOutcome: Sendable, Equatable {
    case extended(Grant)
    case recorded(approvalsLeft: Int)
}

/// What an approval did: granted access, or recorded one of several approvals a two-person rule needs.
public enum ApprovalOutcome: Sendable, Equatable {
    case granted(Grant)
    case recorded(approvalsLeft: Int)
}

/// Which hook events are configured, so a decision knows whether it owes a real-world effect.
public struct HookEvents: Sendable, Equatable {
    public var configured: Set<String>
    public init(_ configured: Set<String> = []) { self.configured = configured }
    func actuation(for event: String) -> ActuationState { configured.contains(event) ? .pending : .notConfigured }
}

extension AccessStore {
    // MARK: Reading

    static func request(_ row: StoreRow, approvals: [Approval]) -> AccessRequest {
        AccessRequest(
            id: row["id"], subject: row["subject"], subjectName: row["subject_name"],
            population: Population(rawValue: row["population"]) ?? .agent, scope: row["scope"], requester: row["requester"],
            reason: row["reason"], ticket: row["ticket"], ttlSeconds: row["ttl_seconds"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), lapsesAt: Date(timeIntervalSince1970: row["lapses_at"]),
            state: RequestState(rawValue: row["state"]) ?? .pending, approvals: approvals, decidedBy: row["decided_by"],
            decidedAt: (row["decided_at"] as Double?).map(Date.init(timeIntervalSince1970:)), decisionReason: row["decision_reason"],
            grantID: row["grant_id"], sourceKey: row["source_key"], subjectOwner: owner(row["subject_owner"]), via: row["via"],
            flags: (row["flags"] as String?).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? [])
    }

    static func owner(_ json: String?) -> Owner? {
        json.flatMap { try? JSONDecoder().decode(Owner.self, from: Data($0.utf8)) }
    }

    static func ownerJSON(_ o: Owner?) -> String? {
        o.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    static func grant(_ row: StoreRow) -> Grant {
        let approvers = (try? JSONDecoder().decode([String].self, from: Data((row["approvers"] as String).utf8))) ?? []
        return Grant(
            id: row["id"], requestID: row["request_id"], subject: row["subject"], subjectName: row["subject_name"],
            population: Population(rawValue: row["population"]) ?? .agent, scope: row["scope"], approvers: approvers,
            reason: row["reason"], startsAt: Date(timeIntervalSince1970: row["starts_at"]),
            expiresAt: Date(timeIntervalSince1970: row["expires_at"]), state: GrantState(rawValue: row["state"]) ?? .active,
            endedBy: row["ended_by"], endedAt: (row["ended_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            endReason: row["end_reason"], actuation: ActuationState(rawValue: row["actuation"]) ?? .notConfigured,
            actuationDetail: row["actuation_detail"], actuationAttempts: row["actuation_attempts"], actuationEvent: row["actuation_event"],
            subjectOwner: owner(row["subject_owner"]), askedTTLSeconds: row["asked_ttl_seconds"])
    }

    static func loadRequest(_ db: any StoreConnection, _ id: String) throws -> AccessRequest? {
        guard let row = try db.row("SELECT * FROM requests WHERE id = ?", [id]) else { return nil }
        let approvals = try db.rows("SELECT * FROM approvals WHERE request_id = ? ORDER BY at", [id]).map {
            Approval(analyst: $0["analyst"], at: Date(timeIntervalSince1970: $0["at"]), reason: $0["reason"])
        }
        return request(row, approvals: approvals)
    }

    static func loadGrant(_ db: any StoreConnection, _ id: String) throws -> Grant? {
        try db.row("SELECT * FROM grants WHERE id = ?", [id]).map(grant)
    }

    /// Requests, oldest first; all of them, or those in one state.
    public func requests(state: RequestState? = nil) throws(AccessError) -> [AccessRequest] {
        try read { db in
            let rows =
                state == nil
                ? try db.rows("SELECT * FROM requests ORDER BY created_at, id")
                : try db.rows("SELECT * FROM requests WHERE state = ? ORDER BY created_at, id", [state!.rawValue])
            var approvals: [String: [Approval]] = [:]
            // Only the approvals of the requests read: the pending queue doesn't cost the whole history.
            let approvalRows =
                state == nil
                ? try db.rows("SELECT * FROM approvals ORDER BY at")
                : try db.rows(
                    "SELECT a.* FROM approvals a JOIN requests r ON r.id = a.request_id WHERE r.state = ? ORDER BY a.at",
                    [state!.rawValue])
            for a in approvalRows {
                approvals[a["request_id"], default: []].append(
                    Approval(analyst: a["analyst"], at: Date(timeIntervalSince1970: a["at"]), reason: a["reason"]))
            }
            return rows.map { Self.request($0, approvals: approvals[$0["id"]] ?? []) }
        }
    }

    /// Grants, soonest expiry first; all, or those in one state.
    public func grants(state: GrantState? = nil) throws(AccessError) -> [Grant] {
        try read { db in
            let rows =
                state == nil
                ? try db.rows("SELECT * FROM grants ORDER BY expires_at, id")
                : try db.rows("SELECT * FROM grants WHERE state = ? ORDER BY expires_at, id", [state!.rawValue])
            return rows.map(Self.grant)
        }
    }

    /// Active grants and those whose hook failed: what the Access panel shows, read by index, not the whole history.
    public func liveGrants() throws(AccessError) -> [Grant] {
        try read { db in
            try db.rows(
                "SELECT * FROM grants WHERE state = 'active' "
                    + "UNION SELECT * FROM grants WHERE actuation = 'actuation_failed' ORDER BY starts_at, id"
            )
            .map(Self.grant)
        }
    }

    public func request(id: String) throws(AccessError) -> AccessRequest? { try read { db in try Self.loadRequest(db, id) } }
    public func grant(id: String) throws(AccessError) -> Grant? { try read { db in try Self.loadGrant(db, id) } }

    /// A time as the CLI and messages show it: `2026-11-29 13:05:00 UTC`.
    public static func when(_ d: Date?) -> String {
        guard let d else { return "?" }
        return d.formatted(
            Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().dateTimeSeparator(.space).time(includingFractionalSeconds: false))
            + " UTC"
    }

    static func alreadyDecided(_ r: AccessRequest) -> AccessError {
        switch r.state {
        case .pending: .conflict("request \(r.id) is still pending")
        case .lapsed: .conflict("request \(r.id) lapsed at \(when(r.lapsesAt)): nobody decided in time")
        default:
            .conflict(
                "request \(r.id) was already \(r.state.rawValue) by \(r.decidedBy ?? "?") at \(when(r.decidedAt))"
                    + (r.decisionReason.map { ": \($0)" } ?? ""))
        }
    }

    /// A reported name (a collector's requester, a demo agent's owner) may ask for access and give it back, but
    /// deciding needs someone the kernel vouched for.
    static func checkDecider(_ analyst: Analyst) throws(AccessError) {
        guard analyst.reportedBy == nil else {
            throw .refused(
                rule: "reported_identity", message: "\(analyst.recordedName) is a name a source reported, not a login; it can't decide")
        }
    }

    static func notActive(_ g: Grant) -> AccessError {
        switch g.state {
        case .active: .conflict("grant \(g.id) is active")
        case .expired: .conflict("grant \(g.id) already expired at \(when(g.expiresAt))")
        case .revoked:
            .conflict(
                "grant \(g.id) was already revoked by \(g.endedBy ?? "?") at \(when(g.endedAt))" + (g.endReason.map { ": \($0)" } ?? ""))
        }
    }

    // MARK: Benchmark

    /// Fills the store with history for the benchmark: `count` requests, each filed and denied (two audit entries
    /// apiece), in one transaction, through the same inserts and audit appends as real decisions.
    public func seedHistoryForBenchmark(_ count: Int, subject: Subject, now: Date) throws(AccessError) {
        let requester = Analyst(user: "bench-requester")
        let decider = Analyst(user: "bench-decider")
        _ = try write { db in
            for i in 0..<count {
                let r = AccessRequest(
                    id: Self.newID("req"), subject: subject.id, subjectName: subject.name, population: subject.population,
                    scope: "bench:\(i)",
                    requester: requester.user, reason: "history", ticket: nil, ttlSeconds: 600, createdAt: now,
                    lapsesAt: now.addingTimeInterval(3600),
                    state: .denied, approvals: [])
                try Self.insert(db, r)
                try self.appendAudit(
                    db,
                    AuditFields(
                        action: "request", subject: r.subject, scope: r.scope, ttlSeconds: 600, reason: "history",
                        result: "pending", target: r.id), by: requester, at: now)
                try self.appendAudit(
                    db,
                    AuditFields(
                        action: "deny", subject: r.subject, scope: r.scope, ttlSeconds: 600, reason: "history",
                        result: "denied", target: r.id), by: decider, at: now)
            }
        }
    }

    // MARK: Requests

    /// Files a request for time-bound access.
    @discardableResult
    public func file(
        subject: Subject, scope: String, ttlSeconds: Double, reason: String, ticket: String? = nil, via: String? = nil,
        by analyst: Analyst, policy: AccessPolicy, now: Date
    ) throws(AccessError) -> AccessRequest {
        try policy.checkRequest(population: subject.population, scope: scope, ttlSeconds: ttlSeconds, reason: reason)
        try policy.checkUnapproved(subject)
        if let t = ticket, t.unicodeScalars.contains("\0") { throw .invalid("the ticket contains a NUL character (U+0000); remove it") }
        let id = Self.newID("req")
        return try write { db in
            let r = AccessRequest(
                id: id, subject: subject.id, subjectName: subject.name, population: subject.population, scope: scope,
                requester: analyst.recordedName, reason: reason, ticket: ticket, ttlSeconds: ttlSeconds, createdAt: now,
                lapsesAt: now.addingTimeInterval(policy.requestLapseSeconds), state: .pending, approvals: [], subjectOwner: subject.owner,
                via: via, flags: subject.flags)
            try Self.insert(db, r)
            let detail = [ticket.map { "ticket \($0)" }, via.map { "asked through \($0)" }].compactMap { $0 }.joined(separator: "; ")
            try self.appendAudit(
                db,
                AuditFields(
                    action: "request", subject: r.subject, scope: r.scope, ttlSeconds: ttlSeconds,
                    reason: reason, result: "pending", target: r.id, detail: detail), by: analyst, at: now)
            return r
        }
    }

    static func insert(_ db: any StoreConnection, _ r: AccessRequest) throws {
        try db.execute(
            """
            INSERT INTO requests (id, subject, subject_name, population, scope, requester, reason, ticket, ttl_seconds,
                created_at, lapses_at, state, source_key, subject_owner, via, flags)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                r.id, r.subject, r.subjectName, r.population.rawValue, r.scope, r.requester, r.reason, r.ticket,
                r.ttlSeconds, r.createdAt.timeIntervalSince1970, r.lapsesAt.timeIntervalSince1970, r.state.rawValue, r.sourceKey,
                ownerJSON(r.subjectOwner), r.via,
                r.flags.isEmpty ? nil : String(decoding: (try? JSONEncoder().encode(r.flags)) ?? Data(), as: UTF8.self),
            ])
    }

    /// Files requests a collector observed (the demo's agents asking), each once. Returns how many were new.
    @discardableResult
    public func ingest(
        _ proposals: [RequestProposal], subjects: (String) -> Subject?, by analyst: Analyst,
        policy: AccessPolicy, now: Date
    ) throws(AccessError) -> Int {
        guard !proposals.isEmpty, !readonly else { return 0 }
        // Only these proposals' keys are looked up: a refresh doesn't read the whole history.
        let keys = proposals.map(\.key)
        let known: Set<String> = try read { db in
            var found = Set<String>()
            for chunk in stride(from: 0, to: keys.count, by: 500) {
                let part = Array(keys[chunk..<min(chunk + 500, keys.count)])
                let marks = Array(repeating: "?", count: part.count).joined(separator: ",")
                found.formUnion(
                    try db.stringColumn("SELECT source_key FROM requests WHERE source_key IN (\(marks))", part))
            }
            return found
        }
        // Observed requests go through the same policy as any other: what it refuses is not filed.
        // A NUL in what a collector reported would fail the whole batch on PostgreSQL: such a proposal is not filed.
        // A proposal whose own deadline has passed is not filed: nobody is waiting for it any more.
        let fresh = proposals.filter { p in
            !known.contains(p.key) && (p.lapsesAt.map { $0 > now } ?? true)
                && ![p.key, p.requester, p.reason, p.ticket ?? ""].contains { $0.unicodeScalars.contains("\0") }
        }.compactMap { p in subjects(p.subject).map { (p, $0) } }.filter { p, s in
            (try? policy.checkRequest(population: s.population, scope: p.scope, ttlSeconds: p.ttlSeconds, reason: p.reason)) != nil
        }
        guard !fresh.isEmpty else { return 0 }
        return try write { db in
            var added = 0
            for (p, subject) in fresh {
                let exists = try db.row("SELECT 1 FROM requests WHERE source_key = ?", [p.key]) != nil
                if exists { continue }
                let r = AccessRequest(
                    id: Self.newID("req"), subject: subject.id, subjectName: subject.name, population: subject.population,
                    scope: p.scope, requester: p.requester + Analyst.reportedMark, reason: p.reason, ticket: p.ticket,
                    ttlSeconds: p.ttlSeconds,
                    createdAt: p.createdAt, lapsesAt: Self.lapse(p, policy: policy, now: now),
                    state: .pending, approvals: [], sourceKey: p.key, subjectOwner: subject.owner, flags: subject.flags)
                try Self.insert(db, r)
                // Asked by the requester the collector names, not by whoever's process filed it: that one is in the detail.
                let asker = Analyst.reported(
                    p.requester, by: "\(p.source.map { "collector \($0)" } ?? "a collector"), ingested by \(analyst)")
                try self.appendAudit(
                    db,
                    AuditFields(
                        action: "request", subject: r.subject, scope: r.scope, ttlSeconds: r.ttlSeconds,
                        reason: r.reason, result: "pending", target: r.id,
                        detail: ([p.ticket.map { "ticket \($0)" }, "for \(subject.name)"] as [String?]).compactMap { $0 }
                            .joined(separator: "; ")), by: asker, at: now)
                added += 1
            }
            return added
        }
    }

    /// Approves a request. With a two-person rule, the first approval is recorded and the grant waits for the next.
    /// `ttlSeconds` nil means the requested TTL, capped by policy.
    /// The subject's owner, recorded when the request was filed, can't approve it.
    public func approve(
        _ id: String, ttlSeconds: Double? = nil, reason: String, by analyst: Analyst, policy: AccessPolicy,
        hooks: HookEvents = HookEvents(), now: Date
    ) throws(AccessError) -> ApprovalOutcome {
        try Self.checkDecider(analyst)
        return try write { db in
            guard let r = try Self.loadRequest(db, id) else { throw AccessError.notFound("no request \(id)") }
            guard r.state == .pending else { throw Self.alreadyDecided(r) }
            guard now < r.lapsesAt else {
                throw AccessError.conflict("request \(id) lapsed at \(Self.when(r.lapsesAt)): nobody decided in time")
            }
            let ttl = ttlSeconds ?? min(r.ttlSeconds, policy[r.population].maxTTLSeconds)
            // The verdict a dialog shows before confirming, then the TTL and reason.
            try policy.checkApproval(r, by: analyst, ttlSeconds: ttl, reason: reason)
            // An approval grants what was asked or less: never longer than the requester wanted.
            if ttl > r.ttlSeconds + 0.5 {
                throw AccessError.invalid(
                    "\(DurationText.format(ttl)) is longer than the \(DurationText.format(r.ttlSeconds)) asked for; "
                        + "approve \(DurationText.format(r.ttlSeconds)) or less"
                )
            }
            try db.execute(
                "INSERT INTO approvals (request_id, analyst, at, reason) VALUES (?, ?, ?, ?)",
                [id, analyst.user, now.timeIntervalSince1970, reason])
            let needed = policy.approvalVerdict(r, by: analyst).needed
            let have = r.approvals.count + 1
            if have < needed {
                try self.appendAudit(
                    db,
                    AuditFields(
                        action: "approve", subject: r.subject, scope: r.scope, ttlSeconds: ttl, reason: reason,
                        result: "approval \(have) of \(needed)", target: id), by: analyst, at: now)
                return .recorded(approvalsLeft: needed - have)
            }
            let grantID = Self.newID("gr")
            let changed = try db.execute(
                """
                UPDATE requests SET state = 'approved', decided_by = ?, decided_at = ?, decision_reason = ?, grant_id = ?
                WHERE id = ? AND state = 'pending'
                """, [analyst.user, now.timeIntervalSince1970, reason, grantID, id])
            guard changed == 1 else { throw Self.alreadyDecided(try Self.loadRequest(db, id)!) }
            let g = Grant(
                id: grantID, requestID: id, subject: r.subject, subjectName: r.subjectName, population: r.population, scope: r.scope,
                approvers: r.approvals.map(\.analyst) + [analyst.user], reason: reason, startsAt: now,
                expiresAt: now.addingTimeInterval(ttl), state: .active, actuation: hooks.actuation(for: "approve"),
                actuationAttempts: 0, actuationEvent: hooks.configured.contains("approve") ? "approve" : nil, subjectOwner: r.subjectOwner,
                askedTTLSeconds: r.ttlSeconds)
            try Self.insert(db, g)
            try self.appendAudit(
                db,
                AuditFields(
                    action: "approve", subject: r.subject, scope: r.scope, ttlSeconds: ttl, reason: reason,
                    result: "granted until \(Self.when(g.expiresAt))", target: "\(id) -> \(grantID)"), by: analyst, at: now)
            return .granted(g)
        }
    }

    /// Fills in the asked TTL of grants made before it was recorded: their request's TTL, or, for a direct grant, the TTL
    /// its `grant` audit entry recorded. One statement, in the SQL both stores understand.
    static let backfillAskedTTL = """
        UPDATE grants SET asked_ttl_seconds = COALESCE(
            (SELECT r.ttl_seconds FROM requests r WHERE r.id = grants.request_id LIMIT 1),
            (SELECT a.ttl_seconds FROM audit a WHERE a.action = 'grant' AND a.target = grants.id ORDER BY a.seq LIMIT 1))
        WHERE asked_ttl_seconds IS NULL
        """

    static func insert(_ db: any StoreConnection, _ g: Grant) throws {
        let approvers = String(decoding: try JSONEncoder().encode(g.approvers), as: UTF8.self)
        try db.execute(
            """
            INSERT INTO grants (id, request_id, subject, subject_name, population, scope, approvers, reason, starts_at, expires_at,
                state, actuation, actuation_attempts, actuation_event, subject_owner, asked_ttl_seconds) \
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
            """,
            [
                g.id, g.requestID, g.subject, g.subjectName, g.population.rawValue, g.scope, approvers, g.reason,
                g.startsAt.timeIntervalSince1970, g.expiresAt.timeIntervalSince1970, g.state.rawValue,
                g.actuation.rawValue, g.actuationEvent, ownerJSON(g.subjectOwner), g.askedTTLSeconds,
            ])
    }

    /// Denies a pending request.
    @discardableResult
    public func deny(
        _ id: String, reason: String, by analyst: Analyst, policy: AccessPolicy, hooks: HookEvents = HookEvents(),
        now: Date
    ) throws(AccessError) -> AccessRequest {
        try decideWithoutGrant(id, to: .denied, reason: reason, by: analyst, policy: policy, now: now)
    }

    /// Withdraws a pending request: only its requester may.
    @discardableResult
    public func cancel(_ id: String, reason: String, by analyst: Analyst, policy: AccessPolicy, now: Date) throws(AccessError)
        -> AccessRequest
    {
        try decideWithoutGrant(id, to: .cancelled, reason: reason, by: analyst, policy: policy, now: now)
    }

    func decideWithoutGrant(
        _ id: String, to state: RequestState, reason: String, by analyst: Analyst, policy: AccessPolicy,
        now: Date
    ) throws(AccessError) -> AccessRequest {
        if state != .cancelled { try Self.checkDecider(analyst) }
        return try write { db in
            guard let r = try Self.loadRequest(db, id) else { throw AccessError.notFound("no request \(id)") }
            guard r.state == .pending else { throw Self.alreadyDecided(r) }
            guard now < r.lapsesAt else {
                throw AccessError.conflict("request \(id) lapsed at \(Self.when(r.lapsesAt)): nobody decided in time")
            }
            if state == .cancelled, r.requester != analyst.recordedName {
                throw AccessError.refused(rule: "requester_only", message: "only \(r.requester), who asked, can cancel request \(id)")
            }
            try policy.checkReason(population: r.population, reason: reason)
            let changed = try db.execute(
                "UPDATE requests SET state = ?, decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ? AND state = 'pending'",
                [state.rawValue, analyst.recordedName, now.timeIntervalSince1970, reason, id])
            guard changed == 1 else { throw Self.alreadyDecided(try Self.loadRequest(db, id)!) }
            let action = state == .denied ? "deny" : "cancel"
            try self.appendAudit(
                db,
                AuditFields(
                    action: action, subject: r.subject, scope: r.scope, ttlSeconds: r.ttlSeconds,
                    reason: reason, result: state.rawValue, target: id), by: analyst, at: now)
            return try Self.loadRequest(db, id)!
        }
    }

    // MARK: Grants

    /// A direct time-bound grant, without a request. Admin scopes that need two approvals must go through a request.
    public func directGrant(
        subject: Subject, scope: String, ttlSeconds: Double, reason: String, by analyst: Analyst,
        policy: AccessPolicy, hooks: HookEvents = HookEvents(), now: Date
    ) throws(AccessError) -> Grant {
        try Self.checkDecider(analyst)
        try policy.checkRequest(population: subject.population, scope: scope, ttlSeconds: ttlSeconds, reason: reason)
        try AccessPolicy.checkNotOwner(analyst, subject.owner, subjectName: subject.name)
        let needed = policy.approvalsNeeded(subject.population, scope: scope)
        if needed > 1 {
            throw .refused(
                rule: "two_person",
                message: "\(scope) needs \(needed) approvals; file a request (trustgap request) for another analyst to approve")
        }
        return try write { db in
            let g = Grant(
                id: Self.newID("gr"), requestID: nil, subject: subject.id, subjectName: subject.name, population: subject.population,
                scope: scope, approvers: [analyst.user], reason: reason, startsAt: now, expiresAt: now.addingTimeInterval(ttlSeconds),
                state: .active, actuation: hooks.actuation(for: "approve"), actuationAttempts: 0,
                actuationEvent: hooks.configured.contains("approve") ? "approve" : nil, subjectOwner: subject.owner,
                askedTTLSeconds: ttlSeconds)
            try Self.insert(db, g)
            try self.appendAudit(
                db,
                AuditFields(
                    action: "grant", subject: g.subject, scope: scope, ttlSeconds: ttlSeconds, reason: reason,
                    result: "granted until \(Self.when(g.expiresAt))", target: g.id), by: analyst, at: now)
            return g
        }
    }

    /// Extends an active grant: it stays active, expiring `ttlSeconds` from now (within the policy's maximum).
    ///
    /// An extension is an approval of more time, under the rules the grant was approved under: never by whoever
    /// asked for it or owns the subject, and a grant that needed two approvals needs two again, from two analysts
    /// (`.recorded` until the last one; approvals lapse when the grant's expiry changes). The shortest TTL asked wins.
    public func extend(
        _ id: String, ttlSeconds: Double, reason: String, by analyst: Analyst, policy: AccessPolicy,
        hooks: HookEvents = HookEvents(), now: Date
    ) throws(AccessError) -> ExtensionOutcome {
        try Self.checkDecider(analyst)
        return try write { db in
            guard let g = try Self.loadGrant(db, id) else { throw AccessError.notFound("no grant \(id)") }
            guard g.state == .active, g.expiresAt > now else {
                throw g.state == .active
                    ? AccessError.conflict("grant \(id) expired at \(Self.when(g.expiresAt)); the sweeper will close it")
                    : Self.notActive(g)
            }
            try policy.checkTTL(population: g.population, ttlSeconds: ttlSeconds)
            try policy.checkReason(population: g.population, reason: reason)
            if let requestID = g.requestID, let r = try Self.loadRequest(db, requestID), r.requesterClaim == analyst.user {
                throw AccessError.refused(
                    rule: "no_self_approval", message: "\(analyst.user) asked for this access and can't extend it; another analyst must")
            }
            try AccessPolicy.checkNotOwner(analyst, g.subjectOwner, subjectName: g.subjectName)
            guard now.addingTimeInterval(ttlSeconds) > g.expiresAt else {
                throw AccessError.invalid(
                    "that would end grant \(id) sooner (it has \(DurationText.format(g.expiresAt.timeIntervalSince(now))) left); "
                        + "revoke it instead"
                )
            }
            let needed = policy.approvalsNeeded(g.population, scope: g.scope)
            // This round's approvals: those given while the grant had its present expiry.
            let round = g.expiresAt.timeIntervalSince1970
            let earlier = try db.rows(
                "SELECT analyst, ttl_seconds FROM extension_approvals WHERE grant_id = ? AND round = ?",
                [id, round])
            if earlier.contains(where: { ($0["analyst"] as String) == analyst.user }) {
                throw AccessError.refused(
                    rule: "two_person",
                    message: "\(analyst.user) already approved extending \(id); another analyst must give the next approval")
            }
            let have = earlier.count + 1
            if have < needed {
                try db.execute(
                    "INSERT INTO extension_approvals (grant_id, round, analyst, at, reason, ttl_seconds) VALUES (?, ?, ?, ?, ?, ?)",
                    [id, round, analyst.user, now.timeIntervalSince1970, reason, ttlSeconds])
                try self.appendAudit(
                    db,
                    AuditFields(
                        action: "extend", subject: g.subject, scope: g.scope, ttlSeconds: ttlSeconds, reason: reason,
                        result: "extension approval \(have) of \(needed)", target: id,
                        detail: "until \(Self.when(g.expiresAt)) still"), by: analyst, at: now)
                return .recorded(approvalsLeft: needed - have)
            }
            let ttl = earlier.map { $0["ttl_seconds"] as Double }.reduce(ttlSeconds, min)
            let newExpiry = now.addingTimeInterval(ttl)
            guard newExpiry > g.expiresAt else {
                throw AccessError.invalid(
                    "the shortest extension approved (\(DurationText.format(ttl))) would end grant \(id) sooner; ask for it again")
            }
            let actuation = hooks.actuation(for: "extend")
            let changed = try db.execute(
                """
                UPDATE grants SET expires_at = ?, actuation = CASE WHEN ? = 'pending' THEN 'pending' ELSE actuation END,
                    actuation_event = CASE WHEN ? = 'pending' THEN 'extend' ELSE actuation_event END, actuation_attempts = 0,
                    actuation_next = NULL
                WHERE id = ? AND state = 'active'
                """, [newExpiry.timeIntervalSince1970, actuation.rawValue, actuation.rawValue, id])
            guard changed == 1 else { throw Self.notActive(try Self.loadGrant(db, id)!) }
            try self.appendAudit(
                db,
                AuditFields(
                    action: "extend", subject: g.subject, scope: g.scope, ttlSeconds: ttl, reason: reason,
                    result: "active until \(Self.when(newExpiry))", target: id,
                    detail: "was until \(Self.when(g.expiresAt))" + (needed > 1 ? "; approval \(have) of \(needed)" : "")),
                by: analyst, at: now)
            return .extended(try Self.loadGrant(db, id)!)
        }
    }

    /// Revokes an active grant now.
    public func revoke(
        _ id: String, reason: String, by analyst: Analyst, policy: AccessPolicy, hooks: HookEvents = HookEvents(),
        now: Date
    ) throws(AccessError) -> Grant {
        try write { db in
            guard let g = try Self.loadGrant(db, id) else { throw AccessError.notFound("no grant \(id)") }
            guard g.state == .active else { throw Self.notActive(g) }
            try policy.checkReason(population: g.population, reason: reason)
            let actuation = hooks.actuation(for: "revoke")
            let changed = try db.execute(
                """
                UPDATE grants SET state = 'revoked', ended_by = ?, ended_at = ?, end_reason = ?, actuation = ?, actuation_event = ?,
                    actuation_attempts = 0, actuation_detail = NULL, actuation_next = NULL WHERE id = ? AND state = 'active'
                """,
                [
                    analyst.recordedName, now.timeIntervalSince1970, reason, actuation.rawValue,
                    actuation == .pending ? "revoke" : nil, id,
                ])
            guard changed == 1 else { throw Self.notActive(try Self.loadGrant(db, id)!) }
            try self.appendAudit(
                db,
                AuditFields(
                    action: "revoke", subject: g.subject, scope: g.scope, ttlSeconds: nil, reason: reason,
                    result: "revoked", target: id,
                    detail: "\(DurationText.format(g.remaining(at: now))) were left"), by: analyst, at: now)
            return try Self.loadGrant(db, id)!
        }
    }

    // MARK: Sweeping

    /// When an observed request lapses: the policy's time from when it is filed, or the source's own deadline if sooner.
    static func lapse(_ p: RequestProposal, policy: AccessPolicy, now: Date) -> Date {
        let byPolicy = max(p.createdAt, now).addingTimeInterval(policy.requestLapseSeconds)
        return p.lapsesAt.map { min($0, byPolicy) } ?? byPolicy
    }

    public struct SweepResult: Sendable, Equatable {
        public var expired: [String] = []
        public var lapsed: [String] = []
    }

    /// Expires grants whose time has passed and lapses requests nobody decided. Safe to run from several processes
    /// at once: each change is a compare-and-set, so each grant expires exactly once. Expiry and lapses are the
    /// system's (`Analyst.system`), not the sweeper's: who swept is named in the entry's detail.
    public func sweep(by analyst: Analyst, hooks: HookEvents = HookEvents(), now: Date) throws(AccessError) -> SweepResult {
        let swept = analyst == .system ? "" : "swept by \(analyst)"
        let due: (grants: [String], requests: [String]) = try read { db in
            (
                try db.stringColumn("SELECT id FROM grants WHERE state = 'active' AND expires_at <= ?", [now.timeIntervalSince1970]),
                try db.stringColumn("SELECT id FROM requests WHERE state = 'pending' AND lapses_at <= ?", [now.timeIntervalSince1970])
            )
        }
        guard !due.grants.isEmpty || !due.requests.isEmpty, !readonly else { return SweepResult() }
        return try write { db in
            var result = SweepResult()
            let actuation = hooks.actuation(for: "expire")
            for id in due.grants {
                guard let g = try Self.loadGrant(db, id), g.state == .active, g.expiresAt <= now else { continue }
                let changed = try db.execute(
                    """
                    UPDATE grants SET state = 'expired', ended_by = ?, ended_at = ?, end_reason = 'expired', actuation = ?,
                        actuation_event = ?, actuation_attempts = 0, actuation_detail = NULL, actuation_next = NULL \
                    WHERE id = ? AND state = 'active'
                    """,
                    [
                        Analyst.system.user, g.expiresAt.timeIntervalSince1970, actuation.rawValue,
                        actuation == .pending ? "expire" : nil, id,
                    ])
                guard changed == 1 else { continue }
                try self.appendAudit(
                    db,
                    AuditFields(
                        action: "expire", subject: g.subject, scope: g.scope, ttlSeconds: nil,
                        reason: "time is up", result: "expired", target: id, detail: swept), by: .system, at: now)
                result.expired.append(id)
            }
            for id in due.requests {
                guard let r = try Self.loadRequest(db, id), r.state == .pending else { continue }
                let changed = try db.execute(
                    "UPDATE requests SET state = 'lapsed', decided_at = ? WHERE id = ? AND state = 'pending'",
                    [r.lapsesAt.timeIntervalSince1970, id])
                guard changed == 1 else { continue }
                try self.appendAudit(
                    db,
                    AuditFields(
                        action: "lapse", subject: r.subject, scope: r.scope, ttlSeconds: r.ttlSeconds,
                        reason: "nobody decided in time", result: "lapsed", target: id, detail: swept), by: .system, at: now)
                result.lapsed.append(id)
            }
            return result
        }
    }

    // MARK: Actuation

    /// Grants whose hook is owed: pending, or failed and due for a retry.
    public func owedActuations(now: Date, maxAttempts: Int = 10) throws(AccessError) -> [Grant] {
        try read { db in
            try db.rows(
                """
                SELECT * FROM grants WHERE (actuation = 'pending' OR (actuation = 'actuation_failed' AND actuation_attempts < ?))
                AND (actuation_next IS NULL OR actuation_next <= ?) AND (actuation_claim IS NULL OR actuation_claim <= ?) \
                ORDER BY starts_at
                """, [maxAttempts, now.timeIntervalSince1970, now.timeIntervalSince1970]
            ).map(Self.grant)
        }
    }

    /// Takes the right to run a grant's owed hook until `until`; false when another process holds it.
    public func claimActuation(_ grantID: String, until: Date, now: Date) throws(AccessError) -> Bool {
        try write { db in
            let changed = try db.execute(
                """
                UPDATE grants SET actuation_claim = ? WHERE id = ? AND (actuation_claim IS NULL OR actuation_claim <= ?)
                AND (actuation_next IS NULL OR actuation_next <= ?)
                """, [until.timeIntervalSince1970, grantID, now.timeIntervalSince1970, now.timeIntervalSince1970])
            return changed == 1
        }
    }

    /// Records the deny hook's result in the audit log.
    public func recordRequestActuation(_ r: AccessRequest, succeeded: Bool, detail: String, by analyst: Analyst, now: Date)
        throws(AccessError)
    {
        _ = try write { db in
            try self.appendAudit(
                db,
                AuditFields(
                    action: "actuate", subject: r.subject, scope: r.scope, ttlSeconds: nil,
                    reason: "deny hook", result: succeeded ? "ok" : "failed", target: r.id, detail: detail), by: analyst, at: now)
        }
    }

    /// Records a hook's result on the grant and in the audit log. A failure is retried later with back-off.
    public func recordActuation(
        _ grantID: String, event: String, succeeded: Bool, detail: String, by analyst: Analyst,
        now: Date
    ) throws(AccessError) {
        try write { db in
            guard let g = try Self.loadGrant(db, grantID) else { return }
            try db.execute("UPDATE grants SET actuation_claim = NULL WHERE id = ?", [grantID])
            guard g.actuationEvent == event else {
                // A later decision (a revoke while the approve hook ran) owes its own hook, which runs now the claim is
                // released; this run's result is still recorded, never dropped.
                try self.appendAudit(
                    db,
                    AuditFields(
                        action: "actuate", subject: g.subject, scope: g.scope, ttlSeconds: nil,
                        reason: "\(event) hook, superseded by \(g.actuationEvent.map { "a \($0)" } ?? "a later decision")",
                        result: succeeded ? "ok" : "failed", target: grantID, detail: detail), by: analyst, at: now)
                return
            }
            let attempts = g.actuationAttempts + 1
            let backoff = min(3600, 15 * pow(2, Double(attempts - 1)))
            try db.execute(
                """
                UPDATE grants SET actuation = ?, actuation_detail = ?, actuation_attempts = ?, actuation_next = ?,
                    actuation_event = CASE WHEN ? = 1 THEN NULL ELSE actuation_event END WHERE id = ?
                """,
                [
                    succeeded ? ActuationState.ok.rawValue : ActuationState.failed.rawValue, detail, attempts,
                    succeeded ? nil : now.addingTimeInterval(backoff).timeIntervalSince1970, succeeded, grantID,
                ])
            try self.appendAudit(
                db,
                AuditFields(
                    action: "actuate", subject: g.subject, scope: g.scope, ttlSeconds: nil,
                    reason: "\(event) hook, attempt \(attempts)", result: succeeded ? "ok" : "failed",
                    target: grantID, detail: detail), by: analyst, at: now)
        }
    }
}
