/// What the dashboard needs from a terminal. Implementations: `CursesTerminal` (the real one) and
/// `MemoryTerminal` (for tests; its screen reads as text).
///
/// A terminal is used from one thread only: the one running the app loop.
public protocol Terminal: AnyObject {
    /// Columns and rows now.
    var size: (width: Int, height: Int) { get }
    var colorDepth: ColorDepth { get }
    /// False when the locale is not UTF-8: draw ASCII only.
    var unicode: Bool { get }
    /// Makes the screen look like `buffer`, writing only the cells that changed since the last draw.
    func draw(_ buffer: ScreenBuffer)
    /// Waits up to `milliseconds` for a key; nil on timeout.
    func readKey(timeout milliseconds: Int) -> Key?
    /// Forgets what is on screen, so the next draw repaints every cell (Ctrl-L).
    func invalidate()
    /// Restores the terminal. Safe to call more than once.
    func shutdown()
}

/// A terminal in memory: keys are queued by the test, frames are kept, and the screen reads as text.
public final class MemoryTerminal: Terminal {
    public var size: (width: Int, height: Int)
    public var colorDepth: ColorDepth
    public var unicode: Bool
    public private(set) var screen: ScreenBuffer
    /// Cells written by every draw so far: what a real terminal would have been sent.
    public private(set) var cellsWritten = 0
    public private(set) var draws = 0
    public var keys: [Key] = []
    public private(set) var isShutDown = false

    public init(width: Int = 80, height: Int = 24, colorDepth: ColorDepth = .indexed256, unicode: Bool = true) {
        size = (width, height)
        self.colorDepth = colorDepth
        self.unicode = unicode
        screen = ScreenBuffer(width: width, height: height, ascii: !unicode)
    }

    public func draw(_ buffer: ScreenBuffer) {
        let runs = buffer.changes(since: screen)
        cellsWritten += runs.reduce(0) { $0 + $1.length }
        draws += 1
        screen = buffer
    }

    public func readKey(timeout milliseconds: Int) -> Key? { keys.isEmpty ? nil : keys.removeFirst() }

    public func shutdown() { isShutDown = true }

    public func invalidate() { screen = ScreenBuffer(width: 0, height: 0) }

    /// The screen's text, row by row.
    public var text: String { screen.text }

    public func row(_ y: Int) -> String { screen.rowText(y) }
}
