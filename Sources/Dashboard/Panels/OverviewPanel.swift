import Access
import Foundation
import Inventory
import Terminal

/// The gap at a glance: gauges per population, findings by severity, trends, the riskiest entities,
/// pending requests and collector health.
enum OverviewPanel {
    /// What can be selected on the Overview with j and k, in screen order; Enter opens it.
    enum Item: Equatable {
        case entity(String)
        case request(String)
        case grant(String)
    }

    /// The items the Overview shows at this size, drawn into a scratch buffer: the keys see exactly what is drawn.
    static func items(_ s: AppState, width: Int, height: Int) -> [Item] {
        var buf = ScreenBuffer(width: width, height: height)
        let c = Renderer.Context(s: s, g: .unicode, theme: s.theme)
        return render(&buf, c, y: 2, height: height - 4)
    }

    @discardableResult
    static func render(_ buf: inout ScreenBuffer, _ c: Renderer.Context, y: Int, height: Int) -> [Item] {
        let s = c.s
        let w = buf.width
        var row = y
        let bottom = y + height
        var items: [Item] = []
        /// Draws a list item, highlighted when it is the selected one.
        func item(_ it: Item, _ text: String, x: Int, y: Int, width: Int, role: Role, label: (String, Role)? = nil) {
            let selected = s.overviewSelection == it
            items.append(it)
            var x = x
            var width = width
            if selected { buf.fill(x: x - 1, y: y, width: width + 1, height: 1, style: c.style(.selection)) }
            if let (text, role) = label {
                let used = buf.put(text, x: x, y: y, style: c.style(selected ? .selection : role)) + 1
                x += used
                width -= used
            }
            buf.put(
                SafeText.truncate(SafeText.sanitize(text), to: width, ellipsis: c.g.ellipsis), x: x, y: y,
                style: c.style(selected ? .selection : role))
        }
        func line(_ text: String, _ role: Role, x: Int = 1) {
            guard row < bottom else { return }
            buf.put(text, x: x, y: row, style: c.style(role), maxWidth: w - x - 1)
            row += 1
        }
        if s.snapshot.version == 0 {
            line("Collecting the inventory\(c.g.ellipsis)", .muted)
            return items
        }

        // The gap table: one gauge per metric.
        let metrics: [(String, KeyPath<GapFigures, Int>)] = [
            ("UNMANAGED", \.unmanaged), ("UNOWNED", \.unowned), ("OVERPRIV", \.overprivileged),
            ("LONG-LIVED", \.longLivedSecrets), ("STALE", \.stale),
        ]
        let nameW = 17
        let totalW = 7
        let cellW = max(10, min(22, (w - 2 - nameW - totalW) / metrics.count - 1))
        let gaugeW = cellW - 6
        let showMetrics = max(1, min(metrics.count, (w - 2 - nameW - totalW) / (cellW + 1)))
        guard row < bottom else { return items }
        buf.put("THE GAP", x: 1, y: row, style: c.style(.title))
        var x = 1 + nameW
        buf.put(SafeText.fit("TOTAL", to: totalW - 1, alignRight: true), x: x, y: row, style: c.style(.title))
        x += totalW
        for (title, _) in metrics.prefix(showMetrics) {
            buf.put(SafeText.fit(title, to: cellW), x: x, y: row, style: c.style(.title))
            x += cellW + 1
        }
        row += 1
        var entries = Population.allCases.map { ($0.title, s.snapshot.gap[$0] ?? GapFigures()) }
        entries.append(("All", s.snapshot.totalGap))
        for (name, g) in entries where row < bottom {
            let isAll = name == "All"
            buf.put(name, x: 1, y: row, style: c.style(isAll ? .accent : .text))
            x = 1 + nameW
            buf.put(SafeText.fit("\(g.total)", to: totalW - 1, alignRight: true), x: x, y: row, style: c.style(.text))
            x += totalW
            for (_, path) in metrics.prefix(showMetrics) {
                let n = g[keyPath: path]
                let pct = GapFigures.percent(n, of: g.total)
                let filled = g.total == 0 ? 0 : min(gaugeW, Int((Double(n) / Double(g.total) * Double(gaugeW)).rounded()))
                buf.put(String(repeating: c.g.gaugeFull, count: filled), x: x, y: row, style: c.style(.gauge))
                buf.put(String(repeating: c.g.gaugeEmpty, count: gaugeW - filled), x: x + filled, y: row, style: c.style(.gaugeEmpty))
                buf.put(SafeText.fit("\(pct)%", to: 5, alignRight: true), x: x + gaugeW, y: row, style: c.style(pct >= 50 ? .warn : .text))
                x += cellW + 1
            }
            row += 1
        }
        // The story's numbers beside the gauges: shadow AI, exposed secrets, standing privilege.
        if row < bottom {
            let all = s.snapshot.totalGap
            let agents = s.snapshot.gap[.agent] ?? GapFigures()
            var sx = 1
            for (label, value, role) in [
                ("SHADOW AI", "\(agents.shadow) of \(agents.total) agents", Role.high),
                ("EXPOSED SECRETS", "\(all.exposedSecrets)", .critical), ("STANDING PRIVILEGE", "\(all.standingPrivilege)", .high),
            ] where sx + SafeText.width(label) + SafeText.width(value) + 2 < w {
                sx += buf.put(label, x: sx, y: row, style: c.style(.title)) + 1
                sx += buf.put(value, x: sx, y: row, style: c.style(role)) + 3
            }
            row += 1
        }
        row += row < bottom - 6 ? 1 : 0

        // Findings by severity, never by colour alone: each has its word.
        if row < bottom {
            let all = s.snapshot.totalGap.findings
            var fx = buf.put("FINDINGS ", x: 1, y: row, style: c.style(.title)) + 1
            for (sev, label) in [(Severity.critical, "critical"), (.high, "high"), (.medium, "medium"), (.low, "low")] {
                let text = "\(all[sev, default: 0]) \(label)"
                fx += buf.put(text, x: fx, y: row, style: c.style(EntityTable.severityRole(sev))) + 2
            }
            if s.trendRisk.count > 1 {
                fx += buf.put("trend ", x: fx + 1, y: row, style: c.style(.muted)) + 1
                buf.put(sparkline(s.trendRisk, c.g, width: min(30, w - fx - 2)), x: fx, y: row, style: c.style(.accent))
            }
            row += 1
        }
        row += row < bottom - 5 ? 1 : 0
        guard row < bottom else { return items }

        // Two columns: the riskiest on the left, requests and collectors on the right.
        let leftW = w >= 110 ? w * 3 / 5 : w / 2
        let rightX = leftW + 1
        let rightW = w - rightX - 1
        let listTop = row
        buf.put("RISKIEST", x: 1, y: row, style: c.style(.title))
        let room = bottom - row - 1
        let top = s.riskiest.prefix(max(0, room))
        var ly = row + 1
        for i in top {
            let a = s.snapshot.entities[i]
            let (label, role) = EntityTable.riskLabel(a)
            let rest = "\(a.entity.name)  \(a.findings.first.map { "\($0.rule) \($0.title)" } ?? "")"
            item(.entity(a.id), rest, x: 1, y: ly, width: leftW - 2, role: .text, label: (label, role))
            ly += 1
        }

        var ry = listTop
        // From the access store when one is open; otherwise what the collectors observed.
        let fromStore = s.access.token >= 0
        let requests: [(Item, String, String, Double)] =
            fromStore
            ? s.access.pending.sorted { $0.createdAt < $1.createdAt }.map { (.request($0.id), $0.subjectName, $0.scope, $0.ttlSeconds) }
            : s.snapshot.requests.sorted { $0.createdAt < $1.createdAt }.map {
                (.entity($0.subject), s.snapshot[$0.subject]?.entity.name ?? $0.subject, $0.scope, $0.ttlSeconds)
            }
        buf.put("PENDING REQUESTS (\(requests.count))", x: rightX, y: ry, style: c.style(.title), maxWidth: rightW)
        ry += 1
        let expiring = s.access.grants.filter { $0.state == .active }.sorted { $0.expiresAt < $1.expiresAt }
        let reqRoom = max(1, (bottom - ry) - 3 - (expiring.isEmpty ? 0 : min(3, expiring.count) + 2))
        for (it, name, scope, ttl) in requests.prefix(reqRoom) where ry < bottom {
            item(it, "\(name) \(c.g.dot) \(scope) \(c.g.dot) \(DurationText.format(ttl))", x: rightX, y: ry, width: rightW, role: .pending)
            ry += 1
        }
        if requests.isEmpty, ry < bottom {
            buf.put("none", x: rightX, y: ry, style: c.style(.muted))
            ry += 1
        }
        if !expiring.isEmpty, ry + 2 < bottom {
            ry += 1
            buf.put("EXPIRING SOON (\(expiring.count) active)", x: rightX, y: ry, style: c.style(.title), maxWidth: rightW)
            ry += 1
            for g in expiring.prefix(3) where ry < bottom {
                let left = g.remaining(at: s.now)
                let text = "\(AccessTable.countdown(left)) \(g.subjectName) \(c.g.dot) \(g.scope)"
                item(.grant(g.id), text, x: rightX, y: ry, width: rightW, role: left < 600 ? .warn : .active)
                ry += 1
            }
        }
        if ry + 1 < bottom {
            ry += 1
            buf.put("COLLECTORS", x: rightX, y: ry, style: c.style(.title))
            ry += 1
            for h in s.snapshot.collectors where ry < bottom {
                let text =
                    "\(h.state.rawValue.uppercased()) \(h.name) \(c.g.dot) \(h.entityCount) entities"
                    + (h.lastError.map { " \(c.g.dot) \($0)" } ?? "")
                buf.put(
                    SafeText.truncate(SafeText.sanitize(text), to: rightW, ellipsis: c.g.ellipsis), x: rightX, y: ry,
                    style: c.style(CollectorTable.stateRole(h.state)))
                ry += 1
            }
        }
        return items
    }

    static func sparkline(_ values: [Int], _ g: Glyphs, width: Int) -> String {
        let v = values.suffix(max(1, width))
        guard let lo = v.min(), let hi = v.max() else { return "" }
        let span = max(1, hi - lo)
        return v.map { g.spark[min(g.spark.count - 1, ($0 - lo) * (g.spark.count - 1) / span)] }.joined()
    }
}
