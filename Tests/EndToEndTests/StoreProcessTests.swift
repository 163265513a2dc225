import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Inventory

/// The store under real processes: races between analysts, and a process killed mid-batch.
@Suite("Access store across processes (the real binary)", .serialized)
final class StoreProcessTests {
    let dir: URL
    let storePath: String

    init() throws {
        dir = try Binary.scratchDirectory()
        storePath = dir.appendingPathComponent("trustgap.db").path
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Files `n` pending requests from another analyst, so this OS user may decide them.
    func fileRequests(_ n: Int) throws -> [String] {
        let store = try AccessStore(path: storePath)
        let requester = Analyst(user: "requester-\(UUID().uuidString.prefix(6))")
        return try (0..<n).map { i in
            try store.file(
                subject: Subject(id: "mdm:device/\(i)", name: "laptop-\(i)", population: .device), scope: "vpn:prod",
                ttlSeconds: 3600, reason: "on call \(i)", by: requester, policy: AccessPolicy(), now: Date()
            ).id
        }
    }

    /// A shell loop running one CLI decision per id, printing ACK or the exit code for each.
    func loop(_ ids: [String], _ decision: String) -> [String] {
        let script = """
            for id in \(ids.joined(separator: " ")); do
              if "$TG" grants \(decision) "$id" --reason "race" --store "$STORE" >/dev/null 2>&1; \
            then echo "ACK $id"; else echo "RC$? $id"; fi
            done
            """
        return ["sh", "-c", script]
    }

    @Test("two processes racing on the same 100 requests: each decided exactly once, the chain intact")
    func race() async throws {
        let ids = try fileRequests(100)
        let env = ["TG": Binary.path, "STORE": storePath, "XDG_STATE_HOME": dir.path]
        let outA = dir.appendingPathComponent("a.out").path
        let outB = dir.appendingPathComponent("b.out").path
        let a = try Spawn.start(loop(ids, "approve"), stdout: outA, environment: env)
        let b = try Spawn.start(loop(ids, "deny"), stdout: outB, environment: env)
        _ = await Spawn.finished(a)
        _ = await Spawn.finished(b)
        let lines = try (String(contentsOfFile: outA, encoding: .utf8) + String(contentsOfFile: outB, encoding: .utf8)).split(
            separator: "\n")
        let acks = lines.filter { $0.hasPrefix("ACK ") }.map { String($0.dropFirst(4)) }
        let others = lines.filter { !$0.hasPrefix("ACK ") }
        #expect(acks.count == 100, "each request acknowledged exactly once; others: \(others.prefix(3))")
        #expect(Set(acks) == Set(ids))
        #expect(
            others.allSatisfy { $0.hasPrefix("RC4 ") },
            "the loser is told it lost (exit 4): \(others.filter { !$0.hasPrefix("RC4 ") }.prefix(3))")
        let store = try AccessStore(path: storePath)
        let decided = try store.requests().filter { ids.contains($0.id) }
        #expect(decided.allSatisfy { $0.state == .approved || $0.state == .denied })
        #expect(try store.grants().count == decided.filter { $0.state == .approved }.count)
        let decisions = try store.audit().filter { $0.action == "approve" || $0.action == "deny" }
        #expect(decisions.count == 100)
        #expect(Set(decisions.map { $0.target.prefix(14) }).count == 100)
        #expect(try store.verifyAudit().ok)
        let verify = try Binary.run(["audit", "verify", "--store", storePath])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test("SIGKILL mid-batch: every acknowledged decision is there and the chain verifies")
    func killed() async throws {
        let ids = try fileRequests(60)
        let out = dir.appendingPathComponent("k.out").path
        let pid = try Spawn.start(
            loop(ids, "approve"), stdout: out, environment: ["TG": Binary.path, "STORE": storePath, "XDG_STATE_HOME": dir.path])
        // Let some decisions land, then kill the whole process group (the loop and the CLI mid-decision).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let acked = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").count
            if acked >= 10 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(-pid, SIGKILL)
        _ = Spawn.wait(pid)
        let acked = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("ACK ") }.map {
            String($0.dropFirst(4))
        }
        #expect(acked.count >= 10)
        #expect(acked.count < 60, "killed before the end")
        let store = try AccessStore(path: storePath)
        let approved = Set(try store.requests().filter { $0.state == .approved }.map(\.id))
        for id in acked { #expect(approved.contains(id), "acknowledged \(id) was lost") }
        #expect(try store.verifyAudit().ok)
        #expect(try Binary.run(["audit", "verify", "--store", storePath]).status == 0)
    }

    @Test("the CLI: request, refusals with their exit codes, grant, extend, revoke, list as JSON, audit")
    func cli() throws {
        let s = ["--store", storePath]
        let subject = "host:agent/cursor/github/hana-0"
        var r = try Binary.run(
            ["request", "--subject", subject, "--scope", "repo:acme/api:write", "--ttl", "30m", "--reason", "fix", "--format", "json"] + s)
        #expect(r.status == 0, "\(r.stderr)")
        let req = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let id = try #require(req?["id"] as? String)
        r = try Binary.run(["grants", "approve", id, "--reason", "mine"] + s)
        #expect(r.status == 3)
        #expect(r.stderr.contains("refused by policy (no_self_approval)"))
        r = try Binary.run(["request", "--subject", subject, "--scope", "k8s:prod:admin", "--ttl", "30m", "--reason", "x"] + s)
        #expect(r.status == 3)
        #expect(r.stderr.contains("forbidden_scopes"))
        r = try Binary.run(["request", "--subject", "nope:1", "--scope", "x", "--ttl", "30m", "--reason", "x"] + s)
        #expect(r.status == 5)
        r = try Binary.run(["grants", "grant", "--subject", subject, "--scope", "repo:acme/api:read", "--ttl", "2h", "--reason", "x"] + s)
        #expect(r.status == 3)
        #expect(r.stderr.contains("at most 1h"))
        r = try Binary.run(
            [
                "grants", "grant", "--subject", subject, "--scope", "repo:acme/api:read", "--ttl", "20m", "--reason", "review", "--format",
                "json",
            ] + s)
        #expect(r.status == 0, "\(r.stderr)")
        let gid = try #require((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["id"] as? String)
        #expect(try Binary.run(["grants", "extend", gid, "--ttl", "50m", "--reason", "longer"] + s).status == 0)
        #expect(try Binary.run(["grants", "revoke", gid, "--reason", "done"] + s).status == 0)
        r = try Binary.run(["grants", "revoke", gid, "--reason", "again"] + s)
        #expect(r.status == 4)
        #expect(r.stderr.contains("already revoked by"))
        r = try Binary.run(["grants", "list", "--state", "revoked", "--format", "json"] + s)
        let listed = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [[String: Any]]]
        #expect(listed?["grants"]?.first?["id"] as? String == gid)
        r = try Binary.run(["grants", "revoke", gid, "--reason", "x", "--readonly"] + s)
        #expect(r.status == 3)
        #expect(r.stderr.contains("read-only"))
        r = try Binary.run(["audit", "--format", "json"] + s)
        let audit = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        #expect(audit?.map { $0["action"] as? String } == ["request", "grant", "extend", "revoke"])
        #expect(try Binary.run(["sweep"] + s).status == 0)
    }

