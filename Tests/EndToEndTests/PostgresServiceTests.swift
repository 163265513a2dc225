import AccessService
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Access

/// A team on several jump hosts: two `trustgap serve` processes ("two hosts": each its own socket, config, key copy
/// and anchor) sharing one PostgreSQL store, driven by real OS users through the real binary.
@Suite(
    "PostgreSQL: one store for many hosts (real server, real binary, real OS users)", .serialized,
    .enabled(if: TemporaryUser.available, "needs root to make OS users")
)
final class PostgresServiceTests: Sendable {
    let agent = "host:agent/devin/sandbox/tariq-12"

    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// Host A, and host B with a copy of A's audit key; alice asks, bob and carol decide; all in the sockets' group.
    func hosts(_ db: TestDatabase) async throws -> (ServiceProcess, ServiceProcess, TemporaryUser, TemporaryUser, TemporaryUser) {
        let group = try TemporaryGroup()
        let users = try ["tga", "tgb", "tgc"].map { try TemporaryUser($0) }
        for u in users { try u.join(group.name) }
        let a = try await ServiceProcess(group: group.name, storeURL: db.url)
        let b = try await ServiceProcess(group: group.name, storeURL: db.url, start: false)
        try FileManager.default.createDirectory(atPath: b.dir.appending("keys").path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: a.keyPath, toPath: b.keyPath)
        try await b.start()
        a.retained += [group] + users
        b.retained += [group] + users
        return (a, b, users[0], users[1], users[2])
    }

