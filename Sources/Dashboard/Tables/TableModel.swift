import Foundation
import Inventory
import Terminal

/// A column of a table: its title, how wide it may be, and how important it is when space is short.
struct ColumnSpec: Sendable {
    var title: String
    var minWidth: Int
    var maxWidth: Int
    /// Columns with lower priority are dropped first on narrow terminals.
    var priority: Int
    var alignRight = false
    /// Share of spare width this column takes when it can grow.
    var weight = 1
}

/// How a column sorts.
enum SortValue: Comparable, Sendable {
    case number(Double)
    case text(String)
}

/// Rows and columns a table panel shows. The base list is fixed per snapshot; filters and sorts pick indices.
protocol TableModel {
    var columns: [ColumnSpec] { get }
    var baseCount: Int { get }
    func id(_ row: Int) -> String
    /// The cell's text (unsanitised: the screen buffer sanitises) and role.
    func cell(_ row: Int, _ column: Int, now: Date) -> (String, Role)
    func sortValue(_ row: Int, _ column: Int, now: Date) -> SortValue
    /// Whether the natural order of the column is descending (risk, counts).
    func descendingByDefault(_ column: Int) -> Bool
    /// True when base rows are already in id order, so ties break on the row number instead of comparing ids.
    var baseInIDOrder: Bool { get }
    /// The base row of an id, if the table has it.
    func row(forID id: String) -> Int?
}

extension TableModel {
    func descendingByDefault(_ column: Int) -> Bool { false }
    var baseInIDOrder: Bool { false }
    func row(forID id: String) -> Int? { (0..<baseCount).first { self.id($0) == id } }

    /// The lower-cased text of every column of a row, for filtering.
    func haystack(_ row: Int, now: Date) -> String {
        (0..<columns.count).map { cell(row, $0, now: now).0 }.joined(separator: "\u{1}").lowercased()
    }

    /// The rows to show: filtered (case-insensitive substring, `!` negates), then sorted, ties by id.
    func rows(filter: String, sortColumn: Int, reversed: Bool, now: Date) -> [Int] {
        var rows = Array(0..<baseCount)
        let f = filter.trimmingCharacters(in: .whitespaces).lowercased()
        if !f.isEmpty {
            let negate = f.hasPrefix("!")
            let needle = negate ? String(f.dropFirst()) : f
            if !needle.isEmpty {
                rows = rows.filter { haystack($0, now: now).contains(needle) != negate }
            }
        }
        let col = min(max(0, sortColumn), columns.count - 1)
        let descending = descendingByDefault(col) != reversed
        let keys = rows.map { sortValue($0, col, now: now) }
        var order = Array(rows.indices)
        if baseInIDOrder {
            order.sort { a, b in
                if keys[a] != keys[b] { return descending ? keys[a] > keys[b] : keys[a] < keys[b] }
                return rows[a] < rows[b]
            }
        } else {
            order.sort { a, b in
                if keys[a] != keys[b] { return descending ? keys[a] > keys[b] : keys[a] < keys[b] }
                return id(rows[a]) < id(rows[b])
            }
        }
        return order.map { rows[$0] }
    }
}

/// Fits columns into a width: drops the least important until the minimums fit, then shares out the rest.
func layoutColumns(_ specs: [ColumnSpec], width: Int, gap: Int = 1) -> [(index: Int, width: Int)] {
    var specs = specs
    for i in specs.indices { specs[i].minWidth = max(specs[i].minWidth, specs[i].title.count + 1) }
    var chosen = Array(specs.indices)
    func needed(_ set: [Int]) -> Int { set.reduce(0) { $0 + specs[$1].minWidth } + max(0, set.count - 1) * gap }
    while chosen.count > 1, needed(chosen) > width {
        let drop = chosen.min { specs[$0].priority < specs[$1].priority }!
        chosen.removeAll { $0 == drop }
    }
    var widths = Dictionary(uniqueKeysWithValues: chosen.map { ($0, specs[$0].minWidth) })
    var spare = width - needed(chosen)
    // Share the spare width among columns that can grow, a column at a time so none starves.
    while spare > 0 {
        let growable = chosen.filter { widths[$0]! < specs[$0].maxWidth }
        if growable.isEmpty { break }
        for i in growable where spare > 0 {
            let step = min(spare, specs[i].weight, specs[i].maxWidth - widths[i]!)
            widths[i]! += step
            spare -= step
        }
    }
    if spare > 0, let last = chosen.last { widths[last]! += spare }
    if let first = chosen.first, needed(chosen) > width { widths[first] = max(1, width) }
    return chosen.map { ($0, widths[$0]!) }
}
