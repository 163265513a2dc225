import Access
import Foundation
import Inventory
import Terminal

/// Draws the whole dashboard: a pure function of the state and the size.
public enum Renderer {
    public static let minWidth = 64
    public static let minHeight = 16

    struct Context {
        let s: AppState
        let g: Glyphs
        let theme: Theme
        func style(_ r: Role) -> Style { theme[r] }
    }

    public static func render(_ s: AppState, width: Int, height: Int) -> ScreenBuffer {
        let ascii = !s.unicode
        var buf = ScreenBuffer(width: width, height: height, ascii: ascii, fill: s.theme[.background])
        let c = Context(s: s, g: ascii ? .ascii : .unicode, theme: s.theme)
        guard width >= minWidth, height >= minHeight else {
            tooSmall(&buf, c, width: width, height: height)
            return buf
        }
        header(&buf, c)
        tabs(&buf, c)
        let body = (y: 2, height: height - 4)
        switch s.mode {
        case .help: HelpView.render(&buf, c, y: body.y, height: body.height)
        case .detail(let id, let offset): DetailView.render(&buf, c, id: id, offset: offset, y: body.y, height: body.height)
        case .auditEntry(let seq, let offset): AuditDetailView.render(&buf, c, seq: seq, offset: offset, y: body.y, height: body.height)
        case .dialog(let d):
            if s.panel == .overview {
                OverviewPanel.render(&buf, c, y: body.y, height: body.height)
            } else {
                renderTable(&buf, c, panel: s.panel, y: body.y, height: body.height)
            }
            DialogView.render(&buf, c, d, y: body.y, height: body.height)
        default:
            if s.panel == .overview {
                OverviewPanel.render(&buf, c, y: body.y, height: body.height)
            } else {
                renderTable(&buf, c, panel: s.panel, y: body.y, height: body.height)
            }
        }
        if let tour = s.tour {
            switch s.mode {
            case .normal, .detail: TourView.render(&buf, c, tour, y: body.y, height: body.height)
            default: break
            }
        }
        prompt(&buf, c, y: height - 2)
        status(&buf, c, y: height - 1)
        return buf
    }

    static func tooSmall(_ buf: inout ScreenBuffer, _ c: Context, width: Int, height: Int) {
        let lines = [
            "terminal too small",
            "need \(minWidth)x\(minHeight), have \(width)x\(height)",
            "enlarge the window, or q to quit",
        ]
        let top = max(0, height / 2 - 1)
        for (i, line) in lines.enumerated() where top + i < height {
            let text = SafeText.truncate(line, to: width, ellipsis: c.g.ellipsis)
            let x = max(0, (width - SafeText.width(text)) / 2)
            buf.put(text, x: x, y: top + i, style: i == 0 ? c.style(.critical) : c.style(.text))
        }
    }

    // MARK: Header and tabs

    static func header(_ buf: inout ScreenBuffer, _ c: Context) {
        let w = buf.width
        let hs = c.style(.header)
        buf.fill(x: 0, y: 0, width: w, height: 1, style: hs)
        let g = c.s.snapshot.totalGap
        var text = " trustgap "
        // A slice still coming in parts: the figures are of what is in so far, and say so first.
        let loading = c.s.snapshot.collectors.compactMap(\.loading)
        if !loading.isEmpty {
            let (done, total) = loading.reduce((0, 0)) { ($0.0 + $1.done, $0.1 + $1.total) }
            text += "\(c.g.vertical) assessing \(Self.grouped(done)) of \(Self.grouped(total))\(c.g.ellipsis) "
            if w < 120 { text += "\(c.g.vertical) " } // the wide line's figures begin with one
        }
        if g.total > 0, w < 120 {
            func p(_ n: Int) -> String { "\(GapFigures.percent(n, of: g.total))%" }
            text +=
                "\(g.total) entities \(c.g.dot) \(p(g.unmanaged)) unmanaged \(c.g.dot) "
                + "\(p(g.overprivileged)) overpriv \(c.g.dot) \(p(g.longLivedSecrets)) old keys \(c.g.dot) "
                + "\(g.findings[.critical, default: 0]) crit"
        } else if g.total > 0 {
            func p(_ n: Int) -> String { "\(GapFigures.percent(n, of: g.total))%" }
            text +=
                "\(c.g.vertical) \(g.total) entities \(c.g.dot) \(p(g.unmanaged)) unmanaged \(c.g.dot) \(p(g.unowned)) unowned \(c.g.dot) "
                + "\(p(g.overprivileged)) overprivileged \(c.g.dot) \(p(g.longLivedSecrets)) long-lived secrets \(c.g.dot) "
                + "\(g.findings[.critical, default: 0]) critical"
        } else {
            text += "\(c.g.vertical) collecting\(c.g.ellipsis)"
        }
        buf.put(SafeText.truncate(text, to: w, ellipsis: c.g.ellipsis), x: 0, y: 0, style: hs)
    }

