import Foundation

/// A real pseudo-terminal: a tmux server of its own running a shell, into which tests type commands and keys,
/// and whose screen they read with `capture-pane`.
final class TmuxSession {
    let socket = "tg-test-\(UUID().uuidString.prefix(8))"
    let scratch: URL

    init(width: Int = 80, height: Int = 24) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tg-tmux-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        // A clean shell with a plain prompt; each test sets the environment of the command it runs.
        try tmux(["-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "\(width)", "-y", "\(height)",
                  "env", "-i", "PATH=\(path)", "HOME=\(scratch.path)", "TERM=xterm-256color", "PS1=$ ", "sh"])
        try tmux(["set-option", "-t", "main", "status", "off"])
        try tmux(["set-window-option", "-t", "main", "aggressive-resize", "on"])
    }

    deinit {
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(at: scratch)
    }

    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        // Output goes to a file, not a pipe: the tmux server a first command starts would hold a pipe open forever.
        let outFile = scratch.appendingPathComponent("tmux-out-\(UUID())")
        defer { try? FileManager.default.removeItem(at: outFile) }
        _ = try Spawn.run(["tmux", "-L", socket] + args, stdout: outFile.path)
        return (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    }

    /// Runs trustgap in the pane's shell with the given environment, and prints its exit status after it ends.
    func start(_ arguments: [String] = [], environment: [String: String] = [:]) throws {
        var env = ["XDG_STATE_HOME": scratch.path + "/state", "XDG_CONFIG_HOME": scratch.path + "/config",
                   "LANG": "C.UTF-8", "TERM": "xterm-256color"]
        for (k, v) in environment { env[k] = v }
        let assignments = env.sorted { $0.key < $1.key }.map { "\($0.key)=\(shellQuote($0.value))" }.joined(separator: " ")
        let command = "env \(assignments) \(shellQuote(Binary.path)) \(arguments.map(shellQuote).joined(separator: " ")); echo EXIT=$?"
        try type(command)
        try keys("Enter")
    }

    func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Types literal text.
    func type(_ text: String) throws { try tmux(["send-keys", "-t", "main", "-l", text]) }

    /// Sends named keys (`Enter`, `Escape`, `C-c`, `Tab`) or single characters.
    func keys(_ names: String...) throws { try tmux(["send-keys", "-t", "main"] + names) }

    func screen(escapes: Bool = false) throws -> String {
        try tmux(["capture-pane", "-p", "-t", "main"] + (escapes ? ["-e"] : []))
    }

    /// Polls the screen until it contains `text` (no fixed sleeps). Returns the last screen read.
    @discardableResult
    func waitFor(_ text: String, timeout: TimeInterval = 20) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if last.contains(text) { return last }
            // Sleeping, not blocking: a blocked thread would starve the test pool (two threads on two cores).
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WaitError(text: text, screen: last)
    }

    /// Polls until `predicate` holds for the screen.
    @discardableResult
    func waitUntil(_ what: String, timeout: TimeInterval = 20, _ predicate: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if predicate(last) { return last }
            // Sleeping, not blocking: a blocked thread would starve the test pool (two threads on two cores).
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WaitError(text: what, screen: last)
    }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", "main", "-x", "\(width)", "-y", "\(height)"])
    }

    /// The pid of trustgap running in the pane (a child of the shell).
    func trustgapPID() throws -> Int32? {
        let shell = try tmux(["display-message", "-p", "-t", "main", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let outFile = scratch.appendingPathComponent("pgrep-\(UUID())")
        defer { try? FileManager.default.removeItem(at: outFile) }
        _ = try Spawn.run(["pgrep", "-P", shell, "-f", "trustgap"], stdout: outFile.path)
        let text = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first.flatMap { Int32($0) }
    }

    var paneTitle: String {
        (try? tmux(["display-message", "-p", "-t", "main", "#{pane_title}"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
    }

    struct WaitError: Error, CustomStringConvertible {
        let text: String
        let screen: String
        var description: String { "timed out waiting for \"\(text)\"; the screen was:\n\(screen)" }
    }
}

/// Runs a program by argv (no shell) with posix_spawn and waits for it with waitpid.
enum Spawn {
    struct Failed: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Starts a program in a process group of its own and returns its pid without waiting.
    static func start(_ argv: [String], stdout path: String, environment: [String: String] = [:]) throws -> pid_t {
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, path + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attr: posix_spawnattr_t = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let cenv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cenv { free(p) } }
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargs, cenv)
        guard rc == 0 else { throw Failed(message: "posix_spawnp \(argv[0]) failed: \(String(cString: strerror(rc)))") }
        return pid
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return status
    }

    /// Waits without holding a thread of the test pool: long waits (a loop of CLI runs) would starve other tests.
    static func finished(_ pid: pid_t) async -> Int32 {
        var status: Int32 = 0
        while true {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid || (rc == -1 && errno != EINTR) { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    static func run(_ argv: [String], stdout path: String) throws -> Int32 {
        wait(try start(argv, stdout: path))
    }
}
