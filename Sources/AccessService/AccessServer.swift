import Access
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The access service's listener: a Unix socket (SwiftNIO) whose clients are known by the kernel's peer credentials.
///
/// Each connection is a task of its own that reads one request per line and answers it, so a slow client or a
/// decision waiting on a hook never holds up another. Subscribers get a `change` event after every change, through
/// a buffer of one per subscriber: a slow one misses intermediate events (each says only "read again"), never the
/// last, and never holds up the others.
public final class AccessServer: Sendable {
    public let socketPath: String
    let engine: AccessEngine
    let logger: Logger
    /// The most connections at once, and per user; more are answered with an error and closed.
    let maxConnections: Int
    let maxPerUser: Int
    /// A connection that sends nothing for this long, and isn't subscribed, is closed.
    let idleSeconds: Double
    private let state = Mutex(State())
    private let events = DispatchQueue(label: "trustgap.service.events")

    struct State {
        var server: NIOAsyncChannel<Accepted, Never>?
        var accepting: Task<Void, Never>?
        var connections = 0
        var perUser: [UInt32: Int] = [:]
        var subscribers: [Int: AsyncStream<Push>.Continuation] = [:]
        /// Why the store can't be read now, while it can't.
        var storeProblem: String?
        var nextID = 0
        var lastToken: Int64 = -1
        var stopped = false
    }

    /// A connection as accepted: the channel and who the kernel says connected.
    struct Accepted: Sendable {
        let channel: NIOAsyncChannel<Frame, ByteBuffer>
        let peer: UnixSocket.PeerCredentials?
    }

    public init(
        socketPath: String, engine: AccessEngine, logger: Logger, maxConnections: Int = 256, maxPerUser: Int = 32,
        idleSeconds: Double = 300
    ) {
        self.socketPath = socketPath
        self.engine = engine
        self.logger = logger
        self.maxConnections = maxConnections
        self.maxPerUser = maxPerUser
        self.idleSeconds = idleSeconds
    }

