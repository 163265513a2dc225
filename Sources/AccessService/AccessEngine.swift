import Access
import Foundation
import Inventory
import Synchronization

/// Where the engine looks subjects up: the inventory of whoever runs it (the service's own collectors; a personal
/// store's one-off collection), never one a client sends.
public protocol SubjectDirectory: Sendable {
    /// The subject with this id, or the ids that look like it.
    func lookup(_ id: String) async -> SubjectLookup
    /// The whole inventory and its version, for dashboards attached to the service; nil where there is none.
    func inventory() async -> Snapshot?
}

extension SubjectDirectory {
    public func inventory() async -> Snapshot? { nil }
}

public enum SubjectLookup: Sendable {
    case found(Subject)
    case missing(suggestions: [String])
}

/// The newest snapshot the service's collectors built, shared with the engine.
public final class SnapshotDirectory: SubjectDirectory, @unchecked Sendable {
    private let lock = NSLock()
    private var snapshot: Snapshot?
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// The last changes, each from the version before it (`Snapshot.change`): what a client holding one of those
    /// versions is sent instead of the whole inventory.
    private var history: [SnapshotChange] = []
    static let historyKept = 64

    public init() {}

    public func update(_ s: Snapshot) {
        let ready: [CheckedContinuation<Void, Never>] = lock.withLock {
            if let c = s.change, c.base == snapshot?.version {
                history.append(c)
                if history.count > Self.historyKept { history.removeFirst(history.count - Self.historyKept) }
            } else {
                history = []
            }
            snapshot = s
            defer { waiters.removeAll() }
            return waiters
        }
        for w in ready { w.resume() }
    }

    public var current: Snapshot? { lock.withLock { snapshot } }

    /// Waits for the first snapshot (requests that name a subject wait until the inventory is there).
    func ready() async -> Snapshot? {
        if let s = current { return s }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow: Bool = lock.withLock {
                if snapshot != nil { return true }
                waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
        return current
    }

    public func inventory() async -> Snapshot? { await ready() }

    /// What changed from version `since` to the newest: the entities added or changed, and the ids removed. Nil when
    /// the changes since then aren't all kept, or are more than a quarter of the inventory (the whole costs less).
    public func delta(since: Int) -> (version: Int, upserts: [Entity], removed: [String])? {
        lock.withLock {
            guard let s = snapshot, let from = history.firstIndex(where: { $0.base == since }) else { return nil }
            var ids = Set<String>()
            for c in history[from...] { ids.formUnion(c.updated + c.added + c.removed) }
            guard Double(ids.count) <= Double(max(1, s.entities.count)) / 4 else { return nil }
            var upserts: [Entity] = []
            var removed: [String] = []
            for id in ids.sorted() {
                if let a = s[id] { upserts.append(a.entity) } else { removed.append(id) }
            }
            return (s.version, upserts, removed)
        }
    }

    public func lookup(_ id: String) async -> SubjectLookup {
        guard let s = await ready() else { return .missing(suggestions: []) }
        if let a = s[id] { return .found(Subject(a)) }
        return .missing(suggestions: Array(s.entities.lazy.map(\.id).filter { $0.contains(id) }.prefix(3)))
    }
}

/// Carries out intents against a store, under one policy, with one set of hooks: the same code whether it runs in
/// the access service for every analyst or in one process on a personal store.
public final class AccessEngine: Sendable {
    public let store: AccessStore
    public let policy: AccessPolicy
    public let hooks: HookConfig
    public let subjects: any SubjectDirectory
    /// Refuses every change (the service's or the analyst's `readonly`).
    public let readonly: Bool
    let clock: @Sendable () -> Date
    /// Makes inventory versions unique across restarts: a client's old version never matches a new service's.
    let epoch = Int(Date().timeIntervalSince1970 * 1000) << 20
    /// The running verification: the whole trail checked once, then each new entry as it comes.
    let verified = Mutex<RunningVerification?>(nil)
    let fullCheck = NSLock()
    let lastFull = Mutex<(seq: Int64, mac: String, result: AuditVerification)?>(nil)
    let handoffs = Mutex<[String: Handoff]>([:])

