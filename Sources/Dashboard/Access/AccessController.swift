import Access
import AccessService
import Foundation
import Inventory
import Synchronization

/// What a submitted decision came back with, handed to the UI thread.
public struct AccessOutcome: Sendable {
    /// The dialog it answers (its sequence number), so a late answer never lands on another dialog.
    public var dialog: Int
    /// What it was: approve, deny, extend, revoke, grant.
    public var action: String
    public var results: [Result<WireResult, WireError>]
    /// The view right after it, so the panel shows the decision at once.
    public var view: AccessView?
}

/// The dashboard's hands on access: it sends intents and reads views, never on the UI thread.
///
/// Two backends, one behaviour: the access service (`.service`: a Unix socket; the service's policy, hooks and
/// identity from the kernel decide), or the same engine in this process on a personal store (`.embedded`).
/// Answers come back through `inbox`, which the UI loop drains.
public final class AccessController: Sendable {
    public enum Backend: Sendable {
        case embedded(AccessEngine, Analyst)
        case service(socket: String)
    }

    public let backend: Backend
    /// Shown in dialogs before confirming; the engine (or the service) enforces its own.
    public let policy: AccessPolicy
    public let hooks: HookConfig
    public let analyst: Analyst
    /// Subjects for direct grants on a personal store: the dashboard's own inventory.
    public let subjects: SnapshotDirectory
    let inbox = Mutex<[AccessOutcome]>([])
    let inFlight = Atomic<Int>(0)
    /// Blocking socket calls happen here, one at a time, never on the UI thread or the cooperative pool.
    let queue = DispatchQueue(label: "trustgap.access.client")
    let client = Mutex<AccessClient?>(nil)

    /// A personal store in this process.
    public convenience init(
        store: AccessStore, policy: AccessPolicy, hooks: HookConfig, analyst: Analyst,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        let directory = SnapshotDirectory()
        self.init(
            backend: .embedded(AccessEngine(store: store, policy: policy, hooks: hooks, subjects: directory, clock: clock), analyst),
            policy: policy, hooks: hooks, analyst: analyst, directory: directory)
    }

    /// The access service at `socket`.
    public convenience init(service socket: String, policy: AccessPolicy, hooks: HookConfig, analyst: Analyst) {
        self.init(backend: .service(socket: socket), policy: policy, hooks: hooks, analyst: analyst, directory: SnapshotDirectory())
    }

    init(backend: Backend, policy: AccessPolicy, hooks: HookConfig, analyst: Analyst, directory: SnapshotDirectory) {
        self.backend = backend
        self.policy = policy
        self.hooks = hooks
        self.analyst = analyst
        subjects = directory
    }

    public var isService: Bool { if case .service = backend { true } else { false } }

    /// The personal store, for the embedded backend (tests and the embedded feed).
    public var store: AccessStore? { if case .embedded(let e, _) = backend { e.store } else { nil } }

    // MARK: Calls

    /// Carries out one intent and waits for the answer (off the UI thread).
    public func perform(_ request: WireRequest) async -> Result<WireResult, WireError> {
        switch backend {
        case .embedded(let engine, let analyst):
            return await engine.perform(request, by: analyst)
        case .service(let socket):
            return await withCheckedContinuation { done in
                queue.async { [self] in done.resume(returning: callService(socket, request)) }
            }
        }
    }

    /// A blocking call through a kept connection, connecting (again) when there is none.
    func callService(_ socket: String, _ request: WireRequest) -> Result<WireResult, WireError> {
        for attempt in 0..<2 {
            let c: AccessClient
            if let existing = client.withLock({ $0 }) {
                c = existing
            } else {
                do { c = try AccessClient(socketPath: socket, sshClient: analyst.sshClient) } catch { return .failure(error) }
                client.withLock { $0 = c }
            }
            do { return .success(try c.call(request)) } catch {
                // The service restarted: reconnect once, but resend only what changes nothing. A decision whose answer
                // was lost may have been made; sending it again could make it twice.
                guard error.code == "unavailable", attempt == 0, !AccessEngine.changingOperations.contains(request.op) else {
                    if error.code == "unavailable" { client.withLock { $0 = nil } }
                    return .failure(error)
                }
                client.withLock { $0 = nil }
            }
        }
        return .failure(WireError(code: "unavailable", message: "\(socket): the access service is unreachable", exit: 1))
    }

    /// What the panels show: pending requests, live grants, the audit tail and the running verification. Costs the
    /// change, not the history.
    public func view(auditLimit: Int = 2000) async -> AccessView {
        // Only the audit entries after the newest one already read: an update costs the change, not the tail.
        let previous = lastView.withLock { $0 }
        let after = previous?.audit.last?.seq
        switch await perform(WireRequest(op: "view", limit: auditLimit, after: after)) {
        case .success(let r):
            var audit = r.audit ?? []
            if let previous, let after, (r.token ?? 0) >= after, audit.count < auditLimit {
                audit = Array((previous.audit + audit).suffix(auditLimit))
            } else if let after, (r.token ?? 0) < after {
                // The log is shorter than what we had (another store): read the tail afresh.
                lastView.withLock { $0 = nil }
                return await view(auditLimit: auditLimit)
            }
            let v = AccessView(
                pending: r.requests ?? [], grants: r.grants ?? [], audit: audit,
                verification: r.verification.map { AuditVerification(entries: $0.entries, problem: $0.problem) }, token: r.token ?? 0)
            lastView.withLock { $0 = v }
            return v
        case .failure(let e):
            return AccessView(error: e.message, unreachable: e.code == "unavailable")
        }
    }

