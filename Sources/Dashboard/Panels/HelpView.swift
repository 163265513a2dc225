import Terminal

/// Every key of the current panel, with what it does.
enum HelpView {
    /// From the one table of actions, so help lists exactly what the keys do.
    static func keys(for panel: Panel, readonly: Bool) -> [(String, String)] { Actions.help(for: panel, readonly: readonly) }

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
