import Access
import Foundation
import Terminal

extension App {
    /// Keys on one audit entry in full (Enter on the Audit panel): scroll it, Esc back to the table.
    func handleAuditEntry(_ key: Key, seq: Int64, offset: Int) {
        let count =
            AuditDetailView.entry(seq, in: state.access).map {
                AuditDetailView.lines($0, snapshot: state.snapshot, now: state.now, width: size.width).count - 1
            } ?? 0
        // Below the title row, which stays.
        let maxOffset = max(0, count - (size.height - 4 - 1))
        let page = max(1, size.height - 5)
        func scroll(_ o: Int) { state.mode = .auditEntry(seq: seq, offset: max(0, min(maxOffset, o))) }
        switch key {
        case .escape, .backspace, .left, .character("h"), .enter: state.mode = .normal
        case .character("q"):
            state.mode = .normal
            handleNormal(key)
        case .character("j"), .down: scroll(offset + 1)
        case .character("k"), .up: scroll(offset - 1)
        case .pageDown, .control("f"), .character(" "): scroll(offset + page)
        case .pageUp, .control("b"): scroll(offset - page)
        case .character("g"), .home: scroll(0)
        case .character("G"), .end: scroll(maxOffset)
        case .character("?"): state.mode = .help
        case .character(":"): state.mode = .command("")
        case .character(let c) where c.isASCII && c.isNumber:
            if let n = c.wholeNumberValue, let panel = Panel(rawValue: n) { switchTo(panel) }
        default: break
        }
    }
}
