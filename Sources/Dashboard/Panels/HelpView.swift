import Terminal

/// Every key of the current panel, with what it does.
enum HelpView {
    static func keys(for panel: Panel, readonly: Bool) -> [(String, String)] {
        var keys: [(String, String)] = [
            ("1-8", "switch panel: 1 Overview 2 Apps 3 Devices 4 Service accounts 5 Agents 6 Access 7 Audit 8 Collectors"),
            ("Tab / Shift-Tab", "next / previous panel"),
        ]
        if panel.isTable {
            keys += [
                ("j k / Down Up", "move the cursor"),
                ("PgDn PgUp / Ctrl-F Ctrl-B", "page down / up"),
                ("g G / Home End", "first / last row"),
                ("/", "filter as you type (any column, case-insensitive; start with ! to negate); Esc clears"),
                ("s / S", "sort by the next column / reverse the order"),
                ("Enter", panel.population != nil ? "open the entity's detail" : "open the detail"),
            ]
        }
        keys += [
            ("Esc", "back, or clear the filter"),
            (":", "command: overview apps devices sa agents access audit collectors, theme NAME, filter TEXT, export FILE.csv|FILE.json, q (Tab completes)"),
            ("p", "pause / resume live updates"),
            ("Ctrl-L", "redraw the screen"),
            ("?", "this help"),
            ("q / Ctrl-C", "quit"),
        ]
        if readonly { keys.append(("", "read-only: actions that change access are hidden")) }
        return keys
    }

    static func render(_ buf: inout ScreenBuffer, _ c: Renderer.Context, y: Int, height: Int) {
        let w = buf.width
        buf.put("KEYS \(c.g.dot) \(c.s.panel.title)", x: 1, y: y, style: c.style(.title))
        var row = y + 2
        let keyW = 26
        for (k, d) in keys(for: c.s.panel, readonly: c.s.readonly) where row < y + height {
            buf.put(k, x: 2, y: row, style: c.style(.accent), maxWidth: keyW)
            for part in wrap(d, width: max(10, w - keyW - 3)) where row < y + height {
                buf.put(part, x: 2 + keyW, y: row, style: c.style(.text), maxWidth: w - keyW - 3)
                row += 1
            }
        }
    }
}

/// Splits text into lines of at most `width` columns at spaces.
func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: false) {
        let candidate = current.isEmpty ? String(word) : current + " " + word
        if SafeText.width(candidate) > width, !current.isEmpty {
            lines.append(current)
            current = String(word)
        } else {
            current = candidate
        }
    }
    if !current.isEmpty || lines.isEmpty { lines.append(current) }
    return lines
}
