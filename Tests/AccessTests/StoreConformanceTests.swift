import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

@testable import Access
@testable import Inventory

/// The two stores a service can keep: one SQLite file, or a PostgreSQL database (a real server: `.ci/run` starts
/// one, or the test process starts its own).
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A store of one kind for one test, with what it takes to reach behind its back (raw SQL) and to open it again.
final class StoreUnderTest: @unchecked Sendable {
    let kind: StoreKind
    let dir: URL
    let database: TestDatabase?
    var store: AccessStore
    var location: String { database?.url ?? dir.appendingPathComponent("trustgap.db").path }
    var keyPath: String { database == nil ? location + ".key" : dir.appendingPathComponent("audit.key").path }
    var anchorPath: String { database == nil ? location + ".anchor" : dir.appendingPathComponent("audit.anchor").path }

    init(_ kind: StoreKind) throws {
        self.kind = kind
        dir = TestTemporary.directory.appendingPathComponent("tg-conf-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        database = kind == .postgres ? try TestDatabase() : nil
        let path = database?.url ?? dir.appendingPathComponent("trustgap.db").path
        store = try AccessStore(
            path: path, service: true, keyPath: kind == .postgres ? dir.appendingPathComponent("audit.key").path : nil,
            anchorPath: kind == .postgres ? dir.appendingPathComponent("audit.anchor").path : nil)
    }

    /// Another opener of the same store (a second service, another host with its own anchor).
    func reopen(anchor: String? = nil, key: String? = nil) throws -> AccessStore {
        try AccessStore(path: location, service: true, keyPath: key ?? keyPath, anchorPath: anchor ?? anchorPath)
    }

    /// SQL run behind trustgap's back, as someone with the database's password (or the file) could.
    func tamper(_ sql: String) throws {
        if let database {
            try database.psql(sql)
        } else {
            let q = try DatabaseQueue(path: location)
            try q.write { db in try db.execute(sql: sql) }
            try q.close()
        }
    }

    deinit { store.close() }
}

@Suite("Store conformance: the same answers from SQLite and PostgreSQL")
struct StoreConformanceTests {
    @Test("request, approve, extend, revoke, expire: each durable, audited and verified", arguments: StoreKind.allCases)
    func lifecycle(_ kind: StoreKind) throws {
        let s = try StoreUnderTest(kind)
        let store = s.store
        let r = try store.file(
            subject: agent, scope: "repo:acme/api:write", ttlSeconds: 1800, reason: "fix", ticket: "T-1", via: "mcp:x", by: alice,
            policy: policy, now: t0)
        #expect(try store.request(id: r.id) == r)
        guard case .granted(let g) = try store.approve(r.id, reason: "ok", by: bob, policy: policy, now: t0.plus(60)) else {
            Issue.record("not granted")
            return
        }
        #expect(try store.grant(id: g.id) == g)
        #expect(try store.requests(state: .pending).isEmpty)
        #expect(try store.liveGrants().map(\.id) == [g.id])
        guard case .extended(let e) = try store.extend(g.id, ttlSeconds: 3600, reason: "more", by: carol, policy: policy, now: t0.plus(120))
        else {
            Issue.record("not extended")
            return
        }
        #expect(e.expiresAt == t0.plus(120 + 3600))
        let other = try store.directGrant(
            subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: bob, policy: policy, now: t0)
        let revoked = try store.revoke(g.id, reason: "done", by: carol, policy: policy, now: t0.plus(200))
        #expect(revoked.state == .revoked && revoked.endedBy == "carol")
        #expect(try store.sweep(by: Analyst(user: "trustgap-service"), now: t0.plus(700)).expired == [other.id])
        #expect(try store.sweep(by: Analyst(user: "trustgap-service"), now: t0.plus(800)).expired.isEmpty, "expires once")
        #expect(try store.audit().map(\.action) == ["request", "approve", "extend", "grant", "revoke", "expire"])
        #expect(try store.audit(limit: 2).map(\.action) == ["revoke", "expire"])
        #expect(try store.audit(after: 4).map(\.seq) == [5, 6])
        #expect(try store.changeToken() == 6)
        let v = try store.verifyAudit()
        #expect(v.ok, "\(v.problem ?? "")")
        #expect(v.entries == 6)
        // Durable: another opener (a restarted service) sees the same.
        let again = try s.reopen()
        #expect(try again.requests().map(\.id) == [r.id])
        #expect(try again.grants().map(\.state).sorted { $0.rawValue < $1.rawValue } == [.expired, .revoked])
        again.close()
    }