    /// 1234567 as "1,234,567".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func tabs(_ buf: inout ScreenBuffer, _ c: Context) {
        let w = buf.width
        buf.fill(x: 0, y: 1, width: w, height: 1, style: c.style(.tab))
        // The widest labels that fit: full titles, short titles, then three letters.
        let styles: [(Panel) -> String] = [
            { " \($0.rawValue) \($0.title) " }, { "\($0.rawValue) \($0.title)" }, { "\($0.rawValue) \($0.shortTitle)" },
            { "\($0.rawValue) \(String($0.title.prefix(3)))" }, { "\($0.rawValue)" },
        ]
        let labels =
            styles.map { f in Panel.allCases.map(f) }.first { ls in ls.reduce(0) { $0 + 1 + SafeText.width($1) } <= w }
            ?? Panel.allCases.map { "\($0.rawValue)" }
        var x = 0
        for (p, label) in zip(Panel.allCases, labels) {
            let active = p == c.s.panel
            if x + 1 + SafeText.width(label) > w { break }
            x += 1
            x += buf.put(label, x: x, y: 1, style: c.style(active ? .tabActive : .tab))
        }
    }

    // MARK: Tables

    static func renderTable(_ buf: inout ScreenBuffer, _ c: Context, panel: Panel, y: Int, height: Int) {
        let model = TableModels.model(for: panel, state: c.s)
        let ts = c.s.table(panel)
        let rows = c.s.rows[panel] ?? []
        let w = buf.width
        let layout = layoutColumns(model.columns, width: w - 2)
        // Column titles, with the sort column marked.
        buf.fill(x: 0, y: y, width: w, height: 1, style: c.style(.title))
        var x = 2
        for (i, col) in layout {
            var title = model.columns[i].title
            if i == ts.sortColumn {
                let desc = model.descendingByDefault(i) != ts.reversed
                title += desc ? c.g.down : c.g.up
            }
            buf.put(
                SafeText.fit(title, to: col, ellipsis: c.g.ellipsis, alignRight: model.columns[i].alignRight), x: x, y: y,
                style: c.style(.title))
            x += col + 1
        }
        let visible = height - 1
        if rows.isEmpty {
            let msg: String
            if model.baseCount == 0 {
                let noStore = c.s.access.token < 0 && (panel == .audit || panel == .access)
                msg =
                    noStore
                    ? (c.s.access.error.map { "The access store can't be read: \($0)" }
                        ?? "No access store is open (read-only mode never creates one).")
                    : panel == .audit
                        ? "No audit entries yet: decisions on access requests are recorded here."
                        : panel == .access
                            ? "No pending access requests."
                            : c.s.snapshot.version == 0 ? "Collecting\(c.g.ellipsis)" : "Nothing here."
            } else {
                msg = "No rows match the filter \"\(ts.filter)\" (Esc clears it)."
            }
            buf.put(msg, x: 2, y: y + 2, style: c.style(.muted), maxWidth: w - 4)
            return
        }
        let top = max(0, min(ts.top, rows.count - 1))
        for line in 0..<visible {
            let r = top + line
            guard r < rows.count else { break }
            let row = rows[r]
            let yy = y + 1 + line
            let selected = r == ts.cursor
            let rowID = model.id(row)
            if selected { buf.fill(x: 0, y: yy, width: w, height: 1, style: c.style(.selection)) }
            if let isNew = c.s.changed[rowID] {
                buf.put(isNew ? c.g.new : c.g.changed, x: 0, y: yy, style: selected ? c.style(.selection) : c.style(.changed))
            } else if panel == .access, c.s.recentGrants.contains(rowID) {
                // A grant this analyst just approved, kept on top.
                buf.put(c.g.new, x: 0, y: yy, style: selected ? c.style(.selection) : c.style(.changed))
            }
            var cx = 2
            for (i, col) in layout {
                let (text, role) = model.cell(row, i, now: c.s.now)
                let fitted = SafeText.fit(SafeText.sanitize(text), to: col, ellipsis: c.g.ellipsis, alignRight: model.columns[i].alignRight)
                var style = selected ? c.style(.selection) : c.style(role)
                if selected, role == .critical || role == .high {
                    style.attributes.insert(.bold)
                    style.monoAttributes.insert(.bold)
                }
                buf.put(fitted, x: cx, y: yy, style: style, maxWidth: col)
                cx += col + 1
            }
        }
    }

    // MARK: Prompt and status

    static func prompt(_ buf: inout ScreenBuffer, _ c: Context, y: Int) {
        let w = buf.width
        let s = c.s
        buf.fill(x: 0, y: y, width: w, height: 1, style: c.style(.background))
        switch s.mode {
        case .filtering:
            let ts = s.table(s.panel)
            let used = buf.put("/", x: 0, y: y, style: c.style(.accent))
            let shown = SafeText.truncate(ts.filter, to: w - 30, ellipsis: c.g.ellipsis)
            let n = buf.put(shown, x: used, y: y, style: c.style(.input))
            buf.put("_", x: used + n, y: y, style: c.style(.accent))
            let info = "\(s.rows[s.panel]?.count ?? 0) match  Enter keep  Esc clear"
            buf.put(info, x: max(used + n + 2, w - SafeText.width(info) - 1), y: y, style: c.style(.muted))
            return
        case .command(let text):
            let used = buf.put(":", x: 0, y: y, style: c.style(.accent))
            let n = buf.put(SafeText.truncate(text, to: w - 40, ellipsis: c.g.ellipsis), x: used, y: y, style: c.style(.input))
            buf.put("_", x: used + n, y: y, style: c.style(.accent))
            let hint = Commands.hint(for: text)
            buf.put(hint, x: max(used + n + 3, w - SafeText.width(hint) - 1), y: y, style: c.style(.muted), maxWidth: w - used - n - 3)
            return
        default: break
        }
        if let f = s.flash, f.until > s.clock {
            buf.put(" " + f.text + " ", x: 0, y: y, style: c.style(f.isError ? .error : .flash), maxWidth: w)
            return
        }
        if case .normal = s.mode, let a = s.announcement, a.until > s.clock {
            let open = s.panel == .overview && s.overviewSelection == nil ? "  Enter opens it" : ""
            buf.put(" " + a.text + " ", x: 0, y: y, style: c.style(.flash), maxWidth: w - SafeText.width(open) - 1)
            if !open.isEmpty { buf.put(open, x: w - SafeText.width(open) - 1, y: y, style: c.style(.muted)) }
            return
        }
        var hints: [String]
        switch s.mode {
        case .help: hints = ["Esc close help", "q quit"]
        case .detail: hints = Actions.detailHints(readonly: s.readonly)
        case .auditEntry: hints = ["Esc back", "j/k scroll", "q quit"]
        case .dialog(let d): hints = d.closed ? ["Enter close", "Esc close"] : ["Tab next field", "Enter next / press", "Esc cancel"]
        default:
            // From the one table of actions: what is hinted is what the keys do here, read-only included.
            hints = Actions.hints(s)
            if s.panel == .audit {
                let v = s.access.verification
                hints.insert(
                    v == nil ? "chain not checked" : v!.ok ? "chain ok: \(v!.entries) entries verified" : "CHAIN BROKEN: \(v!.problem!)",
                    at: 0)
            }
        }
        var text = hints.joined(separator: "  ")
        var position = ""
        if s.panel.isTable, case .normal = s.mode {
            let ts = s.table(s.panel)
            let n = s.rows[s.panel]?.count ?? 0
            position = n == 0 ? "" : " \(ts.cursor + 1)/\(n) "
            if !ts.filter.isEmpty {
                text = "filter \"\(ts.filter)\"  " + text
                position = " \(n) of \(TableModels.model(for: s.panel, state: s).baseCount) \(c.g.dot)" + position
            }
        }
        let pw = SafeText.width(position)
        buf.put(text, x: 1, y: y, style: c.style(.muted), maxWidth: w - 2 - pw)
        if pw > 0 { buf.put(position, x: w - pw, y: y, style: c.style(.accent)) }
    }

    static func status(_ buf: inout ScreenBuffer, _ c: Context, y: Int) {
        let w = buf.width
        let s = c.s
        buf.fill(x: 0, y: y, width: w, height: 1, style: c.style(.border))
        let cols = s.snapshot.collectors
        let ok = cols.filter { $0.state == .ok }.count
        var x = 0
        var badges: [String] = []
        if s.paused { badges.append(s.held != nil ? "PAUSED (new data)" : "PAUSED") }
        if s.readonly { badges.append("READ-ONLY") }
        if !badges.isEmpty { x += buf.put(" " + badges.joined(separator: " ") + " ", x: 0, y: y, style: c.style(.flash)) }
        if s.access.unreachable {
            // The service is gone: what is shown is the last state read, and actions are off until it is back.
            let what = s.access.storeDown ? "ACCESS STORE UNREACHABLE" : "ACCESS SERVICE UNREACHABLE"
            x += buf.put(" \(what): last state, read-only, reconnecting ", x: x, y: y, style: c.style(.error))
        }
        x += 1
        let healthRole: Role = cols.isEmpty ? .muted : ok == cols.count ? .ok : cols.contains { $0.state == .failed } ? .critical : .warn
        let word = cols.isEmpty ? "starting" : ok == cols.count ? "ok" : "\(cols.count - ok) not ok"
        x += buf.put("\(c.g.bullet) collectors \(ok)/\(cols.count) \(word)", x: x, y: y, style: c.style(healthRole))
        if let last = s.lastRefresh {
            x += buf.put("  refreshed \(EntityTable.age(last, now: s.now)) ago", x: x, y: y, style: c.style(.muted))
        }
        let clock =
            s.clock.formatted(
                Date.VerbatimFormatStyle(
                    format:
                        "\(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits)",
                    timeZone: .gmt, calendar: Calendar(identifier: .gregorian))) + " UTC"
        let right = "analyst \(s.analyst)  \(clock) "
        let rx = w - SafeText.width(right)
        if rx > x + 1 { buf.put(right, x: rx, y: y, style: c.style(.muted)) }
    }
}
