import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

/// Issue 10, items 1, 4 and 6: what collectors report is made safe where it enters.
@Suite("Intake: hostile collector output costs only itself")
struct IntakeTests {
    func scratch() throws -> URL {
        let dir = TestTemporary.directory.appendingPathComponent("tg-intake-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func runOnce(_ collector: any Collector) async -> (Snapshot, CollectorHealth) {
        let runner = CollectorRunner(specs: [
            CollectorSpec(name: "src", type: "file", intervalSeconds: 60, timeoutSeconds: 30, collector: collector)
        ])
        await runner.runAllOnce()
        let snapshot = await runner.snapshot
        return (snapshot, await runner.collectorHealth[0])
    }

    /// Fake tokens built at run time, so no literal token sits in the source.
    static let ghp = "ghp_" + String(repeating: "aB3dE5fG7h", count: 4).prefix(36)
    static let anthropic = "sk-ant-api03-" + String(repeating: "Xy9Kq2Lm7P", count: 8)

    @Test("a 516-byte YAML alias bomb is refused with a message, not expanded until memory runs out")
    func yamlAliasBomb() async throws {
        // Nine levels of nine aliases: 9^9 (387 million) strings from a few hundred bytes.
        var bomb = "- id: bomb\n  population: agent\n  name: n\n  attributes:\n"
        bomb += "    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (n, prev) in zip("bcdefghi", "abcdefgh") {
            bomb += "    \(n): &\(n) [*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev)]\n"
        }
        #expect(bomb.utf8.count < 700, "a small file: \(bomb.utf8.count) bytes")
        let dir = try scratch()
        let path = dir.appendingPathComponent("bomb.yaml").path
        try bomb.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try FileCollector.parse(Array(bomb.utf8), path: path, source: "src")
            Issue.record("the bomb was accepted")
        } catch {
            #expect("\(error)".contains("alias"), "\(error)")
        }
    }

    @Test("a record over 1 MiB is skipped with a warning; the others are kept")
    func recordCap() async throws {
        let big = String(repeating: "x", count: 1_200_000)
        let lines = [
            #"{"id":"small-1","population":"agent","name":"one"}"#,
            #"{"id":"huge","population":"agent","name":"\#(big)"}"#,
            #"{"id":"small-2","population":"agent","name":"two"}"#,
        ]
        let r = try FileCollector.parse(Array(lines.joined(separator: "\n").utf8), path: "e.jsonl", source: "src")
        #expect(r.entities.map(\.id) == ["small-1", "small-2"])
        #expect(
            r.warnings.contains {
                $0.hasPrefix("e.jsonl:2: the record is 1.1 MiB, over the 1.0 MiB limit for one record (max_record_size)")
            }, "\(r.warnings)")
    }

    @Test("text fields are cut at 4 KiB with a marker; an id too long drops only its entity")
    func fieldCaps() async throws {
        let dir = try scratch()
        let long = String(repeating: "n", count: 10_000)
        let lines = [
            #"{"id":"a","population":"agent","name":"\#(long)","attributes":{"note":"\#(long)"}}"#,
            #"{"id":"\#(String(repeating: "i", count: 2000))","population":"agent","name":"too long an id"}"#,
        ]
        let path = dir.appendingPathComponent("e.jsonl").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let (snap, health) = await runOnce(FileCollector(path: path, source: "src"))
        #expect(health.state == .ok, "\(health.lastError ?? "")")
        let e = try #require(snap.entities.first?.entity)
        #expect(snap.entities.count == 1)
        #expect(e.name.utf8.count <= 4096)
        #expect(e.name.hasSuffix("…[cut 10000 bytes to 4096]"))
        #expect((e.attributes["note"]?.utf8.count ?? 0) <= 4096)
        #expect(health.warnings.contains { $0.contains("longer than 1024 bytes") }, "\(health.warnings)")
    }

    @Test("a reported privilege outside the scope grammar is dropped with a warning naming the character")
    func privilegeGrammar() async throws {
        let dir = try scratch()
        let path = dir.appendingPathComponent("e.jsonl").path
        let line =
            #"{"id":"sa","population":"service_account","name":"sa","privileges":"#
            + #"[{"scope":"iam:ad\u200bmin","level":"admin"},{"scope":"s3:read","level":"read"}]}"#
        try line.write(toFile: path, atomically: true, encoding: .utf8)
        let (snap, health) = await runOnce(FileCollector(path: path, source: "src"))
        let e = try #require(snap.entities.first?.entity)
        #expect(e.privileges.map(\.scope) == ["s3:read"])
        #expect(
            health.warnings.contains { $0.contains("U+200B ZERO WIDTH SPACE at character 7") && $0.contains("iam:ad\\u{200B}min") },
            "\(health.warnings)")
    }

    @Test("secrets in any collector's attributes become fingerprinted credentials with an NHI2 finding")
    func attributeSecrets() async throws {
        let dir = try scratch()
        let path = dir.appendingPathComponent("e.jsonl").path
        let cmd = "docker run -e GITHUB_TOKEN=\(Self.ghp) img --accessToken \(Self.anthropic)"
        let line =
            #"{"id":"agent-1","population":"agent","name":"a","attributes":"#
            + #"{"command":"\#(cmd)","url":"https://\#(Self.ghp)@github.com/acme/x"}}"#
        try line.write(toFile: path, atomically: true, encoding: .utf8)
        let file = FileCollector(path: path, source: "src")
        // Admitted once, when the file is read, and cached so: an unchanged export isn't scanned again each run.
        let direct = try await file.collect(CollectContext(now: Date(), run: 0))
        #expect(direct.admitted)
        #expect(direct.entities.first?.attributes["command"]?.contains(Self.ghp) == false)
        let (snap, _) = await runOnce(file)
        let a = try #require(snap.entities.first)
        for v in a.entity.attributes.values {
            #expect(!v.contains(Self.ghp) && !v.contains(Self.anthropic), "\(v)")
        }
        #expect(a.entity.attributes["command"]?.contains("***") == true)
        #expect(a.entity.credentials.count >= 2)
        #expect(a.entity.credentials.allSatisfy { $0.fingerprint?.hasPrefix("SHA256:") == true })
        #expect(a.findings.contains { $0.rule == "NHI2" })
        let json = String(decoding: try SnapshotDocument.encoder().encode(SnapshotDocument(snap)), as: UTF8.self)
        #expect(!json.contains(Self.ghp) && !json.contains(Self.anthropic), "never in the JSON snapshot")
    }

    @Test("the host collector: 7 forms of secret in MCP commands and URLs are redacted and recorded")
    func hostForms() async throws {
        let root = try scratch()
        let home = root.appendingPathComponent("home/alice/.cursor")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        let servers: [String: Any] = [
            "docker": ["command": "docker", "args": ["run", "-e", "API_TOKEN=\(Self.ghp)", "img"]],
            "header": [
                "command": "npx", "args": ["mcp-remote", "https://x.dev/mcp", "--header", "Authorization: Bearer \(Self.anthropic)"],
            ],
            "bare": ["command": "npx", "args": ["server", Self.anthropic]],
            "camel": ["command": "npx", "args": ["server", "--accessToken", "Zq8" + String(repeating: "Lm4Pw9Rt2Xy", count: 3)]],
            "short": ["command": "gh-mcp", "args": ["-t", Self.ghp]],
            "jwt": ["command": "mcp", "args": ["--session", jwt]],
            "url": ["url": "https://\(Self.ghp)@mcp.example.com/sse#access_token=\(Self.anthropic)"],
        ]
        try JSONSerialization.data(withJSONObject: ["mcpServers": servers]).write(to: home.appendingPathComponent("mcp.json"))
        try "".write(to: root.appendingPathComponent("passwd"), atomically: true, encoding: .utf8)
        let host = HostCollector(
            homeRoot: root.appendingPathComponent("home").path, includeRootHome: false,
            passwd: root.appendingPathComponent("passwd").path, hostName: "jump")
        let (snap, _) = await runOnce(host)
        let mcp = snap.entities.filter { $0.entity.kind == "mcp_server" }
        #expect(mcp.count == 7)
        for a in mcp {
            let shown = a.entity.attributes.values.joined(separator: " ")
            for secret in [Self.ghp, Self.anthropic, jwt] { #expect(!shown.contains(secret), "\(a.entity.name): \(shown)") }
            #expect(!a.entity.credentials.isEmpty, "\(a.entity.name) records what it found")
            #expect(a.findings.contains { $0.rule == "NHI2" }, "\(a.entity.name)")
        }
    }

    @Test("one user's oversized, sparse or odd files cost only their own entries, with a warning naming them")
    func hostOversized() async throws {
        let root = try scratch()
        let alice = root.appendingPathComponent("home/alice")
        let bob = root.appendingPathComponent("home/bob")
        try FileManager.default.createDirectory(at: alice.appendingPathComponent(".cursor"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: bob.appendingPathComponent(".cursor"), withIntermediateDirectories: true)
        // A 3 GB sparse .bashrc: costs no disk, and must cost no reading either.
        let rc = alice.appendingPathComponent(".bashrc").path
        _ = FileManager.default.createFile(atPath: rc, contents: nil)
        truncate(rc, 3 << 30)
        mkfifo(alice.appendingPathComponent(".zshrc").path, 0o644) // a FIFO would hang a plain read
        let longName = String(repeating: "m", count: 1100)
        try #"{"mcpServers": {"\#(longName)": {"command": "x"}, "ok": {"command": "y"}}}"#
            .write(to: alice.appendingPathComponent(".cursor/mcp.json"), atomically: true, encoding: .utf8)
        try #"{"mcpServers": {"github": {"command": "npx"}}}"#.write(
            to: bob.appendingPathComponent(".cursor/mcp.json"), atomically: true, encoding: .utf8)
        try "".write(to: root.appendingPathComponent("passwd"), atomically: true, encoding: .utf8)
        let host = HostCollector(
            homeRoot: root.appendingPathComponent("home").path, includeRootHome: false,
            passwd: root.appendingPathComponent("passwd").path, hostName: "jump")
        let (snap, health) = await runOnce(host)
        #expect(health.state == .ok, "\(health.lastError ?? "")")
        let names = Set(snap.entities.map(\.entity.name))
        #expect(names.contains("cursor-mcp-github-bob"), "bob's servers are still listed")
        #expect(names.contains("cursor-mcp-ok-alice"), "and alice's others")
        #expect(health.warnings.contains { $0.contains(".bashrc") && $0.contains("3072 MiB") }, "\(health.warnings)")
        #expect(health.warnings.contains { $0.contains(".zshrc: not a regular file") }, "\(health.warnings)")
        #expect(health.warnings.contains { $0.contains("longer than 1024 bytes") }, "the long name costs its own entry: \(health.warnings)")
    }
}
