/// One terminal cell. A wide character occupies its cell and marks the next one as its continuation.
public struct Cell: Sendable, Hashable {
    public var character: Character
    public var style: Style
    /// True for the right half of a wide character: nothing is drawn there.
    public var isContinuation: Bool

    public init(_ character: Character = " ", style: Style = .plain, isContinuation: Bool = false) {
        self.character = character
        self.style = style
        self.isContinuation = isContinuation
    }

    public static let blank = Cell()
}

/// A grid of cells: what a frame should look like. Rendering fills one; the backend diffs it against the last.
///
/// Every string written is sanitised on the way in (controls, escapes, bidi overrides removed) and, when the
/// terminal has no UTF-8, reduced to ASCII, so nothing in a cell can ever drive the terminal.
public struct ScreenBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let ascii: Bool
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, ascii: Bool = false, fill: Style = .plain) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.ascii = ascii
        cells = Array(repeating: Cell(" ", style: fill), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Fills a rectangle with spaces in a style.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, style: Style) {
        let x0 = max(0, x)
        let y0 = max(0, y)
        let x1 = min(width, x + w)
        let y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 { for xx in x0..<x1 { cells[yy * width + xx] = Cell(" ", style: style) } }
    }

    /// Writes text at (x, y), clipped to `maxWidth` columns and the buffer's edge. Returns the columns used.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let limit = min(width, maxWidth.map { x + max(0, $0) } ?? width)
        var safe = SafeText.sanitize(text)
        if ascii { safe = SafeText.ascii(safe) }
        var col = x
        for ch in safe {
            let w = SafeText.width(of: ch)
            if w == 0 { continue } // a lone combining mark: nothing to place it on safely
            if col + w > limit { break }
            if col >= 0 {
                // Overwriting half of a wide character blanks its other half.
                if self[col, y].isContinuation, col > 0 { self[col - 1, y] = Cell(" ", style: self[col - 1, y].style) }
                if w == 1, col + 1 < width, self[col + 1, y].isContinuation { self[col + 1, y] = Cell(" ", style: style) }
                self[col, y] = Cell(ch, style: style)
                if w == 2 {
                    if col + 2 < width, self[col + 2, y].isContinuation { self[col + 2, y] = Cell(" ", style: style) }
                    self[col + 1, y] = Cell(" ", style: style, isContinuation: true)
                }
            }
            col += w
        }
        return col - x
    }

    /// The text of one row, for tests and for reading the screen.
    public func rowText(_ y: Int) -> String {
        var s = ""
        for x in 0..<width where !self[x, y].isContinuation { s.append(self[x, y].character) }
        return s
    }

    /// The whole screen as text, one line per row, trailing spaces kept.
    public var text: String { (0..<height).map(rowText).joined(separator: "\n") }

    /// The runs of cells that differ from `previous`: what must be written to the terminal.
    /// Everything is a change when the size differs.
    public func changes(since previous: ScreenBuffer?) -> [Run] {
        guard let previous, previous.width == width, previous.height == height, previous.ascii == ascii else {
            return (0..<height).map { Run(y: $0, x: 0, length: width) }
        }
        var runs: [Run] = []
        for y in 0..<height {
            let base = y * width
            var x = 0
            while x < width {
                if cells[base + x] == previous.cells[base + x] {
                    x += 1
                    continue
                }
                var start = x
                // A changed continuation cell is redrawn from its wide character.
                if cells[base + start].isContinuation, start > 0 { start -= 1 }
                var end = x + 1
                while end < width, cells[base + end] != previous.cells[base + end] { end += 1 }
                if end < width, cells[base + end].isContinuation { end += 1 }
                runs.append(Run(y: y, x: start, length: end - start))
                x = end
            }
        }
        return runs
    }

    public struct Run: Sendable, Equatable {
        public var y: Int
        public var x: Int
        public var length: Int
    }
}
