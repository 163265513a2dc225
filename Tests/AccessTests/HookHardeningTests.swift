import ChildProcess
import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Inventory

/// Issue 10, item 5: a hook runs only from files nobody else can change, with a minimal environment, and its
/// standard error is capped like its output.
@Suite("Hooks: strict file modes, a minimal environment, capped stderr")
struct HookHardeningTests {
    func folder() throws -> String {
        let dir = TestTemporary.directory.appendingPathComponent("tg-hookdir-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        return dir
    }

    func script(in dir: String, _ body: String, mode: mode_t = 0o755) throws -> String {
        let path = dir + "/hook.sh"
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    @Test("a hook file writable by its group or everyone is refused, naming the path and the mode", arguments: [0o775, 0o757] as [mode_t])
    func writableFile(_ mode: mode_t) async throws {
        let dir = try folder()
        let marker = dir + "/ran"
        let hook = try script(in: dir, "touch \(marker)", mode: mode)
        let config = HookConfig(commands: ["approve": [hook]], timeoutSeconds: 120)
        let r = await HookRunner.run(config, event: "approve", payload: Data("{}".utf8))
        #expect(!r.succeeded)
        #expect(r.detail.contains(hook), "\(r.detail)")
        #expect(r.detail.contains("mode \(String(mode, radix: 8))"), "\(r.detail)")
        #expect(!FileManager.default.fileExists(atPath: marker), "it never ran")
    }

    @Test("a folder above the hook that others can write is refused too; so is a script an interpreter is given")
    func writableFolder() async throws {
        let dir = try folder()
        let inner = dir + "/bin"
        try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
        let hook = try script(in: inner, "exit 0")
        chmod(inner, 0o777)
        let r = await HookRunner.run(HookConfig(commands: ["approve": [hook]], timeoutSeconds: 120), event: "approve", payload: Data())
        #expect(!r.succeeded)
        #expect(r.detail == "\(inner) is writable by everyone (mode 777): refused to run the hook; chmod go-w it", "\(r.detail)")
        // The program is /bin/sh, which is fine; the script it is given is not.
        let viaShell = await HookRunner.run(
            HookConfig(commands: ["approve": ["/bin/sh", hook]], timeoutSeconds: 120), event: "approve", payload: Data())
        #expect(!viaShell.succeeded)
        #expect(viaShell.detail.contains("writable by everyone"), "\(viaShell.detail)")
        chmod(inner, 0o755)
        let fixed = await HookRunner.run(HookConfig(commands: ["approve": [hook]], timeoutSeconds: 120), event: "approve", payload: Data())
        #expect(fixed.succeeded, "\(fixed.detail)")
    }

    @Test("a hook's environment is PATH, LANG, TZ and hooks.env only: never the analyst's secrets")
    func minimalEnvironment() async throws {
        setenv("VAULT_TOKEN", "hvs.analysts-own-token", 1)
        setenv("SSH_AUTH_SOCK", "/tmp/ssh-agent.sock", 1)
        defer {
            unsetenv("VAULT_TOKEN")
            unsetenv("SSH_AUTH_SOCK")
        }
        let dir = try folder()
        let out = dir + "/env"
        let hook = try script(in: dir, "env > \(out)")
        let r = await HookRunner.run(
            HookConfig(commands: ["approve": [hook]], timeoutSeconds: 120, environment: ["VAULT_ADDR": "https://vault"]),
            event: "approve", payload: Data())
        #expect(r.succeeded, "\(r.detail)")
        let env = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!env.contains("VAULT_TOKEN") && !env.contains("SSH_AUTH_SOCK"))
        #expect(env.contains("VAULT_ADDR=https://vault"))
        #expect(env.contains("PATH="))
    }

    @Test("a hook that floods standard error is stopped at the cap, as one that floods standard output is")
    func stderrCapped() async throws {
        let dir = try folder()
        // 8 MiB to stderr, far past the hook's 1 MiB cap; it would go on for a minute.
        let hook = try script(in: dir, "i=0; while [ $i -lt 60 ]; do head -c 8388608 /dev/zero >&2; i=$((i+1)); sleep 1; done")
        let r = await HookRunner.run(HookConfig(commands: ["approve": [hook]], timeoutSeconds: 120), event: "approve", payload: Data())
        #expect(!r.succeeded)
        #expect(r.detail == "wrote more than 1 MiB of output and was stopped", "\(r.detail)")
    }
}
