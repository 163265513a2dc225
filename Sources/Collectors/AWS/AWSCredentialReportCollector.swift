import Foundation
import Inventory

/// The IAM credential report CSV exactly as AWS produces it (`aws iam get-credential-report`, base64-decoded).
///
/// Columns are found by header name, so a reordered report reads the same. `N/A`, `no_information` and
/// `not_supported` mean "nothing here". Which rows become entities (a documented heuristic):
/// - `<root_account>` becomes a service account of kind `root_account` (any active key on it is critical);
/// - a user with an active access key or certificate and no console password is a service account;
/// - a user with both a console password and active keys is a service account that people also log into (NHI10);
/// - a user with only a console password is a person and is left out (people appear as owners).
public final class AWSCredentialReportCollector: Collector {
    public let path: String
    let source: String

    public init(path: String, source: String = "aws") {
        self.path = path
        self.source = source
    }

    /// The thread its files are read on: a hung mount holds it, never a pool thread.
    let lane = BlockingLane("trustgap-aws")

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        return try await lane.run("reading \(path)") { stop in try self.read(context, stop: stop) }
    }

    /// The run itself, on the lane's thread; it stops at the next file once the run is over.
    func read(_ context: CollectContext, stop: BlockingStop) throws -> CollectorReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CollectorError.failed(
                "\(path): cannot read the file" + (FileManager.default.fileExists(atPath: path) ? "" : " (no such file)"))
        }
        try stop.check()
        return try Self.parse([UInt8](data), path: path, source: source, now: context.now)
    }

    static let required = [
        "user", "arn", "user_creation_time", "password_enabled", "mfa_active",
        "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
        "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    ]

    static func parse(_ data: [UInt8], path: String, source: String, now: Date) throws -> CollectorReport {
        let rows: [TabularRecords.Row]
        do { rows = try TabularRecords.parseCSV(data) } catch { throw CollectorError.failed("\(path): \(error.description)") }
        guard let header = rows.first else { throw CollectorError.failed("\(path): the file is empty") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let missing = required.filter { !names.contains($0) }
        guard missing.isEmpty else {
            throw CollectorError.failed("\(path):1: not an IAM credential report: missing column(s) \(missing.joined(separator: ", "))")
        }
        var entities: [Entity] = []
        var warnings: [String] = []
        var people = 0
        for row in rows.dropFirst() where !(row.fields.count == 1 && row.fields[0].isEmpty) {
            guard row.fields.count == names.count else {
                warnings.append("\(path):\(row.line): expected \(names.count) cells, found \(row.fields.count) (a truncated report?)")
                continue
            }
            var cell: [String: String] = [:]
            for (i, n) in names.enumerated() { cell[n] = row.fields[i] }
            func value(_ k: String) -> String? {
                guard let v = cell[k]?.trimmingCharacters(in: .whitespaces), !v.isEmpty,
                    !["n/a", "no_information", "not_supported"].contains(v.lowercased())
                else { return nil }
                return v
            }
            func flag(_ k: String) -> Bool { value(k)?.lowercased() == "true" }
            func date(_ k: String) -> Date? { value(k).flatMap(ISO8601.parse) }
            for k in ["user_creation_time", "access_key_1_last_rotated", "access_key_1_last_used_date", "password_last_used"] {
                if let v = value(k), ISO8601.parse(v) == nil {
                    warnings.append("\(path):\(row.line): \(k) '\(v)' is not a date; ignored")
                }
            }
            guard let user = value("user") else {
                warnings.append("\(path):\(row.line): a row without a user")
                continue
            }
            let isRoot = user == "<root_account>"
            var credentials: [Credential] = []
            for n in [1, 2] where flag("access_key_\(n)_active") {
                credentials.append(
                    Credential(
                        id: "access-key-\(n)", kind: .accessKey, createdAt: date("access_key_\(n)_last_rotated"),
                        lastUsedAt: date("access_key_\(n)_last_used_date")))
            }
            for n in [1, 2] where flag("cert_\(n)_active") {
                credentials.append(Credential(id: "signing-cert-\(n)", kind: .certificate, createdAt: date("cert_\(n)_last_rotated")))
            }
            let password = flag("password_enabled")
            if !isRoot, credentials.isEmpty {
                if password { people += 1 }
                continue // a person, or an identity with nothing usable: not a non-human identity
            }
            if password {
                credentials.append(
                    Credential(
                        id: "console-password", kind: .password, createdAt: date("password_last_changed"),
                        lastUsedAt: date("password_last_used")))
            }
            var signals = Signals(mfa: flag("mfa_active"))
            if password, !isRoot {
                let used = date("password_last_used").map { "last on \(ISO8601Format.day($0))" } ?? "never used"
                signals.humanUse = "console password enabled on a service identity (\(used))"
            }
            let lastUsed = credentials.compactMap(\.lastUsedAt).max()
            let arn = value("arn") ?? ""
            let account = arn.split(separator: ":", omittingEmptySubsequences: false).dropFirst(4).first.map(String.init) ?? "unknown"
            var attributes = ["arn": arn, "account": account]
            if let region = value("access_key_1_last_used_region") { attributes["key_1_last_region"] = region }
            if let service = value("access_key_1_last_used_service") { attributes["key_1_last_service"] = service }
            entities.append(
                Entity(
                    id: isRoot ? "aws:iam:root/\(account)" : "aws:iam:user/\(account)/\(user)",
                    population: .serviceAccount, kind: isRoot ? "root_account" : "iam_user", name: isRoot ? "root (\(account))" : user,
                    environment: nil, coverage: [], privileges: isRoot ? [Privilege(scope: "aws:\(account):*", level: .admin)] : [],
                    credentials: credentials, firstSeen: date("user_creation_time"), lastSeen: now, lastUsedAt: lastUsed,
                    sources: [source], signals: signals, attributes: attributes))
        }
        if people > 0 { warnings.append("\(people) user(s) with only a console password are people, not listed") }
        return CollectorReport(entities: entities, warnings: warnings)
    }
}

enum ISO8601Format {
    static func day(_ d: Date) -> String {
        d.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }
}
