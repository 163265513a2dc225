import Foundation

/// The `:` command bar: parsing and completion of command names.
enum Commands {
    struct Spec {
        let name: String
        let argument: String?
        let help: String
    }

    static let all: [Spec] = [
        Spec(name: "overview", argument: nil, help: "the gap at a glance"),
        Spec(name: "apps", argument: nil, help: "apps panel"),
        Spec(name: "devices", argument: nil, help: "devices panel"),
        Spec(name: "sa", argument: nil, help: "service accounts panel"),
        Spec(name: "serviceaccounts", argument: nil, help: "service accounts panel"),
        Spec(name: "agents", argument: nil, help: "agents panel"),
        Spec(name: "access", argument: nil, help: "access requests and grants"),
        Spec(name: "audit", argument: nil, help: "the audit log"),
        Spec(name: "collectors", argument: nil, help: "collector health"),
        Spec(name: "theme", argument: "NAME", help: "switch theme"),
        Spec(name: "filter", argument: "TEXT", help: "filter the table"),
        Spec(name: "sort", argument: "COLUMN [asc|desc]", help: "sort the table by a column (again: reverse)"),
        Spec(name: "export", argument: "FILE.csv|FILE.json", help: "write the table as shown"),
        Spec(name: "tour", argument: nil, help: "the guided tour"),
        Spec(name: "help", argument: nil, help: "keys"),
        Spec(name: "quit", argument: nil, help: "quit"),
        Spec(name: "q", argument: nil, help: "quit"),
    ]

    enum Parsed: Equatable {
        case panel(Panel)
        case theme(String)
        case filter(String)
        case sort(String)
        case export(String, overwrite: Bool)
        case help
        case tour
        case quit
    }

    struct ParseError: Error, Equatable {
        let message: String
    }

    static func parse(_ line: String) throws(ParseError) -> Parsed {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let name = String(trimmed.prefix { $0 != " " }).lowercased()
        let arg = String(trimmed.dropFirst(name.count)).trimmingCharacters(in: .whitespaces)
        switch name {
        case "overview", "o": return .panel(.overview)
        case "apps", "app": return .panel(.apps)
        case "devices", "device", "dev": return .panel(.devices)
        case "sa", "serviceaccounts", "service-accounts": return .panel(.serviceAccounts)
        case "agents", "agent", "ai": return .panel(.agents)
        case "access", "requests", "grants": return .panel(.access)
        case "audit": return .panel(.audit)
        case "collectors", "health": return .panel(.collectors)
        case "theme":
            guard !arg.isEmpty else { throw ParseError(message: ":theme needs a name, like :theme light") }
            return .theme(arg)
        case "filter", "f": return .filter(arg)
        case "sort":
            guard !arg.isEmpty else { throw ParseError(message: ":sort needs a column, like :sort risk or :sort name asc") }
            return .sort(arg)
        case "export", "export!":
            guard !arg.isEmpty else { throw ParseError(message: ":export needs a file name ending in .csv or .json") }
            guard arg.hasSuffix(".csv") || arg.hasSuffix(".json") else {
                throw ParseError(message: ":export writes .csv or .json, not \(arg)")
            }
            return .export(arg, overwrite: name == "export!")
        case "help", "?": return .help
        case "tour": return .tour
        case "q", "quit", "q!", "exit": return .quit
        case "": throw ParseError(message: "type a command, or Esc")
        default:
            let near = all.map(\.name).filter { $0.hasPrefix(String(name.prefix(2))) }
            throw ParseError(message: "unknown command :\(name)" + (near.isEmpty ? "; ? lists the keys" : "; did you mean :\(near[0])?"))
        }
    }

    /// Completes the command name being typed: the longest common prefix of the matches.
    static func complete(_ text: String) -> String {
        guard !text.contains(" ") else { return text }
        let matches = all.map(\.name).filter { $0.hasPrefix(text.lowercased()) }
        guard let first = matches.first else { return text }
        if matches.count == 1 { return first + (all.first { $0.name == first }?.argument != nil ? " " : "") }
        var prefix = first
        for m in matches.dropFirst() { while !m.hasPrefix(prefix) { prefix.removeLast() } }
        return prefix.count > text.count ? prefix : text
    }

    /// What the command bar suggests while typing.
    static func hint(for text: String) -> String {
        let name = String(text.prefix { $0 != " " }).lowercased()
        if text.contains(" ") {
            if let spec = all.first(where: { $0.name == name }), let a = spec.argument { return "\(name) \(a)  Enter run  Esc cancel" }
            return "Enter run  Esc cancel"
        }
        let matches = all.map(\.name).filter { $0.hasPrefix(name) && $0 != "q" }
        if matches.isEmpty { return "no such command  Esc cancel" }
        return matches.prefix(6).joined(separator: " ") + "  Tab complete"
    }
}