    /// Binds the socket (mode 0660, and the group `group` when given) and starts accepting.
    public func start(group: String? = nil) async throws {
        // A live service still answers on the path: don't steal it; a stale socket file is replaced, nothing else is.
        try UnixSocket.prepare(socketPath)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 128)
            .bind(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(max: Wire.maxLine)))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }.flatMap { async in
                    Self.peer(of: channel).map { Accepted(channel: async, peer: $0) }
                }
            }
        // Bound with the process umask (no one but the owner may write, so no one else can connect yet); now exactly 0660.
        var gid = getgid()
        if let group {
            guard let g = UnixSocket.groupID(group) else {
                try? await server.channel.close()
                throw UnixSocket.Failure("no such group \(group) for the socket", socketPath, EINVAL)
            }
            gid = g
        }
        guard chown(socketPath, getuid(), gid) == 0, chmod(socketPath, 0o660) == 0 else {
            let err = errno
            try? await server.channel.close()
            throw UnixSocket.Failure("can't give the socket to group \(group ?? "\(gid)")", socketPath, err)
        }
        let token = (try? engine.store.changeToken()) ?? -1
        let accepting = Task { [self] in await accept(server) }
        state.withLock {
            $0.server = server
            $0.accepting = accepting
            $0.lastToken = token
        }
        logger.info("listening", metadata: ["socket": "\(socketPath)"])
    }

    /// Stops accepting, closes every connection and removes the socket.
    public func stop() {
        let (server, accepting, subscribers) = state.withLock { s in
            s.stopped = true
            defer { s.subscribers = [:] }
            return (s.server, s.accepting, Array(s.subscribers.values))
        }
        accepting?.cancel()
        server?.channel.close(promise: nil)
        for s in subscribers { s.finish() }
        unlink(socketPath)
    }

    public var connectionCount: Int { state.withLock { $0.connections } }

    static func peer(of channel: any Channel) -> EventLoopFuture<UnixSocket.PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let f: EventLoopFuture<UnixSocket.PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return f.map { Optional($0) }.recover { _ in nil }
    }

    private func accept(_ server: NIOAsyncChannel<Accepted, Never>) async {
        do {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await accepted in inbound {
                        group.addTask { await self.serve(accepted) }
                    }
                }
            }
        } catch {
            if !state.withLock({ $0.stopped }) { logger.error("accepting stopped", metadata: ["error": "\(error)"]) }
        }
    }

    private func serve(_ accepted: Accepted) async {
        // Nobody the kernel can name, or a name the user database can't give: refused, never guessed.
        let cred = accepted.peer
        let user = cred.flatMap { UnixSocket.userName($0.uid) }
        let admitted = state.withLock { s -> Bool in
            // Root and the service's own user are trusted (the threat model): the per-user cap is for analysts.
            let trusted = cred.map { $0.uid == 0 || $0.uid == getuid() } ?? false
            guard let cred, user != nil, !s.stopped, s.connections < maxConnections,
                trusted || s.perUser[cred.uid, default: 0] < maxPerUser
            else { return false }
            s.connections += 1
            s.perUser[cred.uid, default: 0] += 1
            return true
        }
        guard admitted, let cred, let user else {
            // Over the cap, or nobody the kernel can name: say so and hang up.
            try? await accepted.channel.executeThenClose { _, outbound in
                try await outbound.write(
                    ByteBuffer(
                        bytes: Wire.line(
                            WireReply(
                                id: nil,
                                .failure(
                                    WireError(
                                        code: "unavailable", message: "the access service can't take this connection now; try again",
                                        exit: 1))))))
            }
            return
        }
        defer {
            state.withLock { s in
                s.connections -= 1
                s.perUser[cred.uid, default: 1] -= 1
                if s.perUser[cred.uid] == 0 { s.perUser[cred.uid] = nil }
            }
        }
        let activity = ConnectionActivity()
        let channel = accepted.channel.channel
        let idle = idleSeconds
        do {
            try await accepted.channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // An idle connection that isn't subscribed is closed: held-open sockets can't use up the service.
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .seconds(min(idle, 5)))
                            if !activity.subscribed.load(ordering: .relaxed),
                                ContinuousClock.now - activity.last.withLock({ $0 }) > .seconds(idle)
                            {
                                channel.close(promise: nil)
                                return
                            }
                        }
                    }
                    var claimedSSH: String?
                    var subscription: Int?
                    defer { if let subscription { _ = state.withLock { $0.subscribers.removeValue(forKey: subscription) } } }
                    var lineNumber = 0
                    for try await frame in inbound {
                        lineNumber += 1
                        activity.last.withLock { $0 = .now }
                        let request: WireRequest
                        switch frame {
                        case .tooLong:
                            try await outbound.write(
                                ByteBuffer(
                                    bytes: Wire.line(
                                        WireReply(
                                            id: nil,
                                            .failure(
                                                WireError(
                                                    code: "too_long",
                                                    message: "line \(lineNumber): longer than \(Wire.maxLine) bytes; it was skipped",
                                                    exit: 2))))))
                            continue
                        case .line(let buffer):
                            let bytes = Array(buffer.readableBytesView)
                            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                            guard let r = try? Wire.decoder.decode(WireRequest.self, from: Data(bytes)) else {
                                try await outbound.write(
                                    ByteBuffer(
                                        bytes: Wire.line(
                                            WireReply(
                                                id: nil,
                                                .failure(
                                                    .malformed(
                                                        "line \(lineNumber): not a request (one JSON object "
                                                            + "with \"v\" and \"op\" per line: docs/service-protocol.md)"
                                                    ))))))
                                continue
                            }
                            request = r
                        }
                        if request.op == "hello", let ssh = request.sshClient {
                            // Recorded as claimed: the client says so, the kernel doesn't.
                            let address = String(
                                ssh.unicodeScalars.filter {
                                    $0.isASCII && ($0.properties.isAlphabetic || "0123456789.:[]".unicodeScalars.contains($0))
                                }
                                .prefix(64).map(Character.init))
                            claimedSSH = address.isEmpty ? nil : address + " (claimed)"
                        }
                        // A subscriber is registered before its first token is read, so no change falls in between.
                        var events: AsyncStream<Push>?
                        if request.op == "subscribe", subscription == nil {
                            let (stream, continuation) = AsyncStream.makeStream(of: Push.self, bufferingPolicy: .bufferingNewest(4))
                            events = stream
                            subscription = state.withLock { s in
                                s.nextID += 1
                                s.subscribers[s.nextID] = continuation
                                return s.nextID
                            }
                        }
                        let reply = WireReply(
                            id: request.id, await engine.perform(request, by: Analyst(user: user, sshClient: claimedSSH), uid: cred.uid))
                        if let e = reply.error, e.code == "store" {
                            logger.error("store error", metadata: ["op": "\(request.op)", "error": "\(e.message)"])
                        }
                        try await outbound.write(ByteBuffer(bytes: Wire.line(reply)))
                        if let events {
                            activity.subscribed.store(true, ordering: .relaxed)
                            // A few buffered events at most: the newest token is what matters.
                            group.addTask {
                                for await push in events {
                                    let event =
                                        switch push {
                                        case .change(let token): WireEvent(event: "change", token: token)
                                        case .store(let problem, let token): WireEvent(event: "store", token: token, problem: problem)
                                        }
                                    try await outbound.write(ByteBuffer(bytes: Wire.line(event)))
                                }
                            }
                        }
                        if AccessEngine.changingOperations.contains(request.op) { changed() }
                    }
                    // The client hung up: the event writer ends with it.
                    group.cancelAll()
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Tells every subscriber that something changed, when the store's head moved: after a decision, a sweep, an
    /// observed request filed. Checked on one queue, so tokens only go forward.
    /// A store that can't be read (a database server that went away) is announced once, and its return too.
    public func changed() {
        events.async { [self] in
            let token: Int64
            do { token = try engine.store.changeToken() } catch {
                let subscribers = state.withLock { s -> [AsyncStream<Push>.Continuation]? in
                    guard s.storeProblem == nil else { return nil }
                    s.storeProblem = "\(error)"
                    return Array(s.subscribers.values)
                }
                if subscribers != nil { logger.error("store unreachable", metadata: ["error": "\(error)"]) }
                for s in subscribers ?? [] { s.yield(.store(problem: "\(error)", token: -1)) }
                return
            }
            let (subscribers, recovered) = state.withLock { s -> ([AsyncStream<Push>.Continuation]?, Bool) in
                let recovered = s.storeProblem != nil
                s.storeProblem = nil
                guard token != s.lastToken || recovered else { return (nil, false) }
                s.lastToken = token
                return (Array(s.subscribers.values), recovered)
            }
            if recovered { logger.info("store reachable again") }
            for s in subscribers ?? [] {
                if recovered { s.yield(.store(problem: nil, token: token)) }
                s.yield(.change(token))
            }
        }
    }

    /// What a subscriber is sent.
    enum Push: Sendable {
        case change(Int64)
        case store(problem: String?, token: Int64)
    }
}

