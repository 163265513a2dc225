import Access
import Foundation
import Inventory
import Terminal

/// One audit entry in full: every field, ids and reasons whole, wrapped to the screen's width and scrollable
/// (the Audit table cuts long cells to fit its columns).
enum AuditDetailView {
    /// The label column's width; values start after it.
    static let labelWidth = 14

    /// The entry as lines of (indent, text, role), each value wrapped to `width` columns.
    static func lines(_ e: AuditEntry, snapshot: Snapshot, now: Date, width: Int) -> [(Int, String, Role)] {
        var out: [(Int, String, Role)] = [(0, "Audit entry \(e.seq)", .accent)]
        let room = max(10, width - 4 - labelWidth)
        func kv(_ k: String, _ v: String, _ role: Role = .text) {
            let label = k.padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            for (i, part) in wrap(SafeText.sanitize(v), to: room).enumerated() {
                out.append((2, (i == 0 ? label : String(repeating: " ", count: labelWidth)) + part, role))
            }
        }
        let age = now.timeIntervalSince(e.at)
        kv("when", AccessStore.when(e.at) + (age >= 0 ? " (\(EntityTable.age(e.at, now: now)) ago)" : ""))
        kv("analyst", e.analyst)
        kv("ssh client", e.sshClient ?? "-", .muted)
        kv("action", e.action, .accent)
        kv("subject", e.subject)
        if let name = snapshot[e.subject]?.entity.name { kv("subject name", name, .muted) }
        kv("scope", e.scope)
        kv("ttl", e.ttlSeconds.map { DurationText.format($0) } ?? "-")
        kv("target", e.target)
        kv("result", e.result, e.result == "failed" ? .critical : .text)
        kv("reason", e.reason.isEmpty ? "-" : e.reason)
        kv("detail", e.detail.isEmpty ? "-" : e.detail)
        kv("mac", e.hash, .muted)
        kv("previous mac", e.prevHash, .muted)
        return out
    }

    /// Breaks text into lines of at most `columns` display columns: at spaces where it can, inside a word (an id,
    /// a MAC) where it must, so nothing is ever cut off.
    static func wrap(_ text: String, to columns: Int) -> [String] {
        guard columns > 0, SafeText.width(text) > columns else { return [text] }
        var lines: [String] = []
        var line = ""
        var used = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let w = SafeText.width(String(word))
            if used > 0, used + 1 + w <= columns {
                line += " " + word
                used += 1 + w
                continue
            }
            if used > 0 {
                lines.append(line)
                (line, used) = ("", 0)
            }
            for ch in word {
                let cw = SafeText.width(of: ch)
                if used + cw > columns {
                    lines.append(line)
                    (line, used) = ("", 0)
                }
                line.append(ch)
                used += cw
            }
        }
        lines.append(line)
        return lines
    }

    static func entry(_ seq: Int64, in access: AccessView) -> AuditEntry? { access.audit.first { $0.seq == seq } }

    static func render(_ buf: inout ScreenBuffer, _ c: Renderer.Context, seq: Int64, offset: Int, y: Int, height: Int) {
        guard let e = entry(seq, in: c.s.access) else {
            buf.put("Audit entry \(seq) is no longer loaded (Esc to go back).", x: 2, y: y + 1, style: c.style(.warn))
            return
        }
        // The title ("Audit entry N") stays on the first row with the scroll position beside it, never over a line.
        let w = buf.width
        let all = lines(e, snapshot: c.s.snapshot, now: c.s.now, width: w).dropFirst()
        let room = height - 1
        let start = max(0, min(offset, max(0, all.count - room)))
        let label = all.count > room ? " \(start + 1)-\(min(all.count, start + room))/\(all.count) " : ""
        buf.put("Audit entry \(e.seq)", x: 1, y: y, style: c.style(.accent), maxWidth: w - SafeText.width(label) - 2)
        if !label.isEmpty { buf.put(label, x: w - SafeText.width(label), y: y, style: c.style(.muted)) }
        for (i, (indent, text, role)) in all.dropFirst(start).prefix(room).enumerated() {
            buf.put(text, x: 1 + indent, y: y + 1 + i, style: c.style(role), maxWidth: w - indent - 2)
        }
    }
}