    struct RunningVerification {
        var seq: Int64
        var mac: String
        var entries: Int
        var problem: String?
    }

    /// The rule thresholds the inventory is scored with, told to clients in `hello`.
    public let thresholds: RuleThresholds?

    public init(
        store: AccessStore, policy: AccessPolicy, hooks: HookConfig, subjects: any SubjectDirectory, readonly: Bool = false,
        thresholds: RuleThresholds? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.thresholds = thresholds
        self.store = store
        self.policy = policy
        self.hooks = hooks
        self.subjects = subjects
        self.readonly = readonly || store.readonly
        self.clock = clock
    }

    public static let changingOperations: Set<String> = ["request", "approve", "deny", "cancel", "extend", "revoke", "grant", "sweep"]
    public static let operations: Set<String> = changingOperations.union([
        "hello", "list", "view", "audit", "verify", "subscribe", "inventory", "handoff",
    ])

    /// Carries out one intent for `analyst` (who the kernel says the client is).
    public func perform(_ r: WireRequest, by analyst: Analyst, uid: UInt32 = getuid()) async -> Result<WireResult, WireError> {
        guard r.v == Wire.version else {
            return .failure(
                WireError(
                    code: "version", message: "protocol version \(r.v) is not supported; this service speaks version \(Wire.version)",
                    exit: 2))
        }
        guard Self.operations.contains(r.op) else {
            return .failure(
                WireError(
                    code: "unknown_op",
                    message: "unknown op \"\(r.op.prefix(40))\"; known: \(Self.operations.sorted().joined(separator: ", "))", exit: 2))
        }
        if readonly, Self.changingOperations.contains(r.op) { return .failure(WireError(AccessError.readonly)) }
        do {
            return .success(try await carryOut(r, by: analyst, uid: uid))
        } catch let e as WireError {
            return .failure(e)
        } catch let e as AccessError {
            return .failure(WireError(e))
        } catch {
            return .failure(WireError(code: "store", message: "\(error)", exit: 1))
        }
    }

    func need<T>(_ value: T?, _ field: String, _ op: String) throws -> T {
        guard let value else { throw WireError(code: "invalid", message: "\(op) needs \"\(field)\"", exit: 2) }
        return value
    }

    func subject(_ id: String) async throws -> Subject {
        switch await subjects.lookup(id) {
        case .found(let s): return s
        case .missing(let near):
            throw AccessError.notFound(
                "no entity \(id) in the inventory" + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?"))
        }
    }

    /// `via` is a label (`mcp:claude-code`): printable ASCII, short. It is shown, never trusted.
    static func checkVia(_ via: String?) throws -> String? {
        guard let via else { return nil }
        guard !via.isEmpty, via.utf8.count <= 100, via.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw WireError(code: "invalid", message: "\"via\" is 1 to 100 printable ASCII characters, without spaces", exit: 2)
        }
        return via
    }

