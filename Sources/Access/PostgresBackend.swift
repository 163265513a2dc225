import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// Where a PostgreSQL store is, from its URL: `postgres://USER@/DB?host=/run/postgresql` (a Unix socket folder) or
/// `postgres://USER@HOST:5432/DB?sslmode=require`. The password comes from a file (`passfile=`, `PGPASSFILE`, or
/// `~/.pgpass`, in libpq's format), never from the URL, so it is on no command line and in no config.
public struct PostgresTarget: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, allow, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full" }

    public var user: String
    public var database: String
    /// A TCP host, or nil for a Unix socket in `socketFolder`.
    public var host: String?
    public var port: Int
    public var socketFolder: String?
    public var tls: TLSMode
    /// The CA the server's certificate must chain to, for verify-ca and verify-full (as libpq's `sslrootcert`).
    public var sslRootCert: String?
    public var passfile: String?
    public var connectTimeoutSeconds: Int
    /// How long one statement may run before the server cancels it (`statement_timeout`, milliseconds).
    public var statementTimeoutMS: Int

    /// The URL without a password: how the store is named in messages and logs.
    public var description: String {
        let where_ = host.map { "\($0):\(port)" } ?? ""
        return "postgres://\(user)@\(where_)/\(database)"
            + (socketFolder.map { "?host=\($0)" + (port == 5432 ? "" : "&port=\(port)") } ?? "")
    }

    /// The socket file of a Unix-socket target.
    public var socketPath: String? { socketFolder.map { "\($0)/.s.PGSQL.\(port)" } }

    public init(url: String) throws(AccessError) {
        func bad(_ why: String) -> AccessError { .store("store URL \(Self.redacted(url)): \(why)") }
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql" else {
            throw bad("not a URL of the form postgres://USER@HOST:PORT/DATABASE")
        }
        if c.password != nil {
            throw bad(
                "a password in the URL would sit in the config and in process listings; "
                    + "put it in a password file (passfile=PATH or PGPASSFILE)"
            )
        }
        // URLComponents hands out user and path already percent-decoded.
        user = c.user ?? ProcessInfo.processInfo.environment["USER"] ?? "trustgap"
        let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        database = path.isEmpty ? user : path
        port = c.port ?? 5432
        var query: [String: String] = [:]
        for item in c.queryItems ?? [] {
            if item.name == "password" {
                throw bad(
                    "a password in the URL would sit in the config and in process listings; "
                        + "put it in a password file (passfile=PATH or PGPASSFILE)")
            }
            guard let v = item.value else { throw bad("\(item.name) has no value") }
            query[item.name] = v
        }
        let known: Set = ["host", "port", "sslmode", "sslrootcert", "passfile", "connect_timeout", "statement_timeout"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw bad("unknown parameter \(unknown) (known: \(known.sorted().joined(separator: ", ")))")
        }
        if let p = query["port"] {
            guard let n = Int(p), (1...65535).contains(n) else { throw bad("port \(p) is not a port number") }
            port = n
        }
        let hostParam = query["host"] ?? c.host.flatMap { $0.isEmpty ? nil : $0 }
        if let h = hostParam, h.hasPrefix("/") {
            socketFolder = h
            host = nil
        } else if let h = hostParam {
            host = h
            socketFolder = nil
        } else {
            host = nil
            socketFolder = "/run/postgresql"
        }
        guard let mode = TLSMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw bad("sslmode \(query["sslmode"] ?? "") is not one of disable, allow, prefer, require, verify-ca, verify-full")
        }
        tls = mode
        sslRootCert = query["sslrootcert"]
        if mode == .verifyCA || mode == .verifyFull, sslRootCert == nil {
            throw bad("sslmode \(mode.rawValue) needs sslrootcert=PATH: the CA certificate the server's must be signed by")
        }
        passfile = query["passfile"] ?? ProcessInfo.processInfo.environment["PGPASSFILE"]
        guard let ct = Int(query["connect_timeout"] ?? "10"), ct > 0 else {
            throw bad("connect_timeout is seconds, a whole number above 0")
        }
        connectTimeoutSeconds = ct
        guard let st = Int(query["statement_timeout"] ?? "30000"), st >= 0 else { throw bad("statement_timeout is milliseconds, a number") }
        statementTimeoutMS = st
    }

    /// The URL as messages may show it: scheme, user, host, port and database; never a password or the parameters.
    static func redacted(_ url: String) -> String {
        guard let c = URLComponents(string: url), let scheme = c.scheme else { return "postgres://…" }
        return "\(scheme)://\(c.user.map { "\($0)@" } ?? "")\(c.host ?? "")\(c.port.map { ":\($0)" } ?? "")\(c.path)"
            + ((c.queryItems ?? []).isEmpty ? "" : "?…")
    }

    /// The password for this target from the password file, if there is one for it.
    func password() throws(AccessError) -> String? {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        let file = passfile ?? home + "/.pgpass"
        var st = stat()
        guard stat(file, &st) == 0 else {
            if passfile != nil { throw .store("\(file): the password file for \(description) is missing") }
            return nil
        }
        if st.st_mode & 0o077 != 0 {
            throw .store("\(file): the password file is readable by others (mode \(String(st.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw .store("\(file): can't read the password file")
        }
        let hostNames = host.map { [$0] } ?? ["localhost", socketFolder ?? ""]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let f = Self.passfileFields(String(line))
            guard f.count == 5 else { continue }
            func match(_ field: String, _ values: [String]) -> Bool { field == "*" || values.contains(field) }
            if match(f[0], hostNames), match(f[1], [String(port)]), match(f[2], [database]), match(f[3], [user]) { return f[4] }
        }
        return nil
    }

    /// A `.pgpass` line's five fields, with `\:` and `\\` unescaped.
    static func passfileFields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for ch in line {
            if escaped {
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == ":", fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        fields.append(current)
        return fields
    }

    func configuration(applicationName: String) throws(AccessError) -> PostgresConnection.Configuration {
        let password = try password()
        var config: PostgresConnection.Configuration
        if let host {
            let tlsSetting: PostgresConnection.Configuration.TLS
            do {
                var t = TLSConfiguration.makeClientConfiguration()
                switch tls {
                case .disable: break
                case .allow, .prefer, .require: t.certificateVerification = .none // libpq's require checks no certificate
                case .verifyCA: t.certificateVerification = .noHostnameVerification
                case .verifyFull: t.certificateVerification = .fullVerification
                }
                // Only the named CA, as libpq: a certificate any public CA signed does not pass.
                if let root = sslRootCert { t.trustRoots = .file(root) }
                let context = try NIOSSLContext(configuration: t)
                switch tls {
                case .disable: tlsSetting = .disable
                case .allow, .prefer: tlsSetting = .prefer(context)
                case .require, .verifyCA, .verifyFull: tlsSetting = .require(context)
                }
            } catch {
                throw .store("\(description): can't set up TLS: \(error)")
            }
            config = .init(host: host, port: port, username: user, password: password, database: database, tls: tlsSetting)
        } else {
            config = .init(unixSocketPath: socketPath!, username: user, password: password, database: database)
        }
        config.options.connectTimeout = .seconds(Int64(connectTimeoutSeconds))
        config.options.additionalStartupParameters = [
            ("application_name", applicationName), ("statement_timeout", String(statementTimeoutMS)),
        ]
        return config
    }
}

