import Foundation
import Inventory
import Terminal

/// CSV (RFC 4180) for spreadsheets. Cells are sanitised, and cells a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@` first) are prefixed with `'`.
public enum CSVExport {
    public static func cell(_ value: String) -> String {
        var v = SafeText.sanitize(value)
        if let first = v.first, "=+-@".contains(first) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    public static func line(_ cells: [String]) -> String { cells.map(cell).joined(separator: ",") + "\r\n" }

    public static let entityColumns = [
        "id", "population", "kind", "name", "owner", "owner_status", "environment", "coverage", "unmanaged",
        "risk", "worst_severity", "rules", "privileges", "credentials", "last_used_at",
    ]

    public static func row(_ a: AssessedEntity) -> [String] {
        let e = a.entity
        let iso = Date.ISO8601FormatStyle()
        return [
            e.id, e.population.rawValue, e.kind, e.name, e.owner?.name ?? "", e.owner?.status.rawValue ?? "",
            e.environment ?? "", e.coverage.sorted().map(\.rawValue).joined(separator: ";"), e.unmanaged ? "true" : "false",
            "\(a.risk)", a.worst?.rawValue ?? "", a.findings.map(\.rule).joined(separator: ";"),
            e.privileges.map { "\($0.scope)=\($0.level.rawValue)" }.joined(separator: ";"),
            "\(e.credentials.count)", e.lastUsedAt.map { $0.formatted(iso) } ?? "",
        ]
    }

    public static func entities(_ items: some Sequence<AssessedEntity>) -> String {
        var out = line(entityColumns)
        for a in items { out += line(row(a)) }
        return out
    }
}
