import Foundation

/// A real pseudo-terminal: a tmux server of its own running a shell, into which tests type commands and keys,
/// and whose screen they read with `capture-pane`.
///
/// The server is ended when the session goes away (`close()`, or deinit when a test fails or throws): `kill-server`
/// on its socket, then its pid if it is still there, so no `tg-test-` server outlives the suite.
public final class TmuxSession: @unchecked Sendable {
    public let socket = "tg-test-\(UUID().uuidString.prefix(8))"
    public let scratch: URL
    /// The tmux server's pid, read right after it started.
    public private(set) var serverPID: pid_t = 0
    /// The server's socket file, removed once the server is gone.
    public private(set) var socketPath = ""
    private var closed = false

    public init(width: Int = 80, height: Int = 24) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tg-tmux-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        // A clean shell with a plain prompt; each test sets the environment of the command it runs.
        try tmux([
            "-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "\(width)", "-y", "\(height)",
            "env", "-i", "PATH=\(path)", "HOME=\(scratch.path)", "TERM=xterm-256color", "PS1=$ ", "sh",
        ])
        let info = try tmux(["display-message", "-p", "#{pid} #{socket_path}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        serverPID = pid_t(info.prefix { $0 != " " }) ?? 0
        socketPath = String(info.drop { $0 != " " }.dropFirst())
        let (socket, pid, socketFile, folder) = (self.socket, serverPID, socketPath, scratch)
        Leftovers.register {
            // At exit, if still there: the server (and with it the pane's programs), then its socket file.
            if pid > 0, Processes.isAlive(pid), Processes.commandLine(pid).contains(socket) {
                kill(pid, SIGTERM)
                usleep(200_000)
                if Processes.isAlive(pid) { kill(pid, SIGKILL) }
            }
            if socketFile.contains(socket) { unlink(socketFile) }
            try? FileManager.default.removeItem(at: folder)
        }
        try tmux(["set-option", "-t", "main", "status", "off"])
        try tmux(["set-window-option", "-t", "main", "aggressive-resize", "on"])
    }

    /// Ends the server (and so the shell and whatever runs in the pane) and removes the scratch folder.
    public func close() {
        guard !closed else { return }
        closed = true
        _ = try? tmux(["kill-server"])
        if serverPID > 0 {
            let deadline = Date().addingTimeInterval(2)
            while Processes.isAlive(serverPID), Date() < deadline { usleep(10_000) }
            if Processes.isAlive(serverPID), Processes.commandLine(serverPID).contains(socket) { kill(serverPID, SIGKILL) }
        }
        if socketPath.contains(socket) { unlink(socketPath) }
        try? FileManager.default.removeItem(at: scratch)
    }

    deinit { close() }

    @discardableResult
    public func tmux(_ args: [String]) throws -> String {
        // Output goes to a file, not a pipe: the tmux server a first command starts would hold a pipe open forever.
        let outFile = scratch.appendingPathComponent("tmux-out-\(UUID())")
        defer { try? FileManager.default.removeItem(at: outFile) }
        _ = try Spawn.run(["tmux", "-L", socket] + args, stdout: outFile.path)
        return (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    }

    /// Runs trustgap in the pane's shell with the given environment, and prints its exit status after it ends.
    /// `prefix` goes before everything (e.g. `TemporaryUser.run([])` to run it as another user, with `binary`
    /// `Binary.shared`, which every user can run).
    public func start(
        _ arguments: [String] = [], environment: [String: String] = [:], prefix: [String] = [],
        binary: String = Binary.path
    ) throws {
        var env = [
            "XDG_STATE_HOME": scratch.path + "/state", "XDG_CONFIG_HOME": scratch.path + "/config",
            "LANG": "C.UTF-8", "TERM": "xterm-256color",
        ]
        for (k, v) in environment { env[k] = v }
        let assignments = env.sorted { $0.key < $1.key }.map { "\($0.key)=\(shellQuote($0.value))" }.joined(separator: " ")
        let command =
            (prefix.map(shellQuote) + ["env", assignments, shellQuote(binary)] + arguments.map(shellQuote)).joined(separator: " ")
            + "; echo EXIT=$?"
        try type(command)
        try keys("Enter")
    }

    public func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Types literal text.
    public func type(_ text: String) throws { try tmux(["send-keys", "-t", "main", "-l", text]) }

    /// Sends named keys (`Enter`, `Escape`, `C-c`, `Tab`) or single characters.
    public func keys(_ names: String...) throws { try tmux(["send-keys", "-t", "main"] + names) }

    public func screen(escapes: Bool = false) throws -> String {
        try tmux(["capture-pane", "-p", "-t", "main"] + (escapes ? ["-e"] : []))
    }

    /// Polls the screen until it contains `text` (no fixed sleeps). Returns the last screen read.
    @discardableResult
    public func waitFor(_ text: String, timeout: TimeInterval = 45) async throws -> String {
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
    public func waitUntil(_ what: String, timeout: TimeInterval = 45, _ predicate: (String) -> Bool) async throws -> String {
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

    public func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", "main", "-x", "\(width)", "-y", "\(height)"])
    }

    /// The pid of trustgap running in the pane (a child of the shell).
    public func trustgapPID() throws -> Int32? {
        let shell = try tmux(["display-message", "-p", "-t", "main", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let outFile = scratch.appendingPathComponent("pgrep-\(UUID())")
        defer { try? FileManager.default.removeItem(at: outFile) }
        _ = try Spawn.run(["pgrep", "-P", shell, "-f", "trustgap"], stdout: outFile.path)
        let text = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first.flatMap { Int32($0) }
    }

    public var paneTitle: String {
        (try? tmux(["display-message", "-p", "-t", "main", "#{pane_title}"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
    }

    public struct WaitError: Error, CustomStringConvertible {
        public let text: String
        public let screen: String
        public var description: String { "timed out waiting for \"\(text)\"; the screen was:\n\(screen)" }
    }
}
