import Foundation

/// What the audit log says happened to each request, approval and grant, collected while the chain is verified, so
/// that a row written into the store behind trustgap's back (a forged approval, a grant with no decision, an edited
/// expiry) is found: the store's state must be what the entries explain.
struct AuditExplanations {
    /// request id → the subject and scope its request entry names.
    var filed: [String: (subject: String, scope: String)] = [:]
    /// request id → the state its last deciding entry left it in.
    var decided: [String: String] = [:]
    /// (request id, analyst) of every recorded approval.
    var approvals = Set<[String]>()
    /// (grant id, analyst) of every recorded approval of an extension still waiting for another.
    var extensionApprovals = Set<[String]>()
    /// grant id → (subject, scope, expiry from the entry that created or last extended it, how it ended).
    var grants: [String: (subject: String, scope: String, expires: Double, ended: String?)] = [:]

    mutating func add(_ e: AuditEntry) {
        let expiry = e.at.timeIntervalSince1970 + (e.ttlSeconds ?? 0)
        switch e.action {
        case "request":
            filed[e.target] = (e.subject, e.scope)
        case "approve":
            let parts = e.target.components(separatedBy: " -> ")
            approvals.insert([parts[0], e.analyst])
            if parts.count == 2 {
                decided[parts[0]] = "approved"
                grants[parts[1]] = (e.subject, e.scope, expiry, nil)
            }
        case "deny", "cancel", "lapse":
            decided[e.target] = e.result
        case "grant":
            grants[e.target] = (e.subject, e.scope, expiry, nil)
        case "extend":
            if e.result.hasPrefix("extension approval") {
                extensionApprovals.insert([e.target, e.analyst])
            } else {
                grants[e.target]?.expires = expiry
            }
        case "revoke", "expire":
            grants[e.target]?.ended = e.result
        default:
            break
        }
    }

    /// The first row the entries don't explain, described; nil when they all agree.
    func unexplained(_ db: any StoreConnection) throws -> String? {
        for row in try db.rows("SELECT id, state, grant_id, subject, scope FROM requests") {
            let id: String = row["id"]
            let state: String = row["state"]
            guard let entry = filed[id] else { return "request \(id) has no audit entry: it was written into the store outside trustgap" }
            // What is asked for decides who may approve it: an edited subject or scope is a forgery too.
            if entry.subject != row["subject"] || entry.scope != row["scope"] {
                return "request \(id) is for \(row["subject"] as String) \(row["scope"] as String) in the store, "
                    + "but the audit log says \(entry.subject) \(entry.scope)"
            }
            let want = decided[id] ?? "pending"
            if state != want { return "request \(id) is \(state) in the store, but the audit log says \(want)" }
        }
        for row in try db.rows("SELECT request_id, analyst FROM approvals") {
            let id: String = row["request_id"]
            let who: String = row["analyst"]
            if !approvals.contains([id, who]) {
                return "the approval of \(id) by \(who) has no audit entry: it was written into the store outside trustgap"
            }
        }
        for row in try db.rows("SELECT grant_id, analyst FROM extension_approvals") {
            let id: String = row["grant_id"]
            let who: String = row["analyst"]
            if !extensionApprovals.contains([id, who]) {
                return "the approval of extending \(id) by \(who) has no audit entry: it was written into the store outside trustgap"
            }
        }
        for row in try db.rows("SELECT id, subject, scope, expires_at, state FROM grants") {
            let id: String = row["id"]
            guard let g = grants[id] else { return "grant \(id) has no audit entry: it was written into the store outside trustgap" }
            if g.subject != row["subject"] || g.scope != row["scope"] {
                return
                    "grant \(id) is for \(row["subject"] as String) \(row["scope"] as String) in the store, "
                    + "but the audit log says \(g.subject) \(g.scope)"
            }
            // Entries keep whole seconds of TTL and milliseconds of time: allow for that rounding.
            if abs((row["expires_at"] as Double) - g.expires) > 2 {
                return
                    "grant \(id) expires at \(AccessStore.when(Date(timeIntervalSince1970: row["expires_at"]))) in the store, "
                    + "but the audit log says \(AccessStore.when(Date(timeIntervalSince1970: g.expires)))"
            }
            let state: String = row["state"]
            if state == "active", let ended = g.ended {
                return "grant \(id) is active in the store, but the audit log says it was \(ended)"
            }
            if state != "active", g.ended == nil { return "grant \(id) is \(state) in the store, but no audit entry ended it" }
        }
        return nil
    }
}
