import Foundation

/// The one list of characters that must never reach a reader as themselves: the screen, the CLI, JSON output and
/// the log file all ask this list, so they can't disagree.
///
/// A character is unsafe when a terminal could act on it or a person could not see it:
/// - controls (Cc): C0 (ESC, BEL, BS…), DEL and C1 (CSI, OSC…), which drive the terminal;
/// - format characters (Cf): bidi overrides, embeddings, isolates and marks, zero-width spaces and joiners,
///   the word joiner, invisible operators, the byte-order mark, interlinear annotations, soft hyphens;
/// - line and paragraph separators (Zl, Zp);
/// - the whole tag block U+E0000–U+E007F, assigned or not: tag characters spell text a human never sees
///   but an AI agent reads;
/// - every other default-ignorable code point (Hangul fillers, Mongolian free variation selectors, U+115F…),
///   which draw as nothing; variation selectors alone are kept, since emoji need them.
public enum UnsafeCharacters {
    public static func contains(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x20 || (0x7F...0x9F).contains(v) { return true }
        if v < 0xA0 { return false }
        if (0xE0000...0xE007F).contains(v) { return true }
        if (0xFE00...0xFE0F).contains(v) || (0xE0100...0xE01EF).contains(v) { return false }
        let p = s.properties
        switch p.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate: return true
        default: return p.isDefaultIgnorableCodePoint
        }
    }

    /// Whether text is free of unsafe characters (the fast path is printable ASCII).
    public static func isClean(_ text: String) -> Bool {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return true }
        return !text.unicodeScalars.contains(where: contains)
    }

    /// Names a character for an error message: `U+200B ZERO WIDTH SPACE`.
    public static func describe(_ s: Unicode.Scalar) -> String {
        let code = "U+" + String(s.value, radix: 16, uppercase: true).leftPadded(to: 4)
        if let name = s.properties.name ?? s.properties.nameAlias { return "\(code) \(name)" }
        return code
    }

    /// Text fit to print: tab, newline, carriage return and line/paragraph separators become a space (a value
    /// stays on its line); other controls become U+FFFD so tampering stays visible; everything else unsafe is
    /// removed.
    public static func clean(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            guard contains(s) else {
                out.append(s)
                continue
            }
            switch s.value {
            case 0x09, 0x0A, 0x0D, 0x2028, 0x2029: out.append(" ")
            case 0x00...0x1F, 0x7F...0x9F: out.append("\u{FFFD}")
            default: continue
            }
        }
        return String(out)
    }

    /// JSON whose bytes are safe to print: every unsafe character inside it is written as a `\uXXXX` escape
    /// (a surrogate pair above U+FFFF). The JSON means exactly the same. Tab, newline and carriage return are left:
    /// outside strings they are the JSON's own white space, and an encoder already escapes them inside.
    public static func escapeJSON(_ data: Data) -> Data {
        func escapes(_ s: Unicode.Scalar) -> Bool { s.value != 0x09 && s.value != 0x0A && s.value != 0x0D && contains(s) }
        let text = String(decoding: data, as: UTF8.self)
        guard text.unicodeScalars.contains(where: escapes) else { return data }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for s in text.unicodeScalars {
            guard escapes(s) else {
                out.unicodeScalars.append(s)
                continue
            }
            for unit in String(s).utf16 { out += "\\u" + String(unit, radix: 16).leftPadded(to: 4) }
        }
        return Data(out.utf8)
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