/// When a connection last sent something, and whether it subscribed (then it may stay quiet).
final class ConnectionActivity: Sendable {
    let last = Mutex(ContinuousClock.now)
    let subscribed = Atomic<Bool>(false)
}

/// One line of a request, or the note that a line was too long (its bytes were skipped).
enum Frame: Sendable {
    case line(ByteBuffer)
    case tooLong
}

/// Splits the stream at newlines, at most `max` bytes a line. A longer line is reported once as `.tooLong` and the
/// rest of it skipped, so the connection stays usable; a half line at hang-up is dropped.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame
    let max: Int
    var skipping = false
    /// How much of the readable bytes was already searched for a newline: a line sent a byte at a time costs O(n).
    var scanned = 0

    init(max: Int) { self.max = max }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let found = view[(view.startIndex + min(scanned, view.count))...].firstIndex(of: 0x0A)
        scanned = found == nil ? view.count : 0
        if let nl = found {
            let length = nl - buffer.readerIndex
            if skipping {
                buffer.moveReaderIndex(forwardBy: length + 1)
                skipping = false
                return .continue
            }
            if length > max {
                buffer.moveReaderIndex(forwardBy: length + 1)
                context.fireChannelRead(wrapInboundOut(.tooLong))
                return .continue
            }
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        if buffer.readableBytes > max {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            scanned = 0
            if !skipping {
                skipping = true
                context.fireChannelRead(wrapInboundOut(.tooLong))
            }
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
