import Access
import AccessService
import Foundation
import Inventory
import MCP
import TextSafety

/// The agent gateway: an MCP server through which an AI agent asks for time-bound access itself, and a person
/// decides. Every tool is an intent sent to the same engine as the CLI and the dashboard (the access service when
/// one is configured): who is asking is the OS user the kernel names, the subject is the agent as the inventory
/// knows it, and the agent population's policy applies. The agent never decides anything, and never sees another
/// agent's requests or grants.
public final class AgentGateway: Sendable {
    /// Sends one intent and returns its result; a refusal is thrown as `GatewayError`.
    public typealias Call = @Sendable (WireRequest) async throws(GatewayError) -> WireResult

    /// A refusal or failure, said so a model can read it and a person can act on it.
    public struct GatewayError: Error, Sendable {
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// `--agent`: an inventory id, name, or the AI client's tool name (`claude-code`, `cursor`).
    public let agent: String
    let call: Call
    /// How often a waiting tool looks again; the service pushes changes, but a short poll keeps this simple and bounded.
    let pollSeconds: Double
    let resolved = Locked<(subject: Entity, user: String, policy: AccessPolicy?)?>(nil)

    public init(agent: String, pollSeconds: Double = 0.25, call: @escaping Call) {
        self.agent = agent
        self.call = call
        self.pollSeconds = pollSeconds
    }

    // MARK: Tools

