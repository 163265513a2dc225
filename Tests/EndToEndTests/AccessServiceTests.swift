import AccessService
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Access

/// `trustgap serve` as it runs on a jump host: the real binary, real OS users, real sockets.
@Suite(
    "The access service (the real binary, real OS users)", .serialized, .enabled(if: TemporaryUser.available, "needs root to make OS users")
)
final class AccessServiceTests {
    /// An agent in the 300-entity demo (seed 42): agent policy (max 1h, a reason, one approval).
    let agent = "host:agent/devin/sandbox/tariq-12"

    func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Three OS users in the service's socket group, and the service.
    func team(extraConfig: String = "") async throws -> (ServiceProcess, TemporaryGroup, TemporaryUser, TemporaryUser) {
        let group = try TemporaryGroup()
        let alice = try TemporaryUser("tga")
        let bob = try TemporaryUser("tgb")
        try alice.join(group.name)
        try bob.join(group.name)
        let svc = try await ServiceProcess(extraConfig: extraConfig, group: group.name)
        svc.retained += [group, alice, bob] // removed only once the service is gone
        return (svc, group, alice, bob)
    }

    func request(_ svc: ServiceProcess, as user: TemporaryUser, scope: String = "repo:acme/api:write", ttl: String = "30m") throws -> String
    {
        let r = try svc.cli(
            [
                "request", "--service", svc.socket, "--subject", agent, "--scope", scope, "--ttl", ttl, "--reason", "fix the flaky test",
                "--format", "json",
            ], as: user)
        #expect(r.status == 0, "request as \(user.name): \(r.stderr)")
        return try #require(json(r.stdout)["id"] as? String, "no id in \(r.stdout) \(r.stderr)")
    }

    func audit(_ svc: ServiceProcess) throws -> [[String: Any]] {
        let r = try svc.cli(["audit", "--service", svc.socket, "--format", "json"])
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [[String: Any]] ?? []
    }

    @Test("two analysts as two uids: the requester can't approve, the other can; the audit names each from the kernel")
    func twoAnalysts() async throws {
        let (svc, _, alice, bob) = try await team()
        let id = try request(svc, as: alice)
        var r = try svc.cli(["grants", "approve", id, "--reason", "mine", "--service", svc.socket], as: alice)
        #expect(r.status == 3)
        #expect(r.stderr.contains("refused by policy (no_self_approval): \(alice.name) asked for this access"), "\(r.stderr)")
        r = try svc.cli(["grants", "approve", id, "--reason", "reviewed", "--service", svc.socket, "--format", "json"], as: bob)
        #expect(r.status == 0, "\(r.stderr)")
        #expect((json(r.stdout)["approvers"] as? [String]) == [bob.name])
        let entries = try audit(svc).filter { ($0["target"] as? String)?.hasPrefix(id) == true }
        #expect(entries.map { $0["analyst"] as? String } == [alice.name, bob.name])
        #expect(entries.map { $0["action"] as? String } == ["request", "approve"])
    }

    @Test("inside unshare -r or --map-user a client is still its real user: it can't self-approve or pass as a colleague")
    func userNamespaces() async throws {
        let (svc, _, alice, bob) = try await team()
        let id = try request(svc, as: alice)
        for wrap in [["unshare", "-r", "--"], ["unshare", "--map-user=\(bob.uid)", "--map-group=\(bob.uid)", "--"]] {
            let r = try svc.cli(["grants", "approve", id, "--reason", "as someone else", "--service", svc.socket], as: alice, wrap: wrap)
            #expect(r.status == 3, "\(wrap): \(r.stdout) \(r.stderr)")
            #expect(r.stderr.contains("no_self_approval"), "\(wrap): \(r.stderr)")
        }
        let decided = try audit(svc).filter { ($0["target"] as? String)?.hasPrefix(id) == true && $0["action"] as? String == "approve" }
        #expect(decided.isEmpty, "nobody approved: \(decided)")
        let hello = try svc.cli(["grants", "list", "--service", svc.socket], as: alice, wrap: ["unshare", "-r", "--"])
        #expect(hello.status == 0, "a namespaced client may still read: \(hello.stderr)")
    }

