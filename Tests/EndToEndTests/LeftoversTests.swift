import Foundation
import TestSupport
import Testing

/// `.ci/leftovers`, the check CI runs after the suite: it must name a leaked tmux server, and pass once it is gone.
@Suite("The leftover check")
struct LeftoversTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".ci/leftovers").path

    func check(prefix: String) throws -> Binary.Result {
        let scratch = try ScratchDirectory()
        let out = scratch.appending("out").path
        // Only this test's socket prefix and no binary: other tests may be running at the same time.
        let pid = try Spawn.start(
            [
                "bash", Self.script, "--prefix", prefix, "--binary", scratch.appending("none").path,
                "--pg-marker", prefix,
            ], stdout: out)
        let status = Spawn.exitCode(Spawn.wait(pid))
        return Binary.Result(
            status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")
    }

    @Test("a deliberately leaked tmux server fails the check, by name; once ended, the check passes")
    func leakedServer() throws {
        let prefix = "tg-leak-\(UUID().uuidString.prefix(8))-"
        let socket = prefix + "x"
        let scratch = try ScratchDirectory()
        #expect(
            Spawn.exitCode(
                Spawn.wait(
                    try Spawn.start(
                        ["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "leak", "sleep", "600"],
                        stdout: scratch.appending("tmux").path))) == 0)
        defer {
            _ = try? Spawn.run(["tmux", "-L", socket, "kill-server"], stdout: scratch.appending("kill").path)
            for pid in Processes.matching("-L \(socket)") { kill(pid, SIGKILL) }
            unlink("/tmp/tmux-\(getuid())/\(socket)")
        }
        let leaked = try check(prefix: prefix)
        #expect(leaked.status == 1)
        #expect(leaked.stderr.contains("tmux server"))
        #expect(leaked.stderr.contains(socket))

        _ = try Spawn.run(["tmux", "-L", socket, "kill-server"], stdout: scratch.appending("kill").path)
        let deadline = Date().addingTimeInterval(5)
        while !Processes.matching("-L \(socket)").isEmpty, Date() < deadline { usleep(20_000) }
        let clean = try check(prefix: prefix)
        #expect(clean.status == 0, "\(clean.stderr)")
    }
}
