import TextSafety

/// The grammar every scope is checked against where it enters: a request, a direct grant, a config's
/// `forbidden_scopes`, a collector-reported privilege.
///
/// - A scope is 1 to 256 ASCII characters: letters, digits and `. _ - + = , @`, in segments separated by `:` or `/`.
///   It neither starts nor ends with a separator.
/// - `*` is a wildcard: as many characters as you like, separators included (`iam:*`, `*`).
/// - Patterns (`forbidden_scopes`) may also use `?` (one character) and `[…]` classes (`[a-c]`, `[!x]`).
/// - Case doesn't matter: scopes are compared, and policy patterns matched, in one canonical form, ASCII lowercase.
///
/// Nothing outside the grammar is folded into it: a space, a zero-width or bidi character, a full-width letter or a
/// Cyrillic look-alike is refused with a message naming the character and its position, so `iam:admin ` can never
/// be approved as something that displays like `iam:admin`.
public enum ScopeGrammar {
    public static let maxLength = 256

    public enum Kind: Sendable {
        /// A scope to hold: literals, separators and `*`.
        case scope
        /// A policy pattern: a scope's characters plus `?` and `[…]`.
        case pattern
    }

    /// What doesn't fit, said so a person can find it.
    public struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
        public var scope: String
        public var message: String
        public var description: String { message }
    }

    static let literal: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=,@".utf8))
    static let separators: Set<UInt8> = [UInt8(ascii: ":"), UInt8(ascii: "/")]
    public static let summary = "ASCII letters, digits and . _ - + = , @ in segments separated by : or /, with * as a wildcard"

    /// Checks `text` against the grammar; returns it unchanged when it fits.
    @discardableResult
    public static func check(_ text: String, as kind: Kind = .scope) throws(Violation) -> String {
        let shown = visible(text)
        func fail(_ why: String) -> Violation {
            Violation(
                scope: text,
                message: "scope '\(shown)': \(why); a scope is \(summary)" + (kind == .pattern ? " (and ? and […] in a pattern)" : ""))
        }
        if text.isEmpty { throw fail("it is empty") }
        for (i, s) in text.unicodeScalars.enumerated() {
            let v = s.value
            guard v < 0x80 else {
                throw fail(
                    "\(UnsafeCharacters.describe(s)) at character \(i + 1) is not allowed"
                        + "\(lookAlike(s).map { " (it looks like '\($0)')" } ?? "")"
                )
            }
            let b = UInt8(v)
            if literal.contains(b) || separators.contains(b) || b == UInt8(ascii: "*") { continue }
            if kind == .pattern, b == UInt8(ascii: "?") || b == UInt8(ascii: "[") || b == UInt8(ascii: "]") || b == UInt8(ascii: "!") {
                continue
            }
            let name = b == 0x20 ? "a space" : b < 0x20 || b == 0x7F ? UnsafeCharacters.describe(s) : "'\(Character(s))'"
            throw fail("\(name) at character \(i + 1) is not allowed")
        }
        if text.unicodeScalars.count > maxLength { throw fail("it is \(text.unicodeScalars.count) characters long; at most \(maxLength)") }
        let bytes = Array(text.utf8)
        if separators.contains(bytes[0]) { throw fail("it starts with a separator '\(Character(Unicode.Scalar(bytes[0])))'") }
        if separators.contains(bytes[bytes.count - 1]) {
            throw fail("it ends with a separator '\(Character(Unicode.Scalar(bytes[bytes.count - 1])))'")
        }
        if kind == .pattern {
            do { _ = try ScopePattern.tokens(Array(canonical(text).utf8)) } catch { throw fail(error.message) }
        }
        return text
    }

    /// Whether `text` fits the grammar of a scope.
    public static func fits(_ text: String, as kind: Kind = .scope) -> Bool {
        (try? check(text, as: kind)) != nil
    }

    /// The one form scopes are compared in: ASCII lowercase (the grammar admits nothing else).
    public static func canonical(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Text with everything outside printable ASCII written as `\u{…}`, so an error shows what was really sent.
    public static func visible(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            if s.value >= 0x20, s.value < 0x7F {
                out.unicodeScalars.append(s)
            } else {
                let hex = String(s.value, radix: 16, uppercase: true)
                out += "\\u{" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "}"
            }
        }
        return out.count > 80 ? String(out.prefix(77)) + "..." : out
    }

    /// The ASCII letter a common look-alike imitates (full-width forms, Cyrillic and Greek), for the message only.
    static func lookAlike(_ s: Unicode.Scalar) -> String? {
        let v = s.value
        if (0xFF01...0xFF5E).contains(v), let a = Unicode.Scalar(v - 0xFEE0) { return String(Character(a)) }
        let table: [UInt32: String] = [
            0x0430: "a", 0x0435: "e", 0x043E: "o", 0x0440: "p", 0x0441: "c", 0x0443: "y", 0x0445: "x", 0x0456: "i",
            0x0458: "j", 0x0455: "s", 0x04BB: "h", 0x0501: "d", 0x0410: "A", 0x0412: "B", 0x0415: "E", 0x041A: "K",
            0x041C: "M", 0x041D: "H", 0x041E: "O", 0x0420: "P", 0x0421: "C", 0x0422: "T", 0x0425: "X", 0x03BF: "o",
            0x03B1: "a", 0x03B9: "i", 0x03BD: "v", 0x0391: "A", 0x0392: "B", 0x0395: "E", 0x0397: "H", 0x0399: "I",
            0x039A: "K", 0x039C: "M", 0x039D: "N", 0x039F: "O", 0x03A1: "P", 0x03A4: "T", 0x03A7: "X", 0x0131: "i",
            0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2212: "-", 0x2215: "/", 0x2044: "/", 0xA789: ":",
            0x02D0: ":", 0x0589: ":", 0x2236: ":", 0x00A0: " ",
        ]
        return table[v]
    }

    /// Admin scopes: `*`, any wildcard (it could be an admin one), and a segment that is or ends in `admin`
    /// (`admin`, `iam:admin`, `k8s:prod:cluster-admin`, `repo/admin/x`).
    public static func isAdmin(_ scope: String) -> Bool {
        let c = canonical(scope)
        if c.contains("*") { return true }
        return c.split(whereSeparator: { $0 == ":" || $0 == "/" }).contains { $0.hasSuffix("admin") }
    }
}

