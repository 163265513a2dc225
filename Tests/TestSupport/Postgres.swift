import Foundation

/// A real PostgreSQL server for the tests: the one `.ci/run` started (`TRUSTGAP_TEST_PG` names its folder), or else
/// a throwaway cluster this test process starts with `.ci/postgres` and stops at exit. When neither can be had the
/// PostgreSQL tests fail, saying why: they are never skipped.
public final class TestPostgres: Sendable {
    /// The folder holding the server's Unix socket (and, for a cluster of our own, its data).
    public let folder: String
    public let port: Int

    static let started: Result<TestPostgres, Spawn.Failed> = {
        if let dir = ProcessInfo.processInfo.environment["TRUSTGAP_TEST_PG"], !dir.isEmpty {
            guard let text = try? String(contentsOfFile: dir + "/port", encoding: .utf8), let port = Int(text.trimmed) else {
                return .failure(Spawn.Failed(message: "TRUSTGAP_TEST_PG=\(dir), but \(dir)/port names no port: is the cluster running?"))
            }
            return .success(TestPostgres(folder: dir, port: port))
        }
        let dir = "/tmp/tg-pg-\(getpid())-\(UUID().uuidString.prefix(8))"
        let script = Binary.packageRoot + "/.ci/postgres"
        guard let scratch = try? ScratchDirectory("tg-pgstart") else { return .failure(Spawn.Failed(message: "no scratch folder")) }
        let out = scratch.appending("out").path
        let rc = (try? Spawn.run([script, "start", dir], stdout: out)).map(Spawn.exitCode) ?? -1
        guard rc == 0, let text = try? String(contentsOfFile: dir + "/port", encoding: .utf8), let port = Int(text.trimmed) else {
            let why = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
            return .failure(
                Spawn.Failed(
                    message: "PostgreSQL could not be started for the tests (\(script) start \(dir) exited \(rc)): \(why.trimmed). "
                        + "Install it (apt-get install postgresql) or run .ci/run"))
        }
        Leftovers.register { _ = try? Spawn.run([script, "stop", dir], stdout: "/dev/null") }
        return .success(TestPostgres(folder: dir, port: port))
    }()

    /// Set for a cluster of one test's own: stopped and removed when the value goes away.
    let owned: Bool

    init(folder: String, port: Int, owned: Bool = false) {
        self.folder = folder
        self.port = port
        self.owned = owned
    }

    /// A cluster for one test alone (one that stops or restarts its server must not take other tests' with it).
    /// With `dataMB`, its data folder is a tmpfs that small (needs root): a server whose disk can fill up.
    public static func dedicated(dataMB: Int? = nil) throws -> TestPostgres {
        let dir = "/tmp/tg-pg-\(getpid())-\(UUID().uuidString.prefix(6))"
        let script = Binary.packageRoot + "/.ci/postgres"
        let scratch = try ScratchDirectory("tg-pgstart")
        let out = scratch.appending("out").path
        Leftovers.register { _ = try? Spawn.run([script, "stop", dir], stdout: "/dev/null") }
        let rc = Spawn.exitCode(try Spawn.run([script, "start", dir] + (dataMB.map { [String($0)] } ?? []), stdout: out))
        guard rc == 0, let text = try? String(contentsOfFile: dir + "/port", encoding: .utf8), let port = Int(text.trimmed) else {
            throw Spawn.Failed(
                message: "a PostgreSQL cluster could not be started (\(script) start \(dir) exited \(rc)): "
                    + ((try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""))
        }
        return TestPostgres(folder: dir, port: port, owned: true)
    }

    deinit {
        if owned { _ = try? Spawn.run([Binary.packageRoot + "/.ci/postgres", "stop", folder], stdout: "/dev/null") }
    }

    /// Stops the server (fast: connections are dropped) until `start()`.
    public func stop() throws {
        precondition(owned, "stop only a dedicated cluster")
        try pgctl(["-m", "fast", "-w", "stop"])
    }

    /// Starts a stopped server again, with the settings it had.
    public func start() throws { try pgctl(["-w", "-t", "60", "-l", folder + "/server.log", "start"]) }

    func pgctl(_ args: [String]) throws {
        let bin = try String(contentsOfFile: folder + "/bindir", encoding: .utf8).trimmed
        let argv = [bin + "/pg_ctl", "-D", folder + "/data"] + args
        let scratch = try ScratchDirectory("tg-pgctl")
        let run = getuid() == 0 ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + argv : argv
        let rc = Spawn.exitCode(Spawn.wait(try Spawn.start(run, stdout: scratch.appending("out").path)))
        guard rc == 0 else {
            throw Spawn.Failed(
                message: "pg_ctl \(args.last ?? "") exited \(rc): "
                    + ((try? String(contentsOfFile: scratch.appending("out.err").path, encoding: .utf8)) ?? ""))
        }
    }

    /// The server, started if need be; throws (failing the test) when there is none.
    public static func server() throws -> TestPostgres { try started.get() }

    /// Runs SQL through psql as the superuser, in `database`; returns what it printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let scratch = try ScratchDirectory("tg-psql")
        let out = scratch.appending("out").path
        let status = Spawn.exitCode(
            Spawn.wait(
                try Spawn.start(
                    [
                        "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", folder, "-p", String(port), "-U", "postgres",
                        "-d", database, "-c", sql,
                    ], stdout: out)))
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw Spawn.Failed(message: "psql exited \(status): \((try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")")
        }
        return text.trimmed
    }

    /// Restarts the server (`pg_ctl restart -m fast`): every connection is dropped, and the server is back after.
    /// Only on a `dedicated()` cluster: the shared one serves other tests meanwhile.
    public func restart() throws {
        precondition(owned, "restart only a dedicated cluster")
        try pgctl(["-m", "fast", "-w", "-t", "60", "restart"])
    }
}

/// A database of its own for one test, dropped (with whatever is still connected) when the value goes away.
public final class TestDatabase: Sendable {
    public let server: TestPostgres
    public let name: String

    public init(on server: TestPostgres? = nil) throws {
        self.server = try server ?? TestPostgres.server()
        name = "tg_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try self.server.psql("CREATE DATABASE \(name)")
        // The values, not the server: a dedicated cluster still stops when its test lets go of it.
        let stand = TestPostgres(folder: self.server.folder, port: self.server.port)
        Leftovers.register { [name] in _ = try? stand.psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    /// The store URL of this database over the Unix socket, as the superuser.
    public var url: String { "postgres://postgres@/\(name)?host=\(server.folder)&port=\(server.port)" }

    @discardableResult
    public func psql(_ sql: String) throws -> String { try server.psql(sql, database: name) }

    deinit { _ = try? server.psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