    func file(_ svc: ServiceProcess, as user: TemporaryUser, count: Int) throws -> [String] {
        let ids = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in stride(from: worker, to: count, by: 4) {
                guard
                    let r = try? svc.cli(
                        [
                            "request", "--service", svc.socket, "--subject", agent, "--scope", "repo:acme/api:write", "--ttl", "30m",
                            "--reason", "batch \(i)", "--format", "json",
                        ], as: user),
                    let id = (json(r.stdout) as? [String: Any])?["id"] as? String
                else {
                    failures.withLock { $0.append("request \(i)") }
                    continue
                }
                ids.withLock { $0.append(id) }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        return ids.withLock { $0 }
    }

    func requests(_ svc: ServiceProcess) throws -> [[String: Any]] {
        let r = try svc.cli(["grants", "list", "--state", "all", "--service", svc.socket, "--format", "json"])
        return ((json(r.stdout) as? [String: Any])?["requests"] as? [[String: Any]]) ?? []
    }

    @Test("two services race on the same 100 requests through different analysts: one decision each, one chain, verify passes")
    func twoHostsRace() async throws {
        let db = try TestDatabase()
        let (a, b, alice, bob, carol) = try await hosts(db)
        let ids = try await offThePool { try self.file(a, as: alice, count: 100) }
        #expect(ids.count == 100)
        // bob approves every one through host A while carol denies every one through host B, in the same order.
        let outcomes = Mutex<[String: [String]]>([:])
        try await offThePool {
            DispatchQueue.concurrentPerform(iterations: 2) { side in
                let (svc, user, verb) = side == 0 ? (a, bob, "approve") : (b, carol, "deny")
                for id in ids {
                    guard
                        let r = try? svc.cli(
                            ["grants", verb, id, "--reason", "\(verb) from host \(side)", "--service", svc.socket], as: user)
                    else { continue }
                    let what = r.status == 0 ? "won:\(user.name)" : r.status == 4 ? "lost:\(r.stderr)" : "failed:\(r.status) \(r.stderr)"
                    outcomes.withLock { $0[id, default: []].append(what) }
                }
            }
        }
        let all = outcomes.withLock { $0 }
        let listedA = try requests(a)
        let listedB = try requests(b)
        for id in ids {
            let results = all[id] ?? []
            let winners = results.filter { $0.hasPrefix("won:") }
            #expect(winners.count == 1, "\(id): \(results)")
            #expect(!results.contains { $0.hasPrefix("failed:") }, "\(id): \(results)")
            let row = listedA.first { $0["id"] as? String == id }
            let decider = row?["decided_by"] as? String
            #expect(winners.first == "won:\(decider ?? "?")", "\(id): \(results), store says \(decider ?? "nobody")")
            // The loser was told who decided, and how.
            for lost in results where lost.hasPrefix("lost:") {
                #expect(lost.contains("was already \(row?["state"] as? String ?? "?") by \(decider ?? "?")"), "\(lost)")
            }
        }
        let ours = Set(ids)
        func states(_ listed: [[String: Any]]) -> [String] {
            listed.filter { ours.contains($0["id"] as? String ?? "") }.map { "\($0["id"] ?? "") \($0["state"] ?? "")" }.sorted()
        }
        // (The demo's agents keep filing requests of their own meanwhile: compare the hundred.)
        #expect(states(listedA) == states(listedB), "both hosts see the same store")
        for svc in [a, b] {
            let v = try svc.cli(["audit", "verify", "--service", svc.socket])
            #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        }
        let chain = try db.psql("SELECT count(*), count(DISTINCT prev_hash), max(seq) FROM audit")
        let parts = chain.split(separator: "|").map(String.init)
        #expect(parts.count == 3 && parts[0] == parts[1] && parts[0] == parts[2], "one line, no fork: \(chain)")
        a.stop()
        b.stop()
    }

    @Test("the database restarted in the middle of a batch: every acknowledged decision is there; the rest said so; it recovers")
    func databaseRestart() async throws {
        let db = try TestDatabase(on: try TestPostgres.dedicated())
        let (a, _, alice, bob, _) = try await hosts(db)
        let ids = try await offThePool { try self.file(a, as: alice, count: 40) }
        let acknowledged = Mutex<[String]>([])
        let refused = Mutex<[String: String]>([:])
        let restarted = Atomic<Bool>(false)
        try await offThePool {
            DispatchQueue.concurrentPerform(iterations: 2) { side in
                if side == 1 {
                    while acknowledged.withLock({ $0.count }) < 10 { usleep(10_000) }
                    do { try db.server.restart() } catch { Issue.record("restart: \(error)") }
                    restarted.store(true, ordering: .relaxed)
                    return
                }
                for id in ids {
                    guard let r = try? a.cli(["grants", "deny", id, "--reason", "batch", "--service", a.socket], as: bob) else { continue }
                    if r.status == 0 { acknowledged.withLock { $0.append(id) } } else { refused.withLock { $0[id] = r.stderr } }
                }
            }
        }
        let didRestart = restarted.load(ordering: .relaxed)
        #expect(didRestart)
        let acked = Set(acknowledged.withLock { $0 })
        let failed = refused.withLock { $0 }
        let denied = Set(try db.psql("SELECT id FROM requests WHERE state = 'denied'").split(separator: "\n").map(String.init))
        #expect(acked.isSubset(of: denied), "acknowledged but missing: \(acked.subtracting(denied))")
        print("restart mid-batch: \(acked.count) acknowledged, \(failed.count) refused: \(failed.values.map { $0.prefix(160) })")
        for (id, message) in failed {
            #expect(message.contains("nothing was changed") || message.contains("unknown"), "\(id): \(message)")
            if message.contains("nothing was changed") { #expect(!denied.contains(id), "\(id) said nothing was changed, but it is denied") }
        }
        // It recovers by itself: what failed can be decided now.
        var recovered = false
        for _ in 0..<100 where !recovered {
            let pending = ids.filter { !denied.contains($0) }
            if pending.isEmpty { break }
            let r = try a.cli(["grants", "deny", pending[0], "--reason", "after the restart", "--service", a.socket], as: bob)
            recovered = r.status == 0
            if !recovered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered || failed.isEmpty)
        let v = try a.cli(["audit", "verify", "--service", a.socket])
        #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        a.stop()
    }

    @Test("the database going away: the dashboard says the store is unreachable, stays read-only, and recovers by itself")
    func dashboardStoreDown() async throws {
        let server = try TestPostgres.dedicated()
        let db = try TestDatabase(on: server)
        let svc = try await ServiceProcess(storeURL: db.url)
        let t = try TmuxSession(width: 140, height: 30)
        try t.start(["--service", svc.socket], environment: ["XDG_STATE_HOME": svc.dir.appending("dash").path])
        try await t.waitFor("THE GAP")
        try t.keys("6")
        try await t.waitFor("PENDING")
        try server.stop()
        try await t.waitFor("ACCESS STORE UNREACHABLE", timeout: 20)
        try t.keys("a")
        try await t.waitFor("The access store is unreachable: actions are off until it is back")
        #expect(try t.screen().contains("PENDING"), "the last state is still shown")
        // The inventory doesn't depend on the store: the service's collector stays ok.
        try await Task.sleep(for: .seconds(6))
        let during = try t.screen()
        #expect(during.contains("collectors 1/1 ok"), "\(during)")
        try server.start()
        try await t.waitUntil("recovered", timeout: 30) { !$0.contains("UNREACHABLE") }
        try t.keys("Escape", "a")
        try await t.waitFor("Approve request")
        try t.keys("Escape", "q")
        try await t.waitFor("EXIT=0")
        svc.stop()
    }

    @Test("the database server's disk fills up: decisions that can't be stored say so and are not made; it recovers when there is room")
    func serverDiskFull() async throws {
        let server = try TestPostgres.dedicated(dataMB: 40)
        let db = try TestDatabase(on: server)
        let (a, _, alice, bob, _) = try await hosts(db)
        let ids = try await offThePool { try self.file(a, as: alice, count: 30) }
        // Fill the server's data disk.
        try db.psql("CREATE TABLE junk (x text)")
        let full = try await offThePool { () throws -> Bool in
            for _ in 0..<200 {
                do { try db.psql("INSERT INTO junk SELECT repeat(md5(g::text), 30) FROM generate_series(1, 2000) g") } catch {
                    if "\(error)".contains("No space left on device") { return true }
                    throw error
                }
            }
            return false
        }
        #expect(full, "the disk filled up")
        // Decide until something can't be stored: the denies first, then new requests (the free room left in the
        // store's own pages varies, so how many fit does too).
        let (acknowledged, refusal) = try await offThePool { () throws -> ([String], (what: String, message: String)?) in
            var acknowledged: [String] = []
            for id in ids {
                let r = try a.cli(["grants", "deny", id, "--reason", "disk test", "--service", a.socket], as: bob)
                if r.status != 0 { return (acknowledged, (id, r.stderr)) }
                acknowledged.append(id)
            }
            for i in 0..<400 {
                let r = try a.cli(
                    [
                        "request", "--service", a.socket, "--subject", self.agent, "--scope", "repo:acme/api:write", "--ttl", "30m",
                        "--reason", "disk probe \(i)",
                    ], as: alice)
                if r.status != 0 { return (acknowledged, ("disk probe \(i)", r.stderr)) }
            }
            return (acknowledged, nil)
        }
        let refused = try #require(refusal, "something failed for want of room")
        #expect(refused.message.contains("the database server's disk is full; nothing was changed"), "\(refused.message)")
        let denied = Set(try db.psql("SELECT id FROM requests WHERE state = 'denied'").split(separator: "\n").map(String.init))
        #expect(Set(acknowledged).isSubset(of: denied), "every acknowledged decision is there")
        let probe = refused.what.hasPrefix("disk probe")
        if probe {
            #expect(
                try db.psql("SELECT count(*) FROM requests WHERE reason = '\(refused.what)'") == "0", "the refused request was not filed")
        } else {
            #expect(!denied.contains(refused.what), "the refused decision was not made")
        }
        // Room again: the same change now goes through, and the chain verifies.
        try db.psql("DROP TABLE junk")
        let again =
            probe
            ? try a.cli(
                [
                    "request", "--service", a.socket, "--subject", agent, "--scope", "repo:acme/api:write", "--ttl", "30m", "--reason",
                    refused.what,
                ], as: alice)
            : try a.cli(["grants", "deny", refused.what, "--reason", "disk test", "--service", a.socket], as: bob)
        #expect(again.status == 0, "\(again.stderr)")
        let v = try a.cli(["audit", "verify", "--service", a.socket])
        #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        a.stop()
    }

    @Test("a decision through host A reaches a subscriber on host B")
    func crossHostFeed() async throws {
        let db = try TestDatabase()
        let (a, b, alice, bob, _) = try await hosts(db)
        let id = try await offThePool { try self.file(a, as: alice, count: 1) }[0]
        let client = try AccessClient(socketPath: b.socket)
        let tokens = Mutex<[Int64]>([])
        let follower = Thread { try? client.follow { t in tokens.withLock { $0.append(t) } } }
        follower.start()
        defer { client.disconnect() }
        let deadline = Date().addingTimeInterval(10)
        while tokens.withLock({ $0.isEmpty }), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let before = tokens.withLock { $0.last ?? 0 }
        let r = try a.cli(["grants", "deny", id, "--reason", "from host A", "--service", a.socket], as: bob)
        #expect(r.status == 0, "\(r.stderr)")
        while tokens.withLock({ ($0.last ?? 0) <= before }), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(tokens.withLock { $0.last ?? 0 } > before, "host B's subscriber heard of host A's decision")
        let seen = try b.cli(["grants", "list", "--state", "denied", "--service", b.socket, "--format", "json"])
        #expect(seen.stdout.contains(id))
        a.stop()
        b.stop()
    }

    @Test("trustgap store migrate copies an SQLite store into PostgreSQL; the copied chain verifies through a service")
    func migrate() async throws {
        let db = try TestDatabase()
        // A personal SQLite store with some history, made by the real binary.
        let group = try TemporaryGroup()
        let alice = try TemporaryUser("tga")
        let bob = try TemporaryUser("tgb")
        for u in [alice, bob] { try u.join(group.name) }
        let old = try await ServiceProcess(group: group.name)
        old.retained += [group, alice, bob]
        let ids = try await offThePool { try self.file(old, as: alice, count: 6) }
        for id in ids.prefix(3) {
            _ = try old.cli(["grants", "approve", id, "--reason", "ok", "--service", old.socket], as: bob)
        }
        _ = try old.cli(["grants", "deny", ids[3], "--reason", "no", "--service", old.socket], as: bob)
        let before = try old.cli(["audit", "--service", old.socket, "--format", "json"]).stdout
        let filed = try requests(old).count // the six, and what the demo's agents asked meanwhile
        old.stop()
        let target = try await ServiceProcess(group: group.name, storeURL: db.url, start: false)
        let r = try target.run([
            Binary.shared, "store", "migrate", "--from", old.store, "--to", db.url, "--audit-key", target.keyPath, "--audit-anchor",
            target.dir.appending("keys/anchor").path,
        ])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(filed >= 6)
        #expect(r.stdout.contains("copied \(filed) requests, 3 approvals, 3 grants"), "\(r.stdout)")
        #expect(r.stdout.contains("audit chain ok"), "\(r.stdout)")
        // Twice is refused, and changes nothing.
        let again = try target.run([
            Binary.shared, "store", "migrate", "--from", old.store, "--to", db.url, "--audit-key", target.keyPath, "--audit-anchor",
            target.dir.appending("keys/anchor").path,
        ])
        #expect(again.status != 0 && again.stderr.contains("migrate only into a new, empty store"), "\(again.stderr)")
        try await target.start()
        let v = try target.cli(["audit", "verify", "--service", target.socket])
        #expect(v.status == 0 && v.stdout.contains("audit chain ok"), "\(v.stdout) \(v.stderr)")
        let after = try target.cli(["audit", "--service", target.socket, "--format", "json"]).stdout
        let beforeEntries = (json(before) as? [[String: Any]])?.map { "\($0["seq"] ?? "") \($0["hash"] ?? "")" } ?? []
        let afterEntries = (json(after) as? [[String: Any]])?.map { "\($0["seq"] ?? "") \($0["hash"] ?? "")" } ?? []
        #expect(!beforeEntries.isEmpty)
        #expect(Array(afterEntries.prefix(beforeEntries.count)) == beforeEntries, "every entry copied as it was")
        target.stop()
    }
}