    public static let tools: [Tool] = [
        Tool(
            name: "request_access",
            description: """
                Ask a person for time-bound access to one scope, for the task you are doing now. A security analyst sees \
                the request with your risk and decides; nothing is granted until they approve. Ask for the narrowest scope \
                and the shortest time that will do, with a reason a person can check (a ticket helps). Returns the request \
                id, or the policy rule that refuses it. Then call wait_for_decision.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "scope": [
                        "type": "string",
                        "description": "One scope, ASCII, segments separated by : or / (for example repo:acme/api:write).",
                    ],
                    "ttl": ["type": "string", "description": "How long, as 15m, 1h or 90s; the agent policy caps it."],
                    "reason": ["type": "string", "description": "Why, in a sentence a person can check."],
                    "ticket": ["type": "string", "description": "A ticket or change id, if there is one."],
                ],
                "required": ["scope", "ttl", "reason"],
            ]),
        Tool(
            name: "wait_for_decision",
            description: """
                Wait for a person to decide a request you made. Returns approved (with the grant id, scope and expiry), \
                denied (with the analyst's reason), lapsed (nobody decided in time), or still_pending when the wait ends \
                first; call it again to keep waiting.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "request_id": ["type": "string", "description": "The id request_access returned."],
                    "timeout_seconds": ["type": "integer", "description": "How long to wait, 1 to 600 (default 60)."],
                ],
                "required": ["request_id"],
            ]),
        Tool(
            name: "my_access",
            description: "List the access you hold now: each grant's id, scope and seconds left.",
            inputSchema: ["type": "object", "properties": [:]]),
        Tool(
            name: "release_access",
            description: "Give access back as soon as the task is done: revokes the grant now. Audited as released by you.",
            inputSchema: [
                "type": "object",
                "properties": ["grant_id": ["type": "string", "description": "The grant to give back."]],
                "required": ["grant_id"],
            ]),
        Tool(
            name: "approve_tool_use",
            description: """
                For Claude Code's --permission-prompt-tool: turns a permission prompt into a short request (scope \
                tool:NAME) that a person decides in the trustgap dashboard, and answers allow or deny.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "tool_name": ["type": "string"],
                    "input": ["type": "object"],
                    "tool_use_id": ["type": "string"],
                ],
                "required": ["tool_name", "input"],
            ]),
    ]

    /// What a tool call returns: text (JSON) for the model, and whether it is an error the model should read.
    public struct Answer: Sendable, Equatable {
        public var text: String
        public var isError: Bool
    }

    /// Runs one tool. Unknown tools and missing arguments are protocol errors (`MCPError.invalidParams`); refusals
    /// and failures are tool errors the model can read.
    public func run(_ name: String, _ arguments: [String: Value]?, progress: @escaping @Sendable (Double, Double?, String) async -> Void)
        async throws(MCPError) -> Answer
    {
        let args = arguments ?? [:]
        func string(_ key: String, required: Bool = true) throws(MCPError) -> String? {
            guard let v = args[key] else {
                if required { throw MCPError.invalidParams("\(name) needs \"\(key)\"") }
                return nil
            }
            guard let s = v.stringValue else { throw MCPError.invalidParams("\"\(key)\" must be a string") }
            guard s.utf8.count <= 4096 else { throw MCPError.invalidParams("\"\(key)\" is longer than 4096 bytes") }
            return s
        }
        do {
            switch name {
            case "request_access":
                let scope = try string("scope")!
                let ttl = try string("ttl")!
                let reason = try string("reason")!
                return try await requestAccess(scope: scope, ttl: ttl, reason: reason, ticket: try string("ticket", required: false))
            case "wait_for_decision":
                let id = try string("request_id")!
                let timeout = args["timeout_seconds"].map { $0.intValue ?? Int($0.doubleValue ?? 60) } ?? 60
                return try await waitForDecision(id, timeout: Double(min(600, max(1, timeout))), progress: progress)
            case "my_access":
                return try await myAccess()
            case "release_access":
                return try await release(try string("grant_id")!)
            case "approve_tool_use":
                let tool = try string("tool_name")!
                guard let input = args["input"], input.objectValue != nil else {
                    throw MCPError.invalidParams("\"input\" must be an object")
                }
                return try await approveToolUse(tool: tool, input: input, progress: progress)
            default:
                throw MCPError.invalidParams("Unknown tool: \(String(name.prefix(80)))")
            }
        } catch let e as GatewayError {
            return Answer(text: Self.json(["error": e.code, "message": UnsafeCharacters.clean(e.message)]), isError: true)
        } catch let e as MCPError {
            throw e
        } catch {
            return Answer(text: Self.json(["error": "failed", "message": UnsafeCharacters.clean("\(error)")]), isError: true)
        }
    }

    // MARK: Who is asking

    /// The agent as the inventory knows it, and who the service says we are. Resolved once.
    func identity() async throws(GatewayError) -> (subject: Entity, user: String, policy: AccessPolicy?) {
        if let known = resolved.withLock({ $0 }) { return known }
        let hello = try await call(WireRequest(op: "hello"))
        let user = hello.you?.user ?? "unknown"
        let entities = try await call(WireRequest(op: "inventory")).entities ?? []
        let agents = entities.filter { $0.population == .agent }
        let needle = agent.lowercased()
        let owned = { (e: Entity) in e.owner?.isAnalyst(user) ?? false }
        let match =
            agents.first { $0.id == agent } ?? agents.first { $0.name.lowercased() == needle }
            ?? agents.filter { $0.attributes["tool"]?.lowercased() == needle }.sorted {
                (owned($0) ? 0 : 1, $0.id) < (owned($1) ? 0 : 1, $1.id)
            }
            .first
        guard let match else {
            let near = agents.filter { $0.id.lowercased().contains(needle) || $0.name.lowercased().contains(needle) }.prefix(3).map(\.id)
            throw GatewayError(
                code: "unknown_agent",
                message: "no agent \"\(agent)\" in the inventory" + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?")
                    + " (--agent takes an inventory id, an agent's name, or its client such as claude-code)")
        }
        let found = (subject: match, user: user, policy: hello.policy)
        resolved.withLock { $0 = found }
        return found
    }

    // MARK: The tools

    func requestAccess(scope: String, ttl: String, reason: String, ticket: String?) async throws(GatewayError) -> Answer {
        let me = try await identity()
        let seconds: Double
        do { seconds = try DurationText.seconds(ttl) } catch {
            throw GatewayError(code: "invalid", message: "ttl: \(error.description) (write it as 15m, 1h or 90s)")
        }
        let r = try await call(
            WireRequest(
                op: "request", subject: me.subject.id, scope: scope, ttlSeconds: seconds, reason: reason, ticket: ticket,
                via: "mcp:\(agent)"))
        guard let req = r.request else { throw GatewayError(code: "failed", message: "the service sent no request back") }
        let needed = me.policy?.approvalsNeeded(.agent, scope: scope) ?? 1
        var owner = ""
        if let o = me.subject.owner { owner = " or \(o.name), who owns \(me.subject.name)" }
        return Answer(
            text: Self.json([
                "request_id": req.id, "state": req.state.rawValue, "scope": req.scope, "ttl_seconds": Int(req.ttlSeconds),
                "approvals_needed": needed, "who_may_approve": "an analyst other than \(me.user)\(owner)",
                "flagged": req.flags.filter { !$0.hasPrefix("risk ") },
                "lapses_at": AccessStore.when(req.lapsesAt),
                "next": "call wait_for_decision with this request_id",
            ]), isError: false)
    }

    /// The request, if it is this agent's.
    func ownRequest(_ id: String) async throws(GatewayError) -> (AccessRequest, [Grant]) {
        let me = try await identity()
        let list = try await call(WireRequest(op: "list", target: id))
        guard let r = list.requests?.first(where: { $0.id == id }), r.subject == me.subject.id else {
            throw GatewayError(code: "not_found", message: "no request \(id) from this agent")
        }
        return (r, list.grants ?? [])
    }

    func waitForDecision(_ id: String, timeout: Double, progress: @escaping @Sendable (Double, Double?, String) async -> Void)
        async throws(GatewayError) -> Answer
    {
        let started = Date()
        var tick = 0.0
        while true {
            let (r, grants) = try await ownRequest(id)
            switch r.state {
            case .approved:
                guard let g = grants.first(where: { $0.id == r.grantID }) else { break }
                // The approve hook may still be minting what it leaves the agent: wait for it, within the timeout.
                if g.actuation == .pending, Date().timeIntervalSince(started) < timeout {
                    try? await Task.sleep(for: .milliseconds(Int(pollSeconds * 1000)))
                    continue
                }
                // What the approve hook minted for this agent, if it left anything: handed over once, never logged.
                var extra: [String: any Sendable] = [:]
                if let credential = (try? await call(WireRequest(op: "handoff", target: g.id)))?.credential {
                    extra["credential"] = credential
                    extra["credential_note"] = "from the approve hook, for this grant only; trustgap keeps no copy"
                }
                return Answer(
                    text: Self.json(
                        extra.merging([
                            "decision": "approved", "grant_id": g.id, "scope": g.scope, "expires_at": AccessStore.when(g.expiresAt),
                            "seconds_left": Int(g.remaining(at: Date())), "approved_by": g.approvers.joined(separator: ", "),
                            "actuation": g.actuation.rawValue,
                            "next": "do the task, then call release_access with this grant_id",
                        ]) { $1 }), isError: false)
            case .denied:
                return Answer(
                    text: Self.json([
                        "decision": "denied", "by": r.decidedBy ?? "", "reason": UnsafeCharacters.clean(r.decisionReason ?? ""),
                    ]), isError: false)
            case .lapsed, .cancelled:
                return Answer(text: Self.json(["decision": r.state.rawValue]), isError: false)
            case .pending:
                break
            }
            let waited = Date().timeIntervalSince(started)
            if waited >= timeout {
                return Answer(
                    text: Self.json([
                        "decision": "still_pending", "approvals_so_far": r.approvals.count, "waited_seconds": Int(waited),
                        "next": "call wait_for_decision again to keep waiting",
                    ]), isError: false)
            }
            if waited >= tick {
                tick += 5
                await progress(waited, timeout, "waiting for a person to decide \(id) (\(r.approvals.count) approval(s) so far)")
            }
            try? await Task.sleep(for: .milliseconds(Int(pollSeconds * 1000)))
            if Task.isCancelled { throw GatewayError(code: "cancelled", message: "the wait was cancelled") }
        }
    }

    func myAccess() async throws(GatewayError) -> Answer {
        let me = try await identity()
        let now = Date()
        let mine = (try await call(WireRequest(op: "list")).grants ?? []).filter {
            $0.subject == me.subject.id && $0.state == .active && $0.expiresAt > now
        }
        let list: [[String: any Sendable]] = mine.map {
            [
                "grant_id": $0.id, "scope": $0.scope, "seconds_left": Int($0.remaining(at: now)),
                "expires_at": AccessStore.when($0.expiresAt),
            ]
        }
        return Answer(text: Self.json(["agent": me.subject.name, "grants": list]), isError: false)
    }

    func release(_ id: String) async throws(GatewayError) -> Answer {
        let me = try await identity()
        let grants = try await call(WireRequest(op: "list", target: id)).grants ?? []
        guard let g = grants.first(where: { $0.id == id }), g.subject == me.subject.id else {
            throw GatewayError(code: "not_found", message: "no grant \(id) held by this agent")
        }
        let r = try await call(WireRequest(op: "revoke", reason: "released by the agent \(agent) when its task was done", target: id))
        return Answer(text: Self.json(["released": id, "state": r.grant?.state.rawValue ?? "revoked"]), isError: false)
    }

    /// Claude Code's permission prompt as a request decided by a person. The answer is the JSON text Claude Code
    /// expects: `{"behavior":"allow","updatedInput":{…}}` or `{"behavior":"deny","message":"…"}`.
    func approveToolUse(tool: String, input: Value, progress: @escaping @Sendable (Double, Double?, String) async -> Void)
        async throws(GatewayError) -> Answer
    {
        let summary = UnsafeCharacters.clean(Self.summarise(input))
        let scope =
            "tool:"
            + String(
                tool.unicodeScalars.filter {
                    ($0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil)) || "_-.".unicodeScalars.contains($0)
                }.prefix(120).map(Character.init))
        func deny(_ message: String) -> Answer { Answer(text: Self.json(["behavior": "deny", "message": message]), isError: false) }
        let filed: Answer
        do { filed = try await requestAccess(scope: scope, ttl: "5m", reason: "\(tool): \(summary)", ticket: nil) } catch {
            return deny("refused: \(error.message)")
        }
        guard let id = Self.field(filed.text, "request_id") else { return deny("the request was not filed") }
        let decided = try await waitForDecision(id, timeout: 300, progress: progress)
        switch Self.field(decided.text, "decision") {
        case "approved": return Answer(text: Self.json(["behavior": "allow", "updatedInput": input]), isError: false)
        case "denied":
            return deny("denied by \(Self.field(decided.text, "by") ?? "an analyst"): \(Self.field(decided.text, "reason") ?? "")")
        case let other: return deny("not approved (\(other ?? "no decision")) in trustgap request \(id)")
        }
    }

    /// A tool input in one short line, for a person to read: keys and values, cut at 200 characters.
    static func summarise(_ input: Value) -> String {
        let text: String
        if let data = try? JSONEncoder().encode(input) { text = String(decoding: data, as: UTF8.self) } else { text = "\(input)" }
        return text.count > 200 ? String(text.prefix(197)) + "..." : text
    }

    static func field(_ json: String, _ key: String) -> String? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        return o[key].map { "\($0)" }
    }

    /// Sorted-key JSON text; `Value`s are written as the JSON they are.
    static func json(_ object: [String: any Sendable]) -> String {
        func plain(_ v: any Sendable) -> Any {
            if let v = v as? Value, let d = try? JSONEncoder().encode(v),
                let o = try? JSONSerialization.jsonObject(with: d, options: .fragmentsAllowed)
            {
                return o
            }
            if let a = v as? [[String: any Sendable]] { return a.map { $0.mapValues(plain) } }
            return v
        }
        let data =
            (try? JSONSerialization.data(withJSONObject: object.mapValues(plain), options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Serving

    /// Serves the tools over a transport until the client goes away (stdin closes).
    public func serve(_ transport: any Transport) async throws {
        let server = Server(
            name: "trustgap", version: "1", title: "trustgap agent gateway",
            instructions: "Ask for time-bound access with request_access, wait with wait_for_decision, give it back with release_access.",
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: Self.tools) }
        await server.withMethodHandler(CallTool.self) { [self] params in
            let token = params._meta?.progressToken
            let answer = try await run(params.name, params.arguments) { done, total, message in
                guard let token else { return }
                try? await server.notify(
                    ProgressNotification.message(.init(progressToken: token, progress: done, total: total, message: message)))
            }
            return .init(content: [.text(text: answer.text, annotations: nil, _meta: nil)], isError: answer.isError)
        }
        try await server.start(transport: transport)
        await server.waitUntilCompleted()
    }
}
