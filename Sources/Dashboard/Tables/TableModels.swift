import Access
import Inventory

enum TableModels {
    /// The table a panel shows, built from the state (cheap: no rows are computed here).
    static func model(for panel: Panel, state s: AppState) -> any TableModel {
        if let p = panel.population {
            return EntityTable(snapshot: s.snapshot, population: p, base: s.populationIndex[p] ?? [])
        }
        switch panel {
        case .access:
            return AccessTable(view: s.access, marked: s.marked, policy: s.policy, snapshot: s.snapshot, recent: s.recentGrants)
        case .audit: return AuditTable(view: s.access)
        default: return CollectorTable(health: s.snapshot.collectors)
        }
    }
}