    @Test("two-person rules, self-approval and a lapse refuse the same on both", arguments: StoreKind.allCases)
    func rules(_ kind: StoreKind) throws {
        let s = try StoreUnderTest(kind)
        let store = s.store
        let r = try store.file(subject: deployer, scope: "iam:admin", ttlSeconds: 600, reason: "rotate", by: alice, policy: policy, now: t0)
        #expect(throws: AccessError.self) { try store.approve(r.id, reason: "mine", by: alice, policy: policy, now: t0) }
        #expect(try store.approve(r.id, reason: "one", by: bob, policy: policy, now: t0) == .recorded(approvalsLeft: 1))
        #expect(throws: AccessError.self) { try store.approve(r.id, reason: "again", by: bob, policy: policy, now: t0) }
        guard case .granted(let g) = try store.approve(r.id, reason: "two", by: carol, policy: policy, now: t0.plus(1)) else {
            Issue.record("not granted")
            return
        }
        #expect(g.approvers == ["bob", "carol"])
        #expect(
            try store.extend(g.id, ttlSeconds: 600, reason: "e1", by: bob, policy: policy, now: t0.plus(2)) == .recorded(approvalsLeft: 1))
        let late = try store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        #expect(try store.sweep(by: bob, now: t0.plus(policy.requestLapseSeconds + 1)).lapsed == [late.id])
        #expect(throws: AccessError.conflict("request \(late.id) lapsed at \(AccessStore.when(late.lapsesAt)): nobody decided in time")) {
            try store.deny(late.id, reason: "late", by: bob, policy: policy, now: t0.plus(policy.requestLapseSeconds + 2))
        }
        #expect(try store.verifyAudit().ok)
    }

    @Test("eight analysts deciding one request at once: one winner, the others told who decided", arguments: StoreKind.allCases)
    func race(_ kind: StoreKind) throws {
        let s = try StoreUnderTest(kind)
        let openers = try (0..<2).map { i in try s.reopen(anchor: s.dir.appendingPathComponent("anchor-\(i)").path) }
        for round in 0..<5 {
            let r = try s.store.file(
                subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r\(round)", by: alice, policy: policy, now: t0)
            let outcomes = Mutex<[Result<String, AccessError>]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { i in
                let store = openers[i % 2]
                let who = Analyst(user: "analyst\(i)")
                let result: Result<String, AccessError>
                do {
                    if i % 2 == 0 {
                        _ = try store.approve(r.id, reason: "yes", by: who, policy: policy, now: t0.plus(1))
                        result = .success("approved by \(who.user)")
                    } else {
                        _ = try store.deny(r.id, reason: "no", by: who, policy: policy, now: t0.plus(1))
                        result = .success("denied by \(who.user)")
                    }
                } catch let e as AccessError { result = .failure(e) } catch { result = .failure(.store("\(error)")) }
                outcomes.withLock { $0.append(result) }
            }
            let all = outcomes.withLock { $0 }
            let winners = all.compactMap { try? $0.get() }
            #expect(winners.count == 1, "round \(round): \(all)")
            let decided = try #require(try s.store.request(id: r.id))
            #expect(winners.first == "\(decided.state.rawValue) by \(decided.decidedBy ?? "")")
            for case .failure(let e) in all {
                #expect(e.description.contains("was already \(decided.state.rawValue) by \(decided.decidedBy ?? "")"), "\(e)")
            }
        }
        #expect(try s.store.audit().count == 10, "five requests and five decisions: one chain, no fork")
        #expect(try s.store.verifyAudit().ok)
        for o in openers { o.close() }
    }

    @Test("observed requests are filed once; a hook's claim has one holder", arguments: StoreKind.allCases)
    func ingestAndClaim(_ kind: StoreKind) throws {
        let s = try StoreUnderTest(kind)
        let proposals = (0..<3).map {
            RequestProposal(
                key: "demo:\($0)", subject: agent.id, scope: "repo:x:write", requester: "zara", reason: "r", ttlSeconds: 600, createdAt: t0)
        }
        #expect(try s.store.ingest(proposals, subjects: { _ in agent }, by: alice, policy: policy, now: t0) == 3)
        #expect(try s.store.ingest(proposals, subjects: { _ in agent }, by: alice, policy: policy, now: t0) == 0)
        let hooks = HookEvents(["approve"])
        let g = try s.store.directGrant(
            subject: laptop, scope: "vpn:prod", ttlSeconds: 600, reason: "r", by: bob, policy: policy, hooks: hooks, now: t0)
        #expect(try s.store.owedActuations(now: t0).map(\.id) == [g.id])
        let other = try s.reopen(anchor: s.dir.appendingPathComponent("other-anchor").path)
        #expect(try s.store.claimActuation(g.id, until: t0.plus(60), now: t0))
        #expect(try !other.claimActuation(g.id, until: t0.plus(60), now: t0.plus(1)))
        try s.store.recordActuation(g.id, event: "approve", succeeded: true, detail: "ok", by: bob, now: t0.plus(2))
        #expect(try s.store.grant(id: g.id)?.actuation == .ok)
        #expect(try s.store.verifyAudit().ok)
        other.close()
    }

    @Test("rows written behind trustgap's back fail verify; the audit log refuses edits", arguments: StoreKind.allCases)
    func tampering(_ kind: StoreKind) throws {
        let s = try StoreUnderTest(kind)
        let r = try s.store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        #expect(throws: (any Error).self) { try s.tamper("UPDATE audit SET reason = 'nothing to see' WHERE seq = 1") }
        #expect(throws: (any Error).self) { try s.tamper("DELETE FROM audit") }
        #expect(try s.store.verifyAudit().ok)
        // A pending request edited to ask for something else (who may approve it depends on that).
        try s.tamper("UPDATE requests SET scope = 'repo:x:admin' WHERE id = '\(r.id)'")
        #expect(
            try s.store.verifyAudit().problem
                == "request \(r.id) is for \(agent.id) repo:x:admin in the store, but the audit log says \(agent.id) repo:x:write")
        try s.tamper("UPDATE requests SET scope = 'repo:x:write', state = 'approved', decided_by = 'mallory' WHERE id = '\(r.id)'")
        let v = try s.store.verifyAudit()
        #expect(v.problem == "request \(r.id) is approved in the store, but the audit log says pending", "\(v.problem ?? "ok")")
        // A NUL can't be kept by either store: refused before it is written, on both alike.
        #expect(throws: AccessError.invalid("the reason contains a NUL character (U+0000); remove it")) {
            try s.store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "a\0b", by: alice, policy: policy, now: t0)
        }
    }
}

