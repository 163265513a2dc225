import Foundation
import Inventory
import Yams

/// YAML and CSV inventory files in the normalized schema, turned into the same JSON records the file collector
/// decodes, each with the line it starts on.
enum TabularRecords {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    // MARK: YAML

    /// A YAML list of entities (or `entities:` holding one).
    static func yaml(_ data: [UInt8]) throws(Failure) -> [RecordSplitter.Record] {
        let text = String(decoding: data, as: UTF8.self)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            if case YamlError.scanner(_, let problem, let mark, _) = error {
                throw Failure(description: "line \(mark.line): invalid YAML: \(problem)")
            }
            if case YamlError.parser(_, let problem, let mark, _) = error {
                throw Failure(description: "line \(mark.line): invalid YAML: \(problem)")
            }
            throw Failure(description: "invalid YAML: \(error)")
        }
        guard let root else { return [] }
        var list = root
        if case .mapping(let m) = root, let entities = m["entities"] { list = entities }
        guard case .sequence(let items) = list else {
            throw Failure(description: "line \(root.mark?.line ?? 1): expected a list of entities (or `entities:` with one)")
        }
        // Aliases let a few hundred bytes stand for billions of nodes: expansion gets a budget the size of the file.
        var budget = max(100_000, data.count * 2)
        var out: [RecordSplitter.Record] = []
        for item in items {
            let value: Any
            do { value = try plain(item, budget: &budget) } catch {
                throw Failure(
                    description: "line \(item.mark?.line ?? 1): the YAML's aliases expand to more than \(max(100_000, data.count * 2)) "
                        + "values (an alias bomb?); refused")
            }
            let json = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])) ?? Data("null".utf8)
            out.append(RecordSplitter.Record(line: item.mark?.line ?? 1, bytes: ArraySlice([UInt8](json))))
        }
        return out
    }

    struct OverBudget: Error {}

    /// A YAML node as JSON-compatible Foundation values; scalars stay strings unless they are plainly numbers or
    /// booleans, so dates reach the strict date parser as written.
    static func plain(_ node: Node, budget: inout Int) throws(OverBudget) -> Any {
        budget -= 1
        if budget < 0 { throw OverBudget() }
        switch node {
        case .scalar(let s):
            if s.style == .plain {
                switch s.string {
                case "true", "True", "TRUE": return true
                case "false", "False", "FALSE": return false
                case "null", "~", "": return NSNull()
                default:
                    if let i = Int(s.string) { return i }
                    if let d = Double(s.string), s.string.contains(".") { return d }
                }
            }
            return s.string
        case .mapping(let m):
            var out: [String: Any] = [:]
            for (k, v) in m { out[k.string ?? ""] = try plain(v, budget: &budget) }
            return out
        case .sequence(let seq):
            var out: [Any] = []
            for v in seq { out.append(try plain(v, budget: &budget)) }
            return out
        case .alias:
            return NSNull()
        }
    }

    // MARK: CSV

    /// The CSV columns the schema knows; any other column becomes an attribute.
    static let csvColumns: Set<String> = [
        "id", "population", "kind", "name", "owner", "owner_status", "owner_email", "environment", "coverage", "privileges",
        "first_seen", "last_seen", "last_used_at", "credential_id", "credential_kind", "credential_fingerprint",
        "credential_created_at", "credential_last_used_at", "credential_expires_at", "credential_exposures",
        "sanctioned", "vendor", "vendor_advisory", "ci_pipeline", "human_use", "mfa", "oauth_scopes", "sources",
    ]

    /// CSV with a header row (RFC 4180 quoting). Lists inside a cell are `;`-separated; privileges are
    /// `scope=level`. One credential per row: rows with the same id are merged by the runner's merge rule.
    static func csv(_ data: [UInt8]) throws(Failure) -> [RecordSplitter.Record] {
        let rows = try parseCSV(data)
        guard let header = rows.first else { return [] }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard names.contains("id"), names.contains("population") else {
            throw Failure(
                description: "line 1: the header needs at least the columns id and population (found: \(names.joined(separator: ", ")))")
        }
        var out: [RecordSplitter.Record] = []
        for row in rows.dropFirst() where !(row.fields.count == 1 && row.fields[0].isEmpty) {
            var cells: [String: String] = [:]
            for (i, name) in names.enumerated() where i < row.fields.count { cells[name] = row.fields[i] }
            if row.fields.count != names.count {
                let bad = "{\"__csv_error\": \"expected \(names.count) cells, found \(row.fields.count)\"}"
                out.append(.init(line: row.line, bytes: ArraySlice(Array(bad.utf8))))
                continue
            }
            let json = (try? JSONSerialization.data(withJSONObject: record(cells))) ?? Data()
            out.append(.init(line: row.line, bytes: ArraySlice([UInt8](json))))
        }
        return out
    }

    static func record(_ c: [String: String]) -> [String: Any] {
        func value(_ k: String) -> String? { c[k].flatMap { $0.isEmpty ? nil : $0 } }
        func list(_ k: String) -> [String]? { value(k).map { $0.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) } } }
        func bool(_ k: String) -> Any? {
            value(k).map {
                ["true", "yes", "1"].contains($0.lowercased())
                    ? true as Any : ["false", "no", "0"].contains($0.lowercased()) ? false as Any : $0 as Any
            }
        }
        var r: [String: Any] = [:]
        for k in ["id", "population", "kind", "name", "environment", "first_seen", "last_seen", "last_used_at"] {
            if let v = value(k) { r[k] = v }
        }
        if let o = value("owner") {
            var owner: [String: Any] = ["name": o]
            if let s = value("owner_status") { owner["status"] = s }
            if let e = value("owner_email") { owner["email"] = e }
            r["owner"] = owner
        }
        if let cov = list("coverage") { r["coverage"] = cov }
        if let sources = list("sources") { r["sources"] = sources }
        if let privs = list("privileges") {
            r["privileges"] = privs.map { p -> [String: Any] in
                let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
                return ["scope": parts[0], "level": parts.count > 1 ? parts[1] : "read"]
            }
        }
        if let id = value("credential_id") {
            var cred: [String: Any] = ["id": id, "kind": value("credential_kind") ?? "token"]
            for (col, key) in [
                ("credential_fingerprint", "fingerprint"), ("credential_created_at", "created_at"),
                ("credential_last_used_at", "last_used_at"), ("credential_expires_at", "expires_at"),
            ] {
                if let v = value(col) { cred[key] = v }
            }
            if let x = list("credential_exposures") { cred["exposures"] = x }
            r["credentials"] = [cred]
        }
        var signals: [String: Any] = [:]
        if let v = bool("sanctioned") { signals["sanctioned"] = v }
        if let v = bool("ci_pipeline") { signals["ci_pipeline"] = v }
        if let v = bool("mfa") { signals["mfa"] = v }
        for k in ["vendor", "vendor_advisory", "human_use"] { if let v = value(k) { signals[k] = v } }
        if let v = list("oauth_scopes") { signals["oauth_scopes"] = v }
        if !signals.isEmpty { r["signals"] = signals }
        var attributes: [String: String] = [:]
        for (k, v) in c where !csvColumns.contains(k) && !v.isEmpty { attributes[k] = v }
        if !attributes.isEmpty { r["attributes"] = attributes }
        return r
    }

    struct Row {
        var line: Int
        var fields: [String]
    }

    /// RFC 4180: commas, double quotes doubled inside quoted fields, newlines allowed inside quotes.
    static func parseCSV(_ data: [UInt8]) throws(Failure) -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var line = 1
        var rowLine = 1
        var i = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field = []
        }
        func endRow() {
            endField()
            rows.append(Row(line: rowLine, fields: fields))
            fields = []
        }
        while i < data.count {
            let b = data[i]
            if inQuotes {
                if b == 0x22 {
                    if i + 1 < data.count, data[i + 1] == 0x22 {
                        field.append(0x22)
                        i += 2
                        continue
                    }
                    inQuotes = false
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
            } else {
                switch b {
                case 0x22 where field.isEmpty: inQuotes = true
                case 0x2C: endField()
                case 0x0D: break
                case 0x0A:
                    endRow()
                    line += 1
                    rowLine = line
                default: field.append(b)
                }
            }
            i += 1
        }
        if inQuotes { throw Failure(description: "line \(rowLine): a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        return rows
    }
}
