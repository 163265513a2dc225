import Foundation
import Inventory

/// Device posture from osquery: the osqueryd filesystem logger's results log (JSON Lines of `snapshot` and
/// differential `added`/`removed` events keyed by `hostIdentifier`), or a directory of `osqueryi --json` outputs
/// (`TABLE.json` for this host, or `HOST/TABLE.json`).
///
/// Query names are matched to tables by suffix (`pack_posture_disk_encryption` → `disk_encryption`) unless mapped
/// in `queries`. Tables read: `system_info`, `os_version`, `disk_encryption`, `screenlock`, `mdm`.
public final class OsqueryCollector: Collector {
    public let path: String
    public let queries: [String: String]
    /// Minimum OS versions by OS name (`macOS: "14.0"`); a device below it is out of date.
    public let minimumOS: [String: String]
    let source: String

    static let tables = ["system_info", "os_version", "disk_encryption", "screenlock", "mdm"]

    public init(
        path: String, queries: [String: String] = [:],
        minimumOS: [String: String] = ["macOS": "14.0", "Ubuntu": "22.04", "Microsoft Windows 11": "10.0.22621"], source: String = "osquery"
    ) {
        self.path = path
        self.queries = queries
        self.minimumOS = minimumOS
        self.source = source
    }

    struct Host {
        var tables: [String: [[String: String]]] = [:]
        var lastCheckIn: Date?
    }

