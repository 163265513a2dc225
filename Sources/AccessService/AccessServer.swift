import Access
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The access service's listener: a Unix socket whose clients are known by the kernel's peer credentials.
///
/// Each connection has a thread of its own that reads one request per line and answers it, so a slow client or a
/// decision waiting on a hook never holds up another. Subscribers get a `change` event after every change.
public final class AccessServer: @unchecked Sendable {
    public let socketPath: String
    let engine: AccessEngine
    let logger: Logger
    /// The most connections at once; more are answered with an error and closed.
    let maxConnections: Int
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var connections: [Int32: Connection] = [:]
    private var stopped = false
    private let events = DispatchQueue(label: "trustgap.service.events")
    private var lastToken: Int64 = -1

    final class Connection: @unchecked Sendable {
        let fd: Int32
        let analyst: Analyst
        let uid: UInt32
        let writeLock = NSLock()
        private var isSubscribed = false
        var claimedSSH: String?

        var subscribed: Bool {
            get { writeLock.withLock { isSubscribed } }
            set { writeLock.withLock { isSubscribed = newValue } }
        }

        init(fd: Int32, analyst: Analyst, uid: UInt32) {
            self.fd = fd
            self.analyst = analyst
            self.uid = uid
        }

        func send(_ data: Data) -> Bool { writeLock.withLock { UnixSocket.send(fd, data) } }
    }

    public init(socketPath: String, engine: AccessEngine, logger: Logger, maxConnections: Int = 256) {
        self.socketPath = socketPath
        self.engine = engine
        self.logger = logger
        self.maxConnections = maxConnections
    }

    /// Binds the socket (mode 0660, and the group `group` when given) and starts accepting.
    public func start(group: String? = nil) throws {
        let fd = try UnixSocket.listen(socketPath, mode: 0o660)
        if let group {
            guard let gid = UnixSocket.groupID(group) else {
                close(fd)
                throw UnixSocket.Failure("no such group \(group) for the socket", socketPath, EINVAL)
            }
            guard chown(socketPath, getuid(), gid) == 0 else {
                let err = errno
                close(fd)
                throw UnixSocket.Failure("can't give the socket to group \(group)", socketPath, err)
            }
        }
        listener = fd
        lastToken = (try? engine.store.changeToken()) ?? -1
        let t = Thread { [self] in acceptLoop(fd) }
        t.name = "trustgap-accept"
        t.start()
        logger.info("listening", metadata: ["socket": "\(socketPath)"])
    }

    /// Stops accepting, closes every connection and removes the socket.
    public func stop() {
        let open: [Connection] = lock.withLock {
            stopped = true
            return Array(connections.values)
        }
        if listener >= 0 {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
            listener = -1
        }
        for c in open { shutdown(c.fd, Int32(SHUT_RDWR)) }
        unlink(socketPath)
    }

    public var connectionCount: Int { lock.withLock { connections.count } }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE {
                    usleep(100_000)
                    continue
                }
                return  // the listener was closed
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)  // hooks must not inherit a client's connection
            guard let cred = UnixSocket.peer(client) else {
                close(client)
                continue
            }
            let analyst = Analyst(user: UnixSocket.userName(cred.uid))
            let c = Connection(fd: client, analyst: analyst, uid: cred.uid)
            let accepted: Bool = lock.withLock {
                guard !stopped, connections.count < maxConnections else { return false }
                connections[client] = c
                return true
            }
            guard accepted else {
                _ = c.send(Wire.line(WireReply(id: nil, .failure(WireError(code: "unavailable", message: "the access service has too many connections; try again", exit: 1)))))
                close(client)
                continue
            }
            UnixSocket.setSendTimeout(client, seconds: 5)
            let t = Thread { [self] in serve(c) }
            t.name = "trustgap-conn"
            t.stackSize = 512 << 10
            t.start()
        }
    }

    private func serve(_ c: Connection) {
        defer {
            lock.withLock { _ = connections.removeValue(forKey: c.fd) }
            close(c.fd)
        }
        let reader = LineReader(fd: c.fd, max: Wire.maxLine)
        var lineNumber = 0
        while let item = reader.next() {
            lineNumber += 1
            let request: WireRequest
            switch item {
            case .tooLong:
                guard c.send(Wire.line(WireReply(id: nil, .failure(WireError(
                    code: "too_long", message: "line \(lineNumber): longer than \(Wire.maxLine) bytes; it was skipped", exit: 2))))) else { return }
                continue
            case .line(let data):
                if data.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                do {
                    request = try Wire.decoder.decode(WireRequest.self, from: data)
                } catch {
                    guard c.send(Wire.line(WireReply(id: nil, .failure(.malformed(
                        "line \(lineNumber): not a request (one JSON object with \"v\" and \"op\" per line: docs/service-protocol.md)"))))) else { return }
                    continue
                }
            }
            if request.op == "hello", let ssh = request.sshClient {
                // Recorded as claimed: the client says so, the kernel doesn't.
                let address = String(ssh.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || "0123456789.:[]".unicodeScalars.contains($0)) }
                    .prefix(64).map(Character.init))
                c.claimedSSH = address.isEmpty ? nil : address + " (claimed)"
            }
            let analyst = Analyst(user: c.analyst.user, sshClient: c.claimedSSH)
            let reply = perform(request, analyst: analyst, uid: c.uid)
            if request.op == "subscribe", reply.ok { c.subscribed = true }
            guard c.send(Wire.line(reply)) else { return }
            if AccessEngine.changingOperations.contains(request.op) { changed() }
        }
    }

    /// Runs an intent on the engine from this connection's thread (not the cooperative pool's).
    private func perform(_ r: WireRequest, analyst: Analyst, uid: UInt32) -> WireReply {
        let done = DispatchSemaphore(value: 0)
        let box = ReplyBox()
        let engine = engine
        Task.detached {
            box.reply = WireReply(id: r.id, await engine.perform(r, by: analyst, uid: uid))
            done.signal()
        }
        done.wait()
        if let e = box.reply?.error, e.code == "store" { logger.error("store error", metadata: ["op": "\(r.op)", "error": "\(e.message)"]) }
        return box.reply ?? WireReply(id: r.id, .failure(WireError(code: "internal", message: "no reply", exit: 1)))
    }

    /// Tells every subscriber that something changed, when the store's head moved: after a decision, a sweep, an
    /// observed request filed. Sent from one queue, so events never interleave and a slow subscriber (5 s send
    /// timeout) is dropped instead of holding the others.
    public func changed() {
        events.async { [self] in
            guard let token = try? engine.store.changeToken(), token != lastToken else { return }
            lastToken = token
            let line = Wire.line(WireEvent(event: "change", token: token))
            let subscribers: [Connection] = lock.withLock { connections.values.filter(\.subscribed) }
            for s in subscribers where !s.send(line) { shutdown(s.fd, Int32(SHUT_RDWR)) }
        }
    }
}

final class ReplyBox: @unchecked Sendable {
    var reply: WireReply?
}