    func carryOut(_ r: WireRequest, by analyst: Analyst, uid: UInt32) async throws -> WireResult {
        try checkSizes(r)
        var out = WireResult()
        let now = clock()
        let events = hooks.events
        switch r.op {
        case "hello":
            out.you = WireIdentity(user: analyst.user, uid: uid, sshClient: analyst.sshClient)
            out.service = "trustgap access service, protocol \(Wire.version)"
            out.token = try? store.changeToken() // who you are and the policy are answered even while the store is away
            out.policy = policy
            out.thresholds = thresholds
            out.hookCommands = hooks.commands
        case "request":
            let s = try await subject(try need(r.subject, "subject", r.op))
            out.request = try store.file(
                subject: s, scope: try need(r.scope, "scope", r.op), ttlSeconds: try need(r.ttlSeconds, "ttl_seconds", r.op),
                reason: try need(r.reason, "reason", r.op), ticket: r.ticket, via: try Self.checkVia(r.via), by: analyst, policy: policy,
                now: now)
        case "approve":
            switch try store.approve(
                try need(r.target, "target", r.op), ttlSeconds: r.ttlSeconds, reason: try need(r.reason, "reason", r.op),
                by: analyst, policy: policy, hooks: events, now: now)
            {
            case .granted(let g):
                out.grant = g
                out.hooks = await settle(g.id, by: analyst)
            case .recorded(let left):
                out.approvalsLeft = left
            }
        case "deny":
            let req = try store.deny(
                try need(r.target, "target", r.op), reason: try need(r.reason, "reason", r.op), by: analyst, policy: policy,
                hooks: events, now: now)
            out.request = req
            if let h = await HookRunner.denied(req, store: store, config: hooks, by: analyst, now: clock()) {
                out.hooks = [WireHook(event: "deny", target: req.id, succeeded: h.succeeded, detail: h.detail)]
            }
        case "cancel":
            out.request = try store.cancel(
                try need(r.target, "target", r.op), reason: try need(r.reason, "reason", r.op), by: analyst,
                policy: policy, now: now)
        case "extend":
            switch try store.extend(
                try need(r.target, "target", r.op), ttlSeconds: try need(r.ttlSeconds, "ttl_seconds", r.op),
                reason: try need(r.reason, "reason", r.op), by: analyst, policy: policy, hooks: events, now: now)
            {
            case .extended(let g):
                out.grant = g
                out.hooks = await settle(g.id, by: analyst)
            case .recorded(let left):
                out.approvalsLeft = left
            }
        case "revoke":
            let g = try store.revoke(
                try need(r.target, "target", r.op), reason: try need(r.reason, "reason", r.op), by: analyst,
                policy: policy, hooks: events, now: now)
            handoffs.withLock { _ = $0.removeValue(forKey: g.id) } // access given back: nothing left to collect
            out.grant = g
            out.hooks = await settle(g.id, by: analyst)
        case "grant":
            let s = try await subject(try need(r.subject, "subject", r.op))
            let g = try store.directGrant(
                subject: s, scope: try need(r.scope, "scope", r.op), ttlSeconds: try need(r.ttlSeconds, "ttl_seconds", r.op),
                reason: try need(r.reason, "reason", r.op), by: analyst, policy: policy, hooks: events, now: now)
            out.grant = g
            out.hooks = await settle(g.id, by: analyst)
        case "sweep":
            let s = try store.sweep(by: analyst, hooks: events, now: now)
            out.expired = s.expired
            out.lapsed = s.lapsed
            out.hooks = await settle(nil, by: analyst)
        case "list":
            if let id = r.target {
                // One request (and its grant) or one grant, by id: what a waiting agent polls, without reading the store.
                let request = try store.request(id: id)
                out.requests = request.map { [$0] } ?? []
                out.grants = [try store.grant(id: id), try request?.grantID.flatMap { try store.grant(id: $0) }].compactMap { $0 }
            } else {
                out.requests = try store.requests()
                out.grants = try store.grants()
            }
        case "view":
            out.token = try store.changeToken()
            out.requests = try store.requests(state: .pending)
            out.grants = try store.liveGrants()
            out.audit = try store.audit(limit: max(1, min(r.limit ?? 2000, 100_000)), after: r.after)
            out.verification = WireVerification(try runningVerification())
        case "audit":
            out.audit = try store.audit(limit: r.limit, after: r.after)
        case "verify":
            out.verification = WireVerification(try fullVerification())
        case "subscribe":
            out.token = try store.changeToken()
        case "handoff":
            // Once, to the requester the kernel names, while the grant lasts: never stored, logged or audited.
            let id = try need(r.target, "target", r.op)
            let now = clock()
            out.credential = handoffs.withLock { h -> String? in
                h = h.filter { $0.value.until > now }
                guard let found = h[id], found.requester == analyst.recordedName else { return nil }
                h[id] = nil
                return found.value
            }
        case "inventory":
            guard let s = await subjects.inventory() else { throw WireError(code: "unavailable", message: "no inventory here", exit: 1) }
            out.version = epoch + s.version
            // A client holding a version of this service's whose changes are kept gets only what changed since.
            if r.since != out.version, r.deltas == true, let since = r.since, since >= epoch, since < out.version!,
                let directory = subjects as? SnapshotDirectory, let d = directory.delta(since: since - epoch)
            {
                out.version = epoch + d.version
                out.deltaSince = since
                out.entities = d.upserts
                out.removed = d.removed
            } else if r.since != out.version {
                out.entities = s.entities.map(\.entity)
            }
        default:
            break
        }
        return out
    }