/// The store for a team on many jump hosts: PostgreSQL through postgres-nio. Every `trustgap serve` on every host
/// shares its requests, grants and one audit chain.
///
/// Writes are one transaction each that first locks the audit head row (`SELECT … FOR UPDATE`): every writer on
/// every host queues there, so a compare-and-set reads the latest committed state, two hosts deciding the same
/// request give one winner, and the chain never forks. A transaction that moved the head sends `NOTIFY` as it
/// commits, waking the other hosts' change feeds (which then read the audit log after the last entry they saw).
final class PostgresBackend: StoreBackend {
    static let channel = "trustgap_changes"
    let target: PostgresTarget
    let readonly: Bool
    let group: MultiThreadedEventLoopGroup
    let logger = Logger(label: "trustgap.store.postgres")
    /// Idle connections and when each was last used: one idle longer than a minute is not reused (a NAT or firewall
    /// may have dropped it silently, and a statement on it would wait for the bound before failing).
    private let idle = Mutex<[(PostgresConnection, ContinuousClock.Instant)]>([])
    private let nextID = Atomic<Int>(1)
    var location: String { target.description }
    var insertionOrder: String { "seq" }

    init(target: PostgresTarget, readonly: Bool) throws(AccessError) {
        self.target = target
        self.readonly = readonly
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            if !readonly { try migrate() }
            _ = try read { db in try db.scalar("SELECT 1") as Int64? }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    private let closed = Atomic<Bool>(false)

    func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        let conns = idle.withLock { c in
            defer { c = [] }
            return c
        }
        for (c, _) in conns { try? c.close().wait() }
        try? group.syncShutdownGracefully()
    }

