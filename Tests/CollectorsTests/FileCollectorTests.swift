import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

@Suite("File collector")
struct FileCollectorTests {
    let dir: URL

    init() throws {
        dir = TestTemporary.directory.appendingPathComponent("tg-file-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("JSON Lines: a bad record is skipped and reported with file and line; the rest are kept")
    func jsonLines() async throws {
        let path = try write(
            "e.jsonl",
            """
            {"id":"a:1","population":"agent","name":"one"}

            {"id":"a:2","population":"robot","name":"two"}
            {"id":"a:3","name":"three"}
            not json
            {"id":"a:4","population":"app","name":"four","last_seen":"2026-01-31T12:00:00Z"}
            {"id":"a:5","population":"app","name":"five","last_seen":"yesterday"}
            """)
        let report = try await FileCollector(path: path).collect(CollectContext(now: t0, run: 0))
        #expect(report.entities.map(\.id) == ["a:1", "a:4"])
        #expect(report.warnings.count == 4)
        #expect(report.warnings[0] == "\(path):3: \"population\": not one of app, device, service_account, agent")
        #expect(report.warnings[1] == "\(path):4: missing key \"population\"")
        #expect(report.warnings[2] == "\(path):5: not valid JSON")
        #expect(report.warnings[3].hasPrefix("\(path):7: \"last_seen\": expected an ISO 8601 date"))
        #expect(report.entities[0].sources == ["file"])
    }

    @Test("an unchanged file answers 'unchanged' to the runner holding it; a file replaced by a rename is read again")
    func unchangedFile() async throws {
        let path = try write("u.jsonl", #"{"id":"a:1","population":"agent","name":"one"}"# + "\n")
        let c = FileCollector(path: path)
        let first = try await c.collect(CollectContext(now: t0, run: 0))
        let revision = try #require(first.revision)
        let quiet = try await c.collect(CollectContext(now: t0, run: 1, heldRevision: revision))
        #expect(quiet.isUnchanged && quiet.revision == revision)
        let whole = try await c.collect(CollectContext(now: t0, run: 2))
        #expect(!whole.isUnchanged && whole.entities.map(\.id) == ["a:1"], "a runner without it gets it whole")
        // Same size, same modification time, another file (an atomic replace): read again.
        let mtime = try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        let other = try write("u.tmp", #"{"id":"a:2","population":"agent","name":"two"}"# + "\n")
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: other)
        #expect(rename(other, path) == 0)
        let replaced = try await c.collect(CollectContext(now: t0, run: 3, heldRevision: revision))
        #expect(!replaced.isUnchanged && replaced.entities.map(\.id) == ["a:2"])
        #expect((replaced.revision ?? 0) > revision)
    }

    @Test("a JSON array: records are found with their line numbers, strings with brackets don't confuse it")
    func jsonArray() async throws {
        let path = try write(
            "e.json",
            """
            [
              {"id": "a:1", "population": "agent", "name": "has ] and , and \\" inside"},
              {"id": "a:2", "population": "nonsense"},
              {"id": "a:3", "population": "device",
               "name": "three"}
            ]
            """)
        let report = try await FileCollector(path: path).collect(CollectContext(now: t0, run: 0))
        #expect(report.entities.map(\.id) == ["a:1", "a:3"])
        #expect(report.entities[0].name == "has ] and , and \" inside")
        #expect(report.warnings == ["\(path):3: \"population\": not one of app, device, service_account, agent"])
    }

    @Test("an unclosed array or a missing file fails the run with a clear message")
    func wholeFileErrors() async throws {
        let path = try write("bad.json", "[\n{\"id\":\"a:1\",\"population\":\"app\"}\n")
        await #expect(throws: CollectorError.failed("\(path): line 3: the JSON array is not closed")) {
            try await FileCollector(path: path).collect(CollectContext(now: t0, run: 0))
        }
        let missing = dir.appendingPathComponent("nope.jsonl").path
        do {
            _ = try await FileCollector(path: missing).collect(CollectContext(now: t0, run: 0))
            Issue.record("expected an error")
        } catch let e as CollectorError {
            #expect(e.description.hasPrefix("\(missing): cannot read the file"))
        }
    }

    @Test("records the runner would refuse are skipped one by one, not the whole file")
    func perRecordValidation() async throws {
        let longID = String(repeating: "x", count: 1100)
        let path = try write(
            "v.jsonl",
            """
            {"id":"a:1","population":"agent","name":"   "}
            {"id":"\(longID)","population":"agent","name":"long"}
            {"id":"a:3","population":"agent","name":"fine","last_seen":"2026-01-31garbage"}
            {"id":"a:4","population":"agent","name":"fine","last_seen":"2026-01-31"}
            {"id":"a:5","population":"agent","name":"fine","last_seen":"2026-02-30"}
            {"id":"a:6","population":"agent","name":"fine","last_seen":"2026-01-31T12:00:00Zjunk+01:00"}
            {"id":"a:7","population":"agent","name":"fine","last_seen":"2026-01-31T12:00:00"}
            {"id":"a:8","population":"agent","name":"fine","last_seen":"2026-01-31T12:00:00.250+02:00"}
            """)
        let report = try await FileCollector(path: path).collect(CollectContext(now: t0, run: 0))
        #expect(report.entities.map(\.id) == ["a:4", "a:8"])
        #expect(report.warnings.count == 6)
        #expect(report.entities[1].lastSeen == Date(timeIntervalSince1970: 1_769_853_600.25))
        #expect(report.warnings[0] == "\(path):1: \"name\" is empty")
        #expect(report.warnings[1] == "\(path):2: \"id\" is longer than 1024 bytes")
        #expect(report.warnings[2].hasPrefix("\(path):3: \"last_seen\": expected an ISO 8601 date"))
        try report.validate()
    }

    @Test("YAML: a list of entities in the same schema; bad records named by line; dates stay strict")
    func yaml() async throws {
        let path = try write(
            "e.yaml",
            """
            # exported by the vault inventory job
            - id: vault:role/ci-deployer
              population: service_account
              name: ci-deployer
              owner: {name: priya.shah, status: active}
              coverage: [vault]
              privileges:
                - {scope: "aws:prod:deploy", level: write}
              last_seen: 2026-01-31T12:00:00Z
            - id: vault:role/bad
              population: robot
              name: bad
            - id: vault:role/when
              population: service_account
              name: when
              last_seen: yesterday
            """)
        let report = try await FileCollector(path: path).collect(CollectContext(now: t0, run: 0))
        #expect(report.entities.map(\.id) == ["vault:role/ci-deployer"])
        #expect(report.entities[0].coverage == [.vault])
        #expect(report.entities[0].privileges.first?.level == .write)
        #expect(report.warnings.count == 2)
        #expect(report.warnings[0] == "\(path):10: \"population\": not one of app, device, service_account, agent")
        #expect(report.warnings[1].hasPrefix("\(path):13: \"last_seen\""))
        let broken = try write("broken.yaml", "- id: a\n  population: [\n")
        await #expect(throws: CollectorError.self) { try await FileCollector(path: broken).collect(CollectContext(now: t0, run: 0)) }
    }

    @Test("CSV: columns by header name, lists with ;, a credential per row, rows of one id merged, ragged rows named")
    func csv() async throws {
        let path = try write(
            "e.csv",
            #"""
            id,population,name,owner,coverage,privileges,credential_id,credential_kind,credential_created_at,team
            aws:iam:user/backup,service_account,backup,"shah, priya",vault;pam,s3:prod-backups=write;s3:*=read,\#
            AKIA1,access_key,2025-01-01T00:00:00Z,platform
            aws:iam:user/backup,service_account,backup,"shah, priya",,,AKIA2,access_key,2026-01-01T00:00:00Z,platform
            aws:iam:user/ragged,service_account,ragged
            "aws:iam:user/quoted ""name""",service_account,"multi
            line",,,,,,,
            """#)
        let report = try await FileCollector(path: path).collect(CollectContext(now: t0, run: 0))
        #expect(report.warnings == ["\(path):4: expected 10 cells, found 3"])
        let snap = Snapshot.build(version: 1, now: t0, slices: [.init(source: "f", entities: report.entities)])
        let backup = try #require(snap["aws:iam:user/backup"])
        #expect(backup.entity.credentials.map(\.id).sorted() == ["AKIA1", "AKIA2"])
        #expect(backup.entity.owner?.name == "shah, priya")
        #expect(backup.entity.coverage == [.vault, .pam])
        #expect(backup.entity.privileges.count == 2)
        #expect(backup.entity.attributes["team"] == "platform")
        #expect(snap["aws:iam:user/quoted \"name\""]?.entity.name == "multi\nline")
    }

    @Test("a file over the size limit is refused with a clear error, not read into memory")
    func tooLarge() async throws {
        let path = try write("big.jsonl", String(repeating: #"{"id":"a:1","population":"agent","name":"x"}"# + "\n", count: 40_000))
        do {
            _ = try await FileCollector(path: path, maxBytes: 1 << 20).collect(CollectContext(now: t0, run: 0))
            Issue.record("read a file over the limit")
        } catch let e as CollectorError {
            #expect(
                e.description == "\(path): 1.7 MiB is over this collector's 1.0 MiB limit (max_size); split the export, or raise max_size")
        }
    }

    @Test("the file is re-read when it changes")
    func reread() async throws {
        let path = try write("e.jsonl", #"{"id":"a:1","population":"agent","name":"one"}"# + "\n")
        let c = FileCollector(path: path)
        #expect(try await c.collect(CollectContext(now: t0, run: 0)).entities.count == 1)
        _ = try write(
            "e.jsonl", #"{"id":"a:1","population":"agent","name":"one"}"# + "\n" + #"{"id":"a:2","population":"agent","name":"two"}"# + "\n"
        )
        #expect(try await c.collect(CollectContext(now: t0, run: 1)).entities.count == 2)
    }
}