    /// The thread its files are read on: a hung mount holds it, never a pool thread.
    let lane = BlockingLane("trustgap-osquery")

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        return try await lane.run("reading \(path)") { stop in try self.read(context, stop: stop) }
    }

    /// The run itself, on the lane's thread; it stops at the next file once the run is over.
    func read(_ context: CollectContext, stop: BlockingStop) throws -> CollectorReport {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CollectorError.failed("\(path): no such file or folder")
        }
        var hosts: [String: Host] = [:]
        var warnings: [String] = []
        if isDir.boolValue {
            try readDirectory(&hosts, &warnings, stop: stop)
        } else {
            try readResultsLog(&hosts, &warnings)
        }
        try stop.check()
        let entities = hosts.keys.sorted().map { entity($0, hosts[$0]!, now: context.now) }
        return CollectorReport(entities: entities, warnings: warnings)
    }

    func table(forQuery name: String) -> String? {
        if let t = queries[name] { return t }
        return Self.tables.first { name == $0 || name.hasSuffix("_" + $0) || name.hasSuffix("/" + $0) }
    }

    static func strings(_ row: [String: Any]) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in row { out[k] = (v as? String) ?? "\(v)" }
        return out
    }

    func readResultsLog(_ hosts: inout [String: Host], _ warnings: inout [String]) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CollectorError.failed("\(path): cannot read the file") }
        for record in RecordSplitter.splitLines([UInt8](data)) {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(record.bytes)) as? [String: Any] else {
                warnings.append("\(path):\(record.line): not valid JSON")
                continue
            }
            guard let host = obj["hostIdentifier"] as? String, let name = obj["name"] as? String else {
                warnings.append("\(path):\(record.line): missing \"hostIdentifier\" or \"name\"")
                continue
            }
            guard let table = table(forQuery: name) else { continue } // a query trustgap doesn't read
            var h = hosts[host] ?? Host()
            let time =
                (obj["unixTime"] as? Double).map { Date(timeIntervalSince1970: $0) }
                ?? (obj["unixTime"] as? String).flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
            if let t = time { h.lastCheckIn = max(h.lastCheckIn ?? t, t) }
            switch obj["action"] as? String {
            case "snapshot":
                h.tables[table] = ((obj["snapshot"] as? [[String: Any]]) ?? []).map(Self.strings)
            case "added":
                guard let cols = obj["columns"] as? [String: Any] else {
                    warnings.append("\(path):\(record.line): an added event without columns")
                    continue
                }
                let row = Self.strings(cols)
                var rows = h.tables[table] ?? []
                rows.removeAll { Self.key($0, table) == Self.key(row, table) }
                rows.append(row)
                h.tables[table] = rows
            case "removed":
                guard let cols = obj["columns"] as? [String: Any] else { continue }
                let row = Self.strings(cols)
                h.tables[table]?.removeAll { Self.key($0, table) == Self.key(row, table) }
            default:
                warnings.append("\(path):\(record.line): unknown action \(obj["action"].map { "\($0)" } ?? "(none)")")
            }
            hosts[host] = h
        }
    }

    /// The columns that identify a row of a table, for differential events.
    static func key(_ row: [String: String], _ table: String) -> String {
        switch table {
        case "disk_encryption": row["name"] ?? row["uuid"] ?? ""
        default: "" // one row per host
        }
    }

    func readDirectory(_ hosts: inout [String: Host], _ warnings: inout [String], stop: BlockingStop) throws {
        let fm = FileManager.default
        let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
        func readTable(_ file: String, host: String) throws {
            try stop.check()
            let table = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            guard Self.tables.contains(table) else { return }
            guard let data = fm.contents(atPath: file),
                let rows = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
            else {
                warnings.append("\(file): not the JSON array osqueryi --json prints")
                return
            }
            var h = hosts[host] ?? Host()
            h.tables[table] = rows.map(Self.strings)
            let mtime = (try? fm.attributesOfItem(atPath: file)[.modificationDate]) as? Date
            if let m = mtime { h.lastCheckIn = max(h.lastCheckIn ?? m, m) }
            hosts[host] = h
        }
        for e in entries.sorted() {
            let full = "\(path)/\(e)"
            var dir: ObjCBool = false
            _ = fm.fileExists(atPath: full, isDirectory: &dir)
            if dir.boolValue {
                for f in ((try? fm.contentsOfDirectory(atPath: full)) ?? []).sorted() where f.hasSuffix(".json") {
                    try readTable("\(full)/\(f)", host: e)
                }
            } else if e.hasSuffix(".json") {
                try readTable(full, host: "localhost")
            }
        }
    }

    func entity(_ id: String, _ h: Host, now: Date) -> Entity {
        let sys = h.tables["system_info"]?.first ?? [:]
        let os = h.tables["os_version"]?.first ?? [:]
        let disks = h.tables["disk_encryption"] ?? []
        let lock = h.tables["screenlock"]?.first
        let mdm = h.tables["mdm"]?.first
        let name = sys["computer_name"].flatMap { $0.isEmpty ? nil : $0 } ?? sys["hostname"] ?? id
        let model = sys["hardware_model"] ?? ""
        let osName = os["name"]
        let osVersion = os["version"]
        var outdated: String?
        if let osName, let osVersion, let minimum = minimumOS.first(where: { osName.lowercased().hasPrefix($0.key.lowercased()) })?.value,
            osVersion.compare(minimum, options: .numeric) == .orderedAscending
        {
            outdated = "\(osName) \(osVersion) is older than the minimum \(minimum)"
        }
        let posture = DevicePosture(
            diskEncrypted: disks.isEmpty ? nil : disks.contains { $0["encrypted"] == "1" },
            screenLock: lock.map { $0["enabled"] == "1" }, os: osName, osVersion: osVersion, osOutdated: outdated)
        let kind = ["book", "thinkpad", "latitude", "xps", "surface"].contains { model.lowercased().contains($0) } ? "laptop" : "host"
        var attributes = ["host_identifier": id]
        if !model.isEmpty { attributes["model"] = model }
        if let serial = sys["hardware_serial"], !serial.isEmpty { attributes["serial"] = serial }
        if let t = h.lastCheckIn { attributes["last_check_in"] = t.formatted(.iso8601) }
        return Entity(
            id: "osquery:host/\(id)", population: .device, kind: kind, name: name,
            coverage: mdm?["enrolled"] == "1" ? [.mdm] : [], firstSeen: nil, lastSeen: h.lastCheckIn ?? now,
            lastUsedAt: h.lastCheckIn, sources: [source], posture: posture, attributes: attributes)
    }
}
