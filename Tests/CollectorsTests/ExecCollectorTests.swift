import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

@Suite("Exec collector")
struct ExecCollectorTests {
    func script(_ body: String) throws -> String {
        let path = TestTemporary.directory.appendingPathComponent("tg-exec-\(UUID()).sh").path
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    let good = #"{"id":"vault:role/ci","population":"service_account","name":"ci"}"#

    @Test("it conforms, reading JSON Lines from the program's stdout with argv (no shell)")
    func conforms() async throws {
        let p = try script("echo '\(good)'; echo \"$1\" >&2")
        try await checkConformance { ExecCollector(command: [p, "a; rm -rf /"], timeoutSeconds: 120) }
        let r = try await ExecCollector(command: [p, "a; rm -rf /"], timeoutSeconds: 120).collect(CollectContext(now: t0, run: 0))
        #expect(r.entities.map(\.id) == ["vault:role/ci"])
        #expect(r.warnings.last?.hasSuffix("stderr: a; rm -rf /") == true, "the argument arrived whole")
    }

    @Test("a collector that starts a daemon (background or setsid) and exits leaves no process behind")
    func leavesNothing() async throws {
        let m = "tg-exec-left-\(UUID().uuidString.prefix(8))"
        let p = try script("sh -c 'sleep 300; : \(m)' &\nsetsid sh -c 'sleep 300; : \(m)' </dev/null >/dev/null 2>&1 &\necho '\(good)'")
        let r = try await ExecCollector(command: [p], timeoutSeconds: 120).collect(CollectContext(now: t0, run: 0))
        #expect(r.entities.count == 1)
        #expect(await Processes.waitUntilGone(m).isEmpty, "the collector's children outlived it")
    }

    @Test("env and working directory are passed")
    func environment() async throws {
        let p = try script(#"printf '{"id":"x:%s","population":"agent","name":"%s"}\n' "$TG_NAME" "$(basename "$PWD")""#)
        let dir = TestTemporary.directory.appendingPathComponent("tg-wd-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let r = try await ExecCollector(command: [p], environment: ["TG_NAME": "hello"], workingDirectory: dir.path, timeoutSeconds: 120)
            .collect(CollectContext(now: t0, run: 0))
        #expect(r.entities.first?.id == "x:hello")
        #expect(r.entities.first?.name == dir.lastPathComponent)
    }

    @Test("a non-zero exit fails the run with the status and the stderr tail")
    func nonZero() async throws {
        let p = try script("echo '\(good)'; echo 'token expired' >&2; exit 3")
        await #expect(throws: CollectorError.failed("\(p) exited with status 3; stderr: token expired")) {
            try await ExecCollector(command: [p], timeoutSeconds: 120).collect(CollectContext(now: t0, run: 0))
        }
    }

    @Test("a program that hangs is stopped at the timeout")
    func hangs() async throws {
        let p = try script("echo '\(good)'; sleep 30")
        await #expect(throws: CollectorError.failed("\(p) ran past its timeout and was stopped")) {
            try await ExecCollector(command: [p], timeoutSeconds: 0.5).collect(CollectContext(now: t0, run: 0))
        }
        // Stopped, not waited for: nothing of it is left (no timing asserted; the machine may be busy).
        #expect(Processes.matching(p).isEmpty)
    }

    @Test("a program that floods stdout is cut at the cap and said so; whole lines before it are kept")
    func floods() async throws {
        let p = try script("while true; do echo '\(good)'; done")
        let r = try await ExecCollector(command: [p], timeoutSeconds: 20, maxOutputBytes: 1 << 20).collect(CollectContext(now: t0, run: 0))
        #expect(r.warnings.first?.contains("output cut at 1 MiB") == true)
        #expect(r.entities.count >= 1)
    }

    @Test("a missing program fails with a clear message")
    func missing() async {
        await #expect(throws: CollectorError.self) {
            try await ExecCollector(command: ["/nonexistent/exporter"], timeoutSeconds: 5).collect(CollectContext(now: t0, run: 0))
        }
    }
}
