import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

@Suite("AWS IAM credential report")
struct AWSCredentialReportTests {
    static let header =
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
        + "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
        + "access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
        + "access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
        + "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
    static let rows = [
        "<root_account>,arn:aws:iam::123456789012:root,2019-03-02T09:00:00+00:00,not_supported,2026-10-01T08:00:00+00:00,"
            + "not_supported,not_supported,false,true,2020-01-10T10:00:00+00:00,2026-11-01T10:00:00+00:00,us-east-1,iam,false,"
            + "N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        "priya.shah,arn:aws:iam::123456789012:user/priya.shah,2021-05-01T09:00:00+00:00,true,2026-11-28T08:00:00+00:00,"
            + "2026-09-01T08:00:00+00:00,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        "ci-deployer,arn:aws:iam::123456789012:user/ci-deployer,2022-02-01T09:00:00+00:00,false,N/A,N/A,N/A,false,true,"
            + "2024-10-12T10:00:00+00:00,2026-11-28T22:10:00+00:00,eu-west-1,ecr,true,2025-06-01T10:00:00+00:00,no_information,"
            + "N/A,N/A,false,N/A,false,N/A",
        "legacy-ftp,arn:aws:iam::123456789012:user/legacy-ftp,2018-02-01T09:00:00+00:00,true,2026-11-20T08:00:00+00:00,"
            + "2019-01-01T08:00:00+00:00,N/A,false,true,2018-02-01T10:00:00+00:00,2024-01-05T10:00:00+00:00,us-east-1,s3,false,"
            + "N/A,N/A,N/A,N/A,true,2020-01-01T00:00:00+00:00,false,N/A",
    ]

    func report(_ lines: [String], name: String = "report.csv") throws -> String {
        let path = TestTemporary.directory.appendingPathComponent("tg-aws-\(UUID())-\(name)").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("rows become service accounts by the heuristic; people are left out; findings follow")
    func parses() async throws {
        let path = try report([Self.header] + Self.rows)
        let r = try await AWSCredentialReportCollector(path: path).collect(CollectContext(now: t0Real, run: 0))
        #expect(r.entities.map(\.name).sorted() == ["ci-deployer", "legacy-ftp", "root (123456789012)"])
        #expect(r.warnings.contains("1 user(s) with only a console password are people, not listed"))
        let snap = Snapshot.build(version: 1, now: t0Real, slices: [.init(source: "aws", entities: r.entities)])
        let root = try #require(snap["aws:iam:root/123456789012"])
        #expect(root.findings.contains { $0.rule == "NHI4" && $0.severity == .critical && $0.title == "Root account has access keys" })
        let ci = try #require(snap["aws:iam:user/123456789012/ci-deployer"])
        #expect(ci.entity.credentials.map(\.id) == ["access-key-1", "access-key-2"])
        #expect(ci.entity.credentials[1].lastUsedAt == nil, "no_information is nothing")
        #expect(ci.findings.contains { $0.rule == "NHI7" && $0.evidence.contains("access key access-key-1") })
        let ftp = try #require(snap["aws:iam:user/123456789012/legacy-ftp"])
        #expect(ftp.findings.contains { $0.rule == "NHI10" })
        #expect(ftp.findings.contains { $0.rule == "NHI4" && $0.title == "Password without MFA" })
        #expect(ftp.entity.credentials.contains { $0.kind == .certificate })
        try await checkConformance { AWSCredentialReportCollector(path: path) }
    }

    @Test("columns are found by name: a reordered report reads the same")
    func reordered() async throws {
        let cols = Self.header.split(separator: ",").map(String.init)
        let order = Array(cols.indices.reversed())
        func reorder(_ line: String) -> String {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return order.map { f[$0] }.joined(separator: ",")
        }
        let a = try await AWSCredentialReportCollector(path: try report([Self.header] + Self.rows)).collect(
            CollectContext(now: t0Real, run: 0))
        let b = try await AWSCredentialReportCollector(path: try report(([Self.header] + Self.rows).map(reorder))).collect(
            CollectContext(now: t0Real, run: 0))
        #expect(a.entities.map(\.id).sorted() == b.entities.map(\.id).sorted())
        #expect(a.entities.map(\.credentials.count).sorted() == b.entities.map(\.credentials.count).sorted())
    }

    @Test("a truncated report keeps the whole rows and names the cut one; a wrong file is refused")
    func badInput() async throws {
        let cut = String(Self.rows[3].prefix(60))
        let r = try await AWSCredentialReportCollector(path: try report([Self.header, Self.rows[2], cut])).collect(
            CollectContext(now: t0Real, run: 0))
        #expect(r.entities.count == 1)
        #expect(r.warnings.first?.contains(":3: expected 22 cells, found ") == true, "\(r.warnings)")
        #expect(r.warnings.first?.hasSuffix("(a truncated report?)") == true)
        let wrong = try report(["name,email", "a,b"])
        do {
            _ = try await AWSCredentialReportCollector(path: wrong).collect(CollectContext(now: t0Real, run: 0))
            Issue.record("accepted a file that is not a credential report")
        } catch let e as CollectorError {
            #expect(e.description.contains(":1: not an IAM credential report: missing column(s) user, arn"))
        }
    }
}

/// A fixed "now" after the fixture's dates.
let t0Real = ISO8601.parse("2026-11-29T12:00:00Z")!
