import ArgumentParser
import Dashboard
import Foundation

struct ThemesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "themes",
        abstract: "List the themes, or check a theme file.",
        subcommands: [List.self, Check.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the themes you can use with --theme and :theme.")
        func run() throws {
            for (name, path) in ThemeLibrary.standard().list() {
                let description = (try? ThemeLibrary.standard().load(name).description) ?? ""
                Console.out("\(name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(description)  [\(path)]")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a theme file; errors name the key at fault.")
        @Argument(help: "The theme file.") var file: String
        func run() throws {
            do {
                let theme = try ThemeLibrary.load(file: file)
                let missing = Role.allCases.filter { theme.styles[$0] == nil }
                Console.out(
                    "\(file): ok, theme '\(theme.name)' with \(theme.styles.count) roles"
                        + (missing.isEmpty ? "" : "; not set (default used): \(missing.map(\.rawValue).joined(separator: ", "))"))
            } catch {
                Console.error(error.description)
                throw ExitCode(2)
            }
        }
    }
}
