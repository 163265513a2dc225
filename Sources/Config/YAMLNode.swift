import Foundation
import Yams

/// A YAML node with its position and key path, for reading config with errors that say where.
struct YAMLValue {
    let node: Node
    let path: String
    let file: String

    var line: Int? { node.mark?.line }
    var column: Int? { node.mark?.column }

    func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, column: nil, key: path.isEmpty ? nil : path, message: message)
    }

    func child(_ key: String, _ node: Node) -> YAMLValue {
        YAMLValue(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The mapping's entries, refusing keys not in `allowed`.
    /// `allowed` nil accepts any key (an environment map).
    func mapping(allowed: Set<String>?) throws(ConfigError) -> [(String, YAMLValue)] {
        guard case .mapping(let m) = node else { throw error("expected a mapping of keys to values") }
        var out: [(String, YAMLValue)] = []
        var seen = Set<String>()
        for (k, v) in m {
            guard case .scalar(let ks) = k else {
                throw YAMLValue(node: k, path: path, file: file).error("keys must be plain names")
            }
            let key = ks.string
            let value = child(key, v)
            if let allowed, !allowed.contains(key) {
                let hint = Self.closest(key, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigError(
                    file: file, line: k.mark?.line, key: value.path,
                    message: "unknown key\(hint); allowed here: \(allowed.sorted().joined(separator: ", "))")
            }
            guard seen.insert(key).inserted else {
                throw ConfigError(file: file, line: k.mark?.line, key: value.path, message: "given twice")
            }
            out.append((key, value))
        }
        return out
    }

    func sequence() throws(ConfigError) -> [YAMLValue] {
        guard case .sequence(let s) = node else { throw error("expected a list") }
        return s.enumerated().map { i, n in YAMLValue(node: n, path: "\(path)[\(i)]", file: file) }
    }

    func string() throws(ConfigError) -> String {
        guard case .scalar(let s) = node else { throw error("expected a single value") }
        return s.string
    }

    func bool() throws(ConfigError) -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false")
        }
    }

    func int(_ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let s = try string()
        guard let v = Int(s.replacingOccurrences(of: "_", with: "")), range.contains(v) else {
            throw error("expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(s)'")
        }
        return v
    }

    func strings() throws(ConfigError) -> [String] {
        var out: [String] = []
        for v in try sequence() { out.append(try v.string()) }
        return out
    }

    static func closest(_ key: String, in allowed: Set<String>) -> String? {
        allowed.map { ($0, distance(key, $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var prev = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}
