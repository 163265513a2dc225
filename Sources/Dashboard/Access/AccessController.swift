import Access
import Foundation
import Inventory

/// The dashboard's hands on the access store: decisions (policy enforced by the store), the view it shows, and the
/// background work — change feed, sweeping, hooks, filing observed requests — that keeps every open dashboard current.
public final class AccessController: Sendable {
    public let store: AccessStore
    public let policy: AccessPolicy
    public let hooks: HookConfig
    public let analyst: Analyst

    public init(store: AccessStore, policy: AccessPolicy, hooks: HookConfig, analyst: Analyst) {
        self.store = store
        self.policy = policy
        self.hooks = hooks
        self.analyst = analyst
    }

    /// Reads what the panels show.
    public func view(auditLimit: Int = 2000) -> AccessView {
        do {
            let token = try store.changeToken()
            return AccessView(
                pending: try store.requests(state: .pending),
                grants: try store.grants().filter { $0.state == .active || $0.actuation == .failed },
                audit: try store.audit(limit: auditLimit), verification: try store.verifyAudit(), token: token)
        } catch {
            return AccessView(error: error.description)
        }
    }

    func approve(_ id: String, ttl: Double?, reason: String, now: Date) throws(AccessError) -> ApprovalOutcome {
        try store.approve(id, ttlSeconds: ttl, reason: reason, by: analyst, policy: policy, hooks: hooks.events, now: now)
    }

    func deny(_ id: String, reason: String, now: Date) throws(AccessError) {
        let r = try store.deny(id, reason: reason, by: analyst, policy: policy, hooks: hooks.events, now: now)
        let store = store, hooks = hooks, analyst = analyst
        Task.detached { await HookRunner.denied(r, store: store, config: hooks, by: analyst, now: Date()) }
    }

    func extend(_ id: String, ttl: Double, reason: String, now: Date) throws(AccessError) -> Grant {
        try store.extend(id, ttlSeconds: ttl, reason: reason, by: analyst, policy: policy, hooks: hooks.events, now: now)
    }

    func revoke(_ id: String, reason: String, now: Date) throws(AccessError) {
        _ = try store.revoke(id, reason: reason, by: analyst, policy: policy, hooks: hooks.events, now: now)
    }

    func grant(_ subject: Subject, scope: String, ttl: Double, reason: String, now: Date) throws(AccessError) -> Grant {
        try store.directGrant(subject: subject, scope: scope, ttlSeconds: ttl, reason: reason, by: analyst, policy: policy, hooks: hooks.events, now: now)
    }

    /// Runs owed hooks off the UI thread.
    func settleInBackground(then done: @escaping @Sendable () -> Void) {
        let store = store, hooks = hooks, analyst = analyst
        Task.detached {
            await HookRunner.settle(store, config: hooks, by: analyst, now: Date())
            done()
        }
    }

    /// The change feed and housekeeping, until cancelled: polls the store's change token (twice a second), sweeps
    /// expired grants and lapsed requests (every few seconds), runs owed hooks, and files requests the collectors
    /// observed. Each change is posted to the mailbox, so every dashboard sees every analyst's decisions.
    public func runFeed(mailbox: Mailbox, snapshots: AsyncStream<Snapshot>, sweepEvery: Double = 5) async {
        let ingest = Task.detached { [self] in
            for await snapshot in snapshots {
                if Task.isCancelled { break }
                _ = try? store.ingest(snapshot.requests, subjects: { id in
                    snapshot[id].map { Subject(id: $0.entity.id, name: $0.entity.name, population: $0.entity.population) }
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
                mailbox.post(view())
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
