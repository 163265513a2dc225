import Foundation

/// An OS user (and its own group) made for one test, removed with its group when the value goes away. Needs root,
/// as CI has: `TemporaryUser.available` says whether users can be made here.
public final class TemporaryUser: @unchecked Sendable {
    public let name: String
    public let uid: uid_t

    public static var available: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/useradd") }

    public init(_ prefix: String = "tgu") throws {
        name = "\(prefix)\(UUID().uuidString.prefix(6).lowercased())"
        let scratch = try ScratchDirectory("tg-user")
        let rc = Spawn.exitCode(
            Spawn.wait(
                try Spawn.start(
                    ["/usr/sbin/useradd", "-M", "-U", "-s", "/bin/sh", "-d", "/nonexistent", name],
                    stdout: scratch.appending("out").path)))
        guard rc == 0 else {
            throw Spawn.Failed(
                message:
                    "useradd \(name) exited \(rc): "
                    + "\((try? String(contentsOfFile: scratch.appending("out.err").path, encoding: .utf8)) ?? "")"
            )
        }
        guard let pw = getpwnam(name) else { throw Spawn.Failed(message: "useradd made no \(name)") }
        uid = pw.pointee.pw_uid
        let name = name
        Leftovers.register { TemporaryUser.remove(name) }
    }

    /// Ends anything running as the user, then removes the user and its group (nothing if already gone).
    static func remove(_ name: String) {
        guard getpwnam(name) != nil || getgrnam(name) != nil, let scratch = try? ScratchDirectory("tg-user") else { return }
        _ = try? Spawn.wait(Spawn.start(["pkill", "-KILL", "-u", name], stdout: scratch.appending("k").path))
        _ = try? Spawn.wait(Spawn.start(["/usr/sbin/userdel", name], stdout: scratch.appending("d").path))
        if getgrnam(name) != nil { _ = try? Spawn.wait(Spawn.start(["/usr/sbin/groupdel", name], stdout: scratch.appending("gd").path)) }
    }

    /// Adds this user to `group` (made if missing).
    public func join(_ group: String) throws {
        let scratch = try ScratchDirectory("tg-user")
        if getgrnam(group) == nil { _ = Spawn.wait(try Spawn.start(["/usr/sbin/groupadd", group], stdout: scratch.appending("g").path)) }
        _ = Spawn.wait(try Spawn.start(["/usr/sbin/usermod", "-aG", group, name], stdout: scratch.appending("m").path))
    }

    /// argv that runs `argv` as this user (setpriv: no shell, no PAM session, the user's groups).
    public func run(_ argv: [String]) -> [String] {
        ["setpriv", "--reuid=\(name)", "--regid=\(name)", "--init-groups", "--"] + argv
    }

    deinit { Self.remove(name) }
}

/// A group made for one test (the service's socket group), removed when the value goes away.
public final class TemporaryGroup: @unchecked Sendable {
    public let name: String

    public init(_ prefix: String = "tgg") throws {
        name = "\(prefix)\(UUID().uuidString.prefix(6).lowercased())"
        let scratch = try ScratchDirectory("tg-group")
        _ = Spawn.wait(try Spawn.start(["/usr/sbin/groupadd", name], stdout: scratch.appending("g").path))
        let name = name
        Leftovers.register { TemporaryGroup.remove(name) }
    }

    static func remove(_ name: String) {
        guard getgrnam(name) != nil, let scratch = try? ScratchDirectory("tg-group") else { return }
        _ = try? Spawn.wait(Spawn.start(["/usr/sbin/groupdel", name], stdout: scratch.appending("gd").path))
    }

    deinit { Self.remove(name) }
}

/// `trustgap serve` on a socket of its own, stopped (SIGTERM, then SIGKILL) when the value goes away.
public final class ServiceProcess: @unchecked Sendable {
    public let dir: ScratchDirectory
    public let socket: String
    public let config: String
    public let store: String
    public private(set) var child: RunningChild?
    public let environment: [String: String]
    /// Kept alive as long as the service: the users and groups a test made for it.
    public var retained: [AnyObject] = []

