import Foundation
import Inventory
import Terminal

/// The headless, plain-text view of a snapshot (`trustgap snapshot --format table`): the gap per population,
/// the riskiest entities, and collector health. Every collector string is sanitised; ASCII only when asked.
public struct SnapshotText {
    public var snapshot: Snapshot
    public var width: Int
    public var ascii: Bool
    public var topCount: Int

    public init(snapshot: Snapshot, width: Int = 100, ascii: Bool = false, topCount: Int = 10) {
        self.snapshot = snapshot
        self.width = max(60, width)
        self.ascii = ascii
        self.topCount = topCount
    }

    func clean(_ s: String) -> String {
        let safe = SafeText.sanitize(s)
        return ascii ? SafeText.ascii(safe) : safe
    }

    func cell(_ s: String, _ w: Int, right: Bool = false) -> String {
        SafeText.fit(s, to: w, ellipsis: ascii ? "~" : "…", alignRight: right)
    }

    static func stamp(_ d: Date) -> String {
        let f = Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().dateTimeSeparator(.space).time(
            includingFractionalSeconds: false)
        return d.formatted(f) + " UTC"
    }

    public func render() -> String {
        var lines: [String] = []
        let s = snapshot
        let all = s.totalGap
        lines.append("trustgap: the access-trust gap at \(Self.stamp(s.generatedAt)) (\(all.total) entities, snapshot v\(s.version))")
        lines.append("")
        func pct(_ n: Int, _ of: Int) -> String { "\(n) (\(GapFigures.percent(n, of: of))%)" }
        let header =
            cell("POPULATION", 17) + cell("TOTAL", 8, right: true) + cell("UNMANAGED", 14, right: true)
            + cell("UNOWNED", 13, right: true) + cell("OVERPRIV", 14, right: true) + cell("LONG-LIVED", 13, right: true)
            + cell("STALE", 12, right: true) + cell("CRIT", 6, right: true) + cell("HIGH", 6, right: true)
        lines.append(header)
        func row(_ name: String, _ g: GapFigures) -> String {
            cell(name, 17) + cell("\(g.total)", 8, right: true) + cell(pct(g.unmanaged, g.total), 14, right: true)
                + cell(pct(g.unowned, g.total), 13, right: true) + cell(pct(g.overprivileged, g.total), 14, right: true)
                + cell(pct(g.longLivedSecrets, g.total), 13, right: true) + cell(pct(g.stale, g.total), 12, right: true)
                + cell("\(g.findings[.critical, default: 0])", 6, right: true) + cell("\(g.findings[.high, default: 0])", 6, right: true)
        }
        for p in Population.allCases { lines.append(row(p.title, s.gap[p] ?? GapFigures())) }
        lines.append(row("All", all))
        lines.append("")

        let top = s.entities.filter { $0.risk > 0 }.sorted { ($0.risk, $1.id) > ($1.risk, $0.id) }.prefix(topCount)
        if !top.isEmpty {
            lines.append("RISKIEST ENTITIES")
            let nameW = 30
            let findingW = max(20, width - 5 - 1 - 16 - 1 - nameW - 1)
            lines.append(
                cell("RISK", 5, right: true) + " " + cell("POPULATION", 16) + " " + cell("NAME", nameW) + " "
                    + cell("TOP FINDING", findingW))
            for a in top {
                let f = a.findings.first.map { "\($0.rule) \($0.severity.rawValue): \(clean($0.evidence))" } ?? ""
                lines.append(
                    cell("\(a.risk)", 5, right: true) + " " + cell(a.entity.population.rawValue, 16) + " "
                        + cell(clean(a.entity.name), nameW) + " " + cell(f, findingW))
            }
            lines.append("")
        }

        if !s.collectors.isEmpty {
            lines.append("COLLECTORS")
            lines.append(
                cell("NAME", 16) + " " + cell("TYPE", 12) + " " + cell("STATE", 8) + " " + cell("ENTITIES", 9, right: true) + " "
                    + cell("TOOK", 8, right: true) + "  PROBLEM")
            for c in s.collectors {
                let took = c.duration.map { String(format: "%.2fs", $0) } ?? "-"
                let problem = c.lastError ?? (c.warnings.isEmpty ? "" : "\(c.warnings.count) record(s) skipped, first: \(c.warnings[0])")
                lines.append(
                    cell(clean(c.name), 16) + " " + cell(c.type, 12) + " " + cell(c.state.rawValue, 8) + " "
                        + cell("\(c.entityCount)", 9, right: true) + " " + cell(took, 8, right: true) + "  "
                        + SafeText.truncate(clean(problem), to: max(10, width - 58), ellipsis: ascii ? "~" : "…"))
            }
            lines.append("")
        }
        if !s.requests.isEmpty {
            lines.append("\(s.requests.count) access request(s) observed; see the Access panel of the dashboard.")
        }
        return lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n") + "\n"
    }
}
