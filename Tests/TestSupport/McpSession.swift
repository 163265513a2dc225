import Foundation

/// `trustgap mcp` driven as an AI client drives it: JSON-RPC lines written to its standard input (a FIFO), its
/// standard output read line by line. Ended (stdin closed, then SIGTERM) when the value goes away.
public final class McpSession: @unchecked Sendable {
    public let dir: ScratchDirectory
    let child: RunningChild
    let input: FileHandle
    let outPath: String
    private var consumed = 0
    /// Every line the server wrote, in order.
    public private(set) var lines: [String] = []

    /// Starts `argv` (already wrapped to run as a user, if one is wanted) with a pipe for stdin.
    public init(_ argv: [String], environment: [String: String]) throws {
        signal(SIGPIPE, SIG_IGN) // a server that died must fail the test, not kill the test process
        dir = try ScratchDirectory("tg-mcp")
        chmod(dir.path, 0o777)
        outPath = dir.appending("out").path
        // Both ends close-on-exec: only the child's stdin (a dup) stays open in it, and no other child another test
        // starts meanwhile holds the write end, so closing ours is an end of input the server sees.
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Spawn.Failed(message: "pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { Glibc.close(fds[0]) }
        child = try RunningChild(argv, stdout: outPath, environment: environment, inheritEnvironment: false, stdinDescriptor: fds[0])
        input = FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
    }

    public var pid: pid_t { child.pid }
    public var stderr: String { (try? String(contentsOfFile: outPath + ".err", encoding: .utf8)) ?? "" }

    /// Writes one message (an object, or raw text for malformed input) and a newline.
    public func send(_ message: [String: Any]) throws {
        try sendRaw(String(decoding: try JSONSerialization.data(withJSONObject: message), as: UTF8.self))
    }

    public func sendRaw(_ text: String) throws {
        try input.write(contentsOf: Data((text + "\n").utf8))
    }

    /// Reads lines the server wrote until one is a reply with `id`; returns it (nil after `timeout`).
    public func reply(id: Int, timeout: Double = 30) async -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for line in readNew() {
                if let o = Self.parse(line), let got = o["id"] as? Int, got == id, o["method"] == nil { return o }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Reads lines until one is a reply at all (for malformed input, whose id the server can't know).
    public func anyReply(after count: Int, timeout: Double = 30) async -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            _ = readNew()
            if let o = lines.dropFirst(count).compactMap(Self.parse).first(where: { $0["method"] == nil }) { return o }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// A tool call, and the text of its first content item with its isError flag.
    public func call(_ tool: String, _ arguments: [String: Any], id: Int, progressToken: String? = nil, timeout: Double = 60)
        async throws -> (text: String, isError: Bool, json: [String: Any])
    {
        var params: [String: Any] = ["name": tool, "arguments": arguments]
        if let progressToken { params["_meta"] = ["progressToken": progressToken] }
        try send(["jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params])
        guard let r = await reply(id: id, timeout: timeout) else {
            throw Spawn.Failed(message: "no reply to \(tool) (id \(id)); stderr: \(stderr)")
        }
        guard let result = r["result"] as? [String: Any], let content = result["content"] as? [[String: Any]],
            let text = content.first?["text"] as? String
        else { throw Spawn.Failed(message: "not a tool result: \(r)") }
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (text, result["isError"] as? Bool ?? false, json)
    }

    /// initialize, then notifications/initialized; returns the server's result.
    public func initialize() async throws -> [String: Any] {
        try send([
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "trustgap-tests", "version": "1"]],
        ])
        guard let r = await reply(id: 1)?["result"] as? [String: Any] else { throw Spawn.Failed(message: "no initialize reply: \(stderr)") }
        try send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        return r
    }

    func readNew() -> [String] {
        guard let data = FileManager.default.contents(atPath: outPath), data.count > consumed else { return [] }
        let fresh = data[data.startIndex.advanced(by: consumed)...]
        guard let lastNewline = fresh.lastIndex(of: 0x0A) else { return [] }
        let complete = fresh[...lastNewline]
        consumed += complete.count
        let new = String(decoding: complete, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        lines += new
        return new
    }

    public static func parse(_ line: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    /// Closes stdin (the client went away) and waits for the server to end; its exit code, or nil if it didn't.
    public func close(within seconds: Double = 10) async -> Int32? {
        try? input.close()
        let status = await Spawn.finished(child.pid, within: seconds)
        if status == nil { child.stop() }
        _ = readNew()
        return status.map(Spawn.exitCode)
    }

    deinit {
        try? input.close()
        child.stop(grace: 0.5)
    }
}
