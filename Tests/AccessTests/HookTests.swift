import ChildProcess
import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Inventory

@Suite("Actuator hooks")
struct HookTests {
    func script(_ body: String) throws -> String {
        let path = TestTemporary.directory.appendingPathComponent("tg-hook-\(UUID()).sh").path
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test("a hook gets the grant as JSON on stdin, by argv; success is recorded and audited")
    func succeeds() async throws {
        let out = TestTemporary.directory.appendingPathComponent("tg-hook-out-\(UUID())").path
        let hook = try script("cat > \"$2\"; echo \"granted $1\"")
        let config = HookConfig(commands: ["approve": [hook, "--mode approve; rm -rf /", out]], timeoutSeconds: 120)
        let store = try tempStore()
        let g = try store.directGrant(
            subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, hooks: config.events, now: t0)
        #expect(g.actuation == .pending)
        let results = await HookRunner.settle(store, config: config, by: alice, now: t0)
        #expect(results.count == 1)
        #expect(results[0].1.succeeded)
        #expect(results[0].1.detail == "exit 0: granted --mode approve; rm -rf /", "the argument arrived whole: no shell")
        let payload = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect(payload?["event"] as? String == "approve")
        #expect((payload?["grant"] as? [String: Any])?["id"] as? String == g.id)
        #expect(try store.grant(id: g.id)?.actuation == .ok)
        #expect(try store.audit().last?.action == "actuate")
        #expect(try store.audit().last?.result == "ok")
        #expect(try store.owedActuations(now: t0.plus(3600)).isEmpty)
    }

    @Test("a failing hook marks the grant, is audited with its output, and is retried later")
    func fails() async throws {
        let hook = try script("echo 'vault: permission denied' >&2; exit 3")
        let config = HookConfig(commands: ["revoke": [hook]], timeoutSeconds: 120)
        let store = try tempStore()
        let g = try store.directGrant(
            subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, hooks: config.events, now: t0)
        _ = try store.revoke(g.id, reason: "done", by: bob, policy: policy, hooks: config.events, now: t0)
        await HookRunner.settle(store, config: config, by: bob, now: t0)
        let after = try #require(try store.grant(id: g.id))
        #expect(after.actuation == .failed)
        #expect(after.actuationDetail == "exit 3: vault: permission denied")
        #expect(try store.audit().last?.result == "failed")
        #expect(try store.owedActuations(now: t0.plus(1)).isEmpty, "backs off")
        #expect(try store.owedActuations(now: t0.plus(60)).map(\.id) == [g.id], "then retried")
    }

    @Test("a hanging hook is stopped at its timeout and counts as failed")
    func hangs() async throws {
        let hook = try script("sleep 30")
        let config = HookConfig(commands: ["expire": [hook]], timeoutSeconds: 0.5)
        let result = await HookRunner.run(config, event: "expire", payload: Data("{}".utf8))
        #expect(!result.succeeded)
        #expect(result.detail.hasPrefix("timed out after"))
        #expect(Processes.matching(hook).isEmpty, "stopped, not waited for")
    }

    @Test("a timeout stops the hook's children too")
    func stopsChildren() async throws {
        let marker = "tg-orphan-\(UUID().uuidString.prefix(8))"
        let hook = try script("sh -c 'sleep 300; : \(marker)' & echo started; sh -c 'sleep 301; : \(marker)'\nwait")
        let config = HookConfig(commands: ["expire": [hook, marker]], timeoutSeconds: 0.5)
        let result = await HookRunner.run(config, event: "expire", payload: Data("{}".utf8))
        #expect(!result.succeeded)
        #expect(await Processes.waitUntilGone(marker).isEmpty, "children left running")
    }

    @Test("a hook runs with a minimal environment: PATH, LANG, TZ and hooks.env, never the caller's tokens or SSH agent")
    func minimalEnvironment() async throws {
        setenv("VAULT_TOKEN", "hvs.tg-test-secret", 1)
        setenv("SSH_AUTH_SOCK", "/tmp/tg-agent.sock", 1)
        defer {
            unsetenv("VAULT_TOKEN")
            unsetenv("SSH_AUTH_SOCK")
        }
        let out = TestTemporary.directory.appendingPathComponent("tg-hook-env-\(UUID())").path
        let hook = try script("env > \"$1\"")
        let config = HookConfig(
            commands: ["approve": [hook, out]], timeoutSeconds: 120, environment: ["VAULT_ADDR": "https://vault.example"])
        let result = await HookRunner.run(config, event: "approve", payload: Data("{}".utf8))
        #expect(result.succeeded, "\(result.detail)")
        let names = Set(
            try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").compactMap {
                $0.split(separator: "=").first.map(String.init)
            })
        #expect(!names.contains("VAULT_TOKEN"))
        #expect(!names.contains("SSH_AUTH_SOCK"))
        #expect(names.contains("PATH"))
        #expect(names.contains("VAULT_ADDR"))
        #expect(
            names.subtracting(["PATH", "LANG", "TZ", "VAULT_ADDR", ChildProcess.markVariable, "PWD", "SHLVL", "_"]).isEmpty, "\(names)")
    }

    @Test("a hook that forks a daemon with setsid and exits leaves no process behind")
    func daemonizes() async throws {
        let m = "tg-hook-left-\(UUID().uuidString.prefix(8))"
        let hook = try script("setsid sh -c 'sleep 300; : \(m)' </dev/null >/dev/null 2>&1 &\necho minted")
        let result = await HookRunner.run(
            HookConfig(commands: ["approve": [hook]], timeoutSeconds: 120), event: "approve", payload: Data("{}".utf8))
        #expect(result.succeeded)
        #expect(await Processes.waitUntilGone(m).isEmpty, "the hook's daemon outlived it")
    }

    @Test("a revoke while the approve hook still runs waits for it, then runs; both results are audited")
    func revokeDuringApproveHook() async throws {
        let log = TestTemporary.directory.appendingPathComponent("tg-hook-order-\(UUID())").path
        let approve = try script("sleep 1; echo approved >> \"$1\"")
        let revoke = try script("echo revoked >> \"$1\"")
        let config = HookConfig(commands: ["approve": [approve, log], "revoke": [revoke, log]], timeoutSeconds: 120)
        let store = try tempStore()
        let g = try store.directGrant(
            subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, hooks: config.events, now: Date())
        let first = Task { await HookRunner.settle(store, config: config, by: alice, now: Date()) }
        try await Task.sleep(for: .milliseconds(300))
        _ = try store.revoke(g.id, reason: "done", by: bob, policy: policy, hooks: config.events, now: Date())
        let meanwhile = await HookRunner.settle(store, config: config, by: bob, now: Date())
        #expect(meanwhile.isEmpty, "the revoke hook waits while the approve hook runs")
        _ = await first.value
        let after = await HookRunner.settle(store, config: config, by: bob, now: Date())
        #expect(after.map { $0.0.id } == [g.id])
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "approved\nrevoked\n")
        let actuations = try store.audit().filter { $0.action == "actuate" }
        #expect(actuations.map(\.reason) == ["approve hook, superseded by a revoke", "revoke hook, attempt 1"])
        #expect(try store.grant(id: g.id)?.actuation == .ok)
        #expect(try store.verifyAudit().ok)
    }

    @Test("a deny hook runs with the request on stdin and is audited")
    func denyHook() async throws {
        let out = TestTemporary.directory.appendingPathComponent("tg-deny-\(UUID())").path
        let hook = try script("cat > \"$1\"")
        let config = HookConfig(commands: ["deny": [hook, out]])
        let store = try tempStore()
        let r = try store.file(subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        let denied = try store.deny(r.id, reason: "no", by: bob, policy: policy, now: t0)
        let result = try #require(await HookRunner.denied(denied, store: store, config: config, by: bob, now: t0))
        #expect(result.succeeded)
        let payload = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect(payload?["event"] as? String == "deny")
        #expect((payload?["request"] as? [String: Any])?["id"] as? String == r.id)
        #expect(try store.audit().last?.action == "actuate")
    }

    @Test("a missing program is a failure, not a crash")
    func missing() async {
        let result = await HookRunner.run(HookConfig(commands: ["approve": ["/nonexistent/hook"]]), event: "approve", payload: Data())
        #expect(!result.succeeded)
        #expect(result.detail.hasPrefix("could not run /nonexistent/hook"))
    }

    @Test("the confirmation preview shows the exact command")
    func preview() {
        let config = HookConfig(commands: ["approve": ["/opt/trustgap/hooks/grant.sh", "--mode", "approve", "two words"]])
        #expect(config.preview("approve") == "/opt/trustgap/hooks/grant.sh --mode approve 'two words'  < grant.json")
        #expect(config.preview("deny") == nil)
    }
}
