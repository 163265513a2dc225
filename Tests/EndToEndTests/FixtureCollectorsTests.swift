import Foundation
import TestSupport
import Testing

/// Every real collector on the published-format fixtures in Tests/Fixtures, through the real binary.
@Suite("Collectors on the fixtures (the real binary)")
struct FixtureCollectorsTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
        "Fixtures")

    func config(_ dir: URL) throws -> String {
        let f = Self.fixtures.path
        let path = dir.appendingPathComponent("config.yaml").path
        try """
        collectors:
          - {type: aws-credential-report, name: aws, path: \(f)/aws/credential-report.csv}
          - {type: kubernetes, name: k8s, path: \(f)/kubernetes/list.json, cluster: prod}
          - {type: github, name: github, org: acme, personal_access_tokens: \(f)/github/personal_access_tokens.json, \
        deploy_keys: \(f)/github/deploy_keys.json, \
        installations: \(f)/github/installations.json}
          - {type: osquery, name: osquery, path: \(f)/osquery/osqueryd.results.log}
          - {type: host, name: host, home_root: \(f)/host/home, passwd: \(f)/host/etc/passwd}
          - {type: file, name: hostile, path: \(f)/hostile/entities.jsonl}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("each collector reads its fixture", arguments: ["aws", "k8s", "github", "osquery", "host", "hostile"])
    func reads(name: String) throws {
        let dir = try Binary.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Binary.run(["collectors", "test", name, "--config", try config(dir)])
        #expect(r.status == 0, "\(name): \(r.stderr)")
        #expect(r.stdout.contains("\(name): ok"), "\(r.stdout)")
        #expect(!r.stdout.contains(" 0 entities"), "\(r.stdout)")
    }

    @Test("a secret planted in any source appears nowhere: snapshot JSON, CSV, table, collector output, logs")
    func secretsNeverShown() throws {
        let dir = try Binary.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cfg = try config(dir)
        let log = dir.appendingPathComponent("trustgap.log").path
        var seen = ""
        for format in ["json", "csv", "table"] {
            let r = try Binary.run(["snapshot", "--format", format, "--config", cfg, "--log-file", log])
            #expect(r.status == 0, "\(r.stderr)")
            seen += r.stdout + r.stderr
        }
        for name in ["host", "aws", "github"] {
            let r = try Binary.run(["collectors", "test", name, "--format", "json", "--config", cfg, "--log-file", log])
            seen += r.stdout + r.stderr
        }
        seen += (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(seen.contains("plaintext in ~alice/.cursor/mcp.json"), "the exposure is reported")
        #expect(
            !seen.contains("TGSECRET-DO-NOT-SHOW"),
            "a planted secret leaked: \(seen.components(separatedBy: "TGSECRET").count - 1) occurrence(s)")
    }
}
