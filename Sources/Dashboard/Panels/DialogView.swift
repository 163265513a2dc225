import Terminal

/// A centred box: title, what the action concerns, the fields, then [ Cancel ] [ Action ]; or, closed, why it can't
/// go on and [ Close ].
enum DialogView {
    /// A bordered box with its title in the top edge, its inside cleared: the dialogs' and the tour's captions.
    static func box(_ buf: inout ScreenBuffer, _ c: Renderer.Context, x: Int, y: Int, width w: Int, height h: Int, title: String) {
        buf.fill(x: x, y: y, width: w, height: h, style: c.style(.background))
        let border = c.style(.accent)
        buf.put(String(repeating: c.g.horizontal, count: w), x: x, y: y, style: border)
        buf.put(String(repeating: c.g.horizontal, count: w), x: x, y: y + h - 1, style: border)
        for yy in (y + 1)..<max(y + 1, y + h - 1) {
            buf.put(c.g.vertical, x: x, y: yy, style: border)
            buf.put(c.g.vertical, x: x + w - 1, y: yy, style: border)
        }
        buf.put(" \(title) ", x: x + 2, y: y, style: c.style(.title), maxWidth: w - 4)
    }

    static func role(_ tone: Dialog.Line.Tone) -> Role {
        switch tone {
        case .plain: .text
        case .good: .ok
        case .warning: .warn
        case .refusal: .critical
        }
    }

    static func render(_ buf: inout ScreenBuffer, _ c: Renderer.Context, _ d: Dialog, y: Int, height: Int) {
        let w = min(buf.width - 4, 90)
        let x = (buf.width - w) / 2
        let inner = w - 4
        var lines: [(String, Role)] = d.lines.flatMap { l in
            wrap(l.text(at: c.s.now), width: inner).map { ($0, role(l.tone)) }
        }
        // Why it was refused, or that it is waiting, is never the part cut off on a short screen: the lines above give way.
        var tail: [(String, Role)] = []
        if let e = d.error {
            tail.append(("", .text))
            tail += wrap(e, width: inner).map { ($0, Role.critical) }
        }
        if d.closed {
            tail.append(("", .text))
            tail += wrap("Nothing more to send: Enter or Esc closes; any other key closes it and acts in the panel", width: inner).map {
                ($0, Role.muted)
            }
        }
        if d.sending {
            tail.append(("", .text))
            tail.append(("Sending\(c.g.ellipsis) waiting for the answer (Esc closes; the decision still goes through)", .muted))
        }
        let fields = d.closed ? [] : d.fields
        // Title and bottom borders, a blank line, the buttons; and with fields, a blank line after them.
        let frame = 4 + (d.closed ? 0 : fields.count + 2)
        let room = max(0, height - frame)
        if lines.count + tail.count > room {
            lines = Array(lines.prefix(max(0, room - tail.count)))
            tail = Array(tail.prefix(room - lines.count))
        }
        lines += tail
        let h = min(height, frame + lines.count)
        let top = y + max(0, (height - h) / 2)
        box(&buf, c, x: x, y: top, width: w, height: h, title: d.title)
        var row = top + 1
        for (text, role) in lines where row < top + h - 3 {
            buf.put(text, x: x + 2, y: row, style: c.style(role), maxWidth: inner)
            row += 1
        }
        row += 1
        let labelW = min(24, fields.map { $0.label.count }.max() ?? 0) + 2
        for (i, f) in fields.enumerated() where row < top + h - 2 {
            buf.put(f.label + ":", x: x + 2, y: row, style: c.style(.muted), maxWidth: labelW)
            let focused = d.focus == i
            let valueW = inner - labelW
            buf.fill(x: x + 2 + labelW, y: row, width: valueW, height: 1, style: c.style(focused ? .selection : .border))
            let shown = f.value.isEmpty && !focused ? f.hint : f.value + (focused ? "_" : "")
            buf.put(
                SafeText.truncate(shown, to: valueW, ellipsis: c.g.ellipsis), x: x + 2 + labelW, y: row,
                style: c.style(focused ? .selection : (f.value.isEmpty ? .muted : .input)), maxWidth: valueW)
            row += 1
        }
        let by = top + h - 2
        if d.closed {
            let close = "[ Close ]"
            buf.put(close, x: x + w - 2 - SafeText.width(close) - 2, y: by, style: c.style(.selection))
            return
        }
        let cancel = d.focus == d.cancelIndex ? "[ Cancel ]" : "  Cancel  "
        let confirm = d.focus == d.confirmIndex ? "[ \(d.confirmLabel) ]" : "  \(d.confirmLabel)  "
        var bx = x + w - 2 - SafeText.width(cancel) - SafeText.width(confirm) - 2
        bx += buf.put(cancel, x: bx, y: by, style: c.style(d.focus == d.cancelIndex ? .selection : .text)) + 2
        buf.put(confirm, x: bx, y: by, style: c.style(d.focus == d.confirmIndex ? .error : .text))
    }
}
