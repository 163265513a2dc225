import Foundation
import TextSafety

/// Makes untrusted text (anything a collector reported) safe to draw, and measures it in terminal columns.
///
/// `sanitize` removes or replaces everything that could change the terminal rather than be drawn on it, or that
/// a reader could not see: the one list in `UnsafeCharacters` (controls, format characters, bidi, separators,
/// tags, default-ignorables). Invalid UTF-8 never gets this far: it became U+FFFD when the bytes were decoded.
public enum SafeText {
    /// What a removed control character becomes, so tampering stays visible.
    public static let replacement: Character = "\u{FFFD}"

    public static func sanitize(_ text: String) -> String { UnsafeCharacters.clean(text) }

    /// Replaces everything outside printable ASCII with `?`, for terminals without UTF-8.
    public static func ascii(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = ""
        for ch in text {
            if let a = ch.asciiValue, a >= 0x20, a < 0x7F { out.append(ch) } else { out.append(width(of: ch) == 2 ? "??" : "?") }
        }
        return out
    }

    /// Columns a character takes: 0 (combining), 1, or 2 (East Asian wide, emoji).
    public static func width(of ch: Character) -> Int {
        guard let first = ch.unicodeScalars.first else { return 0 }
        if ch.unicodeScalars.count > 1 {
            // Emoji presentation selector or a ZWJ sequence or a flag: drawn two columns wide.
            if ch.unicodeScalars.contains(where: { $0.value == 0xFE0F || $0.value == 0x200D }) { return 2 }
            if (0x1F1E6...0x1F1FF).contains(first.value) { return 2 }
        }
        return width(of: first)
    }

    public static func width(of s: Unicode.Scalar) -> Int {
        let v = s.value
        if v < 0x300 { return v < 0x20 || (v >= 0x7F && v < 0xA0) ? 0 : 1 }
        if isZeroWidth(v) { return 0 }
        return isWide(v) ? 2 : 1
    }

    /// Columns a string takes.
    public static func width(_ text: String) -> Int {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }
        return text.reduce(0) { $0 + width(of: $1) }
    }

    /// Fits text into `columns`, ending with `…` (or `~` in ASCII) when cut. Never splits a wide character.
    public static func truncate(_ text: String, to columns: Int, ellipsis: String = "…") -> String {
        guard columns > 0 else { return "" }
        if text.utf8.count <= columns, text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        let total = width(text)
        if total <= columns { return text }
        let room = columns - width(ellipsis)
        guard room >= 0 else { return String(repeating: ".", count: columns) }
        var out = ""
        var used = 0
        for ch in text {
            let w = width(of: ch)
            if used + w > room { break }
            out.append(ch)
            used += w
        }
        return out + ellipsis
    }

    /// Pads with spaces (or cuts) to exactly `columns`.
    public static func fit(_ text: String, to columns: Int, ellipsis: String = "…", alignRight: Bool = false) -> String {
        let t = truncate(text, to: columns, ellipsis: ellipsis)
        let pad = max(0, columns - width(t))
        return alignRight ? String(repeating: " ", count: pad) + t : t + String(repeating: " ", count: pad)
    }

    static func isZeroWidth(_ v: UInt32) -> Bool {
        switch v {
        case 0x0300...0x036F, 0x0483...0x0489, 0x0591...0x05BD, 0x0610...0x061A, 0x064B...0x065F, 0x0670,
            0x06D6...0x06DC, 0x06DF...0x06E4, 0x0900...0x0902, 0x093C, 0x0941...0x0948, 0x094D, 0x0E31,
            0x0E34...0x0E3A, 0x0E47...0x0E4E, 0x1AB0...0x1AFF, 0x1DC0...0x1DFF, 0x200B...0x200F, 0x20D0...0x20FF,
            0xFE00...0xFE0F, 0xFE20...0xFE2F, 0x1F3FB...0x1F3FF, 0xE0100...0xE01EF:
            return true
        default:
            return false
        }
    }

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3, 0x25FD...0x25FE,
            0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE,
            0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705,
            0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27B0, 0x27BF,
            0x2B1B...0x2B1C, 0x2B50, 0x2B55, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
            0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18AFF, 0x1B000...0x1B2FF,
            0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F64F, 0x1F680...0x1F6FF,
            0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}

extension SafeText {
    /// JSON for a terminal: every character in the one unsafe list is written as a `\uXXXX` escape.
    /// The JSON means exactly the same; only its bytes are safe to print.
    public static func terminalSafeJSON(_ data: Data) -> Data { UnsafeCharacters.escapeJSON(data) }
}
