import Foundation
import Inventory
import Synchronization

/// A snapshot with everything the UI needs worked out in advance, off the UI thread: the population index, the
/// riskiest entities, which rows are new or changed since the previous snapshot, each population table's default
/// order, and the text its filter searches. Applying one on the UI thread then costs next to nothing.
public struct PreparedSnapshot: Sendable {
    public let snapshot: Snapshot
    let populationIndex: [Population: [Int]]
    let riskiest: [Int]
    let changed: [String: Bool]
    /// Per population panel: rows in the order the UI asked for when this was prepared (the first column unless
    /// the analyst chose another), so applying a refresh never sorts on the UI thread; and the lower-cased row texts.
    let sortedRows: [Panel: (order: SortChoice, rows: [Int])]
    let haystacks: [Panel: Haystacks]
    /// False for the quick first preparation (`overview`), which leaves the tables to the full one that follows.
    let complete: Bool

    /// Just what the Overview needs, for the first snapshot after launch: the dashboard shows it at once and the
    /// full preparation follows a moment later. A table opened before then is sorted when it is opened.
    public static func overview(_ snapshot: Snapshot) -> PreparedSnapshot {
        PreparedSnapshot(
            snapshot: snapshot, populationIndex: AppState.index(snapshot), riskiest: AppState.riskiest(snapshot, count: 60),
            changed: [:], sortedRows: [:], haystacks: [:], complete: false)
    }

    /// Works everything out. `previous` is the snapshot the UI showed before, for change marks.
    public static func prepare(_ snapshot: Snapshot, previous: Snapshot?, now: Date, sorts: [Panel: SortChoice] = [:]) -> PreparedSnapshot {
        let index = AppState.index(snapshot)
        var changed: [String: Bool] = [:]
        if let previous, previous.version != 0 {
            // Both are sorted by id when built by `Snapshot.build`: walk them side by side; otherwise look up.
            let old = previous.entities
            var j = 0
            for a in snapshot.entities {
                let id = a.entity.id
                while j < old.count, old[j].entity.id < id { j += 1 }
                let before: AssessedEntity? = j < old.count && old[j].entity.id == id ? old[j] : previous[id]
                if let before {
                    if before.risk != a.risk || before.entity != a.entity { changed[id] = false }
                } else {
                    changed[id] = true
                }
                if changed.count > 5_000 { break }
            }
        }
        // Each table's order and filter text are independent jobs: run them on every core.
        let panels = Panel.allCases.filter { $0.population != nil }
        let results = Mutex<(rows: [Panel: (order: SortChoice, rows: [Int])], hay: [Panel: Haystacks])>(([:], [:]))
        DispatchQueue.concurrentPerform(iterations: panels.count * 2) { job in
            let panel = panels[job / 2]
            let model = EntityTable(snapshot: snapshot, population: panel.population!, base: index[panel.population!] ?? [])
            if job % 2 == 0 {
                var order = sorts[panel] ?? SortChoice()
                if order.column >= model.columns.count { order = SortChoice() }
                let sorted = model.rows(filter: "", sortColumn: order.column, reversed: order.reversed, now: now)
                results.withLock { $0.rows[panel] = (order, sorted) }
            } else {
                let hay = Haystacks(model, now: now)
                results.withLock { $0.hay[panel] = hay }
            }
        }
        let (rows, hay) = results.withLock { $0 }
        return PreparedSnapshot(
            snapshot: snapshot, populationIndex: index, riskiest: AppState.riskiest(snapshot, count: 60),
            changed: changed, sortedRows: rows, haystacks: hay, complete: true)
    }
}

/// A table's sort: which column, and whether reversed.
public struct SortChoice: Sendable, Hashable {
    public var column = 0
    public var reversed = false
    public init(column: Int = 0, reversed: Bool = false) {
        self.column = column
        self.reversed = reversed
    }
}