    // MARK: Connections

    func connect(applicationName: String = "trustgap-serve") throws(AccessError) -> PostgresConnection {
        let config = try target.configuration(applicationName: applicationName)
        do {
            let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
            let limit = Int64(target.connectTimeoutSeconds) * 1000 + 2_000
            let connecting = PostgresConnection.connect(on: group.next(), configuration: config, id: id, logger: logger)
            return try PostgresStatementRunner.bounded(connecting, milliseconds: limit) {
                // Gave up waiting: a connection that still arrives is closed, never left open.
                connecting.whenSuccess { c in c.close().whenComplete { _ in withExtendedLifetime(c) {} } }
            }
        } catch {
            throw Self.map(error, target: target, phase: .connect)
        }
    }

    /// A connection from the idle ones (or a new one). One idle for more than a minute is closed rather than used:
    /// a NAT or firewall may have dropped it silently, and a statement on it would wait for the bound before failing.
    func checkout() throws(AccessError) -> PostgresConnection {
        let now = ContinuousClock.now
        let (fresh, old) = idle.withLock { pool -> (PostgresConnection?, [PostgresConnection]) in
            let old = pool.filter { now - $0.1 > .seconds(60) }.map(\.0)
            pool.removeAll { now - $0.1 > .seconds(60) }
            return (pool.popLast()?.0, old)
        }
        for c in old { discard(c) }
        if let fresh, !fresh.isClosed { return fresh }
        return try connect()
    }

    /// Back to the idle ones when it is open and there is room; closed otherwise.
    func checkin(_ conn: PostgresConnection) {
        guard !conn.isClosed else { return }
        let kept = idle.withLock { pool in
            guard pool.count < 8 else { return false }
            pool.append((conn, ContinuousClock.now))
            return true
        }
        if !kept { discard(conn) }
    }

    /// Closed, never reused (its state is unknown). Kept alive until the close completes, as postgres-nio asks.
    func discard(_ conn: PostgresConnection) { conn.close().whenComplete { _ in withExtendedLifetime(conn) {} } }

    enum Phase { case connect, statement, commit }