    @Test("an analyst can't open the service's store; pointed at it, the CLI names the service")
    func storeIsPrivate() async throws {
        let (svc, _, alice, _) = try await team()
        for file in [svc.store, svc.store + ".key", svc.store + ".anchor"] {
            var st = stat()
            #expect(stat(file, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o600, "\(file) is \(String(st.st_mode & 0o777, radix: 8))")
        }
        for file in [svc.store, svc.store + ".key", svc.store + ".anchor"] {
            let cat = try svc.run(["head", "-c", "1", file], as: alice)
            #expect(cat.status != 0, "alice read \(file)")
        }
        let r = try svc.cli(["grants", "list", "--store", svc.store], as: alice)
        #expect(r.status == 1)
        #expect(r.stderr.contains("connect through its socket"), "\(r.stderr)")
        // Even the service's own user, without the service, is refused the claimed store.
        let root = try svc.cli(["grants", "list", "--store", svc.store])
        #expect(root.status == 1)
        #expect(root.stderr.contains("is the access service's store"), "\(root.stderr)")
    }

    @Test("a client's private config (looser policy, its own store) changes nothing: the service's policy decides")
    func privateConfig() async throws {
        let (svc, _, alice, _) = try await team()
        let mine = svc.dir.appending("alice.yaml").path
        try """
        service:
          socket: \(svc.socket)
        policy:
          agent: {max_ttl: 100h, require_reason: false, approvals: 1, admin_approvals: 1, forbidden_scopes: []}
        """.write(toFile: mine, atomically: true, encoding: .utf8)
        chmod(mine, 0o644)
        var r = try svc.cli(
            ["request", "--config", mine, "--subject", agent, "--scope", "repo:acme/api:write", "--ttl", "10h", "--reason", "x"], as: alice)
        #expect(r.status == 3)
        #expect(r.stderr.contains("max_ttl"), "\(r.stderr)")
        r = try svc.cli(
            ["request", "--config", mine, "--subject", agent, "--scope", "k8s:prod:admin", "--ttl", "10m", "--reason", "x"], as: alice)
        #expect(r.status == 3)
        #expect(r.stderr.contains("forbidden_scopes"), "\(r.stderr)")
        r = try svc.cli(["grants", "list", "--config", mine, "--store", svc.dir.appending("mine.db").path], as: alice)
        #expect(r.status == 2, "--store with a service is bad input: \(r.stderr)")
        // A private inventory that relabels the agent as an app lifts nothing: the service's inventory decides.
        let records = svc.dir.appending("mine.jsonl").path
        try #"{"id":"\#(agent)","population":"app","name":"harmless-app"}"#.write(toFile: records, atomically: true, encoding: .utf8)
        chmod(records, 0o644)
        let relabel = svc.dir.appending("relabel.yaml").path
        try "collectors:\n  - type: file\n    name: mine\n    path: \(records)\nservice:\n  socket: \(svc.socket)\n".write(
            toFile: relabel, atomically: true, encoding: .utf8)
        chmod(relabel, 0o644)
        r = try svc.cli(
            ["request", "--config", relabel, "--subject", agent, "--scope", "repo:acme/api:write", "--ttl", "10h", "--reason", "x"],
            as: alice)
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderr.contains("agents may hold access for at most"), "\(r.stderr)")
        // And `snapshot` with that config shows the service's inventory, not the private one.
        r = try svc.cli(["snapshot", "--config", relabel, "--format", "json"], as: alice)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("harmless-app"))
        #expect(r.stdout.contains(agent))
    }

    @Test("a grant written into the store with SQL fails verify, and the service reports it at start")
    func forgedGrant() async throws {
        let (svc, _, _, _) = try await team()
        #expect(try svc.cli(["audit", "verify", "--service", svc.socket]).status == 0)
        svc.stop()
        let q = try DatabaseQueue(path: svc.store)
        try await q.write { db in
            try db.execute(
                sql: """
                    INSERT INTO grants (id, request_id, subject, subject_name, population, scope, approvers, \
                    reason, starts_at, expires_at, state, actuation)
                    VALUES ('gr-forged', NULL, 'host:agent/x', 'x', 'agent', 'iam:admin', '["bob"]', 'r', \
                    0, 99999999999, 'active', 'not_configured')
                    """)
        }
        try await svc.start()
        #expect(svc.stderr.contains("audit chain BROKEN at start: grant gr-forged has no audit entry"), "\(svc.stderr)")
        let r = try svc.cli(["audit", "verify", "--service", svc.socket])
        #expect(r.status == 1)
        #expect(r.stderr.contains("gr-forged"))
    }

    @Test("kill -9 of the service mid-batch loses no acknowledged decision; it resumes on restart")
    func crash() async throws {
        let (svc, _, alice, bob) = try await team()
        let ids = try (0..<30).map { _ in try request(svc, as: alice) }
        let out = svc.dir.appending("acks").path
        let script =
            "for id in \(ids.joined(separator: " ")); do "
            + "if \"$TG\" grants approve \"$id\" --reason ok --service \"$S\" >/dev/null 2>&1; then echo \"ACK $id\"; fi; done"
        let loop = try RunningChild(
            bob.run(["sh", "-c", script]), stdout: out,
            environment: [
                "TG": Binary.shared, "S": svc.socket,
                "XDG_STATE_HOME": svc.dir.appending("bob").path,
            ])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").count < 5 {
            try await Task.sleep(for: .milliseconds(20))
        }
        svc.crash()
        loop.stop()
        let acked = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { String($0.dropFirst(4)) }
        #expect(acked.count >= 5)
        #expect(acked.count < ids.count, "killed before the end")
        try await svc.start()
        let listed = json(try svc.cli(["grants", "list", "--state", "approved", "--format", "json", "--service", svc.socket]).stdout)
        let approved = Set(((listed["requests"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
        for id in acked { #expect(approved.contains(id), "acknowledged \(id) was lost") }
        #expect(try svc.cli(["audit", "verify", "--service", svc.socket]).status == 0)
        // And it goes on deciding.
        let rest = ids.filter { !approved.contains($0) }
        if let next = rest.first {
            #expect(try svc.cli(["grants", "approve", next, "--reason", "ok", "--service", svc.socket], as: bob).status == 0)
        }
    }

    /// A raw connection, to send what no well-behaved client would.
    final class Raw {
        let fd: Int32
        init(_ path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: Array(path.utf8)) }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else { throw Spawn.Failed(message: "connect \(path)") }
            var tv = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        func send(_ data: Data) {
            data.withUnsafeBytes {
                var off = 0
                while off < $0.count {
                    let n = Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL))
                    if n <= 0 { return }
                    off += n
                }
            }
        }
        var pending = Data()
        func line() -> [String: Any]? {
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                if let nl = pending.firstIndex(of: 0x0A) {
                    let l = pending[pending.startIndex..<nl]
                    pending.removeSubrange(pending.startIndex...nl)
                    return (try? JSONSerialization.jsonObject(with: Data(l))) as? [String: Any]
                }
                let n = recv(fd, &buf, buf.count, 0)
                guard n > 0 else { return nil }
                pending.append(contentsOf: buf[0..<n])
            }
        }
        deinit { close(fd) }
    }

    @Test("malformed, binary and 10 MB lines get an error; a client that hangs up mid-line harms nothing; the service stays up")
    func hostileLines() async throws {
        let svc = try await ServiceProcess()
        do {
            let half = try Raw(svc.socket)
            half.send(Data(#"{"v":1,"op":"hel"#.utf8))
        }
        do {
            // A whole request, and gone before the answer.
            let gone = try Raw(svc.socket)
            gone.send(Data(#"{"v":1,"id":1,"op":"verify"}"#.utf8 + [0x0A]))
        }
        let c = try Raw(svc.socket)
        c.send(Data("not json at all\n".utf8))
        var reply = try #require(c.line())
        #expect(reply["ok"] as? Bool == false)
        #expect((reply["error"] as? [String: Any])?["code"] as? String == "malformed")
        c.send(Data((0...255).map { UInt8($0) }.filter { $0 != 0x0A }) + Data([0x0A]))
        reply = try #require(c.line())
        #expect((reply["error"] as? [String: Any])?["code"] as? String == "malformed")
        c.send(Data(repeating: UInt8(ascii: "a"), count: 10 << 20) + Data([0x0A]))
        reply = try #require(c.line())
        #expect((reply["error"] as? [String: Any])?["code"] as? String == "too_long")
        c.send(Data(#"{"v":1,"id":7,"op":"nope"}"#.utf8 + [0x0A]))
        reply = try #require(c.line())
        #expect((reply["error"] as? [String: Any])?["code"] as? String == "unknown_op")
        // What would stay in the audit log forever is capped.
        c.send(
            Data(
                (#"{"v":1,"id":6,"op":"request","subject":"x","scope":"vpn:prod","ttl_seconds":"#
                    + #"60,"reason":"\#(String(repeating: "r", count: 5000))"}"#)
                    .utf8 + [0x0A]))
        reply = try #require(c.line())
        #expect((reply["error"] as? [String: Any])?["message"] as? String == "reason is 5000 bytes; at most 4096 are accepted")
        c.send(Data(#"{"v":9,"id":8,"op":"hello"}"#.utf8 + [0x0A]))
        reply = try #require(c.line())
        #expect((reply["error"] as? [String: Any])?["code"] as? String == "version")
        // The same connection still works, and the client can't say who it is.
        c.send(Data(#"{"v":1,"id":9,"op":"hello","user":"root","analyst":"alice"}"#.utf8 + [0x0A]))
        reply = try #require(c.line())
        #expect(reply["ok"] as? Bool == true)
        #expect(reply["id"] as? Int == 9)
        #expect(((reply["result"] as? [String: Any])?["you"] as? [String: Any])?["uid"] as? Int == Int(getuid()))
        #expect((reply["result"] as? [String: Any])?["policy"] != nil, "attached dashboards show the service's policy")
        #expect((reply["result"] as? [String: Any])?["thresholds"] != nil, "and score with its rules")
        #expect(ServiceProcess.answers(svc.socket))
        #expect(svc.child?.isRunning == true)
    }

    @Test("50 subscribed clients all see a decision")
    func fiftySubscribers() async throws {
        let (svc, _, alice, _) = try await team()
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var first: [Int: Int64] = [:]
            var last: [Int: Int64] = [:]
        }
        let seen = Seen()
        var clients: [AccessClient] = []
        for i in 0..<50 {
            let c = try AccessClient(socketPath: svc.socket)
            clients.append(c)
            let t = Thread {
                try? c.follow { token in
                    seen.lock.withLock {
                        if seen.first[i] == nil { seen.first[i] = token }
                        seen.last[i] = token
                    }
                }
            }
            t.start()
        }
        defer { for c in clients { c.disconnect() } }
        var deadline = Date().addingTimeInterval(20)
        while Date() < deadline, seen.lock.withLock({ seen.first.count }) < 50 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(seen.lock.withLock { seen.first.count } == 50, "every client subscribed")
        let before = seen.lock.withLock { seen.first.values.max() ?? 0 }
        _ = try request(svc, as: alice)
        deadline = Date().addingTimeInterval(20)
        while Date() < deadline, seen.lock.withLock({ seen.last.values.filter { $0 > before }.count }) < 50 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(seen.lock.withLock { seen.last.values.filter { $0 > before }.count } == 50, "every subscriber saw the change")
    }

    @Test("a hanging hook does not hold up other decisions")
    func hangingHook() async throws {
        let hookDir = try ScratchDirectory("tg-hook")
        chmod(hookDir.path, 0o755)
        let hook = hookDir.appending("approve.sh").path
        try "#!/bin/sh\nif grep -q slow; then sleep 120; fi\necho granted\n".write(toFile: hook, atomically: true, encoding: .utf8)
        chmod(hook, 0o755)
        let (svc, _, alice, bob) = try await team(extraConfig: "hooks:\n  approve: [\"\(hook)\"]\n  timeout: 300s\n")
        let slow = try request(svc, as: alice, scope: "repo:slow:write")
        let fast = try request(svc, as: alice, scope: "repo:fast:write")
        let slowOut = svc.dir.appending("slow").path
        let slowCLI = try RunningChild(
            bob.run([Binary.shared, "grants", "approve", slow, "--reason", "ok", "--service", svc.socket]), stdout: slowOut,
            environment: ["XDG_STATE_HOME": svc.dir.appending("bob").path])
        defer { slowCLI.stop() }
        // Wait until the slow one is decided (its hook now hangs), then decide the other.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !(try audit(svc).contains { ($0["target"] as? String)?.hasPrefix(slow + " ->") == true }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let r = try svc.cli(["grants", "approve", fast, "--reason", "ok", "--service", svc.socket], as: bob)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("hook approve for gr-"), "its own hook ran: \(r.stdout)")
        #expect(slowCLI.isRunning, "the slow approval is still waiting on its hook")
        for pid in Processes.matching(hook) { kill(pid, SIGKILL) }
        for pid in Processes.matching("sleep 120") { kill(pid, SIGKILL) }
    }

    @Test("two dashboards attached to one service as two users: a decision in one appears in the other")
    func twoDashboards() async throws {
        let (svc, _, alice, bob) = try await team()
        let id = try request(svc, as: alice)
        let home = try ScratchDirectory("tg-dash-home")
        chmod(home.path, 0o777)
        var panes: [TmuxSession] = []
        for user in [alice, bob] {
            let t = try TmuxSession(width: 140, height: 30)
            panes.append(t)
            try t.start(
                ["--service", svc.socket], environment: ["XDG_STATE_HOME": home.appending(user.name).path, "HOME": home.path],
                prefix: user.run([]), binary: Binary.shared)
            try await t.waitFor("THE GAP")
            try t.keys("6")
            try await t.waitFor(id)
        }
        let (a, b) = (panes[0], panes[1])
        try await a.waitFor("analyst \(alice.name)")
        try await b.waitFor("analyst \(bob.name)")
        // Bob approves alice's request from his keyboard: the first row is the oldest pending, hers.
        try b.type("/\(id)")
        try b.keys("Enter")
        try await b.waitUntil("only her request listed") { $0.contains(id) && $0.components(separatedBy: "PENDING").count == 2 }
        try b.keys("a")
        try await b.waitFor("Approve request \(id)")
        try b.keys("Enter")
        try b.type("reviewed")
        try b.keys("Enter", "Right", "Enter")
        try await b.waitFor("Approved: ")
        // Alice's dashboard shows the grant, pushed by the service, with bob as its approver.
        let screen = try await a.waitUntil("the grant on alice's screen") { $0.contains("ACTIVE") && $0.contains(bob.name) }
        #expect(screen.contains("ACTIVE"))
        let entries = try audit(svc).filter { ($0["target"] as? String)?.hasPrefix(id) == true }
        #expect(entries.last?["analyst"] as? String == bob.name)
        for t in panes {
            try t.keys("q")
            try await t.waitFor("EXIT=0")
        }
    }

    @Test("a dashboard attached to a service that goes away says so, stays read-only, and recovers by itself")
    func serviceGoesAway() async throws {
        let svc = try await ServiceProcess()
        let t = try TmuxSession(width: 140, height: 30)
        try t.start(["--service", svc.socket], environment: ["XDG_STATE_HOME": svc.dir.appending("dash").path])
        try await t.waitFor("THE GAP")
        try t.keys("6")
        try await t.waitFor("PENDING")
        svc.crash()
        try await t.waitFor("ACCESS SERVICE UNREACHABLE")
        try t.keys("a")
        try await t.waitFor("actions are off until it is back")
        let shown = try t.screen()
        #expect(shown.contains("PENDING"), "the last state is still shown")
        try await svc.start()
        try await t.waitUntil("recovered", timeout: 30) { !$0.contains("UNREACHABLE") }
        try t.keys("Escape", "a")
        try await t.waitFor("Approve request")
        try t.keys("Escape", "q")
        try await t.waitFor("EXIT=0")
    }
}
