import Foundation
import Testing
import TextSafety

@testable import Terminal

@Suite("Safe text")
struct SafeTextTests {
    @Test(
        "escape sequences, controls and bidi overrides never survive",
        arguments: [
            "\u{1B}[2J\u{1B}[Hwiped", "\u{1B}]0;pwned\u{07}title", "\u{9B}31mred", "a\u{7F}b", "bell\u{07}",
            "\u{202E}gnp.exe", "x\u{2066}y\u{2069}", "zero\u{200B}width", "line\u{2028}sep", "nul\u{0}byte",
        ])
    func stripsControls(input: String) {
        let out = SafeText.sanitize(input)
        for s in out.unicodeScalars {
            #expect(!(s.value < 0x20 || (0x7F...0x9F).contains(s.value)), "control U+\(String(s.value, radix: 16)) survived")
            #expect(!(0x202A...0x202E).contains(s.value) && !(0x2066...0x2069).contains(s.value), "bidi control survived")
        }
    }

    @Test("printable text passes unchanged")
    func keepsText() {
        #expect(SafeText.sanitize("ci-deployer-prod") == "ci-deployer-prod")
        #expect(SafeText.sanitize("東京 café 🚀") == "東京 café 🚀")
    }

    @Test("invalid UTF-8 becomes replacement characters, never raw bytes")
    func invalidUTF8() {
        let s = String(decoding: [0x61, 0xFF, 0xC3, 0x62], as: UTF8.self)
        #expect(SafeText.sanitize(s) == "a\u{FFFD}\u{FFFD}b")
    }

    @Test("widths: CJK and emoji take two columns, combining marks none")
    func widths() {
        #expect(SafeText.width("abc") == 3)
        #expect(SafeText.width("東京") == 4)
        #expect(SafeText.width("🚀") == 2)
        #expect(SafeText.width("e\u{301}") == 1)
        #expect(SafeText.width("👩‍💻") == 2)
    }

    @Test("truncation keeps to the column budget and never splits a wide character")
    func truncation() {
        #expect(SafeText.truncate("terraform-prod", to: 8) == "terrafo…")
        #expect(SafeText.truncate("東京東京", to: 5) == "東京…")
        #expect(SafeText.width(SafeText.truncate("東京東京", to: 4)) <= 4)
        #expect(SafeText.truncate(String(repeating: "x", count: 10_000), to: 20).count == 20)
        #expect(SafeText.fit("ab", to: 4) == "ab  ")
        #expect(SafeText.fit("ab", to: 4, alignRight: true) == "  ab")
    }

    @Test("ASCII mode replaces everything outside printable ASCII, keeping widths")
    func asciiMode() {
        #expect(SafeText.ascii("café") == "caf?")
        #expect(SafeText.ascii("東") == "??")
    }

    @Test("JSON for a terminal escapes C1 and bidi characters, and still decodes to the same strings")
    func terminalSafeJSON() throws {
        let name = "a\u{9B}31m\u{202E}b\u{2028}c 東京"
        let data = try JSONEncoder().encode(["name": name])
        let safe = SafeText.terminalSafeJSON(data)
        let text = String(decoding: safe, as: UTF8.self)
        #expect(text.unicodeScalars.allSatisfy { !UnsafeCharacters.contains($0) })
        #expect(text.contains("\\u009b"))
        #expect(try JSONDecoder().decode([String: String].self, from: safe)["name"] == name)
    }
}
