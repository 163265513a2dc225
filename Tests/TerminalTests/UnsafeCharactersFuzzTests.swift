import Foundation
import TestSupport
import Testing
import TextSafety

@testable import Inventory
@testable import Terminal

/// Random Unicode from every class of code point through the one sanitiser (screen, CLI, JSON, log) and the scope
/// grammar: nothing unsafe passes, nothing safe is refused or changed.
@Suite("Fuzz: the sanitiser and the scope grammar over random Unicode")
struct UnsafeCharactersFuzzTests {
    /// Code point classes, each with ranges to draw from and whether it is safe to print as itself.
    static let classes: [(name: String, ranges: [ClosedRange<UInt32>], safe: Bool)] = [
        ("C0 controls", [0x00...0x1F], false),
        ("DEL and C1 controls", [0x7F...0x9F], false),
        ("bidi controls", [0x061C...0x061C, 0x200E...0x200F, 0x202A...0x202E, 0x2066...0x2069], false),
        (
            "zero-width and format",
            [0x00AD...0x00AD, 0x200B...0x200D, 0x2060...0x2064, 0xFEFF...0xFEFF, 0xFFF9...0xFFFB, 0x180E...0x180E], false
        ),
        ("line and paragraph separators", [0x2028...0x2029], false),
        ("tags", [0xE0000...0xE007F], false),
        ("invisible fillers", [0x115F...0x1160, 0x3164...0x3164, 0xFFA0...0xFFA0, 0x034F...0x034F], false),
        ("printable ASCII", [0x20...0x7E], true),
        ("Latin and Greek letters", [0x00C0...0x024F, 0x0391...0x03C9], true),
        ("combining marks", [0x0300...0x0333, 0x0340...0x034E, 0x20D0...0x20DC], true),
        ("wide CJK and Hangul", [0x4E00...0x9FFF, 0xAC00...0xD7A3, 0x3041...0x3096], true),
        ("emoji", [0x1F300...0x1F64F, 0x1F680...0x1F6FF], true),
        ("private use", [0xE000...0xF8FF, 0xF0000...0xFFFFD], true),
        ("variation selectors", [0xFE00...0xFE0F], true),
        ("full-width forms", [0xFF01...0xFF5E], true),
        ("Cyrillic", [0x0400...0x04FF], true),
    ]

    /// An oracle written apart from `UnsafeCharacters`: the categories and blocks a terminal acts on or hides.
    static func unsafe(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x20 || (0x7F...0x9F).contains(v) || (0xE0000...0xE007F).contains(v) { return true }
        switch s.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: break
        }
        return [0x115F, 0x1160, 0x3164, 0xFFA0, 0x034F].contains(v)
    }

    static func scalar(from ranges: [ClosedRange<UInt32>], _ rng: inout SplitMix) -> Unicode.Scalar {
        while true {
            let r = ranges.randomElement(using: &rng)!
            if let s = Unicode.Scalar(UInt32.random(in: r, using: &rng)) { return s }
        }
    }

    @Test("every class: unsafe never passes the screen, CLI, JSON or log; safe text is never changed")
    func fuzzSanitiser() throws {
        var rng = SplitMix(state: 0x7467_6170)
        let encoder = JSONEncoder()
        for _ in 0..<4000 {
            var text = String.UnicodeScalarView()
            var allSafe = true
            for _ in 0..<Int.random(in: 1...24, using: &rng) {
                let c = Self.classes.randomElement(using: &rng)!
                let s = Self.scalar(from: c.ranges, &rng)
                #expect(UnsafeCharacters.contains(s) == Self.unsafe(s), "\(c.name): \(UnsafeCharacters.describe(s))")
                allSafe = allSafe && !Self.unsafe(s)
                text.append(s)
            }
            let input = String(text)
            let screen = SafeText.sanitize(input)
            #expect(!screen.unicodeScalars.contains(where: Self.unsafe), "screen: \(ScopeGrammar.visible(input))")
            if allSafe { #expect(screen == input, "safe text changed: \(ScopeGrammar.visible(input))") }
            let json = SafeText.terminalSafeJSON(try encoder.encode([input]))
            let jsonText = String(decoding: json, as: UTF8.self)
            #expect(!jsonText.unicodeScalars.contains(where: Self.unsafe), "json: \(ScopeGrammar.visible(jsonText))")
            #expect(try JSONDecoder().decode([String].self, from: json) == [input], "the JSON still means the same")
            #expect(!UnsafeCharacters.clean(input).unicodeScalars.contains(where: Self.unsafe), "log")
            if ScopeGrammar.fits(input) {
                #expect(
                    input.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F },
                    "a scope is printable ASCII: \(ScopeGrammar.visible(input))")
            }
        }
    }

    @Test("the scope grammar: random scopes from its own alphabet fit; one character from any other class never does")
    func fuzzScopes() {
        var rng = SplitMix(state: 42)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=,@*".unicodeScalars)
        for _ in 0..<3000 {
            var segments: [String] = []
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                segments.append(
                    String(
                        String.UnicodeScalarView(
                            (0..<Int.random(in: 1...10, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })))
            }
            let scope = segments.joined(separator: Bool.random(using: &rng) ? ":" : "/")
            #expect(ScopeGrammar.fits(scope), "\(scope)")
            // One foreign character anywhere: refused, and the message names it at its position.
            let c = Self.classes.filter { $0.name != "printable ASCII" }.randomElement(using: &rng)!
            let s = Self.scalar(from: c.ranges, &rng)
            var scalars = Array(scope.unicodeScalars)
            let at = Int.random(in: 0...scalars.count, using: &rng)
            scalars.insert(s, at: at)
            let bad = String(String.UnicodeScalarView(scalars))
            do {
                try ScopeGrammar.check(bad)
                Issue.record("\(c.name) \(UnsafeCharacters.describe(s)) passed in \(ScopeGrammar.visible(bad))")
            } catch {
                #expect(error.message.contains("at character \(at + 1)"), "\(error.message)")
                #expect(error.message.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "the message is safe to print")
            }
        }
    }
}
