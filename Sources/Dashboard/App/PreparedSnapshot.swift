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
    /// Per population panel, how its rows moved from the previous preparation's, when this one was worked out from it
    /// (`update`): what the UI carries its other caches across with.
    var rebases: [Panel: TableRebase] = [:]

    init(
        snapshot: Snapshot, populationIndex: [Population: [Int]], riskiest: [Int], changed: [String: Bool],
        sortedRows: [Panel: (order: SortChoice, rows: [Int])], haystacks: [Panel: Haystacks], complete: Bool
    ) {
        self.snapshot = snapshot
        self.populationIndex = populationIndex
        self.riskiest = riskiest
        self.changed = changed
        self.sortedRows = sortedRows
        self.haystacks = haystacks
        self.complete = complete
    }

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
                    if before.risk != a.risk || before.entity != a.entity || before.findings != a.findings { changed[id] = false }
                } else {
                    changed[id] = true
                }
                if changed.count > 5_000 { break }
            }
        }
        // Each table's order and filter text are independent jobs: run them on every core.
        let panels = Panel.allCases.filter { $0.population != nil }
        let results = Mutex<(rows: [Panel: (order: SortChoice, rows: [Int])], hay: [Panel: Haystacks])>(([:], [:]))
        // (A small inventory on this thread: handing out the jobs would cost more than they take.)
        concurrentPerform(panels.count * 2, serial: snapshot.entities.count < 20_000) { job in
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

extension PreparedSnapshot {
    /// The preparation of `snapshot` worked out from `previous`'s by difference, when `snapshot` was updated from
    /// `previous.snapshot` (`Snapshot.change`): the population index shifted, change marks from the change, each
    /// table's order and filter text carried across with only the new and changed rows placed and made, the riskiest
    /// merged. Costs what changed plus passes over plain integers; nil when it can't (the caller prepares in full).
    /// Equal to `prepare(snapshot, ...)` at the same `now`, except that rows that did not change keep the filter text
    /// of `previous` (their ages as they were then).
    public static func update(_ previous: PreparedSnapshot, to snapshot: Snapshot, now: Date, sorts: [Panel: SortChoice] = [:])
        -> PreparedSnapshot?
    {
        guard previous.complete, let change = snapshot.change, change.base == previous.snapshot.version, snapshot.isSortedByID,
            previous.snapshot.isSortedByID
        else { return nil }
        let old = previous.snapshot
        let index =
            change.added.isEmpty && change.removed.isEmpty
                && change.updated.allSatisfy({ old[$0]?.entity.population == snapshot[$0]?.entity.population })
            ? previous.populationIndex : AppState.index(snapshot)
        var changed: [String: Bool] = [:]
        for id in change.updated.prefix(5_000) { changed[id] = false }
        for id in change.added.prefix(5_000 - changed.count) { changed[id] = true }
        let panels = Panel.allCases.filter { $0.population != nil }
        var rows: [Panel: (order: SortChoice, rows: [Int])] = [:]
        var hay: [Panel: Haystacks] = [:]
        var rebases: [Panel: TableRebase] = [:]
        // Where what went or changed was, and where the new and changed are, with their populations: one binary
        // search each (on every core when there are many).
        func locate(_ ids: [String], in s: Snapshot) -> [(at: Int, population: Population)] {
            parallelChunks(ids.count, serialBelow: 256) { range in
                range.compactMap { k in s.position(of: ids[k]).map { ($0, s.entities[$0].entity.population) } }
            }
        }
        let goneAt = locate(change.updated + change.removed, in: old)
        let dirtyAt = locate(change.updated + change.added, in: snapshot)
        for panel in panels {
            let p = panel.population!
            let model = EntityTable(snapshot: snapshot, population: p, base: index[p] ?? [])
            guard
                let rebase = TableRebase(
                    fromVersion: old.version, oldBase: previous.populationIndex[p] ?? [], newBase: model.base,
                    goneAt: goneAt.filter { $0.population == p }.map(\.at), dirtyAt: dirtyAt.filter { $0.population == p }.map(\.at)),
                let before = previous.sortedRows[panel], let oldHay = previous.haystacks[panel]
            else { return nil }
            var order = sorts[panel] ?? SortChoice()
            if order.column >= model.columns.count { order = SortChoice() }
            rows[panel] =
                order == before.order
                ? (order, rebase.apply(before.rows, model: model, column: order.column, reversed: order.reversed, now: now))
                : (order, model.rows(filter: "", sortColumn: order.column, reversed: order.reversed, now: now))
            hay[panel] = rebase.apply(oldHay, model: model, now: now)
            rebases[panel] = rebase
        }
        var out = PreparedSnapshot(
            snapshot: snapshot, populationIndex: index, riskiest: riskiest(previous, snapshot, change: change, count: 60), changed: changed,
            sortedRows: rows, haystacks: hay, complete: true)
        out.rebases = rebases
        return out
    }

    /// The riskiest, from the previous ones and what changed; counted again only when one of the previous ones went or
    /// changed while the list was full (the next in line could be anywhere).
    static func riskiest(_ previous: PreparedSnapshot, _ s: Snapshot, change: SnapshotChange, count: Int) -> [Int] {
        let old = previous.snapshot
        let moved = Set(change.updated + change.removed)
        let kept = previous.riskiest.map { old.entities[$0].id }.filter { !moved.contains($0) }
        if kept.count < previous.riskiest.count, previous.riskiest.count == count { return AppState.riskiest(s, count: count) }
        let candidates = (kept + change.updated + change.added).compactMap(s.position(of:)).filter { s.entities[$0].risk > 0 }
        let sorted = candidates.sorted { a, b in
            let (ea, eb) = (s.entities[a], s.entities[b])
            return ea.risk != eb.risk ? ea.risk > eb.risk : ea.id < eb.id
        }
        return Array(sorted.prefix(count))
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
