import Foundation
import Terminal
import Yams

/// The semantic roles a theme colours. Panels ask for a role, never a colour.
public enum Role: String, CaseIterable, Sendable {
    case background, text, muted, accent, border, header, title, tab
    case tabActive = "tab_active"
    case selection, ok, warn, critical, high, medium, low
    case pending, active, expired, flash, error, changed, input, gauge
    case gaugeEmpty = "gauge_empty"
}

/// A named set of styles for the roles, loaded from `themes/NAME.yaml`.
///
/// ```yaml
/// name: default
/// description: Dark, for most terminals
/// roles:
///   text: {fg: "#d0d0d0"}
///   selection: {fg: black, bg: 75, attrs: [bold], mono: [reverse]}
/// ```
/// Colours are names, 0–255, `#rrggbb` or `default`. `attrs` are bold, reverse, underline, dim. `mono` gives
/// the attributes used when the terminal has no colour (defaults to `attrs`). Roles a theme leaves out fall back
/// to the built-in default theme.
public struct Theme: Sendable {
    public var name: String
    public var description: String
    public var styles: [Role: Style]

    public subscript(role: Role) -> Style { styles[role] ?? Theme.builtinDefault.styles[role] ?? .plain }

    public struct LoadError: Error, CustomStringConvertible, Equatable {
        public var file: String
        public var line: Int?
        public var key: String?
        public var message: String
        public var description: String {
            "\(file)\(line.map { ":\($0)" } ?? ""): \(key.map { "\($0): " } ?? "")\(message)"
        }
    }

