import Foundation
import Inventory
import Synchronization

/// What a table's rows cost to work out once per data version, kept so keystrokes don't pay for it again:
/// the full sorted order per sort column, the lower-cased text of every row for filtering, and the last filter's
/// result, which a longer query refines instead of starting over.
final class TableCache {
    struct Sorted {
        let version: Int64
        let column: Int
        let reversed: Bool
        let rows: [Int]
    }
    struct Filtered {
        let version: Int64
        let column: Int
        let reversed: Bool
        let needle: [UInt8]
        let negate: Bool
        let rows: [Int]
    }
    var sorted: [Panel: Sorted] = [:]
    /// Every column's ascending order, worked out in the background once a table is shown.
    var orders: [Panel: SortOrders] = [:]
    var haystacks: [Panel: (version: Int64, values: Haystacks)] = [:]
    var filtered: [Panel: Filtered] = [:]
    /// Tables with fewer candidate rows than this are filtered on the calling thread.
    var parallelFilterBelow = 50_000

    /// The rows to show: the cached sort order, filtered (case-insensitive substring over every column,
    /// `!` negates), refining the previous result when the query only grew.
    func rows(_ model: any TableModel, panel: Panel, version: Int64, filter: String, column: Int, reversed: Bool, now: Date) -> [Int] {
        let all: [Int]
        if let s = sorted[panel], s.version == version, s.column == column, s.reversed == reversed {
            all = s.rows
        } else if !reversed, let o = orders[panel], o.version == version, let rows = o.byColumn[column] {
            all = rows
            sorted[panel] = Sorted(version: version, column: column, reversed: reversed, rows: all)
            filtered[panel] = nil
        } else {
            all = model.rows(filter: "", sortColumn: column, reversed: reversed, now: now)
            sorted[panel] = Sorted(version: version, column: column, reversed: reversed, rows: all)
            filtered[panel] = nil
        }
        let f = filter.trimmingCharacters(in: .whitespaces).lowercased()
        let negate = f.hasPrefix("!")
        let needle = Array((negate ? String(f.dropFirst()) : f).utf8)
        guard !needle.isEmpty else { return all }
        let hay = haystack(model, panel: panel, version: version, now: now)
        var candidates = all
        if let last = filtered[panel], last.version == version, last.column == column, last.reversed == reversed,
            !negate, !last.negate, needle.starts(with: last.needle)
        {
            candidates = last.rows // a longer query can only match a subset, already in order
        }
        // Large tables are searched on every core (in order: chunks are joined as they were).
        let rowsToSearch = candidates
        let result: [Int] = parallelChunks(rowsToSearch.count, serialBelow: parallelFilterBelow) { range in
            rowsToSearch[range].filter { hay.contains(row: $0, needle) != negate }
        }
        filtered[panel] = Filtered(version: version, column: column, reversed: reversed, needle: needle, negate: negate, rows: result)
        return result
    }

    func haystack(_ model: any TableModel, panel: Panel, version: Int64, now: Date) -> Haystacks {
        if let h = haystacks[panel], h.version == version { return h.values }
        let values = Haystacks(model, now: now)
        haystacks[panel] = (version, values)
        return values
    }
}

/// The lower-cased text of every row of a table, for filtering, in one buffer: row `i` is
/// `bytes[ends[i-1]..<ends[i]]`. One allocation per table instead of one per row (~50 bytes a row saved, and a
/// filter reads memory in order).
public struct Haystacks: Sendable {
    var bytes: [UInt8] = []
    var ends: [Int32] = []

    init() {}

    init(_ model: any TableModel, now: Date) {
        ends.reserveCapacity(model.baseCount)
        bytes.reserveCapacity(model.baseCount * 64)
        for row in 0..<model.baseCount {
            bytes.append(contentsOf: model.haystack(row, now: now).utf8)
            ends.append(Int32(clamping: bytes.count))
        }
    }

    var count: Int { ends.count }

    /// True when row `row`'s text contains `needle` (a plain byte search; both are lower-cased).
    func contains(row: Int, _ needle: [UInt8]) -> Bool {
        let start = row == 0 ? 0 : Int(ends[row - 1])
        let end = Int(ends[row])
        let n = needle.count
        guard n > 0 else { return true }
        guard n <= end - start else { return false }
        return bytes.withUnsafeBufferPointer { hp in
            needle.withUnsafeBufferPointer { np in
                let first = np[0]
                var i = start
                while i <= end - n {
                    if hp[i] == first {
                        var j = 1
                        while j < n, hp[i + j] == np[j] { j += 1 }
                        if j == n { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }
}

/// Each column's order for one table and data version, computed off the UI thread.
public struct SortOrders: Sendable {
    let panel: Panel
    let version: Int64
    let byColumn: [Int: [Int]]

    /// Sorts a population table by every column. Run it in the background.
    static func compute(panel: Panel, version: Int64, snapshot: Snapshot, population: Population, base: [Int], now: Date) -> SortOrders {
        let model = EntityTable(snapshot: snapshot, population: population, base: base)
        // One column per core at a time.
        let byColumn = Mutex<[Int: [Int]]>([:])
        concurrentPerform(model.columns.count, serial: base.count < 20_000) { c in
            let rows = model.rows(filter: "", sortColumn: c, reversed: false, now: now)
            byColumn.withLock { $0[c] = rows }
        }
        return SortOrders(panel: panel, version: version, byColumn: byColumn.withLock { $0 })
    }
}
