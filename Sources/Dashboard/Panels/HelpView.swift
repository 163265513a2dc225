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
                (
                    "Enter",
                    panel.population != nil || panel == .access
                        ? "open the entity's detail"
                        : panel == .collectors
                            ? "show the collector's last problem" : panel == .audit ? "open the entry in full (every field, wrapped)" : "-"
                ),
            ]
        }
        if !readonly {
            if panel == .access {
                keys += [
                    ("a", "approve the selected request (TTL and reason asked, then Cancel/Approve)"),
                    ("d", "deny the selected request"),
                    ("e", "extend the selected grant (the new TTL counts from now)"),
                    ("r", "revoke the selected grant, or every marked one (type the count to confirm)"),
                    ("Space", "mark or unmark a grant"),
                ]
            }
            if panel.population != nil || panel == .access {
                keys.append(("n", "grant the selected entity time-bound access"))
            }
        }
        keys += [
            ("Esc", "back, or clear the filter"),
            (
                ":",
                "command: overview apps devices sa agents access audit collectors, theme NAME, filter TEXT, "
                    + "export FILE.csv|FILE.json (export! to replace), q (Tab completes)"
            ),
            ("p", "pause / resume live updates"),
            ("Ctrl-L", "redraw the screen"),
            ("?", "this help"),
            ("q / Ctrl-C", "quit"),
        ]
        keys += [
            ("in a dialog", "Tab moves between fields and buttons; Enter moves on, then presses; Esc cancels"),
            ("in the detail", "j k PgDn PgUp g G scroll; Esc, h, Left or Backspace go back"),
        ]
        if readonly { keys.append(("", "read-only: actions that change access are hidden")) }
        return keys
    }

    static func render(_ buf: inout ScreenBuffer, _ c: Renderer.Context, y: Int, height: Int) {
        let w = buf.width
        buf.put("KEYS \(c.g.dot) \(c.s.panel.title)", x: 1, y: y, style: c.style(.title))
        let keyW = 26
        var lines: [(String, String)] = []
        for (k, d) in keys(for: c.s.panel, readonly: c.s.readonly) {
            for (i, part) in wrap(d, width: max(10, w - keyW - 3)).enumerated() { lines.append((i == 0 ? k : "", part)) }
        }
        let room = height - 2
        let offset = max(0, min(c.s.helpOffset, lines.count - room))
        var row = y + 2
        for (k, d) in lines.dropFirst(offset).prefix(room) {
            buf.put(k, x: 2, y: row, style: c.style(.accent), maxWidth: keyW)
            buf.put(d, x: 2 + keyW, y: row, style: c.style(.text), maxWidth: w - keyW - 3)
            row += 1
        }
        if lines.count > room {
            let more = offset + room < lines.count ? "j/PgDn for more \(c.g.down)" : "end"
            buf.put(more, x: w - SafeText.width(more) - 1, y: y, style: c.style(.muted))
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