    /// Writes a config (the demo with `demoSize` entities, the given extra YAML) in a folder every user can enter,
    /// and starts the service; returns once its socket answers.
    /// `storeURL` puts the store in PostgreSQL, with this service's audit key and anchor in `keys/` (`keyPath`).
    /// `demoOptions`: more of the demo collector's keys (YAML lines indented under it: `    speed: 20`).
    public init(
        extraConfig: String = "", demoSize: Int = 300, demoOptions: String = "", group: String? = nil, storeURL: String? = nil,
        start: Bool = true
    ) async throws {
        dir = try ScratchDirectory("tg-svc")
        chmod(dir.path, 0o755)
        socket = dir.appending("tg.sock").path
        store = storeURL ?? dir.appending("state/trustgap.db").path
        config = dir.appending("service.yaml").path
        var yaml = """
            collectors:
              - type: demo
                name: demo
                size: \(demoSize)
            \(demoOptions)service:
              socket: \(socket)

            """
        if let group { yaml += "  group: \(group)\n" }
        yaml += "store: \(store)\n"
        if storeURL != nil {
            yaml += "audit_key: \(dir.appending("keys/audit.key").path)\naudit_anchor: \(dir.appending("keys/anchor").path)\n"
        }
        yaml += extraConfig
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        environment = ["XDG_STATE_HOME": dir.appending("xdg").path, "HOME": dir.path]
        if start { try await self.start() }
    }

    /// Where a PostgreSQL store's audit key is kept by this service (copy it to the next host's).
    public var keyPath: String { dir.appending("keys/audit.key").path }

    /// Starts (or restarts) the service and waits until its socket accepts connections.
    public func start(timeout: Double = 30) async throws {
        let out = dir.appending("serve-\(UUID().uuidString.prefix(4)).out").path
        let c = try RunningChild([Binary.shared, "serve", "--config", config, "--sweep", "1s"], stdout: out, environment: environment)
        child = c
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if ServiceProcess.answers(socket) { return }
            if !c.isRunning {
                throw Spawn.Failed(message: "trustgap serve exited: \((try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Spawn.Failed(message: "trustgap serve did not answer on \(socket) within \(timeout) s")
    }

    /// The service's standard error so far (what it prints at start).
    public var stderr: String {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".out.err") }.sorted()
            .compactMap { try? String(contentsOfFile: dir.appending($0).path, encoding: .utf8) }.joined()
    }

    public static func answers(_ path: String) -> Bool {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let b = Array(path.utf8)
            raw.copyBytes(from: b.prefix(raw.count - 1))
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// SIGKILL, as a crash would.
    public func crash() {
        if let c = child {
            kill(c.pid, SIGKILL)
            c.stop(grace: 0.5)
        }
    }

    /// Stops the service, and whatever it left running from its folder (a hook still sleeping).
    public func stop() {
        child?.stop()
        for pid in Processes.matching(dir.path) { kill(pid, SIGKILL) }
    }

    /// Runs the CLI (through this service unless `arguments` say otherwise), optionally as another user.
    public func cli(_ arguments: [String], as user: TemporaryUser? = nil, wrap: [String] = []) throws -> Binary.Result {
        try run(wrap + [Binary.shared] + arguments, as: user)
    }

    /// Runs any program, optionally as another user, with a minimal environment (`Binary.runAlone`).
    public func run(_ argv: [String], as user: TemporaryUser? = nil) throws -> Binary.Result { try Binary.runAlone(argv, as: user) }

    deinit {
        stop()
        retained.removeAll()
    }
}

extension Binary {
    /// Runs any program, optionally as another user, with a minimal environment and an empty home of its own;
    /// waits for it.
    public static func runAlone(_ argv: [String], as user: TemporaryUser? = nil) throws -> Binary.Result {
        let scratch = try ScratchDirectory("tg-cli")
        chmod(scratch.path, 0o777)
        let out = scratch.appending("out").path
        let full = user.map { $0.run(argv) } ?? argv
        var env = [
            "XDG_STATE_HOME": scratch.appending("xdg").path, "HOME": scratch.path, "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        ]
        env["LANG"] = "C.UTF-8"
        let pid = try Spawn.start(full, stdout: out, environment: env, inheritEnvironment: false)
        let status = Spawn.exitCode(Spawn.wait(pid))
        return Binary.Result(
            status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")
    }
}
