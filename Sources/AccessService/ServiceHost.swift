import Access
import Collectors
import Foundation
import Inventory
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Everything `trustgap serve` does, as testable code: the store (0600, its key and anchor beside it), the
/// collectors run once for every analyst, the socket, sweeping and hooks, filing what collectors observed, and an
/// orderly stop.
public final class ServiceHost: Service, @unchecked Sendable {
    public struct Settings: Sendable {
        public var socket: String
        /// The group whose members may connect (the socket is 0660); nil keeps the service user's own group.
        public var group: String?
        /// An SQLite file, or a PostgreSQL URL shared by the services on several hosts.
        public var storePath: String
        /// For a PostgreSQL store: this host's copy of the audit key, and its own anchor (beside an SQLite file else).
        public var auditKey: String?
        public var auditAnchor: String?
        public var policy: AccessPolicy
        public var hooks: HookConfig
        public var readonly: Bool
        /// How often expiries, lapses and owed hooks are swept.
        public var sweepSeconds: Double
        /// The rule thresholds the collectors' inventory is scored with.
        public var thresholds = RuleThresholds()

        public init(
            socket: String, group: String? = nil, storePath: String, policy: AccessPolicy, hooks: HookConfig,
            readonly: Bool = false, sweepSeconds: Double = 5
        ) {
            self.socket = socket
            self.group = group
            self.storePath = storePath
            self.policy = policy
            self.hooks = hooks
            self.readonly = readonly
            self.sweepSeconds = sweepSeconds
        }
    }

    public let settings: Settings
    public let store: AccessStore
    public let engine: AccessEngine
    public let server: AccessServer
    public let directory = SnapshotDirectory()
    /// The audit check made at start.
    public let verification: AuditVerification
    let runner: CollectorRunner
    let logger: Logger
    /// Expiry, retried hooks and filing what collectors observed are the system's, not an analyst's.
    static let serviceAnalyst = Analyst.system

    public init(_ settings: Settings, runner: CollectorRunner, logger: Logger) throws(AccessError) {
        self.settings = settings
        self.runner = runner
        self.logger = logger
        store = try AccessStore(
            path: settings.storePath, readonly: settings.readonly, syslogAnchor: true, service: true, keyPath: settings.auditKey,
            anchorPath: settings.auditAnchor)
        if !settings.readonly { try store.claimForService() }
        engine = AccessEngine(
            store: store, policy: settings.policy, hooks: settings.hooks, subjects: directory, readonly: settings.readonly,
            thresholds: settings.thresholds)
        server = AccessServer(socketPath: settings.socket, engine: engine, logger: logger)
        verification = (try? store.verifyAudit()) ?? AuditVerification(entries: 0, problem: "the store could not be read")
    }

    /// Binds the socket: after this, clients can connect (their requests wait for the first inventory).
    public func start() async throws(AccessError) {
        if let problem = verification.problem {
            logger.critical("audit chain BROKEN at start", metadata: ["problem": "\(problem)"])
        } else {
            logger.info("audit chain ok at start", metadata: ["entries": "\(verification.entries)"])
        }
        do {
            // Folders someone else could write would let them swap the socket, the store, its key or its anchor.
            try UnixSocket.checkPrivateFolder(URL(fileURLWithPath: settings.socket).deletingLastPathComponent().path, what: "the socket's")
            var files = [(store.keyPath, "the audit key's"), (store.anchor.path, "the audit anchor's")]
            if store.postgresTarget == nil { files.append((settings.storePath, "the store's")) }
            for (file, what) in files {
                try UnixSocket.checkPrivateFolder(URL(fileURLWithPath: file).deletingLastPathComponent().path, what: what)
            }
            try await server.start(group: settings.group)
        } catch { throw AccessError.store("\(error)") }
    }

    /// Runs (as a swift-service-lifecycle `Service`) until a graceful shutdown (SIGTERM, SIGINT or SIGHUP in
    /// `trustgap serve`) or cancellation, then stops accepting and closes the connections. Each decision is one
    /// transaction, so none is half made; a reply in flight may be lost, and the client then reports the
    /// connection closed (the decision, if committed, is in the store and the audit log).
    /// client then reports the connection closed (the decision, if committed, is in the store and the audit log).
    public func run() async throws {
        defer { server.stop() }
        let snapshots = await runner.snapshots()
        await runner.start()
        let inventory = Task.detached { [self] in
            for await s in snapshots {
                directory.update(s)
                guard !settings.readonly else { continue }
                let filed =
                    (try? store.ingest(
                        s.requests,
                        subjects: { id in
                            s[id].map { Subject($0) }
                        }, by: Self.serviceAnalyst, policy: settings.policy, now: Date())) ?? 0
                if filed > 0 { server.changed() }
            }
        }
        // A store shared with other hosts: their decisions reach this host's dashboards through the change feed.
        let feed = StoreChangeFeed.forStore(store, after: (try? store.changeToken()) ?? 0)
        let feeding = Task.detached { [server, store] in
            await feed?.run { entries in
                if let last = entries.last { store.anchorObserved(last) }
                server.changed()
            }
        }
        // A database server can go away and come back: check once a second, so dashboards say so, and recover.
        let health = Task.detached { [server] in
            while feed != nil, !Task.isCancelled {
                server.changed()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        // Expiry and lapses on their own timer, so a hook that hangs never delays them.
        let sweeping = Task.detached { [self] in
            while !Task.isCancelled, !settings.readonly {
                do {
                    let s = try store.sweep(by: Self.serviceAnalyst, hooks: settings.hooks.events, now: Date())
                    if !s.expired.isEmpty || !s.lapsed.isEmpty { server.changed() }
                } catch {
                    logger.error("sweep failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(Int64(settings.sweepSeconds * 1000)))
            }
        }
        // Owed hooks each in a task of their own, at most eight at once: one hanging hook holds up only itself.
        let hooks = Task.detached { [self] in
            let running = Locked<Set<String>>([])
            while !Task.isCancelled, !settings.readonly {
                let owed = ((try? store.owedActuations(now: Date())) ?? []).map(\.id)
                for id in owed {
                    let start: Bool = running.withLock { r in
                        guard r.count < 8, !r.contains(id) else { return false }
                        r.insert(id)
                        return true
                    }
                    guard start else { continue }
                    Task.detached { [self] in
                        let done = await engine.settleOwed(only: [id], by: Self.serviceAnalyst)
                        if !done.isEmpty { server.changed() }
                        running.withLock { _ = $0.remove(id) }
                    }
                }
                try? await Task.sleep(for: .milliseconds(Int64(settings.sweepSeconds * 1000)))
            }
        }
        let housekeeping = Task.detached {
            await sweeping.value
            await hooks.value
        }
        // Until the service group says stop (a signal) or the task is cancelled.
        try? await gracefulShutdown()
        sweeping.cancel()
        hooks.cancel()
        housekeeping.cancel()
        inventory.cancel()
        feeding.cancel()
        health.cancel()
        await runner.stop()
        logger.info("stopped")
    }
}
