import Foundation
import Testing

@testable import Dashboard
@testable import Terminal

@Suite("Themes")
struct ThemeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let library = ThemeLibrary(directories: [root.appendingPathComponent("themes").path])

    @Test("the bundled themes exist and parse, each with every role")
    func bundled() throws {
        let names = Self.library.list().map(\.name)
        for name in ["default", "light", "high-contrast", "mono", "colorblind"] {
            #expect(names.contains(name), "missing theme \(name)")
            let theme = try Self.library.load(name)
            #expect(theme.name == name)
            #expect(Set(theme.styles.keys) == Set(Role.allCases), "\(name) leaves roles unset")
        }
    }

    @Test("the themes compiled into the binary are exactly those in themes/ (run .ci/bundle-themes after editing one)")
    func compiledInMatchesFolder() throws {
        let dir = Self.root.appendingPathComponent("themes").path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(ThemeLibrary.bundled.keys), "run .ci/bundle-themes")
        for f in files {
            let text = try String(contentsOfFile: "\(dir)/\(f)", encoding: .utf8)
            // As the generator writes it: trailing blanks dropped, no final newline.
            let normal = text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.replacing(/[ \t]+$/, with: "") }.joined(separator: "\n")
            let expected = normal.hasSuffix("\n") ? String(normal.dropLast()) : normal
            #expect(
                ThemeLibrary.bundled[String(f.dropLast(5))] == expected, "\(f) differs from the compiled-in copy: run .ci/bundle-themes")
        }
    }

    @Test("with no theme folder anywhere (an installed binary), every bundled theme is listed and loads")
    func compiledInWithoutFolders() throws {
        let library = ThemeLibrary(directories: ["/nonexistent/trustgap-themes"])
        let listed = library.list()
        #expect(listed.map(\.name) == ["colorblind", "default", "high-contrast", "light", "mono"])
        #expect(listed.allSatisfy { $0.path == "(built in)" })
        for (name, _) in listed {
            let theme = try library.load(name)
            #expect(theme.name == name)
            #expect(Set(theme.styles.keys) == Set(Role.allCases), "\(name) leaves roles unset")
        }
    }

    @Test("themes/default.yaml is the built-in default")
    func defaultMatchesBuiltin() throws {
        let file = try Self.library.load("default")
        for role in Role.allCases { #expect(file[role] == Theme.builtinDefault[role], "\(role)") }
    }

    @Test("severity is never told by colour alone: without colour, severities and selection still differ")
    func monoDistinct() throws {
        for name in ["default", "light", "high-contrast", "mono", "colorblind"] {
            let t = try Self.library.load(name)
            let mono = { (r: Role) in t[r].effectiveAttributes(.none) }
            #expect(mono(.selection) != mono(.text), "\(name): selection invisible without colour")
            #expect(mono(.critical) != mono(.text), "\(name): critical looks like text without colour")
            #expect(mono(.header) != mono(.text), "\(name): header looks like text without colour")
        }
    }

    @Test("colours: names, 0-255, #rrggbb and default, down-converted to the terminal")
    func colours() {
        #expect(Color(text: "red") == .indexed(1))
        #expect(Color(text: "bright-blue") == .indexed(12))
        #expect(Color(text: "208") == .indexed(208))
        #expect(Color(text: "#ff8700") == .rgb(255, 135, 0))
        #expect(Color(text: "default") == .terminalDefault)
        #expect(Color(text: "256") == nil)
        #expect(Color(text: "#12345") == nil)
        #expect(Color.rgb(255, 135, 0).number(at: .indexed256) == 208)
        #expect(Color.rgb(255, 0, 0).number(at: .ansi16) == 9)
        #expect(Color.indexed(208).number(at: .ansi8).map { $0 < 8 } == true)
        #expect(Color.indexed(9).number(at: .ansi8) == 1)
        #expect(Color.rgb(1, 2, 3).number(at: .none) == nil)
        #expect(Color.terminalDefault.number(at: .indexed256) == -1)
        #expect(Color.rgb(1, 2, 3).number(at: .truecolor) == 0x010203)
    }

    @Test("a bad theme file is refused with the key at fault")
    func errors() {
        func problem(_ yaml: String) -> String {
            do {
                _ = try Theme.parse(yaml, file: "t.yaml")
                return "ok"
            } catch { return error.description }
        }
        #expect(
            problem("name: x\nroles:\n  text: {fg: chartreuse}\n")
                == "t.yaml:3: roles.text.fg: 'chartreuse' is not a colour; use a name (red, bright-blue…), 0-255, #rrggbb or default")
        #expect(problem("name: x\nroles:\n  txet: {fg: red}\n").hasPrefix("t.yaml:3: roles.txet: unknown role"))
        #expect(
            problem("name: x\nroles:\n  text: {fg: red, attrs: [blink]}\n")
                == "t.yaml:3: roles.text.attrs: 'blink' is not an attribute; use bold, reverse, underline or dim")
        #expect(problem("name: x\n") == "t.yaml:1: roles: missing; a theme gives styles for its roles")
        #expect(problem("name: x\ncolours: {}\nroles: {}\n") == "t.yaml:2: colours: unknown key; a theme has name, description and roles")
    }
}
