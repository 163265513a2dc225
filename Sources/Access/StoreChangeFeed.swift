import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// What other hosts decided, as it happens: the audit log is the store's event table (every change appends an entry
/// with the next sequence number), and a PostgreSQL store's writers `NOTIFY` as they commit. A notification only
/// wakes the feed, which then reads every entry after the last one it saw: a notification lost while the feed was
/// disconnected (or that a pooler in transaction mode never passed on) costs nothing, because the feed also reads on
/// a timer, and after a reconnect it catches up from where it was.
public final class StoreChangeFeed: Sendable {
    let target: PostgresTarget
    let lastSeen: Atomic<Int64>
    let minimumRetry: Duration
    let poll: Duration
    /// Whether the feed is connected to the database now.
    public let connected = Atomic<Bool>(false)
    /// How many times it has (re)connected.
    public let connections = Atomic<Int>(0)
    let logger = Logger(label: "trustgap.feed")

    /// A feed for a PostgreSQL store, starting after entry `seq`; nil for an SQLite store (one host, one writer).
    public static func forStore(
        _ store: AccessStore, after seq: Int64, minimumRetry: Duration = .milliseconds(200), poll: Duration = .seconds(2)
    ) -> StoreChangeFeed? {
        store.postgresTarget.map { StoreChangeFeed(target: $0, after: seq, minimumRetry: minimumRetry, poll: poll) }
    }

    init(target: PostgresTarget, after seq: Int64, minimumRetry: Duration, poll: Duration) {
        self.target = target
        lastSeen = Atomic(seq)
        self.minimumRetry = minimumRetry
        self.poll = poll
    }

    /// The last entry delivered.
    public var last: Int64 { lastSeen.load(ordering: .relaxed) }

    struct Closed: Error {}

    /// Runs until cancelled, calling `deliver` with each batch of new entries, in order, each entry once.
    /// A lost connection is retried with back-off (from `minimumRetry` up to 5 s).
    public func run(_ deliver: @escaping @Sendable ([AuditEntry]) -> Void) async {
        var retry = minimumRetry
        while !Task.isCancelled {
            do {
                let config = try target.configuration(applicationName: "trustgap-feed")
                let conn = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.next(), configuration: config, id: 0, logger: logger
                ).get()
                connected.store(true, ordering: .relaxed)
                connections.wrappingAdd(1, ordering: .relaxed)
                retry = minimumRetry
                do {
                    try await session(conn, deliver)
                } catch {
                    logger.debug("feed session ended", metadata: ["error": "\(error)"])
                }
                connected.store(false, ordering: .relaxed)
                try? await conn.close()
            } catch {
                connected.store(false, ordering: .relaxed)
                logger.debug("feed can't connect", metadata: ["error": "\(error)"])
            }
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: retry)
            retry = min(retry * 2, .seconds(5))
        }
    }

    func session(_ conn: PostgresConnection, _ deliver: @escaping @Sendable ([AuditEntry]) -> Void) async throws {
        let (wake, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let poll = poll
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await conn.listen(on: PostgresBackend.channel) { notes in
                    wakeUp.yield() // listening now: read what came before
                    for try await _ in notes { wakeUp.yield() }
                }
                throw Closed()
            }
            // The server ending the connection (a restart, pg_terminate_backend) ends the session at once.
            group.addTask {
                try await conn.closeFuture.get()
                throw Closed()
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: poll)
                    wakeUp.yield()
                }
            }
            group.addTask { [self] in
                for await _ in wake {
                    try await catchUp(conn, deliver)
                }
            }
            defer {
                group.cancelAll()
                // Ends what waits on the connection (its close, a LISTEN), so the group always finishes.
                conn.close().whenComplete { _ in withExtendedLifetime(conn) {} }
            }
            try await group.next()
        }
    }

    /// Reads and delivers every entry after the last one seen, in pages.
    func catchUp(_ conn: PostgresConnection, _ deliver: @Sendable ([AuditEntry]) -> Void) async throws {
        while true {
            let after = lastSeen.load(ordering: .relaxed)
            var binds = PostgresBindings()
            binds.append(after)
            let rows = try await conn.query(
                PostgresQuery(unsafeSQL: "SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT 5000", binds: binds), logger: logger)
            var entries: [AuditEntry] = []
            for try await row in rows { entries.append(AccessStore.auditEntry(try PostgresStatementRunner.storeRow(row))) }
            guard let newest = entries.last else { return }
            lastSeen.store(newest.seq, ordering: .relaxed)
            deliver(entries)
            if entries.count < 5000 { return }
        }
    }
}
