import Access
import Foundation
import Inventory
import Terminal

/// The Access panel: grants this analyst approved in the last few minutes (newest first), so a decision just made is
/// never buried; pending requests (oldest first); then the other grants (active soonest to expire first, then any
/// whose hook failed), with live countdowns. The subject's population and what the inventory says of it now (risk,
/// shadow, exposed secrets, a departed owner) are on every row.
struct AccessTable: TableModel {
    enum Row {
        case request(AccessRequest)
        case grant(Grant)
    }
    let rows: [Row]
    let marked: Set<String>
    let policy: AccessPolicy
    let snapshot: Snapshot
    /// Grants kept on top: this analyst approved them a moment ago (`App.recentWindow`).
    let recent: Set<String>

    init(view: AccessView, marked: Set<String>, policy: AccessPolicy, snapshot: Snapshot = .empty, recent: Set<String> = []) {
        let live = view.grants.filter { $0.state == .active }
        var rows = live.filter { recent.contains($0.id) }.sorted { ($0.startsAt, $0.id) > ($1.startsAt, $1.id) }.map(Row.grant)
        rows += view.pending.sorted { $0.createdAt < $1.createdAt }.map(Row.request)
        let others = live.filter { !recent.contains($0.id) }.sorted { $0.expiresAt < $1.expiresAt }
        let failed = view.grants.filter { $0.state != .active && $0.actuation == .failed }
        rows += (others + failed).map(Row.grant)
        self.rows = rows
        self.marked = marked
        self.policy = policy
        self.snapshot = snapshot
        self.recent = recent
    }

    enum Column: Int, CaseIterable {
        case state, population, subject, scope, ttl, risk, who, id, reason
    }

    var columns: [ColumnSpec] {
        [
            ColumnSpec(title: "STATE", minWidth: 9, maxWidth: 12, priority: 100),
            ColumnSpec(title: "POP", minWidth: 6, maxWidth: 8, priority: 96),
            // Spare width goes first to RISK (what is trusted), then REASON and WHO, so at 160 columns a reason and
            // `agent via USER` still read whole, and at 200 the whole of RISK does.
            ColumnSpec(title: "SUBJECT", minWidth: 14, maxWidth: 34, priority: 99),
            ColumnSpec(title: "SCOPE", minWidth: 12, maxWidth: 30, priority: 98),
            ColumnSpec(title: "TTL/LEFT", minWidth: 8, maxWidth: 9, priority: 97, alignRight: true),
            ColumnSpec(title: "RISK", minWidth: 8, maxWidth: 60, priority: 90, weight: 5),
            ColumnSpec(title: "WHO", minWidth: 10, maxWidth: 20, priority: 70, weight: 2),
            ColumnSpec(title: "ID", minWidth: 14, maxWidth: 14, priority: 40),
            ColumnSpec(title: "REASON", minWidth: 12, maxWidth: 200, priority: 60, weight: 4),
        ]
    }

    var baseCount: Int { rows.count }

    func id(_ row: Int) -> String {
        switch rows[row] {
        case .request(let r): r.id
        case .grant(let g): g.id
        }
    }

    /// A population as the POP column shows it: short, and what `/agent`, `/device`, `/app` or `/svc` filter on.
    static func populationLabel(_ p: Population) -> String {
        switch p {
        case .agent: "agent"
        case .device: "device"
        case .app: "app"
        case .serviceAccount: "svc acct"
        }
    }

    /// What the inventory says of a subject now: `CRIT 91, SHADOW, EXPOSED, nina.vega (left)` (risk, nobody approved it,
    /// a secret exposed, its owner departed; `no owner` when it has none). A subject the inventory no longer has shows
    /// the flags its request recorded when it was filed, if any.
    static func trust(_ a: AssessedEntity?, recorded: [String] = []) -> (String, Role) {
        guard let a else {
            return recorded.isEmpty ? ("not in the inventory", .muted) : ("as filed: " + recorded.joined(separator: ", "), .high)
        }
        let e = a.entity
        let (label, role) = EntityTable.riskLabel(a)
        var parts = [label.split(separator: " ").joined(separator: " ")]
        if e.signals.sanctioned == false { parts.append("SHADOW") }
        let exposed = e.credentials.filter { !$0.exposures.isEmpty }.count
        if exposed > 0 { parts.append(exposed == 1 ? "EXPOSED" : "\(exposed) EXPOSED") }
        if let o = e.owner, o.status == .departed {
            parts.append("\(o.name) (left)")
        } else if e.owner == nil, e.population != .device {
            parts.append("no owner")
        }
        return (parts.joined(separator: ", "), role)
    }

    func cell(_ row: Int, _ column: Int, now: Date) -> (String, Role) {
        let col = Column(rawValue: column) ?? .reason
        switch rows[row] {
        case .request(let r):
            let needed = policy.approvalsNeeded(r.population, scope: r.scope)
            switch col {
            case .state: return (r.approvals.isEmpty ? "PENDING" : "PENDING \(r.approvals.count)/\(needed)", .pending)
            case .population: return (Self.populationLabel(r.population), .text)
            case .subject: return (r.subjectName, .text)
            case .scope: return (r.scope, AccessPolicy.isAdmin(r.scope) ? .high : .text)
            case .ttl: return (DurationText.format(r.ttlSeconds), .text)
            case .risk: return Self.trust(snapshot[r.subject], recorded: r.flags)
            case .who: return (r.askedByAgent ? "agent via \(r.requester)" : r.requester, r.askedByAgent ? .warn : .text)
            case .id: return (r.id, .muted)
            case .reason:
                // What is being trusted is in RISK, before the reason: live from the inventory, else as filed.
                return ("waiting \(EntityTable.age(r.createdAt, now: now)): \(r.reason)" + (r.ticket.map { " [\($0)]" } ?? ""), .muted)
            }
        case .grant(let g):
            let left = g.remaining(at: now)
            switch col {
            case .state:
                let mark = marked.contains(g.id) ? "[x] " : ""
                if g.actuation == .failed { return (mark + "HOOK FAILED", .critical) }
                if g.state != .active { return (mark + g.state.rawValue.uppercased(), .expired) }
                if left < 600 { return (mark + "EXPIRING", .warn) }
                return (mark + (recent.contains(g.id) ? "APPROVED" : "ACTIVE"), .active)
            case .population: return (Self.populationLabel(g.population), .text)
            case .subject: return (g.subjectName, .text)
            case .scope: return (g.scope, AccessPolicy.isAdmin(g.scope) ? .high : .text)
            case .ttl: return (g.state == .active ? Self.countdown(left) : "-", left < 600 ? .warn : .active)
            case .risk: return Self.trust(snapshot[g.subject])
            case .who: return (g.approvers.joined(separator: ","), .text)
            case .id: return (g.id, .muted)
            case .reason:
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

    func descendingByDefault(_ column: Int) -> Bool { column == Column.risk.rawValue }

    func sortValue(_ row: Int, _ column: Int, now: Date) -> SortValue {
        // Keep the natural order (just approved, requests oldest first, then grants by expiry) unless another column is
        // chosen.
        switch Column(rawValue: column) {
        case .state?: return .number(Double(row))
        case .ttl?:
            switch rows[row] {
            case .request(let r): return .number(r.ttlSeconds)
            case .grant(let g): return .number(g.remaining(at: now))
            }
        case .risk?:
            let subject: String =
                switch rows[row] {
                case .request(let r): r.subject
                case .grant(let g): g.subject
                }
            return .number(Double(snapshot[subject]?.risk ?? -1))
        default: return .text(cell(row, column, now: now).0.lowercased())
        }
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
