import Foundation
import Inventory
import Terminal

/// Pending access requests, oldest first.
struct RequestTable: TableModel {
    let requests: [RequestProposal]
    let snapshot: Snapshot

    var columns: [ColumnSpec] {
        [
            ColumnSpec(title: "WAITING", minWidth: 7, maxWidth: 8, priority: 90, alignRight: true),
            ColumnSpec(title: "SUBJECT", minWidth: 16, maxWidth: 34, priority: 100),
            ColumnSpec(title: "SCOPE", minWidth: 14, maxWidth: 30, priority: 95),
            ColumnSpec(title: "TTL", minWidth: 5, maxWidth: 6, priority: 92, alignRight: true),
            ColumnSpec(title: "REQUESTER", minWidth: 10, maxWidth: 20, priority: 70),
            ColumnSpec(title: "TICKET", minWidth: 8, maxWidth: 10, priority: 40),
            ColumnSpec(title: "REASON", minWidth: 12, maxWidth: 200, priority: 60),
        ]
    }
    var baseCount: Int { requests.count }
    func id(_ row: Int) -> String { requests[row].key }

    func cell(_ row: Int, _ column: Int, now: Date) -> (String, Role) {
        let r = requests[row]
        switch column {
        case 0: return (EntityTable.age(r.createdAt, now: now), .pending)
        case 1: return (snapshot[r.subject]?.entity.name ?? r.subject, .text)
        case 2: return (r.scope, r.scope.contains("admin") ? .high : .text)
        case 3: return (DurationText.format(r.ttlSeconds), .text)
        case 4: return (r.requester, .text)
        case 5: return (r.ticket ?? "-", .muted)
        default: return (r.reason, .muted)
        }
    }

    func sortValue(_ row: Int, _ column: Int, now: Date) -> SortValue {
        switch column {
        case 0: .number(now.timeIntervalSince(requests[row].createdAt))
        case 3: .number(requests[row].ttlSeconds)
        default: .text(cell(row, column, now: now).0.lowercased())
        }
    }

    func descendingByDefault(_ column: Int) -> Bool { column == 0 }
}

/// Collector health.
struct CollectorTable: TableModel {
    let health: [CollectorHealth]

    var columns: [ColumnSpec] {
        [
            ColumnSpec(title: "STATE", minWidth: 7, maxWidth: 7, priority: 100),
            ColumnSpec(title: "NAME", minWidth: 12, maxWidth: 24, priority: 99),
            ColumnSpec(title: "TYPE", minWidth: 6, maxWidth: 12, priority: 80),
            ColumnSpec(title: "ENTITIES", minWidth: 8, maxWidth: 9, priority: 90, alignRight: true),
            ColumnSpec(title: "LAST RUN", minWidth: 8, maxWidth: 9, priority: 85, alignRight: true),
            ColumnSpec(title: "TOOK", minWidth: 6, maxWidth: 7, priority: 60, alignRight: true),
            ColumnSpec(title: "EVERY", minWidth: 5, maxWidth: 6, priority: 50, alignRight: true),
            ColumnSpec(title: "PROBLEM", minWidth: 12, maxWidth: 300, priority: 95),
        ]
    }
    var baseCount: Int { health.count }
    func id(_ row: Int) -> String { health[row].name }

    static func stateRole(_ s: CollectorHealth.State) -> Role {
        switch s {
        case .ok: .ok
        case .pending: .muted
        case .stale: .warn
        case .failed: .critical
        }
    }

    func cell(_ row: Int, _ column: Int, now: Date) -> (String, Role) {
        let h = health[row]
        switch column {
        case 0: return (h.state.rawValue.uppercased(), Self.stateRole(h.state))
        case 1: return (h.name, .text)
        case 2: return (h.type, .muted)
        case 3: return ("\(h.entityCount)", .text)
        case 4: return (h.lastRun.map { EntityTable.age($0, now: now) + " ago" } ?? "never", .text)
        case 5: return (h.duration.map { String(format: "%.2fs", $0) } ?? "-", .muted)
        case 6: return (DurationText.format(h.intervalSeconds), .muted)
        default:
            if let e = h.lastError { return (e, .critical) }
            if !h.warnings.isEmpty { return ("\(h.warnings.count) record(s) skipped; first: \(h.warnings[0])", .warn) }
            return ("", .muted)
        }
    }

    func sortValue(_ row: Int, _ column: Int, now: Date) -> SortValue {
        switch column {
        case 3: .number(Double(health[row].entityCount))
        default: .text(cell(row, column, now: now).0.lowercased())
        }
    }
}

/// The audit log (filled by the access workflow).
struct EmptyTable: TableModel {
    let titles: [String]
    var columns: [ColumnSpec] { titles.map { ColumnSpec(title: $0, minWidth: 8, maxWidth: 40, priority: 50) } }
    var baseCount: Int { 0 }
    func id(_ row: Int) -> String { "" }
    func cell(_ row: Int, _ column: Int, now: Date) -> (String, Role) { ("", .text) }
    func sortValue(_ row: Int, _ column: Int, now: Date) -> SortValue { .text("") }
}