    /// The last view read, which the next one extends.
    let lastView = Locked<AccessView?>(nil)

    /// Sends a dialog's intents in order; the answers and a fresh view arrive in the inbox.
    func submit(_ requests: [WireRequest], dialog: Int, action: String) {
        inFlight.add(1, ordering: .relaxed)
        Task.detached { [self] in
            var results: [Result<WireResult, WireError>] = []
            for r in requests { results.append(await perform(r)) }
            let v = await view()
            inbox.withLock { $0.append(AccessOutcome(dialog: dialog, action: action, results: results, view: v)) }
            inFlight.subtract(1, ordering: .relaxed)
        }
    }

    /// Answers that have come back, oldest first.
    public func takeOutcomes() -> [AccessOutcome] {
        inbox.withLock { o in
            defer { o = [] }
            return o
        }
    }

    public var busy: Bool { inFlight.load(ordering: .relaxed) > 0 }

    // MARK: The feed

    /// Keeps every open dashboard current until cancelled, posting each new view to the mailbox.
    ///
    /// With the service: subscribes, and fetches the view on each change it pushes (no polling); when the service
    /// goes away, posts the last view marked unreachable (the dashboard turns read-only) and reconnects with backoff.
    /// On a personal store: watches the store's head twice a second, sweeps expired grants and lapsed requests,
    /// runs owed hooks and files the requests collectors observed, as one analyst's own process.
    public func runFeed(mailbox: Mailbox, snapshots: AsyncStream<Snapshot>, sweepEvery: Double = 5) async {
        switch backend {
        case .service(let socket):
            let drain = Task.detached { for await _ in snapshots { if Task.isCancelled { break } } }
            defer { drain.cancel() }
            await followService(socket, mailbox: mailbox)
        case .embedded(let engine, let analyst):
            await runEmbeddedFeed(engine, analyst: analyst, mailbox: mailbox, snapshots: snapshots, sweepEvery: sweepEvery)
        }
    }

    func followService(_ socket: String, mailbox: Mailbox) async {
        var backoff = 0.25
        let lastGood = Locked(AccessView())
        while !Task.isCancelled {
            let subscription = Locked<AccessClient?>(nil)
            let ended: String = await withTaskCancellationHandler {
                await withCheckedContinuation { (done: CheckedContinuation<String, Never>) in
                    let t = Thread { [self] in
                        do {
                            let c = try AccessClient(socketPath: socket, sshClient: analyst.sshClient)
                            subscription.withLock { $0 = c }
                            try c.follow(
                                { _ in
                                    // A change: read the view on the call connection, then post it.
                                    let sem = DispatchSemaphore(value: 0)
                                    Task.detached {
                                        let v = await self.view()
                                        if v.error == nil {
                                            lastGood.withLock { $0 = v }
                                            mailbox.post(v)
                                        }
                                        sem.signal()
                                    }
                                    sem.wait()
                                },
                                onStore: { problem in
                                    // The service is up but its store (a database server) is not: read-only until it
                                    // is back, which the service announces, then a change brings the fresh view.
                                    guard let problem else { return }
                                    var stale = lastGood.withLock { $0 }
                                    stale.error =
                                        "the access store is unreachable (\(problem)); showing the last state, read-only; "
                                        + "the service reconnects by itself"
                                    stale.unreachable = true
                                    stale.storeDown = true
                                    mailbox.post(stale)
                                })
                            done.resume(returning: "the access service closed the connection")
                        } catch {
                            done.resume(returning: (error as? WireError)?.message ?? "\(error)")
                        }
                    }
                    t.name = "trustgap-access-feed"
                    t.start()
                }
            } onCancel: {
                subscription.withLock { $0?.disconnect() }
            }
            if Task.isCancelled { break }
            client.withLock { $0 = nil }
            var stale = lastGood.withLock { $0 }
            stale.error = "access service unreachable (\(ended)); showing the last state, read-only; reconnecting"
            stale.unreachable = true
            mailbox.post(stale)
            // Back-off grows only while connecting fails; a connection that was up starts it again from the bottom.
            backoff = subscription.withLock { $0 } != nil ? 0.25 : min(backoff * 2, 5)
            try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
        }
    }

    func runEmbeddedFeed(_ engine: AccessEngine, analyst: Analyst, mailbox: Mailbox, snapshots: AsyncStream<Snapshot>, sweepEvery: Double)
        async
    {
        let store = engine.store
        let ingest = Task.detached { [self] in
            for await snapshot in snapshots {
                if Task.isCancelled { break }
                subjects.update(snapshot)
                _ = try? store.ingest(
                    snapshot.requests,
                    subjects: { id in
                        snapshot[id].map { Subject($0) }
                    }, by: analyst, policy: policy, now: Date())
            }
        }
        defer { ingest.cancel() }
        // Sweeping and hooks run on their own, so a slow hook never holds up the change feed.
        let housekeeping = Task.detached { [self] in
            while !Task.isCancelled, !store.readonly {
                _ = try? store.sweep(by: analyst, hooks: hooks.events, now: Date())
                await HookRunner.settle(store, config: hooks, by: analyst, now: Date())
                try? await Task.sleep(for: .milliseconds(Int64(sweepEvery * 1000)))
            }
        }
        defer { housekeeping.cancel() }
        var last: Int64 = -2
        while !Task.isCancelled {
            let token = (try? store.changeToken()) ?? -1
            if token != last {
                last = token
                mailbox.post(await view())
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
