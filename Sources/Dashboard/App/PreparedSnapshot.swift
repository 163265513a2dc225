import Foundation
import Inventory

/// A snapshot with everything the UI needs worked out in advance, off the UI thread: the population index, the
/// riskiest entities, which rows are new or changed since the previous snapshot, each population table's default
/// order, and the text its filter searches. Applying one on the UI thread then costs next to nothing.
public struct PreparedSnapshot: Sendable {
    public let snapshot: Snapshot
    let populationIndex: [Population: [Int]]
    let riskiest: [Int]
    let changed: [String: Bool]
    /// Per population panel: rows in the default order (the first column), and the lower-cased row texts.
    let defaultRows: [Panel: [Int]]
    let haystacks: [Panel: [[UInt8]]]

    /// Works everything out. `previous` is the snapshot the UI showed before, for change marks.
    public static func prepare(_ snapshot: Snapshot, previous: Snapshot?, now: Date) -> PreparedSnapshot {
        let index = AppState.index(snapshot)
        var changed: [String: Bool] = [:]
        if let previous, previous.version != 0 {
            for a in snapshot.entities {
                if let old = previous[a.id] {
                    if old.entity != a.entity || old.risk != a.risk { changed[a.id] = false }
                } else {
                    changed[a.id] = true
                }
                if changed.count > 5_000 { break }
            }
        }
        var rows: [Panel: [Int]] = [:]
        var hay: [Panel: [[UInt8]]] = [:]
        for panel in Panel.allCases {
            guard let p = panel.population else { continue }
            let model = EntityTable(snapshot: snapshot, population: p, base: index[p] ?? [])
            rows[panel] = model.rows(filter: "", sortColumn: 0, reversed: false, now: now)
            hay[panel] = (0..<model.baseCount).map { Array(model.haystack($0, now: now).utf8) }
        }
        return PreparedSnapshot(snapshot: snapshot, populationIndex: index, riskiest: AppState.riskiest(snapshot, count: 60),
                                changed: changed, defaultRows: rows, haystacks: hay)
    }
}