    @Test("trustgap audit prints every id and name whole, each field sanitised")
    func auditTable() throws {
        let s = ["--store", storePath]
        let subject = "host:agent/cursor/github/hana-0"
        // An IPv6 SSH client makes the analyst longer than the analyst column: it must still be printed whole.
        let ssh = ["SSH_CLIENT": "2001:db8:85a3::8a2e:370:7334 51234 22"]
        var r = try Binary.run(
            ["request", "--subject", subject, "--scope", "repo:acme/api:read", "--ttl", "30m", "--reason", "line one\nline two\u{1b}[31m"]
                + s, environment: ssh)
        #expect(r.status == 0, "\(r.stderr)")
        r = try Binary.run(["grants", "grant", "--subject", subject, "--scope", "repo:acme/web:read", "--ttl", "10m", "--reason", "r"] + s)
        #expect(r.status == 0, "\(r.stderr)")
        r = try Binary.run(["audit", "--format", "json"] + s)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let grant = try #require(json.last?["target"] as? String)
        r = try Binary.run(["audit"] + s)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2, "one line per entry, whatever the reason holds:\n\(r.stdout)")
        let me = Analyst.current().user
        #expect(lines[0].contains(" \(me)@2001:db8:85a3::8a2e:370:7334 "), "\(lines[0])")
        #expect(lines[0].contains(" \(subject) repo:acme/api:read "))
        #expect(lines[0].contains("\"line one line two\u{FFFD}[31m\""), "newline as a space, the escape made visible")
        #expect(!r.stdout.contains("\u{1b}") && !r.stdout.contains("…"), "nothing raw, nothing cut")
        #expect(
            lines[1].contains(
                " grant    \(grant.padding(toLength: 32, withPad: " ", startingAt: 0)) \(subject) repo:acme/web:read 10m granted until "),
            "\(lines[1])")
        #expect(try Binary.run(["audit", "verify"] + s).status == 0)
    }
}
