import Foundation
import Inventory
import Terminal

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
