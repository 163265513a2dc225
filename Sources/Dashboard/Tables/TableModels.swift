import Inventory

enum TableModels {
    /// The table a panel shows, built from the state (cheap: no rows are computed here).
    static func model(for panel: Panel, state s: AppState) -> any TableModel {
        if let p = panel.population {
            return EntityTable(snapshot: s.snapshot, population: p, base: s.populationIndex[p] ?? [])
        }
        switch panel {
        case .access: return RequestTable(requests: s.snapshot.requests, snapshot: s.snapshot)
        case .collectors: return CollectorTable(health: s.snapshot.collectors)
        default: return EmptyTable(titles: ["WHEN", "ANALYST", "ACTION", "SUBJECT", "SCOPE", "RESULT"])
        }
    }
}