/// A scope or pattern compiled for matching in canonical form: `*` any run, `?` one character, `[…]` a class.
public struct ScopePattern: Sendable, Hashable {
    /// One character position: the set of ASCII bytes it may be, or a run of any.
    enum Token: Sendable, Hashable {
        case run
        case one(low: UInt64, high: UInt64)

        func overlaps(_ other: Token) -> Bool {
            guard case .one(let a, let b) = self, case .one(let c, let d) = other else { return true }
            return a & c != 0 || b & d != 0
        }
    }

    struct ParseError: Error { var message: String }

    public let text: String
    let tokens: [Token]

    /// Compiles a pattern (`Kind.pattern`); a plain scope compiles too (its `*` a wildcard).
    public init(_ text: String, as kind: ScopeGrammar.Kind = .pattern) throws(ScopeGrammar.Violation) {
        try ScopeGrammar.check(text, as: kind)
        self.text = text
        self.tokens = (try? Self.tokens(Array(ScopeGrammar.canonical(text).utf8))) ?? []
    }

    static func bit(_ b: UInt8) -> Token { b < 64 ? .one(low: 1 << UInt64(b), high: 0) : .one(low: 0, high: 1 << UInt64(b - 64)) }

    /// Every character a scope may contain: `?` and the complement of a class range over these.
    static let alphabet: (UInt64, UInt64) = {
        var low: UInt64 = 0
        var high: UInt64 = 0
        for b in ScopeGrammar.literal.union(ScopeGrammar.separators).union([UInt8(ascii: "*")]) {
            let c = b >= 0x41 && b <= 0x5A ? b + 32 : b
            if c < 64 { low |= 1 << UInt64(c) } else { high |= 1 << UInt64(c - 64) }
        }
        return (low, high)
    }()

    static func tokens(_ bytes: [UInt8]) throws(ParseError) -> [Token] {
        var out: [Token] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "*"):
                if out.last != .run { out.append(.run) }
            case UInt8(ascii: "?"):
                out.append(.one(low: alphabet.0, high: alphabet.1))
            case UInt8(ascii: "["):
                var j = i + 1
                var negate = false
                if j < bytes.count, bytes[j] == UInt8(ascii: "!") {
                    negate = true
                    j += 1
                }
                var low: UInt64 = 0
                var high: UInt64 = 0
                var any = false
                while j < bytes.count, bytes[j] != UInt8(ascii: "]") || !any {
                    let lo = bytes[j]
                    var hi = bytes[j]
                    if j + 2 < bytes.count, bytes[j + 1] == UInt8(ascii: "-"), bytes[j + 2] != UInt8(ascii: "]") {
                        hi = bytes[j + 2]
                        j += 2
                    }
                    guard lo <= hi else { throw ParseError(message: "the class range at character \(j - 1) runs backwards") }
                    for c in lo...hi {
                        if c < 64 { low |= 1 << UInt64(c) } else { high |= 1 << UInt64(c - 64) }
                    }
                    any = true
                    j += 1
                }
                guard j < bytes.count else { throw ParseError(message: "the class '[' at character \(i + 1) is never closed with ']'") }
                if negate {
                    low = ~low & alphabet.0
                    high = ~high & alphabet.1
                }
                out.append(.one(low: low, high: high))
                i = j
            case UInt8(ascii: "]"), UInt8(ascii: "!"):
                throw ParseError(message: "'\(Character(Unicode.Scalar(b)))' at character \(i + 1) is only allowed inside a class […]")
            default:
                out.append(bit(b))
            }
            i += 1
        }
        return out
    }

    /// Whether `scope` (taken literally: its `*` is the character `*`) matches this pattern.
    public func matches(_ scope: String) -> Bool {
        let literal = ScopeGrammar.canonical(scope).utf8.map { Self.bit($0) }
        return Self.overlap(tokens, literal)
    }

    /// Whether some scope could match both: a wildcard scope `cloud:*` overlaps a forbidden `*admin`, since it
    /// would include `cloud:admin`.
    public func overlaps(_ other: ScopePattern) -> Bool { Self.overlap(tokens, other.tokens) }

    /// Whether the two token lists can match one common string (a product of the two automata, searched once).
    static func overlap(_ a: [Token], _ b: [Token]) -> Bool {
        let n = a.count
        let m = b.count
        var seen = [Bool](repeating: false, count: (n + 1) * (m + 1))
        var stack = [(0, 0)]
        while let (i, j) = stack.popLast() {
            if i == n, j == m { return true }
            let key = i * (m + 1) + j
            if seen[key] { continue }
            seen[key] = true
            let ta = i < n ? a[i] : nil
            let tb = j < m ? b[j] : nil
            if ta == .run { stack.append((i + 1, j)) }
            if tb == .run { stack.append((i, j + 1)) }
            guard let ta, let tb else { continue }
            switch (ta, tb) {
            case (.run, .run): break
            case (.run, .one): stack.append((i, j + 1))
            case (.one, .run): stack.append((i + 1, j))
            case (.one, .one): if ta.overlaps(tb) { stack.append((i + 1, j + 1)) }
            }
        }
        return false
    }
}