    /// One transaction on one connection: `begin`, the body, COMMIT; on failure ROLLBACK, and an AccessError that
    /// says whether anything changed. A kept connection the server closed meanwhile (a restart, an idle timeout)
    /// shows at `begin`, before anything was asked of the store, so that is tried once more on a new connection.
    func transaction<T>(_ begin: String, _ body: (PostgresStatementRunner) throws -> T) throws(AccessError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            let conn = try checkout()
            let c = PostgresStatementRunner(conn: conn, logger: logger, target: target)
            do { try c.execute(begin) } catch {
                discard(conn)
                if attempt == 1, let p = error as? PSQLError, p.serverInfo == nil { continue }
                throw Self.map(error, target: target, phase: .statement)
            }
            let result: T
            do { result = try body(c) } catch {
                // Rolled back cleanly (a refusal, a lost race): the connection is fine to use again.
                if (try? c.execute("ROLLBACK")) != nil { checkin(conn) } else { discard(conn) }
                throw Self.map(error, target: target, phase: .statement)
            }
            do { try c.execute("COMMIT") } catch {
                discard(conn)
                throw Self.map(error, target: target, phase: .commit)
            }
            checkin(conn)
            return result
        }
    }

    func write<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> T { try writeMovingHead(body).0 }

    func writeMovingHead<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> (T, (seq: Int64, mac: String)?) {
        try transaction("BEGIN ISOLATION LEVEL READ COMMITTED") { c in
            let before: Int64 = try c.scalar("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE") ?? 0
            let result = try body(c)
            // The new head, and the wake-up for the other hosts when it moved (sent as the transaction commits),
            // in one statement.
            let row = try c.row(
                "SELECT seq, hash, CASE WHEN seq > ? THEN (SELECT 1 FROM pg_notify('\(Self.channel)', seq::text)) END AS woke "
                    + "FROM audit_head WHERE id = 1", [before])
            let moved: (seq: Int64, mac: String)? = row.flatMap { r in (r["seq"] as Int64) > before ? (r["seq"], r["hash"]) : nil }
            return (result, moved)
        }
    }

    func read<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { c in try body(c) }
    }

    // MARK: Errors

    /// What a PostgreSQL failure means for the analyst: always whether anything was changed.
    static func map(_ error: any Error, target: PostgresTarget, phase: Phase) -> AccessError {
        if let e = error as? AccessError { return e }
        let name = target.description
        if let n = error as? PostgresStatementRunner.NoAnswer {
            return phase == .commit
                ? .store("\(name): \(n) while committing, so whether this was saved is unknown; check the audit log before trying again")
                : .store("\(name): \(n); nothing was changed")
        }
        guard let p = error as? PSQLError else { return .store("\(name): \(error); nothing was changed") }
        if let state = p.serverInfo?[.sqlState] {
            let message = p.serverInfo?[.message] ?? ""
            switch state {
            case "53100": return .store("\(name): the database server's disk is full; nothing was changed")
            case "57014": return .store("\(name): the database took too long (statement timeout); nothing was changed, try again")
            case "57P01", "57P02", "57P03":
                return .store("\(name): the database is restarting or shutting down; nothing was changed, try again")
            case "40001", "40P01": return .store("\(name): another host's decision got in the way; nothing was changed, try again")
            case "28P01", "28000":
                return .store("\(name): the database refused user \(target.user) (\(message)); check the password file and pg_hba.conf")
            case "3D000": return .store("\(name): there is no database \(target.database) (createdb \(target.database))")
            case "42501": return .store("\(name): user \(target.user) may not do this (\(message)); nothing was changed")
            case "P0001": return .store("\(name): \(message); nothing was changed")
            default: return .store("\(name): \(message) (SQLSTATE \(state)); nothing was changed")
            }
        }
        switch p.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .sslUnsupported:
            if phase == .commit {
                return .store(
                    "\(name): the connection to the database was lost while committing, so whether this was saved is unknown; "
                        + "check the audit log (trustgap audit) before trying again")
            }
            let why = p.underlying.map { "\($0)" } ?? "\(p.code)"
            return .store("\(name): can't reach the database (\(why)); nothing was changed")
        default:
            return .store("\(name): \(p.code)\(p.underlying.map { ": \($0)" } ?? ""); nothing was changed")
        }
    }

    // MARK: Schema

    /// Versioned migrations, each applied once, in a transaction holding an advisory lock: two services starting at
    /// once apply them one after the other, the second finding nothing left to do.
    static let migrations: [(Int, String)] = [
        (
            1,
            """
            CREATE TABLE requests (
                id TEXT PRIMARY KEY, subject TEXT NOT NULL, subject_name TEXT NOT NULL, population TEXT NOT NULL,
                scope TEXT NOT NULL, requester TEXT NOT NULL, reason TEXT NOT NULL, ticket TEXT,
                ttl_seconds DOUBLE PRECISION NOT NULL, created_at DOUBLE PRECISION NOT NULL, lapses_at DOUBLE PRECISION NOT NULL,
                state TEXT NOT NULL, decided_by TEXT, decided_at DOUBLE PRECISION, decision_reason TEXT, grant_id TEXT,
                source_key TEXT UNIQUE, subject_owner TEXT, via TEXT, flags TEXT);
            CREATE INDEX requests_state ON requests(state, created_at);
            CREATE TABLE approvals (
                request_id TEXT NOT NULL REFERENCES requests(id), analyst TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
                reason TEXT NOT NULL, PRIMARY KEY (request_id, analyst));
            CREATE TABLE grants (
                id TEXT PRIMARY KEY, request_id TEXT, subject TEXT NOT NULL, subject_name TEXT NOT NULL,
                population TEXT NOT NULL, scope TEXT NOT NULL, approvers TEXT NOT NULL, reason TEXT NOT NULL,
                starts_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL, state TEXT NOT NULL, ended_by TEXT,
                ended_at DOUBLE PRECISION, end_reason TEXT, actuation TEXT NOT NULL, actuation_detail TEXT,
                actuation_attempts BIGINT NOT NULL DEFAULT 0, actuation_event TEXT, actuation_next DOUBLE PRECISION,
                actuation_claim DOUBLE PRECISION, subject_owner TEXT);
            CREATE INDEX grants_state ON grants(state, expires_at);
            CREATE INDEX grants_actuation ON grants(actuation);
            CREATE TABLE extension_approvals (
                grant_id TEXT NOT NULL REFERENCES grants(id), round DOUBLE PRECISION NOT NULL, analyst TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL, ttl_seconds DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (grant_id, round, analyst));
            CREATE TABLE audit (
                seq BIGINT PRIMARY KEY, at_ms BIGINT NOT NULL, analyst TEXT NOT NULL, ssh_client TEXT,
                action TEXT NOT NULL, subject TEXT NOT NULL, scope TEXT NOT NULL, ttl_seconds DOUBLE PRECISION,
                reason TEXT NOT NULL, result TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL,
                prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
            CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL);
            INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\(AuditEntry.genesis)');
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE FUNCTION trustgap_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
            CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
                FOR EACH ROW EXECUTE FUNCTION trustgap_audit_append_only();
            CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
                FOR EACH STATEMENT EXECUTE FUNCTION trustgap_audit_append_only();
            """
        ),
        // The TTL first asked for, which an extension proposes again (SQLite's v8).
        (
            2,
            """
            ALTER TABLE grants ADD COLUMN asked_ttl_seconds DOUBLE PRECISION;
            \(AccessStore.backfillAskedTTL);
            """
        ),
    ]

    func migrate() throws(AccessError) {
        try transaction("BEGIN") { c in
            try c.execute("SELECT pg_advisory_xact_lock(7467764961)") // "tgap" + 1: trustgap's migration lock
            try c.execute(
                "CREATE TABLE IF NOT EXISTS trustgap_migrations (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
            let done = Set(try c.column("SELECT version FROM trustgap_migrations") as [Int])
            let foreign: [String] = try c.column(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() "
                    + "AND table_name NOT IN ('requests','approvals','grants','extension_approvals','audit','audit_head','meta',"
                    + "'trustgap_migrations')")
            if done.isEmpty, !foreign.isEmpty {
                throw AccessError.store(
                    "\(target.description): this database holds another application's tables "
                        + "(\(foreign.prefix(5).joined(separator: ", "))); "
                        + "give trustgap a database of its own (createdb trustgap). Nothing was changed"
                )
            }
            if let newest = done.max(), newest > (Self.migrations.last?.0 ?? 0) {
                throw AccessError.store(
                    "\(target.description): the store's schema is version \(newest), newer than this trustgap knows; upgrade trustgap")
            }
            for (version, sql) in Self.migrations where !done.contains(version) {
                // One statement at a time: the extended protocol takes no more (a `$$` body keeps its `;` mid-line).
                for statement in sql.components(separatedBy: ";\n")
                where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try c.execute(statement)
                }
                if version == 1 {
                    try c.execute(
                        "INSERT INTO meta (key, value) VALUES ('store_id', ?), ('keyed_from', '1'), ('writer', 'service')",
                        [AccessStore.newID("st")])
                }
                try c.execute(
                    "INSERT INTO trustgap_migrations (version, applied_at) VALUES (?, ?)", [version, Date().timeIntervalSince1970])
            }
        }
    }
}

