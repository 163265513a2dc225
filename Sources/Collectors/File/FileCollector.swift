import Foundation
import Inventory
import Synchronization

/// Reads entities in the snapshot's own JSON shape from a file: a JSON array, or JSON Lines (one entity per line).
/// Any exporter can feed trustgap this way. A bad record is skipped and reported with its file and line; the rest
/// are kept. The file is re-read only when its size, modification time or identity (device and inode: a file
/// replaced by a rename) changes; until then each run answers `unchanged` (or the cached report, to a runner that
/// doesn't hold it), so an unchanged export costs no rebuild.
public final class FileCollector: Collector {
    public let path: String
    /// Files larger than this are refused with a clear error rather than read into memory.
    public let maxBytes: Int
    /// A single record larger than this is skipped with a warning (`max_record_size`).
    public let maxRecordBytes: Int
    private let source: String
    private struct Cache {
        var stamp: [String]
        var report: CollectorReport
    }
    /// Numbers each report read (`CollectorReport.revision`).
    private let reads = Atomic<UInt64>(0)
    private let cache = Mutex<Cache?>(nil)

    /// - Parameters:
    ///   - path: the file to read.
    ///   - source: the collector's name, recorded in each entity's `sources`.
    /// What `Intake` cuts fields to; the report is admitted once per change of the file, and cached admitted.
    public let limits: Intake.Limits

    public init(
        path: String, source: String = "file", maxBytes: Int = 256 << 20, maxRecordBytes: Int = Intake.defaultMaxRecordBytes,
        limits: Intake.Limits = Intake.Limits()
    ) {
        self.limits = limits
        self.path = path
        self.source = source
        self.maxBytes = maxBytes
        self.maxRecordBytes = maxRecordBytes
    }

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        let attrs: [FileAttributeKey: Any]
        do {
            attrs = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw CollectorError.failed("\(path): cannot read the file (\(Self.reason(error)))")
        }
        let stamp = [
            "\(attrs[.size] ?? "")", "\((attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
            "\(attrs[.systemNumber] ?? "")", "\(attrs[.systemFileNumber] ?? "")",
        ]
        if let cached = cache.withLock({ $0 }), cached.stamp == stamp {
            if let revision = cached.report.revision, context.heldRevision == revision { return .unchanged(revision: revision) }
            return cached.report
        }
        if let size = attrs[.size] as? Int, size > maxBytes {
            throw CollectorError.failed(
                "\(path): \(String(format: "%.1f", Double(size) / 1_048_576)) MiB is over this collector's "
                    + "\(String(format: "%.1f", Double(maxBytes) / 1_048_576)) MiB limit (max_size); split the export, or raise max_size"
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CollectorError.failed("\(path): cannot read the file")
        }
        var report = try Self.parse([UInt8](data), path: path, source: source, maxRecordBytes: maxRecordBytes)
        // Admitted here, once per change of the file: a refresh of an unchanged export costs nothing.
        try Intake.admit(&report, source: source, limits: limits)
        report.admitted = true
        report.revision = reads.add(1, ordering: .relaxed).newValue
        cache.withLock { $0 = Cache(stamp: stamp, report: report) }
        return report
    }

    static func size(_ n: Int) -> String {
        n >= 1 << 20 ? String(format: "%.1f MiB", Double(n) / 1_048_576) : n >= 1024 ? "\(n >> 10) KiB" : "\(n) bytes"
    }

    /// A CSV row the tabular reader already found malformed.
    static func csvProblem(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.starts(with: Array(#"{"__csv_error""#.utf8)),
            let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String]
        else { return nil }
        return obj["__csv_error"]
    }

    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
            let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file" }
        return ns.localizedDescription
    }

    /// Parses a whole file. Throws only when the file as a whole is unreadable; bad records become warnings.
    public static func parse(
        _ data: [UInt8], path: String, source: String,
        maxRecordBytes: Int = Intake.defaultMaxRecordBytes
    ) throws -> CollectorReport {
        let records: [RecordSplitter.Record]
        let lower = path.lowercased()
        do {
            if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
                records = try TabularRecords.yaml(data)
            } else if lower.hasSuffix(".csv") {
                records = try TabularRecords.csv(data)
            } else {
                records = try RecordSplitter.split(data)
            }
        } catch let e as RecordSplitter.Failure {
            throw CollectorError.failed("\(path): \(e.description)")
        } catch {
            throw CollectorError.failed("\(path): \(error)")
        }
        let decoder = SnapshotDocument.decoder()
        var entities: [Entity] = []
        var warnings: [String] = []
        entities.reserveCapacity(records.count)
        for record in records {
            if record.bytes.count > maxRecordBytes {
                warnings.append(
                    "\(path):\(record.line): the record is \(Self.size(record.bytes.count)), over the \(Self.size(maxRecordBytes)) "
                        + "limit for one record (max_record_size); skipped")
                continue
            }
            if let problem = Self.csvProblem(record.bytes) {
                warnings.append("\(path):\(record.line): \(problem)")
                continue
            }
            do {
                var e = try decoder.decode(Entity.self, from: Data(record.bytes))
                if let problem = e.validationProblem {
                    warnings.append("\(path):\(record.line): \(problem)")
                    continue
                }
                if !e.sources.contains(source) { e.sources.append(source) }
                entities.append(e)
            } catch {
                warnings.append("\(path):\(record.line): \(DecodingProblem.describe(error))")
            }
        }
        if entities.isEmpty, !warnings.isEmpty {
            throw CollectorError.failed("no valid records; first problem: \(warnings[0])")
        }
        return CollectorReport(entities: entities, warnings: warnings)
    }
}

/// Turns a `DecodingError` into a sentence naming the key at fault.
public enum DecodingProblem {
    public static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let all = keys + (last.map { [$0] } ?? [])
            let text = all.map { k in k.intValue.map { "[\($0)]" } ?? ".\(k.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch e {
        case .keyNotFound(let key, let ctx):
            return "missing key \"\(path(ctx.codingPath, key))\""
        case .typeMismatch(let type, let ctx):
            return "\"\(path(ctx.codingPath))\": expected \(typeName(type))"
        case .valueNotFound(let type, let ctx):
            return "\"\(path(ctx.codingPath))\": expected \(typeName(type)), found null"
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty { return "not valid JSON" }
            let detail = ctx.debugDescription.contains("Cannot initialize") ? invalidEnum(ctx) : ctx.debugDescription
            return "\"\(path(ctx.codingPath))\": \(detail)"
        @unknown default:
            return "\(e)"
        }
    }

    static func invalidEnum(_ ctx: DecodingError.Context) -> String {
        let key = ctx.codingPath.last?.stringValue ?? ""
        let allowed: String
        switch key {
        case "population": allowed = Population.allCases.map(\.rawValue).joined(separator: ", ")
        case "level": allowed = PrivilegeLevel.allCases.map(\.rawValue).joined(separator: ", ")
        case "status": allowed = "active, departed, unknown"
        default:
            if ctx.codingPath.contains(where: { $0.stringValue == "coverage" }) {
                allowed = Control.allCases.map(\.rawValue).joined(separator: ", ")
            } else {
                return ctx.debugDescription
            }
        }
        return "not one of \(allowed)"
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        default: "\(t)".contains("Array") ? "a list" : "\(t)".contains("Dictionary") ? "an object" : "\(t)"
        }
    }
}
