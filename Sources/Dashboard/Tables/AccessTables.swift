import Access
import Foundation
import Inventory
import Terminal

/// The Access panel: pending requests (oldest first), then grants (active soonest to expire first, then any whose
/// hook failed), with live countdowns.
struct AccessTable: TableModel {
    enum Row {
        case request(AccessRequest)
        case grant(Grant)
    }
    let rows: [Row]
    let marked: Set<String>
    let policy: AccessPolicy

    init(view: AccessView, marked: Set<String>, policy: AccessPolicy) {
        var rows = view.pending.sorted { $0.createdAt < $1.createdAt }.map(Row.request)
        let live = view.grants.filter { $0.state == .active }.sorted { $0.expiresAt < $1.expiresAt }
        let failed = view.grants.filter { $0.state != .active && $0.actuation == .failed }
        rows += (live + failed).map(Row.grant)
        self.rows = rows
        self.marked = marked
        self.policy = policy
    }

    var columns: [ColumnSpec] {
        [
            ColumnSpec(title: "STATE", minWidth: 9, maxWidth: 12, priority: 100),
            ColumnSpec(title: "SUBJECT", minWidth: 16, maxWidth: 34, priority: 99, weight: 2),
            ColumnSpec(title: "SCOPE", minWidth: 14, maxWidth: 30, priority: 98, weight: 2),
            ColumnSpec(title: "TTL/LEFT", minWidth: 8, maxWidth: 9, priority: 97, alignRight: true),
            ColumnSpec(title: "WHO", minWidth: 10, maxWidth: 20, priority: 70),
            ColumnSpec(title: "ID", minWidth: 14, maxWidth: 14, priority: 40),
            ColumnSpec(title: "REASON", minWidth: 12, maxWidth: 200, priority: 60, weight: 3),
        ]
    }

    var baseCount: Int { rows.count }

    func id(_ row: Int) -> String {
        switch rows[row] {
        case .request(let r): r.id
        case .grant(let g): g.id
        }
    }

    func cell(_ row: Int, _ column: Int, now: Date) -> (String, Role) {
        switch rows[row] {
        case .request(let r):
            let needed = policy.approvalsNeeded(r.population, scope: r.scope)
            switch column {
            case 0: return (r.approvals.isEmpty ? "PENDING" : "PENDING \(r.approvals.count)/\(needed)", .pending)
            case 1: return (r.subjectName, .text)
            case 2: return (r.scope, AccessPolicy.isAdmin(r.scope) ? .high : .text)
            case 3: return (DurationText.format(r.ttlSeconds), .text)
            case 4: return (r.askedByAgent ? "agent via \(r.requester)" : r.requester, r.askedByAgent ? .warn : .text)
            case 5: return (r.id, .muted)
            default:
                // What is being trusted comes first: a shadow agent or a critical finding is not buried in the reason.
                // An agent asking for itself shows its risk too: the person deciding sees what they are trusting.
                let warnings = r.askedByAgent ? r.flags : r.flags.filter { !$0.hasPrefix("risk ") }
                let text = "waiting \(EntityTable.age(r.createdAt, now: now)): \(r.reason)" + (r.ticket.map { " [\($0)]" } ?? "")
                return warnings.isEmpty ? (text, .muted) : ("[" + warnings.joined(separator: ", ") + "] " + text, .high)
            }
        case .grant(let g):
            let left = g.remaining(at: now)
            switch column {
            case 0:
                let mark = marked.contains(g.id) ? "[x] " : ""
                if g.actuation == .failed { return (mark + "HOOK FAILED", .critical) }
                if g.state != .active { return (mark + g.state.rawValue.uppercased(), .expired) }
                return (mark + (left < 600 ? "EXPIRING" : "ACTIVE"), left < 600 ? .warn : .active)
            case 1: return (g.subjectName, .text)
            case 2: return (g.scope, AccessPolicy.isAdmin(g.scope) ? .high : .text)
            case 3: return (g.state == .active ? Self.countdown(left) : "-", left < 600 ? .warn : .active)
            case 4: return (g.approvers.joined(separator: ","), .text)
            case 5: return (g.id, .muted)
            default:
                if g.actuation == .failed {
                    return ("hook \(g.actuationEvent ?? ""): \(g.actuationDetail ?? "failed") (retrying)", .critical)
                }
                return (g.reason, .muted)
            }
        }
    }