    /// Parses theme YAML. Every problem names the key at fault.
    public static func parse(_ text: String, file: String) throws(LoadError) -> Theme {
        func fail(_ node: Node?, _ key: String?, _ message: String) -> LoadError {
            LoadError(file: file, line: node?.mark?.line, key: key, message: message)
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            if case YamlError.scanner(_, let problem, let mark, _) = error {
                throw LoadError(file: file, line: mark.line, message: "invalid YAML: \(problem)")
            }
            if case YamlError.parser(_, let problem, let mark, _) = error {
                throw LoadError(file: file, line: mark.line, message: "invalid YAML: \(problem)")
            }
            throw fail(nil, nil, "invalid YAML: \(error)")
        }
        guard let root, case .mapping(let top) = root else { throw fail(root, nil, "expected a mapping with name and roles") }
        var theme = Theme(name: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent, description: "", styles: [:])
        var sawRoles = false
        for (k, v) in top {
            let key = k.string ?? ""
            switch key {
            case "name":
                guard let s = v.string, !s.isEmpty else { throw fail(v, "name", "expected a name") }
                theme.name = s
            case "description": theme.description = v.string ?? ""
            case "roles":
                sawRoles = true
                guard case .mapping(let roles) = v else { throw fail(v, "roles", "expected a mapping of role to style") }
                for (rk, rv) in roles {
                    let roleName = rk.string ?? ""
                    guard let role = Role(rawValue: roleName) else {
                        throw fail(
                            rk, "roles.\(roleName)", "unknown role; roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    theme.styles[role] = try style(rv, path: "roles.\(roleName)", fail: fail)
                }
            default:
                throw fail(k, key, "unknown key; a theme has name, description and roles")
            }
        }
        guard sawRoles else { throw fail(root, "roles", "missing; a theme gives styles for its roles") }
        return theme
    }

    static func style(_ node: Node, path: String, fail: (Node?, String?, String) -> LoadError) throws(LoadError) -> Style {
        guard case .mapping(let m) = node else { throw fail(node, path, "expected {fg: …, bg: …, attrs: […]}") }
        var style = Style()
        var mono: Attributes? = nil
        for (k, v) in m {
            let key = k.string ?? ""
            switch key {
            case "fg", "bg":
                guard let text = v.string, let color = Color(text: text) else {
                    throw fail(
                        v, "\(path).\(key)",
                        "'\(v.string ?? "?")' is not a colour; use a name (red, bright-blue…), 0-255, #rrggbb or default")
                }
                if key == "fg" { style.fg = color } else { style.bg = color }
            case "attrs", "mono":
                guard case .sequence(let seq) = v else { throw fail(v, "\(path).\(key)", "expected a list like [bold, underline]") }
                var attrs: Attributes = []
                for item in seq {
                    guard let a = item.string.flatMap(Attributes.init(name:)) else {
                        throw fail(
                            item, "\(path).\(key)", "'\(item.string ?? "?")' is not an attribute; use bold, reverse, underline or dim")
                    }
                    attrs.insert(a)
                }
                if key == "attrs" { style.attributes = attrs } else { mono = attrs }
            default:
                throw fail(k, "\(path).\(key)", "unknown key; a style has fg, bg, attrs and mono")
            }
        }
        style.monoAttributes = mono ?? style.attributes
        return style
    }

    /// Used when no theme file can be found, and for roles a theme leaves out. Matches themes/default.yaml.
    public static let builtinDefault: Theme = {
        func s(_ fg: Color, _ bg: Color = .terminalDefault, _ attrs: Attributes = [], a: Attributes? = nil, mono: Attributes? = nil)
            -> Style
        {
            Style(fg: fg, bg: bg, attributes: a ?? attrs, mono: mono)
        }
        return Theme(
            name: "default", description: "Dark, for most terminals (built in)",
            styles: [
                .background: s(.terminalDefault), .text: s(.indexed(252)), .muted: s(.indexed(245), mono: [.dim]),
                .accent: s(.indexed(81), a: [.bold]), .border: s(.indexed(240)),
                .header: s(.indexed(231), .indexed(24), [.bold], mono: [.reverse, .bold]), .title: s(.indexed(81), a: [.bold]),
                .tab: s(.indexed(250)), .tabActive: s(.indexed(16), .indexed(81), [.bold], mono: [.reverse, .bold]),
                .selection: s(.indexed(231), .indexed(25), [.bold], mono: [.reverse]),
                .ok: s(.indexed(78)), .warn: s(.indexed(214)), .critical: s(.indexed(203), a: [.bold], mono: [.bold, .underline]),
                .high: s(.indexed(209), a: [.bold], mono: [.bold]), .medium: s(.indexed(221)), .low: s(.indexed(110)),
                .pending: s(.indexed(177)), .active: s(.indexed(78)), .expired: s(.indexed(244), mono: [.dim]),
                .flash: s(.indexed(16), .indexed(221), [.bold], mono: [.reverse]),
                .error: s(.indexed(231), .indexed(160), [.bold], mono: [.reverse, .bold]),
                .changed: s(.indexed(229), a: [.bold]), .input: s(.indexed(231), a: [.bold]),
                .gauge: s(.indexed(209)), .gaugeEmpty: s(.indexed(238), mono: [.dim]),
            ])
    }()
}

extension Node {
    var string: String? { scalar?.string }
}

/// Finds themes by name: `--theme` may be a path; names are looked up in the user's theme folder, then the
/// folder bundled beside the binary or the repository.
public struct ThemeLibrary: Sendable {
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    /// The usual places: `$XDG_CONFIG_HOME/trustgap/themes`, `$TRUSTGAP_THEMES`, `/usr/share/trustgap/themes`,
    /// and `themes/` found walking up from the executable (which covers `swift run` in a clone).
    public static func standard(
        environment: [String: String] = ProcessInfo.processInfo.environment, executable: String = CommandLine.arguments.first ?? ""
    ) -> ThemeLibrary {
        var dirs: [String] = []
        if let t = environment["TRUSTGAP_THEMES"], !t.isEmpty { dirs.append(t) }
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["HOME"].map { "\($0)/.config" }
        if let config { dirs.append("\(config)/trustgap/themes") }
        var url = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = url.appendingPathComponent("themes").path
            if FileManager.default.fileExists(atPath: candidate + "/default.yaml") {
                dirs.append(candidate)
                break
            }
            url = url.deletingLastPathComponent()
        }
        dirs.append("/usr/share/trustgap/themes")
        return ThemeLibrary(directories: dirs)
    }

    /// Every theme name available, sorted, with the file it comes from.
    public func list() -> [(name: String, path: String)] {
        var seen = Set<String>()
        var out: [(String, String)] = []
        for dir in directories {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for f in files.sorted() where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
                let name = URL(fileURLWithPath: f).deletingPathExtension().lastPathComponent
                if seen.insert(name).inserted { out.append((name, "\(dir)/\(f)")) }
            }
        }
        // The bundled themes are compiled in: a binary copied to /usr/local/bin has them without any folder.
        for name in Self.bundled.keys.sorted() where seen.insert(name).inserted { out.append((name, "(built in)")) }
        if !seen.contains("default") { out.append(("default", "(built in)")) }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Loads a theme by name or path.
    public func load(_ nameOrPath: String) throws(Theme.LoadError) -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            return try Self.load(file: nameOrPath)
        }
        for dir in directories {
            for ext in ["yaml", "yml"] {
                let path = "\(dir)/\(nameOrPath).\(ext)"
                if FileManager.default.fileExists(atPath: path) { return try Self.load(file: path) }
            }
        }
        if let text = Self.bundled[nameOrPath] { return try Theme.parse(text, file: "\(nameOrPath).yaml (built in)") }
        if nameOrPath == "default" { return Theme.builtinDefault }
        let names = list().map(\.name).joined(separator: ", ")
        throw Theme.LoadError(file: nameOrPath, message: "no such theme; available: \(names)")
    }

    public static func load(file: String) throws(Theme.LoadError) -> Theme {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw Theme.LoadError(
                file: file, message: FileManager.default.fileExists(atPath: file) ? "cannot read the file" : "no such file")
        }
        return try Theme.parse(text, file: file)
    }
}
