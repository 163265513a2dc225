import Access
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A connection to the access service. Blocking: call it from the CLI or from a thread of your own, never from a UI
/// thread or the cooperative pool.
public final class AccessClient: @unchecked Sendable {
    public let socketPath: String
    private let fd: Int32
    private let reader: LineReader
    private let lock = NSLock()
    private var nextID = 1

    /// Connects and says hello, reporting the SSH client address (recorded by the service as claimed).
    public init(socketPath: String, sshClient: String? = nil) throws(WireError) {
        self.socketPath = socketPath
        do { fd = try UnixSocket.connect(socketPath) } catch {
            throw WireError(code: "unavailable", message: Self.unreachable(socketPath, error), exit: 1)
        }
        reader = LineReader(fd: fd, max: 256 << 20)
        _ = try call(WireRequest(op: "hello", sshClient: sshClient))
    }

    deinit { close(fd) }

    static func unreachable(_ path: String, _ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Permission denied") {
            if let advice = GroupAdvice.advice(for: path) {
                return "\(path): not allowed to use the access service's socket: \(advice)"
            }
            return
                "\(path): not allowed to use the access service's socket; "
                + "ask an admin to add \(UnixSocket.userName(getuid()) ?? "uid \(getuid())") to the service's group "
                + "(docs/access.md, \"The access service\"), then log in again"
        }
        if text.contains("No such file") || text.contains("Connection refused") {
            return "\(path): the access service is not running (start it with `trustgap serve`, or `systemctl start trustgap`)"
        }
        return "\(text)"
    }

    /// Sends one intent and waits for its reply.
    public func call(_ request: WireRequest) throws(WireError) -> WireResult {
        lock.lock()
        defer { lock.unlock() }
        var r = request
        r.id = nextID
        nextID += 1
        guard UnixSocket.send(fd, Wire.line(r)) else {
            throw WireError(code: "unavailable", message: "\(socketPath): the access service closed the connection", exit: 1)
        }
        while true {
            guard case .line(let data)? = reader.next() else {
                throw WireError(
                    code: "unavailable", message: "\(socketPath): the access service closed the connection before answering", exit: 1)
            }
            // Events a subscription pushes may come first; this call wants its reply.
            guard let reply = try? Wire.decoder.decode(WireReply.self, from: data), reply.id == r.id || reply.id == nil else { continue }
            if let e = reply.error { throw e }
            return reply.result ?? WireResult()
        }
    }

    /// Subscribes on this connection and calls `onChange` with each change's token until the connection ends
    /// (then returns). Run it on a thread of its own, with a client used for nothing else.
    /// `onStore` hears when the service loses its store (with the problem) and when it has it back (nil).
    public func follow(_ onChange: (Int64) -> Void, onStore: (String?) -> Void = { _ in }) throws(WireError) {
        let first = try call(WireRequest(op: "subscribe"))
        onChange(first.token ?? 0)
        while case .line(let data)? = reader.next() {
            guard let e = try? Wire.decoder.decode(WireEvent.self, from: data) else { continue }
            if e.event == "change" { onChange(e.token) } else if e.event == "store" { onStore(e.problem) }
        }
    }

    /// Ends the connection (a `follow` on another thread returns).
    public func disconnect() { shutdown(fd, Int32(SHUT_RDWR)) }
}