    /// `1h05m`, `12m04s`, `45s`: a countdown that visibly moves.
    static func countdown(_ s: Double) -> String {
        let t = Int(s.rounded(.up))
        if t >= 3600 { return "\(t / 3600)h\(String(format: "%02d", (t % 3600) / 60))m" }
        if t >= 60 { return "\(t / 60)m\(String(format: "%02d", t % 60))s" }
        return "\(t)s"
    }

    func sortValue(_ row: Int, _ column: Int, now: Date) -> SortValue {
        // Keep the natural order (requests oldest first, then grants by expiry) unless another column is chosen.
        if column == 0 { return .number(Double(row)) }
        if column == 3 {
            switch rows[row] {
            case .request(let r): return .number(r.ttlSeconds)
            case .grant(let g): return .number(g.remaining(at: now))
            }
        }
        return .text(cell(row, column, now: now).0.lowercased())
    }
}

/// The Audit panel: newest first.
struct AuditTable: TableModel {
    let entries: [AuditEntry]

    init(view: AccessView) { entries = view.audit.reversed() }

    var columns: [ColumnSpec] {
        [
            ColumnSpec(title: "SEQ", minWidth: 5, maxWidth: 7, priority: 90, alignRight: true),
            ColumnSpec(title: "WHEN", minWidth: 8, maxWidth: 20, priority: 95),
            ColumnSpec(title: "ANALYST", minWidth: 10, maxWidth: 24, priority: 97),
            ColumnSpec(title: "ACTION", minWidth: 8, maxWidth: 8, priority: 100),
            ColumnSpec(title: "SUBJECT", minWidth: 14, maxWidth: 34, priority: 80, weight: 2),
            ColumnSpec(title: "SCOPE", minWidth: 12, maxWidth: 26, priority: 70),
            ColumnSpec(title: "RESULT", minWidth: 10, maxWidth: 40, priority: 85, weight: 2),
            ColumnSpec(title: "REASON", minWidth: 12, maxWidth: 200, priority: 60, weight: 2),
        ]
    }
    var baseCount: Int { entries.count }
    func id(_ row: Int) -> String { String(entries[row].seq) }

    func cell(_ row: Int, _ column: Int, now: Date) -> (String, Role) {
        let e = entries[row]
        switch column {
        case 0: return (String(e.seq), .muted)
        case 1:
            let age = now.timeIntervalSince(e.at)
            return (age < 86_400 ? EntityTable.age(e.at, now: now) + " ago" : AccessStore.when(e.at), .muted)
        case 2: return Self.who(e)
        case 3:
            let role: Role =
                switch e.action {
                case "approve", "grant", "extend": .active
                case "deny", "revoke", "expire", "lapse": .expired
                case "actuate": e.result == "ok" ? .ok : .critical
                default: .pending
                }
            return (e.action, role)
        case 4: return (e.subject, .text)
        case 5: return (e.scope, .text)
        case 6: return (e.result, e.result == "failed" ? .critical : .text)
        default: return (e.reason + (e.detail.isEmpty ? "" : " (\(e.detail))"), .muted)
        }
    }

    func sortValue(_ row: Int, _ column: Int, now: Date) -> SortValue {
        column <= 1 ? .number(Double(entries[row].seq)) : .text(cell(row, column, now: now).0.lowercased())
    }

    func descendingByDefault(_ column: Int) -> Bool { column <= 1 }

    /// Who acted, with the mark first so a narrow column never cuts it off: `(rep) nina.vega` for a name a source
    /// reported, `(system)` for expiry and lapses, `alice@203.0.113.9` for a login. Enter shows the entry whole.
    static func who(_ e: AuditEntry) -> (String, Role) {
        if e.analyst == Analyst.system.user { return ("(system)", .muted) }
        let reported = " (reported)"
        if e.analyst.hasSuffix(reported) { return ("(rep) " + e.analyst.dropLast(reported.count), .muted) }
        return (e.analyst + (e.sshClient.map { "@\($0)" } ?? ""), .text)
    }
}