/// Statements on one PostgreSQL connection, run synchronously (the store's callers are never on its event loop).
struct PostgresStatementRunner: StoreConnection {
    let conn: PostgresConnection
    let logger: Logger
    let target: PostgresTarget

    /// `?` marks become `$1`, `$2`…; marks inside quoted text are left alone.
    static func numbered(_ sql: String) -> String {
        var out = ""
        var n = 0
        var quoted = false
        for ch in sql {
            if ch == "'" { quoted.toggle() }
            if ch == "?", !quoted {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }

    func run(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: arguments.count)
        for a in arguments {
            switch a?.sqlValue ?? .null {
            case .null: binds.appendNull()
            case .integer(let i): binds.append(i)
            case .real(let d): binds.append(d)
            case .text(let s): binds.append(s)
            }
        }
        // The server cancels a statement that runs past statement_timeout; this bounds the wait when the server, or
        // the network to it, stops answering at all (then the connection is closed, never reused).
        let limit = Int64(target.statementTimeoutMS > 0 ? target.statementTimeoutMS : 30_000) + 5_000
        return try Self.bounded(
            conn.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds), logger: logger), milliseconds: limit
        ) { conn.close().whenComplete { _ in withExtendedLifetime(conn) {} } }
    }

    /// No answer within the time allowed.
    struct NoAnswer: Error, CustomStringConvertible {
        let milliseconds: Int64
        var description: String { "the database did not answer within \(milliseconds / 1000) s" }
    }

    /// Waits for `future`, at most `milliseconds`; on expiry runs `onExpiry` and throws `NoAnswer`.
    static func bounded<T: Sendable>(_ future: EventLoopFuture<T>, milliseconds: Int64, onExpiry: @escaping @Sendable () -> Void) throws
        -> T
    {
        let promise = future.eventLoop.makePromise(of: T.self)
        let settled = Atomic<Bool>(false)
        let timer = future.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
            guard !settled.exchange(true, ordering: .relaxed) else { return }
            onExpiry()
            promise.fail(NoAnswer(milliseconds: milliseconds))
        }
        future.whenComplete { result in
            timer.cancel()
            guard !settled.exchange(true, ordering: .relaxed) else { return }
            promise.completeWith(result)
        }
        return try promise.futureResult.wait()
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [StoreRow] {
        try run(sql, arguments).rows.map(Self.storeRow)
    }

    static func storeRow(_ row: PostgresRow) throws -> StoreRow {
        var names: [String] = []
        var values: [SQLValue] = []
        for cell in row {
            names.append(cell.columnName)
            guard cell.bytes != nil else {
                values.append(.null)
                continue
            }
            switch cell.dataType {
            case .int2, .int4, .int8, .oid: values.append(.integer(try cell.decode(Int64.self)))
            case .float4, .float8, .numeric: values.append(.real(try cell.decode(Double.self)))
            case .bool: values.append(.integer(try cell.decode(Bool.self) ? 1 : 0))
            default: values.append(.text(try cell.decode(String.self)))
            }
        }
        return StoreRow(names: names, values: values)
    }
}