    /// The audit trail's state: the full check (chain, anchor, every row explained) the first time, then only the
    /// entries appended since, so a change costs O(the change). `verify` runs the full check on demand.
    public func runningVerification() throws(AccessError) -> AuditVerification {
        if let failure = store.anchorFailure.withLock({ $0 }) {
            return AuditVerification(
                entries: verified.withLock { $0?.entries ?? 0 }, problem: "the chain head can no longer be anchored: \(failure)")
        }
        if let v = verified.withLock({ $0 }), v.problem != nil {
            // Broken: said until the head moves, then checked in full again (the next decision may have mended an anchor).
            if try store.head().seq == v.seq { return AuditVerification(entries: v.entries, problem: v.problem) }
            verified.withLock { $0 = nil }
        }
        guard let v = verified.withLock({ $0 }) else {
            // The head first: entries appended during the full check are checked again next time, and counted once.
            let head = try store.head()
            let full = try store.verifyAudit()
            verified.withLock {
                $0 = RunningVerification(
                    seq: head.seq, mac: head.mac, entries: full.ok ? Int(head.seq) : full.entries, problem: full.problem)
            }
            return full
        }
        let step = try store.verifyEntries(after: v.seq, mac: v.mac)
        let next = RunningVerification(seq: step.seq, mac: step.mac, entries: v.entries + step.count, problem: step.problem)
        verified.withLock { $0 = next }
        return AuditVerification(entries: next.entries, problem: next.problem)
    }

    /// The full check on demand, one at a time and kept until the chain's head moves: asking again and again costs
    /// nothing more.
    func fullVerification() throws(AccessError) -> AuditVerification {
        fullCheck.lock()
        defer { fullCheck.unlock() }
        let head = try store.head()
        if let c = lastFull.withLock({ $0 }), c.seq == head.seq, c.mac == head.mac { return c.result }
        let result = try store.verifyAudit()
        lastFull.withLock { $0 = (head.seq, head.mac, result) }
        return result
    }

    /// Caps on what a client may write into the store and the audit log, which keeps everything forever.
    func checkSizes(_ r: WireRequest) throws {
        let limits: [(String, String?, Int)] = [
            ("reason", r.reason, 4096), ("scope", r.scope, 256), ("ticket", r.ticket, 256), ("subject", r.subject, 512),
            ("target", r.target, 128),
        ]
        for (name, value, max) in limits {
            if let v = value, v.utf8.count > max {
                throw WireError(code: "invalid", message: "\(name) is \(v.utf8.count) bytes; at most \(max) are accepted", exit: 2)
            }
        }
    }

    /// Runs the hooks a decision owes (one grant's, or every owed one) and reports what they did.
    func settle(_ grantID: String?, by analyst: Analyst) async -> [WireHook] {
        await settleOwed(only: grantID.map { [$0] }, by: analyst).map {
            WireHook(event: $0.0.actuationEvent ?? "", target: $0.0.id, succeeded: $0.1.succeeded, detail: $0.1.detail)
        }
    }

    /// Runs owed hooks and keeps what each left for the agent that asked, for it alone to collect (`handoff`).
    public func settleOwed(only: Set<String>?, by analyst: Analyst) async -> [(Grant, HookResult)] {
        let done = await HookRunner.settle(store, config: hooks, by: analyst, now: clock(), only: only)
        for (g, result) in done {
            guard let value = result.forAgent, let requestID = g.requestID, let r = try? store.request(id: requestID) else { continue }
            handoffs.withLock { $0[g.id] = Handoff(value: value, requester: r.requester, until: g.expiresAt) }
        }
        return done
    }

    /// What an approve hook left for the agent, held in memory only, until the requester collects it or the grant ends.
    struct Handoff: Sendable {
        var value: String
        var requester: String
        var until: Date
    }
}
