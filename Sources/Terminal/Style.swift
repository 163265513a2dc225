import Foundation

/// A colour as a theme names it; the backend down-converts it to what the terminal can show.
public enum Color: Sendable, Hashable {
    /// The terminal's own foreground or background.
    case terminalDefault
    /// 0–255: the 16 ANSI colours, the 6×6×6 cube, the grey ramp.
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    public static let black = Color.indexed(0), red = Color.indexed(1), green = Color.indexed(2), yellow = Color.indexed(3)
    public static let blue = Color.indexed(4), magenta = Color.indexed(5), cyan = Color.indexed(6), white = Color.indexed(7)

    /// Names a theme may use.
    public static let names: [String: Color] = [
        "default": .terminalDefault, "black": .indexed(0), "red": .indexed(1), "green": .indexed(2), "yellow": .indexed(3),
        "blue": .indexed(4), "magenta": .indexed(5), "cyan": .indexed(6), "white": .indexed(7),
        "gray": .indexed(8), "grey": .indexed(8), "bright-black": .indexed(8), "bright-red": .indexed(9),
        "bright-green": .indexed(10), "bright-yellow": .indexed(11), "bright-blue": .indexed(12),
        "bright-magenta": .indexed(13), "bright-cyan": .indexed(14), "bright-white": .indexed(15),
    ]

    /// Parses `default`, a name, `0`–`255` or `#rrggbb`.
    public init?(text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let named = Color.names[t] {
            self = named
            return
        }
        if let n = Int(t), (0...255).contains(n) {
            self = .indexed(UInt8(n))
            return
        }
        if t.hasPrefix("#"), t.count == 7, let v = UInt32(t.dropFirst(), radix: 16) {
            self = .rgb(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
            return
        }
        return nil
    }
}

/// What a terminal can show.
public enum ColorDepth: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    case none = 0, ansi8 = 8, ansi16 = 16, indexed256 = 256, truecolor = 16_777_216

    public static func < (a: ColorDepth, b: ColorDepth) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .none: "no colour"
        case .ansi8: "8 colours"
        case .ansi16: "16 colours"
        case .indexed256: "256 colours"
        case .truecolor: "truecolor"
        }
    }

    /// From a colour count as terminfo reports it.
    public init(colors: Int) {
        switch colors {
        case 16_777_216...: self = .truecolor
        case 256...: self = .indexed256
        case 16...: self = .ansi16
        case 8...: self = .ansi8
        default: self = .none
        }
    }
}

extension Color {
    /// The standard xterm palette, for converting down.
    static let ansiRGB: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    static func rgbOf(index: Int) -> (Int, Int, Int) {
        if index < 16 { return ansiRGB[index] }
        if index < 232 {
            let i = index - 16
            let steps = [0, 95, 135, 175, 215, 255]
            return (steps[i / 36], steps[(i / 6) % 6], steps[i % 6])
        }
        let v = 8 + (index - 232) * 10
        return (v, v, v)
    }

    static func nearest(_ rgb: (Int, Int, Int), in range: Range<Int>) -> Int {
        var best = range.lowerBound
        var bestD = Int.max
        for i in range {
            let c = rgbOf(index: i)
            let d = (c.0 - rgb.0) * (c.0 - rgb.0) * 3 + (c.1 - rgb.1) * (c.1 - rgb.1) * 4 + (c.2 - rgb.2) * (c.2 - rgb.2) * 2
            if d < bestD {
                bestD = d
                best = i
            }
        }
        return best
    }

    /// The colour number to use at a depth: -1 for the terminal default, nil when colour is off.
    public func number(at depth: ColorDepth) -> Int? {
        switch (self, depth) {
        case (_, .none): return nil
        case (.terminalDefault, _): return -1
        case (.indexed(let n), .truecolor), (.indexed(let n), .indexed256): return Int(n)
        case (.indexed(let n), .ansi16): return n < 16 ? Int(n) : Color.nearest(Color.rgbOf(index: Int(n)), in: 0..<16)
        case (.indexed(let n), .ansi8): return n < 8 ? Int(n) : n < 16 ? Int(n) - 8 : Color.nearest(Color.rgbOf(index: Int(n)), in: 0..<8)
        case (.rgb(let r, let g, let b), .truecolor): return Int(r) << 16 | Int(g) << 8 | Int(b)
        case (.rgb(let r, let g, let b), .indexed256): return Color.nearest((Int(r), Int(g), Int(b)), in: 16..<256)
        case (.rgb(let r, let g, let b), .ansi16): return Color.nearest((Int(r), Int(g), Int(b)), in: 0..<16)
        case (.rgb(let r, let g, let b), .ansi8): return Color.nearest((Int(r), Int(g), Int(b)), in: 0..<8)
        }
    }
}

/// Text attributes, kept even without colour so meaning never rests on colour alone.
public struct Attributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = Attributes(rawValue: 1)
    public static let reverse = Attributes(rawValue: 2)
    public static let underline = Attributes(rawValue: 4)
    public static let dim = Attributes(rawValue: 8)

    public init?(name: String) {
        switch name.lowercased() {
        case "bold": self = .bold
        case "reverse": self = .reverse
        case "underline": self = .underline
        case "dim": self = .dim
        default: return nil
        }
    }
}

/// How a cell looks: colours, attributes, and the attributes to use instead of colour on a monochrome terminal.
public struct Style: Sendable, Hashable {
    public var fg: Color
    public var bg: Color
    public var attributes: Attributes
    public var monoAttributes: Attributes

    public init(fg: Color = .terminalDefault, bg: Color = .terminalDefault, attributes: Attributes = [], mono: Attributes? = nil) {
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
        self.monoAttributes = mono ?? attributes
    }

    public static let plain = Style()

    /// The attributes to draw with at a colour depth.
    public func effectiveAttributes(_ depth: ColorDepth) -> Attributes { depth == .none ? monoAttributes : attributes }
}
