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
