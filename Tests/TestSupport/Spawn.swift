import Foundation

/// Runs a program by argv (no shell) with posix_spawn and waits for it with waitpid.
///
/// The child starts with an empty signal mask and default signal handlers: the test runner's threads block most
/// signals, and a spawned program inherits that mask, so without this a tmux server or a service started by a
/// test ignores SIGTERM and `kill-server`, and outlives the suite.
public enum Spawn {
    public struct Failed: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }

    /// Starts a program in a process group of its own and returns its pid without waiting.
    /// `stdin` is a file to read (default /dev/null); stdout goes to `path`, stderr to `path + ".err"`.
    /// `stdinDescriptor`, when given, is the child's stdin instead (the read end of a pipe).
    public static func start(
        _ argv: [String], stdout path: String, stdin: String = "/dev/null",
        environment: [String: String] = [:], inheritEnvironment: Bool = true, stdinDescriptor: Int32? = nil
    ) throws -> pid_t {
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let fd = stdinDescriptor {
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, path + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attr: posix_spawnattr_t = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attr, 0)
        var env = inheritEnvironment ? ProcessInfo.processInfo.environment : [:]
        for (k, v) in environment { env[k] = v }
        let cenv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cenv { free(p) } }
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        var rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargs, cenv)
        // A program just written may be "busy" while another thread's fork still holds the writer's descriptor.
        for attempt in 1...5 where rc == ETXTBSY {
            usleep(UInt32(20_000 * attempt))
            rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargs, cenv)
        }
        guard rc == 0 else { throw Failed(message: "posix_spawnp \(argv[0]) failed: \(String(cString: strerror(rc)))") }
        return pid
    }

    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return status
    }

    /// Waits without holding a thread of the test pool: long waits (a loop of CLI runs) would starve other tests.
    public static func finished(_ pid: pid_t) async -> Int32 {
        var status: Int32 = 0
        while true {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid || (rc == -1 && errno != EINTR) { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits up to `seconds` for the child; nil if it is still running.
    public static func finished(_ pid: pid_t, within seconds: Double) async -> Int32? {
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid || (rc == -1 && errno != EINTR) { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    public static func run(_ argv: [String], stdout path: String) throws -> Int32 {
        wait(try start(argv, stdout: path))
    }

    /// The exit code of a wait status, or 128 + the signal that ended it.
    public static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Ends a child started by `start` and everything in its process group: SIGTERM, then SIGKILL after `grace`
    /// seconds, and reaps it. Safe to call on a child that has already ended.
    public static func stop(_ pid: pid_t, grace: Double = 2) {
        guard pid > 0 else { return }
        kill(-pid, SIGTERM)
        kill(pid, SIGTERM)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid || (rc == -1 && errno == ECHILD) {
                kill(-pid, SIGKILL) // whatever it left in its group
                return
            }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    }
}

/// A child process that is stopped (with its process group) when this object goes away, even when a test fails.
public final class RunningChild: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var ended = false

    public init(
        _ argv: [String], stdout: String, stdin: String = "/dev/null", environment: [String: String] = [:],
        inheritEnvironment: Bool = true, stdinDescriptor: Int32? = nil
    ) throws {
        pid = try Spawn.start(
            argv, stdout: stdout, stdin: stdin, environment: environment, inheritEnvironment: inheritEnvironment,
            stdinDescriptor: stdinDescriptor)
        let pid = pid
        Leftovers.register { Spawn.stop(pid, grace: 0.5) }
    }

    /// Stops it now (SIGTERM, then SIGKILL); later calls do nothing.
    public func stop(grace: Double = 2) {
        lock.lock()
        defer { lock.unlock() }
        guard !ended else { return }
        ended = true
        Spawn.stop(pid, grace: grace)
    }

    /// Waits for it to end by itself; returns its exit code (128 + signal).
    public func finished() async -> Int32 {
        let status = await Spawn.finished(pid)
        lock.withLock { ended = true }
        return Spawn.exitCode(status)
    }

    public var isRunning: Bool { kill(pid, 0) == 0 && !Processes.isZombie(pid) }

    deinit { stop(grace: 1) }
}

/// A folder for one test, removed with everything in it when the test's value goes away.
public final class ScratchDirectory: @unchecked Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(_ prefix: String = "tg-test") throws {
        url = TestTemporary.directory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(12))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func appending(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// What the process table says: used to prove that nothing a test or the product started is left behind.
public enum Processes {
    /// The pids of every process on the machine.
    public static func all() -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
    }

    static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = s.lastIndex(of: ")") else {
            return nil
        }
        // After "pid (comm) ": state, ppid, pgrp, session, …
        return s[s.index(after: close)...].split(separator: " ")
    }

    public static func parent(of pid: pid_t) -> pid_t? { statFields(pid).flatMap { $0.count > 1 ? pid_t($0[1]) : nil } }
    public static func group(of pid: pid_t) -> pid_t? { statFields(pid).flatMap { $0.count > 2 ? pid_t($0[2]) : nil } }
    public static func isZombie(_ pid: pid_t) -> Bool { statFields(pid)?.first == "Z" }
    public static func isAlive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 && !isZombie(pid) }

    /// The command line, arguments joined by spaces.
    public static func commandLine(_ pid: pid_t) -> String {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: d, as: UTF8.self).split(separator: "\0").joined(separator: " ")
    }

    /// Live processes whose command line contains `marker`.
    public static func matching(_ marker: String) -> [pid_t] {
        let me = getpid()
        return all().filter { $0 != me && isAlive($0) && commandLine($0).contains(marker) }
    }

    /// Polls until no live process's command line contains `marker`; returns the ones still there.
    public static func waitUntilGone(_ marker: String, timeout: Double = 5) async -> [pid_t] {
        let deadline = Date().addingTimeInterval(timeout)
        var left = matching(marker)
        while !left.isEmpty, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            left = matching(marker)
        }
        return left
    }
}

/// What must be ended when the test process exits, whatever still holds it: a test that failed midway can leave
/// a reference in a task that never finishes, and then no deinit runs. Registered as it starts; run at exit.
public enum Leftovers {
    static let lock = NSLock()
    nonisolated(unsafe) static var enders: [@Sendable () -> Void] = []
    static let installed: Bool = {
        atexit {
            Leftovers.lock.lock()
            let all = Leftovers.enders
            Leftovers.enders = []
            Leftovers.lock.unlock()
            for end in all { end() }
        }
        return true
    }()

    public static func register(_ end: @escaping @Sendable () -> Void) {
        _ = installed
        lock.withLock { enders.append(end) }
    }
}

/// One folder for everything a test process writes to a temporary file, removed when the process exits, so unit
/// tests that make a store or a script in passing leave nothing in /tmp.
public enum TestTemporary {
    public static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tg-run-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TestTemporary.directory) }
        return url
    }()
}

/// Runs blocking work (waiting for processes, many CLI runs in a row) on a thread of its own and awaits it, so a test
/// never holds one of the few threads of Swift's shared pool, which other tests' timers and reads need meanwhile.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let t = Thread { c.resume(with: Result { try body() }) }
        t.stackSize = 1 << 20
        t.start()
    }
}
