import Foundation
import TestSupport
import Testing

@testable import Inventory

@Suite("trustgap snapshot (the real binary)")
struct SnapshotCommandTests {
    @Test("with no config it prints the demo's gap as a table")
    func table() throws {
        let r = try Binary.run(["snapshot"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("POPULATION"))
        for p in ["Apps", "Devices", "Service accounts", "Agents", "All"] { #expect(r.stdout.contains(p)) }
        #expect(r.stdout.contains("RISKIEST ENTITIES"))
    }

    @Test("JSON has the published shape and the same seed gives the same inventory")
    func json() throws {
        let a = try Binary.run(["snapshot", "--format", "json", "--demo-size", "300", "--seed", "5"])
        #expect(a.status == 0, "\(a.stderr)")
        let doc = try SnapshotDocument.decoder().decode(SnapshotDocument.self, from: Data(a.stdout.utf8))
        #expect(doc.entities.count == 300)
        #expect(Set(doc.entities.map(\.entity.population)) == Set(Population.allCases))
        #expect(doc.gap["all"]?.total == 300)
        #expect(doc.collectors.first?.state == .ok)
        let b = try Binary.run(["snapshot", "--format", "json", "--demo-size", "300", "--seed", "5"])
        let docB = try SnapshotDocument.decoder().decode(SnapshotDocument.self, from: Data(b.stdout.utf8))
        #expect(doc.entities.map(\.entity.id) == docB.entities.map(\.entity.id))
        #expect(doc.entities.map(\.risk) == docB.entities.map(\.risk))
    }

    @Test("CSV has a header and one row per entity")
    func csv() throws {
        let r = try Binary.run(["snapshot", "--format", "csv", "--demo-size", "100"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\r\n")
        #expect(lines.first?.hasPrefix("id,population,kind,name") == true)
        #expect(lines.count == 101)
    }

    @Test("a file collector feeds the snapshot; bad records are reported with file and line")
    func fileCollector() throws {
        let dir = try Binary.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
        {"id":"aws:iam:user/ci-deployer","population":"service_account","name":"ci-deployer","privileges":[{"scope":"*","level":"admin"}]}
        {"id":"broken","population":"spaceship"}
        """.write(to: dir.appendingPathComponent("entities.jsonl"), atomically: true, encoding: .utf8)
        try """
        collectors:
          - type: file
            name: exports
            path: ./entities.jsonl
        """.write(to: dir.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let r = try Binary.run(["snapshot", "--format", "json", "--config", dir.appendingPathComponent("config.yaml").path])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try SnapshotDocument.decoder().decode(SnapshotDocument.self, from: Data(r.stdout.utf8))
        #expect(doc.entities.map(\.entity.id) == ["aws:iam:user/ci-deployer"])
        #expect(doc.entities[0].findings.contains { $0.rule == "NHI5" })
        #expect(
            doc.collectors[0].warnings.first?.hasSuffix("entities.jsonl:2: \"population\": not one of app, device, service_account, agent")
                == true)
    }

    @Test("a bad config exits 2 naming the file, line and key")
    func badConfig() throws {
        let dir = try Binary.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("config.yaml").path
        try "collectors:\n  - type: file\n    path: x\n    timeout: soon\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Binary.run(["snapshot", "--config", path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(path):4: collectors[0].timeout: invalid duration 'soon'"))
        #expect(r.stdout.isEmpty)
    }

    @Test("when every collector fails it exits 1 and says why")
    func allFailed() throws {
        let dir = try Binary.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("config.yaml").path
        try "collectors:\n  - type: file\n    path: missing.jsonl\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Binary.run(["snapshot", "--config", path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("missing.jsonl: cannot read the file"))
    }

    @Test("a bad flag exits 2 with the usage")
    func badFlag() throws {
        let r = try Binary.run(["snapshot", "--format", "xml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("'xml' is invalid for '--format"))
        let small = try Binary.run(["snapshot", "--demo-size", "3"])
        #expect(small.status == 2)
        #expect(small.stderr.contains("--demo-size must be from 8 to 5000000"))
    }

    @Test("collectors test runs one collector and says exactly why it failed")
    func collectorsTest() throws {
        let dir = try Binary.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("export.sh").path
        try "#!/bin/sh\necho 'vault sealed' >&2\nexit 2\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let ok = dir.appendingPathComponent("ok.sh").path
        try "#!/bin/sh\necho '{\"id\":\"vault:role/ci\",\"population\":\"service_account\",\"name\":\"ci\"}'\n".write(
            toFile: ok, atomically: true, encoding: .utf8)
        chmod(ok, 0o755)
        let config = dir.appendingPathComponent("config.yaml").path
        try
            ("collectors:\n  - type: exec\n    name: vault\n    command: [./export.sh]\n"
            + "  - type: exec\n    name: good\n    command: [./ok.sh]\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try Binary.run(["collectors", "test", "vault", "--config", config])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("collector vault failed: \(script) exited with status 2; stderr: vault sealed"))
        let good = try Binary.run(["collectors", "test", "good", "--config", config])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("good: ok, 1 entities"))
        let list = try Binary.run(["collectors", "list", "--config", config])
        #expect(list.stdout.contains("vault") && list.stdout.contains("exec"))
    }
}
