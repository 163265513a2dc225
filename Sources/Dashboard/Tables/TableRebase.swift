import Foundation
import Inventory

/// How a population table's base rows moved from one snapshot to the next, when the next was updated from the first
/// (`Snapshot.change`): where each row that stayed the same went, and which rows are new or changed. What lets a
/// refresh carry the table's sorted orders and filter text across at the cost of what changed (plus a pass over
/// plain integers), instead of sorting and lower-casing every row again.
struct TableRebase: Sendable {
    /// The snapshot version the old rows belong to.
    let fromVersion: Int
    /// The new base row of each old base row; -1 where the entity went or changed.
    let oldToNew: [Int32]
    /// The old base row of each new base row; -1 for the new and changed (`dirty`).
    let newToOld: [Int32]
    /// New base rows to place afresh, ascending.
    let dirty: [Int]

    /// Matches the rows of one population between two snapshots, given where the entities that went or changed were
    /// (`goneAt`, positions in the old snapshot's entities) and where the new and changed are (`dirtyAt`, in the new
    /// one's); nil when they don't line up (which a correct change never gives: the caller then works it out in full).
    init?(fromVersion: Int, oldBase: [Int], newBase: [Int], goneAt: [Int], dirtyAt: [Int]) {
        func rows(_ positions: [Int], base: [Int]) -> [Int] {
            positions.compactMap { at in
                let row = base.lowerBound { $0 < at }
                return row < base.count && base[row] == at ? row : nil
            }
        }
        let gone = Set(rows(goneAt, base: oldBase))
        let dirty = rows(dirtyAt, base: newBase).sorted()
        guard oldBase.count - gone.count == newBase.count - dirty.count else { return nil }
        var oldToNew = [Int32](repeating: -1, count: oldBase.count)
        var newToOld = [Int32](repeating: -1, count: newBase.count)
        // What stayed is in the same (id) order in both: pair them up in one walk.
        var (i, j, d) = (0, 0, 0)
        while i < oldBase.count {
            if gone.contains(i) {
                i += 1
                continue
            }
            while d < dirty.count, dirty[d] == j {
                d += 1
                j += 1
            }
            oldToNew[i] = Int32(j)
            newToOld[j] = Int32(i)
            i += 1
            j += 1
        }
        self.fromVersion = fromVersion
        self.oldToNew = oldToNew
        self.newToOld = newToOld
        self.dirty = dirty
    }

    /// A sorted order of the old table carried to the new one (`model`): the rows that stayed, in their order, with
    /// the new and changed placed by binary search. Equal to sorting the new table afresh by the same column.
    func apply(_ sorted: [Int], model: some TableModel & Sendable, column: Int, reversed: Bool, now: Date) -> [Int] {
        var kept: [Int] = []
        kept.reserveCapacity(model.baseCount)
        for r in sorted where oldToNew[r] >= 0 { kept.append(Int(oldToNew[r])) }
        guard !dirty.isEmpty else { return kept }
        let col = min(max(0, column), model.columns.count - 1)
        let descending = model.descendingByDefault(col) != reversed
        let byRow = model.baseInIDOrder
        // The same order as `TableModel.rows`: by the column's value, ties by row (id order) or id.
        @Sendable func before(_ a: Int, _ ka: SortValue, _ b: Int, _ kb: SortValue) -> Bool {
            if ka != kb { return descending ? ka > kb : ka < kb }
            return byRow ? a < b : model.id(a) < model.id(b)
        }
        let dirty = self.dirty
        let placed = parallelChunks(dirty.count, serialBelow: 128) { [kept] range in
            range.map { k in
                let key = model.sortValue(dirty[k], col, now: now)
                return (row: dirty[k], key: key, at: kept.lowerBound { before($0, model.sortValue($0, col, now: now), dirty[k], key) })
            }
        }.sorted { $0.at != $1.at ? $0.at < $1.at : before($0.row, $0.key, $1.row, $1.key) }
        return parallelSplice(kept, edits: placed.map { (at: $0.at, replacing: false, new: $0.row) })
    }

    /// The filter text carried to the new table: the rows that stayed copied as they were, the new and changed made.
    func apply(_ old: Haystacks, model: some TableModel, now: Date) -> Haystacks {
        var out = Haystacks()
        out.ends.reserveCapacity(newToOld.count)
        out.bytes.reserveCapacity(old.bytes.count + dirty.count * 64)
        var j = 0
        while j < newToOld.count {
            let o = Int(newToOld[j])
            if o < 0 {
                out.bytes.append(contentsOf: model.haystack(j, now: now).utf8)
                out.ends.append(Int32(clamping: out.bytes.count))
                j += 1
                continue
            }
            // A run of rows that stayed together: one copy.
            var n = 1
            while j + n < newToOld.count, newToOld[j + n] == Int32(o + n) { n += 1 }
            let start = o == 0 ? 0 : Int(old.ends[o - 1])
            let end = Int(old.ends[o + n - 1])
            let shift = out.bytes.count - start
            out.bytes.append(contentsOf: old.bytes[start..<end])
            for r in o..<(o + n) { out.ends.append(Int32(clamping: Int(old.ends[r]) + shift)) }
            j += n
        }
        return out
    }
}

extension SortOrders {
    /// Every column's order carried to the new table (see `TableRebase.apply`).
    func rebased(_ rebase: TableRebase, version: Int64, model: EntityTable, now: Date) -> SortOrders {
        var byColumn: [Int: [Int]] = [:]
        for (c, rows) in self.byColumn { byColumn[c] = rebase.apply(rows, model: model, column: c, reversed: false, now: now) }
        return SortOrders(panel: panel, version: version, byColumn: byColumn)
    }
}