@Suite("PostgreSQL store: keys, URLs and the change feed")
struct PostgresStoreTests {
    @Test("a host with no copy of the key, or another key, is refused before it writes")
    func keys() throws {
        let s = try StoreUnderTest(.postgres)
        _ = try s.store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        let missing = s.dir.appendingPathComponent("no.key").path
        #expect {
            try s.reopen(key: missing)
        } throws: { e in
            "\(e)".contains("this host has no copy of the audit key") && !FileManager.default.fileExists(atPath: missing)
        }
        let other = s.dir.appendingPathComponent("other.key").path
        _ = try AuditKey.create(other)
        #expect {
            try s.reopen(key: other)
        } throws: { e in "\(e)".contains("is not the audit key of") }
        // A second host that made a key of its own, on a store nobody has written yet, is refused too, and its key removed.
        let t = try StoreUnderTest(.postgres)
        let mine = t.dir.appendingPathComponent("mine.key").path
        #expect {
            try t.reopen(anchor: t.dir.appendingPathComponent("b.anchor").path, key: mine)
        } throws: { e in "\(e)".contains("is not the audit key of") }
        #expect(!FileManager.default.fileExists(atPath: mine))
        // A second host with a copy of the key joins, anchoring what it finds.
        let copy = s.dir.appendingPathComponent("copy.key").path
        try FileManager.default.copyItem(atPath: s.keyPath, toPath: copy)
        let joined = try s.reopen(anchor: s.dir.appendingPathComponent("host-b.anchor").path, key: copy)
        #expect(try joined.verifyAudit().ok)
        joined.close()
    }

    @Test("store URLs: a password in the URL, a bad sslmode and an unknown parameter are refused, saying what")
    func urls() throws {
        #expect(throws: AccessError.self) { try PostgresTarget(url: "postgres://tg:hunter2@db/trustgap") }
        do {
            _ = try PostgresTarget(url: "postgres://tg:hunter2@db/trustgap")
        } catch {
            #expect(!error.description.contains("hunter2"), "the password is never echoed: \(error)")
            #expect(error.description.contains("password file"))
        }
        #expect(throws: AccessError.self) { try PostgresTarget(url: "postgres://tg@db/trustgap?sslmode=sometimes") }
        #expect(throws: AccessError.self) { try PostgresTarget(url: "postgres://tg@db/trustgap?color=blue") }
        do {
            _ = try PostgresTarget(url: "postgres://tg@db/trustgap?password=hunter2")
            Issue.record("a password parameter was accepted")
        } catch {
            #expect(!error.description.contains("hunter2"), "never echoed: \(error)")
        }
        #expect(throws: AccessError.self) { try PostgresTarget(url: "postgres://tg@db/trustgap?sslmode=verify-full") }
        let t = try PostgresTarget(url: "postgres://tg@/trustgap?host=/run/postgresql")
        #expect(t.socketPath == "/run/postgresql/.s.PGSQL.5432")
        #expect(t.description == "postgres://tg@/trustgap?host=/run/postgresql")
        let tcp = try PostgresTarget(url: "postgresql://tg@db.example:6432/team?sslmode=verify-full&sslrootcert=/etc/trustgap/db-ca.pem")
        #expect(tcp.host == "db.example" && tcp.port == 6432 && tcp.database == "team" && tcp.tls == .verifyFull)
    }

    @Test("the password comes from a 0600 password file in libpq's format, and a TCP login with it works")
    func passwordFile() throws {
        let s = try StoreUnderTest(.postgres)
        let role = "tg_role_" + UUID().uuidString.prefix(6).lowercased()
        try s.database!.psql("CREATE ROLE \(role) LOGIN PASSWORD 'pa:ss\\word'; GRANT ALL ON SCHEMA public TO \(role)")
        defer { _ = try? s.database!.server.psql("DROP OWNED BY \(role) CASCADE; DROP ROLE IF EXISTS \(role)", database: s.database!.name) }
        let pass = s.dir.appendingPathComponent("pgpass").path
        try "# comment\nother:5432:*:*:nope\n127.0.0.1:\(s.database!.server.port):\(s.database!.name):\(role):pa\\:ss\\\\word\n"
            .write(toFile: pass, atomically: true, encoding: .utf8)
        chmod(pass, 0o644)
        let url = "postgres://\(role)@127.0.0.1:\(s.database!.server.port)/\(s.database!.name)?sslmode=prefer&passfile=\(pass)"
        #expect {
            try AccessStore(path: url, service: true, keyPath: s.keyPath, anchorPath: s.dir.appendingPathComponent("tcp.anchor").path)
        } throws: { e in "\(e)".contains("readable by others") }
        chmod(pass, 0o600)
        try s.database!.psql("GRANT ALL ON ALL TABLES IN SCHEMA public TO \(role)")
        let tcp = try AccessStore(path: url, service: true, keyPath: s.keyPath, anchorPath: s.dir.appendingPathComponent("tcp.anchor").path)
        _ = try tcp.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "over tcp", by: alice, policy: policy, now: t0)
        #expect(try s.store.audit().last?.reason == "over tcp")
        tcp.close()
    }

    @Test(
        "a grant keeps the TTL first asked for; grants made before it was kept get it when the store is migrated",
        arguments: StoreKind.allCases)
    func askedTTL(_ kind: StoreKind) throws {
        let s = try StoreUnderTest(kind)
        let r = try s.store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 1800, reason: "fix", by: alice, policy: policy, now: t0)
        guard case .granted(let approved) = try s.store.approve(r.id, ttlSeconds: 1200, reason: "ok", by: bob, policy: policy, now: t0)
        else {
            Issue.record("not granted")
            return
        }
        let direct = try s.store.directGrant(
            subject: laptop, scope: "vpn:prod", ttlSeconds: 2700, reason: "travel", by: bob, policy: policy, now: t0)
        #expect(approved.askedTTLSeconds == 1800, "the request's TTL, not the 20m approved")
        #expect(try s.store.grant(id: approved.id)?.askedTTLSeconds == 1800)
        #expect(try s.store.grant(id: direct.id)?.askedTTLSeconds == 2700)
        _ = try s.store.extend(approved.id, ttlSeconds: 3000, reason: "more", by: carol, policy: policy, now: t0.plus(60))
        #expect(try s.store.grant(id: approved.id)?.askedTTLSeconds == 1800, "an extension doesn't change what was asked")
        s.store.close()
        // The store as an older trustgap left it: no column, and the migration not applied yet.
        try s.tamper(
            kind == .sqlite
                ? "ALTER TABLE grants DROP COLUMN asked_ttl_seconds; DELETE FROM grdb_migrations WHERE identifier = 'v8-grant-asked-ttl'"
                : "ALTER TABLE grants DROP COLUMN asked_ttl_seconds; DELETE FROM trustgap_migrations WHERE version = 2")
        let again = try s.reopen()
        defer { again.close() }
        #expect(try again.grant(id: approved.id)?.askedTTLSeconds == 1800, "from its request")
        #expect(try again.grant(id: direct.id)?.askedTTLSeconds == 2700, "from the direct grant's audit entry")
        #expect(try again.verifyAudit().ok)
    }

    @Test("moving an SQLite store from before the asked TTL was kept to PostgreSQL fills it in")
    func migrateOldStoreFillsAskedTTL() throws {
        let source = try StoreUnderTest(.sqlite)
        let r = try source.store.file(
            subject: agent, scope: "repo:x:write", ttlSeconds: 1800, reason: "fix", by: alice, policy: policy, now: t0)
        _ = try source.store.approve(r.id, ttlSeconds: 600, reason: "ok", by: bob, policy: policy, now: t0)
        let direct = try source.store.directGrant(
            subject: laptop, scope: "vpn:prod", ttlSeconds: 2700, reason: "travel", by: bob, policy: policy, now: t0)
        source.store.close()
        try source.tamper(
            "ALTER TABLE grants DROP COLUMN asked_ttl_seconds; DELETE FROM grdb_migrations WHERE identifier = 'v8-grant-asked-ttl'")
        let db = try TestDatabase()
        let dir = source.dir
        let copied = try AccessStore.migrate(
            from: source.location, to: db.url, keyPath: dir.appendingPathComponent("pg.key").path,
            anchorPath: dir.appendingPathComponent("pg.anchor").path)
        #expect(copied.grants == 2)
        #expect(copied.problem == nil)
        let to = try AccessStore(
            path: db.url, service: true, keyPath: dir.appendingPathComponent("pg.key").path,
            anchorPath: dir.appendingPathComponent("pg.anchor").path)
        defer { to.close() }
        let grants = try to.grants()
        #expect(grants.first { $0.requestID == r.id }?.askedTTLSeconds == 1800)
        #expect(grants.first { $0.id == direct.id }?.askedTTLSeconds == 2700)
    }

    @Test("four services starting at once on a new database: one schema, one store identity, all working")
    func concurrentStart() throws {
        let db = try TestDatabase()
        let dir = TestTemporary.directory.appendingPathComponent("tg-start-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = dir.appendingPathComponent("audit.key").path
        _ = try AuditKey.create(key)
        let opened = Mutex<[Result<String, AccessError>]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            do {
                let s = try AccessStore(
                    path: db.url, service: true, keyPath: key, anchorPath: dir.appendingPathComponent("anchor-\(i)").path)
                _ = try s.file(
                    subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "host \(i)", by: alice, policy: policy, now: t0)
                opened.withLock { $0.append(.success(s.storeID)) }
                s.close()
            } catch let e as AccessError { opened.withLock { $0.append(.failure(e)) } } catch {}
        }
        let results = opened.withLock { $0 }
        #expect(results.count == 4)
        let ids = Set(results.compactMap { try? $0.get() })
        #expect(ids.count == 1, "\(results)")
        #expect(try db.psql("SELECT count(*) FROM trustgap_migrations") == String(PostgresBackend.migrations.count))
        #expect(try db.psql("SELECT count(*) FROM audit") == "4")
    }

    @Test("a statement timeout while another session holds the store's lock: a clear error, and nothing was changed")
    func statementTimeout() async throws {
        let s = try StoreUnderTest(.postgres)
        let db = s.database!
        let slow = try AccessStore(
            path: db.url + "&statement_timeout=500", service: true, keyPath: s.keyPath,
            anchorPath: s.dir.appendingPathComponent("slow.anchor").path)
        defer { slow.close() }
        // Someone holds the audit head (a stuck session, a long manual transaction) until the test ends it.
        let scratch = try ScratchDirectory("tg-hold")
        let holder = try Spawn.start(
            [
                "psql", "-X", "-q", "-h", db.server.folder, "-p", String(db.server.port), "-U", "postgres", "-d", db.name, "-c",
                "BEGIN; SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE; SELECT pg_sleep(120); COMMIT;",
            ], stdout: scratch.appending("out").path)
        // Until that session holds the lock (it is sleeping inside its transaction).
        try await until("the other session to hold the lock") {
            (try? db.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    + "AND state = 'active' AND query LIKE '%FOR UPDATE; SELECT pg_sleep%'")) == "1"
        }
        #expect {
            try slow.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "late", by: alice, policy: policy, now: t0)
        } throws: { e in "\(e)".contains("statement timeout") && "\(e)".contains("nothing was changed") }
        // End the holder's session: its lock goes with it.
        try db.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                + "AND query LIKE '%FOR UPDATE; SELECT pg_sleep%'")
        _ = await Spawn.finished(holder)
        #expect(try s.store.audit().isEmpty, "nothing was filed")
        #expect(try s.store.requests().isEmpty)
    }

    @Test("a commit's NOTIFY wakes another host's feed (its timer is far off)")
    func notifyWakes() async throws {
        let s = try StoreUnderTest(.postgres)
        let feed = try #require(StoreChangeFeed.forStore(s.store, after: 0, poll: .seconds(600)))
        let seen = Mutex<[Int64]>([])
        let task = Task { await feed.run { entries in seen.withLock { $0 += entries.map(\.seq) } } }
        defer { task.cancel() }
        try await until("the feed to connect") { feed.connected.load(ordering: .relaxed) }
        try await Task.sleep(for: .milliseconds(500)) // its first read is done: only a wake-up brings what follows
        let other = try s.reopen(anchor: s.dir.appendingPathComponent("other.anchor").path)
        defer { other.close() }
        _ = try other.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r", by: alice, policy: policy, now: t0)
        try await until("the entry, through NOTIFY") { seen.withLock { $0 } == [1] }
    }

    @Test("a feed disconnected while 50 decisions are made sees all 50 after it reconnects, each once, in order")
    func feedCatchesUp() async throws {
        let s = try StoreUnderTest(.postgres)
        let feed = try #require(StoreChangeFeed.forStore(s.store, after: 0, minimumRetry: .seconds(2), poll: .seconds(30)))
        let seen = Mutex<[Int64]>([])
        let task = Task { await feed.run { entries in seen.withLock { $0 += entries.map(\.seq) } } }
        defer { task.cancel() }
        _ = try s.store.file(subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "first", by: alice, policy: policy, now: t0)
        try await until("the first entry") { seen.withLock { $0 } == [1] }
        // Cut the feed's connection; decide 50 while it waits to reconnect (no NOTIFY reaches it meanwhile).
        try s.database!.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                + "WHERE application_name = 'trustgap-feed' AND datname = current_database()"
        )
        try await until("the feed to notice its connection ended") { !feed.connected.load(ordering: .relaxed) }
        for i in 0..<25 {
            let r = try s.store.file(
                subject: agent, scope: "repo:x:write", ttlSeconds: 600, reason: "r\(i)", by: alice, policy: policy, now: t0)
            try s.store.deny(r.id, reason: "no", by: bob, policy: policy, now: t0)
        }
        try await until("all 51 entries") { seen.withLock { $0.count } >= 51 }
        #expect(seen.withLock { $0 } == Array(1...51))
        #expect(feed.connections.load(ordering: .relaxed) >= 2, "it reconnected")
    }

    /// Waits for `condition`, generously: the machine may be busy with other tests (no timing is asserted).
    func until(_ what: String, timeout: Double = 60, _ condition: @Sendable () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else {
                Issue.record("\(what): not within \(timeout) s")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
