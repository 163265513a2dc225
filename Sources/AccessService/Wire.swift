import Access
import Foundation
import Inventory
import Synchronization

/// The access service's protocol, version 1 (docs/service-protocol.md): UTF-8 JSON, one object per line.
///
/// A client sends intents — what it wants done — never facts about itself: who it is comes from the kernel, and the
/// policy, clock, hooks and inventory are the service's own.
public enum Wire {
    public static let version = 1
    /// The longest request line the service accepts, newline excluded. Replies may be longer (an audit log, an
    /// inventory); the bundled client accepts up to 256 MiB.
    public static let maxLine = 1 << 20

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }()

    /// One line: the value's JSON and a newline.
    public static func line(_ value: some Encodable) -> Data {
        var d =
            (try? encoder.encode(value))
            ?? Data(#"{"v":1,"ok":false,"error":{"code":"internal","message":"unencodable reply","exit":1}}"#.utf8)
        d.append(0x0A)
        return d
    }
}

/// An intent. `op` names it; the other fields are its arguments.
public struct WireRequest: Codable, Sendable, Equatable {
    public var v: Int
    /// Echoed in the reply, so a client can match replies to requests.
    public var id: Int?
    /// hello, request, approve, deny, cancel, extend, revoke, grant, sweep, list, view, audit, verify, subscribe.
    public var op: String
    /// The entity a request or grant is for (request, grant).
    public var subject: String?
    public var scope: String?
    public var ttlSeconds: Double?
    public var reason: String?
    public var ticket: String?
    /// The request or grant acted on (approve, deny, cancel: a request; extend, revoke: a grant).
    public var target: String?
    /// How many audit entries (audit, view).
    public var limit: Int?
    /// The SSH client address the client reports (hello): recorded as claimed, never trusted.
    public var sshClient: String?
    /// The inventory version the client already has (inventory): an unchanged one is not sent again.
    public var since: Int?
    /// The client takes what changed since `since` (inventory): the entities added or changed and the ids removed.
    public var deltas: Bool?
    /// The newest audit entry the client already has (view, audit): only later ones are sent.
    public var after: Int64?
    /// How a request was asked (request): `mcp:AGENT` for the agent gateway. Shown and audited as claimed; the
    /// requester is still whom the kernel names.
    public var via: String?

    enum CodingKeys: String, CodingKey {
        case v, id, op, subject, scope, ttlSeconds = "ttl_seconds", reason, ticket, target, limit, sshClient = "ssh_client", since, after
        case via, deltas
    }

    public init(
        op: String, id: Int? = nil, subject: String? = nil, scope: String? = nil, ttlSeconds: Double? = nil, reason: String? = nil,
        ticket: String? = nil, target: String? = nil, limit: Int? = nil, sshClient: String? = nil, since: Int? = nil, after: Int64? = nil,
        via: String? = nil, deltas: Bool? = nil
    ) {
        self.via = via
        self.deltas = deltas
        self.since = since
        self.after = after
        v = Wire.version
        self.id = id
        self.op = op
        self.subject = subject
        self.scope = scope
        self.ttlSeconds = ttlSeconds
        self.reason = reason
        self.ticket = ticket
        self.target = target
        self.limit = limit
        self.sshClient = sshClient
    }
}

/// Why an intent was not carried out, with the exit code the CLI documents.
public struct WireError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// malformed, too_long, version, unknown_op, invalid, refused, readonly, conflict, not_found, store, unavailable.
    public var code: String
    /// The policy rule, for `refused`.
    public var rule: String?
    public var message: String
    public var exit: Int32

    public init(code: String, rule: String? = nil, message: String, exit: Int32) {
        self.code = code
        self.rule = rule
        self.message = message
        self.exit = exit
    }

    public var description: String { message }

    public init(_ e: AccessError) {
        let code: String
        var rule: String?
        switch e {
        case .invalid: code = "invalid"
        case .refused(let r, _):
            code = "refused"
            rule = r
        case .readonly: code = "readonly"
        case .conflict: code = "conflict"
        case .notFound: code = "not_found"
        case .store: code = "store"
        }
        self.init(code: code, rule: rule, message: e.description, exit: e.exitCode)
    }

    static func malformed(_ m: String) -> WireError { WireError(code: "malformed", message: m, exit: 2) }
}

/// A hook run a decision caused, as the client reports it.
public struct WireHook: Codable, Sendable, Equatable {
    public var event: String
    public var target: String
    public var succeeded: Bool
    public var detail: String
}

public struct WireVerification: Codable, Sendable, Equatable {
    public var entries: Int
    public var problem: String?
    public var ok: Bool { problem == nil }
    public init(_ v: AuditVerification) {
        entries = v.entries
        problem = v.problem
    }
}

/// Who the service says the client is.
public struct WireIdentity: Codable, Sendable, Equatable {
    public var user: String
    public var uid: UInt32
    public var sshClient: String?
    enum CodingKeys: String, CodingKey { case user, uid, sshClient = "ssh_client" }
}

/// What an intent produced; only the fields that apply are present.
public struct WireResult: Codable, Sendable, Equatable {
    public var request: AccessRequest?
    public var grant: Grant?
    public var approvalsLeft: Int?
    public var requests: [AccessRequest]?
    public var grants: [Grant]?
    public var audit: [AuditEntry]?
    public var verification: WireVerification?
    public var hooks: [WireHook]?
    public var you: WireIdentity?
    public var service: String?
    public var token: Int64?
    public var expired: [String]?
    public var lapsed: [String]?
    /// The service's inventory (inventory): every entity, unless `version` is the one the client has; with
    /// `deltaSince`, only the entities added or changed since that version, and `removed` the ids that went.
    public var entities: [Entity]?
    public var version: Int?
    public var deltaSince: Int?
    public var removed: [String]?
    /// The service's own policy, rule thresholds and hook commands (hello): what attached dashboards show before
    /// confirming and score the inventory with, so every screen agrees. Hook environments are never sent.
    public var policy: AccessPolicy?
    public var thresholds: RuleThresholds?
    public var hookCommands: [String: [String]]?
    /// What the approve hook left for the agent (handoff): sent once, to the requester only.
    public var credential: String?

    enum CodingKeys: String, CodingKey {
        case request, grant, approvalsLeft = "approvals_left", requests, grants, audit, verification, hooks, you, service, token
        case expired, lapsed, entities, version, policy, thresholds, hookCommands = "hook_commands", credential
        case deltaSince = "delta_since", removed
    }

    public init() {}
}

/// A reply line.
public struct WireReply: Codable, Sendable {
    public var v: Int = Wire.version
    public var id: Int?
    public var ok: Bool
    public var result: WireResult?
    public var error: WireError?

    public init(id: Int?, _ outcome: Result<WireResult, WireError>) {
        self.id = id
        switch outcome {
        case .success(let r):
            ok = true
            result = r
        case .failure(let e):
            ok = false
            error = e
        }
    }
}

/// A line the service pushes to subscribers: something changed; `token` is the audit head's sequence number.
public struct WireEvent: Codable, Sendable {
    public var v: Int = Wire.version
    /// `change` (the store's head moved to `token`), or `store` (the service lost its store: `problem` says how; or
    /// has it back: no `problem`).
    public var event: String
    public var token: Int64
    public var problem: String?
    public init(event: String, token: Int64, problem: String? = nil) {
        self.event = event
        self.token = token
        self.problem = problem
    }
}

/// A value shared between threads under a lock (a Mutex can't be captured by an escaping closure).
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    public func withLock<R: Sendable>(_ body: (inout sending Value) -> sending R) -> R { mutex.withLock(body) }
}
