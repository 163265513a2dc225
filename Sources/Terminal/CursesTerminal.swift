import CNCurses
import Foundation

/// The real terminal, through ncurses (wide-character API). The only importer of `CNCurses`.
///
/// One thread owns it: create it, draw, read keys and shut it down from the same thread. It installs no SIGWINCH
/// handler of its own, so ncurses reports resizes as `Key.resize`.
public final class CursesTerminal: Terminal {
    public enum StartError: Error, CustomStringConvertible {
        case notATerminal
        case unknownTerminal(String)
        case call(String)

        public var description: String {
            switch self {
            case .notATerminal: "standard input and output must be a terminal (use `trustgap snapshot` in scripts)"
            case .unknownTerminal(let t): "the terminal type '\(t)' is unknown to terminfo; try TERM=xterm-256color"
            case .call(let name): "\(name) failed"
            }
        }
    }

    public let colorDepth: ColorDepth
    public let unicode: Bool
    private var last: ScreenBuffer?
    private var pairs: [Int64: Int16] = [:]
    private var active = true
    /// Curses calls that returned ERR while drawing (the bottom-right cell aside), for diagnostics.
    public private(set) var drawErrors = 0

    /// Starts curses on the controlling terminal.
    /// - Parameter noColor: true when `NO_COLOR` is set: attributes only.
    public init(noColor: Bool) throws {
        setlocale(LC_ALL, "")
        unicode = String(cString: tg_codeset()).uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
        guard isatty(0) == 1, isatty(1) == 1 else { throw StartError.notATerminal }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        guard newterm(nil, tg_stdout(), tg_stdin()) != nil else { throw StartError.unknownTerminal(term) }
        _ = raw() // Ctrl-C arrives as a key, so quitting restores the terminal through the same path
        _ = noecho()
        _ = nonl()
        _ = keypad(tg_stdscr(), true)
        _ = leaveok(tg_stdscr(), true)
        _ = curs_set(0)
        _ = set_escdelay(25)
        if !noColor, has_colors() {
            _ = start_color()
            _ = use_default_colors()
            colorDepth = ColorDepth(colors: Int(tg_colors()))
        } else {
            colorDepth = .none
        }
    }

    public var size: (width: Int, height: Int) {
        (Int(tg_getmaxx(tg_stdscr())), Int(tg_getmaxy(tg_stdscr())))
    }

    public func draw(_ buffer: ScreenBuffer) {
        guard active else { return }
        let runs = buffer.changes(since: last)
        guard !runs.isEmpty else { return } // nothing changed: write nothing
        var wch = [wchar_t](repeating: 0, count: 8)
        for run in runs {
            for x in run.x..<(run.x + run.length) where x < buffer.width {
                let cell = buffer[x, run.y]
                if cell.isContinuation { continue }
                var n = 0
                for s in cell.character.unicodeScalars where n < 7 {
                    wch[n] = wchar_t(bitPattern: s.value)
                    n += 1
                }
                wch[n] = 0
                let (attrs, pair) = cursesStyle(cell.style)
                let rc = wch.withUnsafeBufferPointer { tg_put_cell(Int32(run.y), Int32(x), $0.baseAddress, attrs, pair) }
                let bottomRight = run.y == buffer.height - 1 && x >= buffer.width - SafeText.width(of: cell.character)
                if rc == tg_err(), !bottomRight { drawErrors += 1 }
            }
        }
        _ = wnoutrefresh(tg_stdscr())
        _ = doupdate()
        last = buffer
    }

    private func cursesStyle(_ style: Style) -> (attr_t, Int16) {
        var attrs = tg_a_normal()
        let a = style.effectiveAttributes(colorDepth)
        if a.contains(.bold) { attrs |= tg_a_bold() }
        if a.contains(.reverse) { attrs |= tg_a_reverse() }
        if a.contains(.underline) { attrs |= tg_a_underline() }
        if a.contains(.dim) { attrs |= tg_a_dim() }
        guard colorDepth != .none, let fg = style.fg.number(at: colorDepth), let bg = style.bg.number(at: colorDepth) else {
            return (attrs, 0)
        }
        if fg == -1, bg == -1 { return (attrs, 0) }
        let key = Int64(fg) << 32 | Int64(UInt32(bitPattern: Int32(bg)))
        if let p = pairs[key] { return (attrs, p) }
        let next = pairs.count + 1
        guard next < min(Int(tg_color_pairs()), 32_000) else { return (attrs, 0) }
        guard init_extended_pair(Int32(next), Int32(fg), Int32(bg)) != tg_err() else { return (attrs, 0) }
        pairs[key] = Int16(next)
        return (attrs, Int16(next))
    }

    public func readKey(timeout milliseconds: Int) -> Key? {
        guard active else { return nil }
        wtimeout(tg_stdscr(), Int32(milliseconds))
        var ch: wint_t = 0
        let rc = tg_get_wch(&ch)
        if rc == tg_err() { return nil }
        if rc == tg_key_code_yes() { return Self.decode(function: Int32(ch)) { self.last = nil } }
        return Key.decode(character: UInt32(ch))
    }

    static func decode(function code: Int32, onResize: () -> Void) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_NPAGE: return .pageDown
        case KEY_PPAGE: return .pageUp
        case KEY_HOME: return .home
        case KEY_END, KEY_LL: return .end
        case KEY_BTAB: return .backTab
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_IC: return .insert
        case KEY_ENTER: return .enter
        case KEY_RESIZE:
            onResize()
            return .resize
        default:
            let f0 = tg_key_f(0)
            if code > f0, code <= f0 + 24 { return .function(Int(code - f0)) }
            return nil
        }
    }

    public func invalidate() {
        last = nil
        _ = clearok(tg_stdscr(), true)
    }

    public func shutdown() {
        guard active else { return }
        active = false
        _ = curs_set(1)
        _ = endwin()
    }

    deinit { shutdown() }
}
