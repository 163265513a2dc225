import Foundation
import Inventory
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

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
    /// The size and modification time of the file the cached report came from.
    var cacheStamp: [String]? { cache.withLock { $0?.stamp } }

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
        lane = BlockingLane("trustgap-file")
    }

    /// The thread the file is read on: a hung NFS mount or a FIFO nobody writes holds it, never a pool thread.
    let lane: BlockingLane

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        let held = context.heldRevision
        return try await lane.run("reading \(path)") { stop in try self.read(stop, heldRevision: held) }
    }

    /// Reads, parses and admits the file (or returns the cached report), stopping at the next chunk or record once the
    /// run is over; a stopped read caches nothing.
    func read(_ stop: BlockingStop, heldRevision: UInt64? = nil) throws -> CollectorReport {
        let attrs: [FileAttributeKey: Any]
        do {
            attrs = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw CollectorError.failed("\(path): cannot read the file (\(Self.reason(error)))")
        }
        // The device and inode too: a file replaced by a rename with the same size and time is another file.
        let stamp = [
            "\(attrs[.size] ?? "")", "\((attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
            "\(attrs[.systemNumber] ?? "")", "\(attrs[.systemFileNumber] ?? "")",
        ]
        if let cached = cache.withLock({ $0 }), cached.stamp == stamp {
            if let revision = cached.report.revision, heldRevision == revision { return .unchanged(revision: revision) }
            return cached.report
        }
        if let size = attrs[.size] as? Int, size > maxBytes { throw tooLarge(size) }
        guard let data = try Self.contents(path, max: maxBytes, stop: stop) else { throw tooLarge(maxBytes + 1) }
        var report = try Self.parse(data, path: path, source: source, maxRecordBytes: maxRecordBytes, stop: stop)
        // Admitted here, once per change of the file: a refresh of an unchanged export costs nothing.
        try Intake.admit(&report, source: source, limits: limits)
        report.admitted = true
        try stop.check()
        report.revision = reads.add(1, ordering: .relaxed).newValue
        cache.withLock { $0 = Cache(stamp: stamp, report: report) }
        return report
    }

    func tooLarge(_ size: Int) -> CollectorError {
        .failed(
            "\(path): \(String(format: "%.1f", Double(size) / 1_048_576)) MiB is over this collector's "
                + "\(String(format: "%.1f", Double(maxBytes) / 1_048_576)) MiB limit (max_size); split the export, or raise max_size")
    }

    /// The file's bytes, read a MiB at a time with a check for `stop` between reads; nil when it holds more than `max`
    /// (it grew after it was measured).
    static func contents(_ path: String, max: Int, stop: BlockingStop) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CollectorError.failed("\(path): cannot read the file (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var out: [UInt8] = []
        let chunk = 1 << 20
        while true {
            try stop.check()
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: chunk))
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + start, chunk) }
            if n < 0, errno == EINTR {
                out.removeLast(chunk)
                continue
            }
            guard n >= 0 else { throw CollectorError.failed("\(path): cannot read the file (\(String(cString: strerror(errno))))") }
            out.removeLast(chunk - n)
            if n == 0 { return out }
            if out.count > max { return nil }
        }
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
        maxRecordBytes: Int = Intake.defaultMaxRecordBytes, stop: BlockingStop? = nil
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
        for (n, record) in records.enumerated() {
            if n % 1024 == 0 { try stop?.check() }
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
