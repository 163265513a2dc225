import ChildProcess
import Foundation
import TestSupport
import Testing

/// What a program run by a hook or a collector leaves behind: nothing, however it tries to stay.
@Suite("Child processes leave nothing behind")
struct ChildProcessTests {
    let scratch: ScratchDirectory

    init() throws { scratch = try ScratchDirectory("tg-child") }

    /// A shell script; `marker` is a unique word every process it starts carries on its command line.
    func script(_ body: String) throws -> String {
        let path = scratch.appending("p-\(UUID().uuidString.prefix(6)).sh").path
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    func marker() -> String { "tg-left-\(UUID().uuidString.prefix(8))" }

    @Test("a program that starts a background child and exits: the child is ended with it")
    func backgroundChild() async throws {
        let m = marker()
        let p = try script("sh -c 'sleep 300; : \(m)' & echo started")
        let out = try await ChildProcess.run([p], timeoutSeconds: 120)
        #expect(out.ending == .exited(0))
        #expect(await Processes.waitUntilGone(m).isEmpty, "a background child outlived the program")
    }

    @Test("a child that left the process group with setsid is ended when the program exits")
    func setsidChild() async throws {
        let m = marker()
        // `sleep` can't take the marker as an argument it ignores, so a shell carries it.
        let p = try script("setsid sh -c 'sleep 300; : \(m)' </dev/null >/dev/null 2>&1 & sleep 0.2; echo started")
        let out = try await ChildProcess.run([p], timeoutSeconds: 120)
        #expect(out.ending == .exited(0))
        #expect(await Processes.waitUntilGone(m).isEmpty, "a setsid child outlived the program")
    }

    @Test("a program killed at its timeout takes its setsid and background children with it")
    func timeout() async throws {
        let m = marker()
        let p = try script("setsid sh -c 'sleep 300; : \(m)' </dev/null >/dev/null 2>&1 &\nsh -c 'sleep 301; : \(m)' &\nsleep 302")
        let out = try await ChildProcess.run([p], timeoutSeconds: 0.5)
        #expect(out.ending == .timedOut)
        #expect(await Processes.waitUntilGone(m).isEmpty, "children outlived the timeout")
    }
}
