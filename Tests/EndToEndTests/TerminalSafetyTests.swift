import Foundation
import TestSupport
import Testing

/// Issue 10, item 3: every string the CLI prints goes through the one sanitiser. Before, these reached the
/// terminal raw: in tmux they set the pane title, wrote the clipboard and cleared the screen.
@Suite("The CLI never prints terminal controls (the real binary)")
struct TerminalSafetyTests {
    static let hostile = "\u{1B}]0;pwned\u{07}\u{1B}]52;c;ZXZpbA==\u{07}\u{1B}[2J\u{202E}\u{E0041}"

    static func clean(_ text: String) -> Bool {
        !text.unicodeScalars.contains {
            $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E || (0xE0000...0xE007F).contains($0.value)
        }
    }

    @Test("a collector's failure text, from the config, reaches stderr sanitised")
    func snapshotCollectorError() throws {
        let dir = try Binary.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
        collectors:
          - type: file
            name: exports
            path: "./missing-\\e]0;pwned\\a\\e[2J.jsonl"
        """.write(to: dir.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let r = try Binary.run(["snapshot", "--config", dir.appendingPathComponent("config.yaml").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("collector exports failed"), "\(r.stderr)")
        #expect(Self.clean(r.stderr), "\(r.stderr.debugDescription)")
    }

    @Test("a bad flag value is quoted back sanitised")
    func argumentParserEcho() throws {
        let r = try Binary.run(["grants", "--format", Self.hostile])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--format"), "\(r.stderr)")
        #expect(Self.clean(r.stderr), "\(r.stderr.debugDescription)")
    }

    @Test("collector warnings and entity text in `collectors test` and JSON output are sanitised; tags are escaped in JSON")
    func collectorsTest() throws {
        let dir = try Binary.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = "evil\(Self.hostile)"
        let escaped = String(data: try JSONEncoder().encode(name), encoding: .utf8)!
        try """
        {"id":"host:x/\(escaped.dropFirst().dropLast())","population":"agent","name":\(escaped)}
        {"id":"bad","population":"\(escaped.dropFirst().dropLast())"}
        """.write(to: dir.appendingPathComponent("e.jsonl"), atomically: true, encoding: .utf8)
        try """
        collectors:
          - type: file
            name: exports
            path: ./e.jsonl
        """.write(to: dir.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("config.yaml").path
        let test = try Binary.run(["collectors", "test", "exports", "--config", config])
        #expect(test.stdout.contains("warning"), "\(test.stdout)")
        #expect(Self.clean(test.stdout + test.stderr), "\((test.stdout + test.stderr).debugDescription)")
        let json = try Binary.run(["snapshot", "--format", "json", "--config", config])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(Self.clean(json.stdout), "tag characters and bidi overrides are \\u escapes in JSON")
        #expect(json.stdout.contains("\\udb40\\udc41"), "U+E0041 written as its surrogate pair escape")
        let table = try Binary.run(["snapshot", "--config", config])
        #expect(Self.clean(table.stdout + table.stderr))
    }
}
