import Access
import AccessService
import Foundation
import Inventory
import MCP

/// The demo's agents asking for access themselves, through the same gateway an AI client uses: a simulated agent
/// files a request (as its owner, who runs it: a reported name, not a login), waits for a person to decide, holds the
/// grant for a while, then gives it back. A walkthrough shows an agent asking, someone deciding, and the agent
/// receiving and releasing access.
///
/// Only the built-in demo runs it, on the analyst's personal store: the owners it acts as are the demo's people.
public final class DemoAgent: Sendable {
    public struct Timing: Sendable {
        /// The first request comes this long after the inventory is there.
        public var firstAfter: Double
        /// Then one more, this long after the last one was decided (or lapsed, or released).
        public var every: Double
        /// How long an approved agent works before giving access back.
        public var holdFor: Double
        /// How long it waits for a decision before asking again.
        public var waitFor: Double
        public var poll: Double

        public init(firstAfter: Double = 20, every: Double = 120, holdFor: Double = 90, waitFor: Double = 600, poll: Double = 1) {
            self.firstAfter = firstAfter
            self.every = every
            self.holdFor = holdFor
            self.waitFor = waitFor
            self.poll = poll
        }

        /// The demo's pace (`--demo-speed`): every wait divided by `speed`.
        public init(speed: Double) {
            self.init(firstAfter: 20 / speed, every: 120 / speed, holdFor: 90 / speed, waitFor: 600 / speed)
        }
    }

    /// What the demo's agents ask for, and why: ordinary work, each within the agent policy.
    static let asks: [(scope: String, reason: String)] = [
        ("repo:acme/api:write", "open a PR fixing the flaky auth test (ticket ENG-4121)"),
        ("db:analytics-replica:read", "answer a support question about last week's failed payments"),
        ("s3:prod-exports:read", "summarise yesterday's export for the finance report"),
        ("k8s:staging:deploy", "roll out the staging build the team just merged"),
    ]

    let engine: AccessEngine
    let timing: Timing
    /// Who really runs the demo's agents (the dashboard's user): named in every audit entry they cause.
    let host: Analyst
    /// Every step, for tests and the log: "asked req-…", "approved gr-…", "released gr-…".
    public let events = Locked<[String]>([])

    public init(engine: AccessEngine, timing: Timing = Timing(), host: Analyst = .current()) {
        self.engine = engine
        self.timing = timing
        self.host = host
    }

    /// Runs until cancelled.
    public func run() async {
        guard let first = await engine.subjects.inventory() else { return }
        var n = 0
        var snapshot = first
        if !(await sleep(timing.firstAfter)) { return }
        while !Task.isCancelled {
            snapshot = await engine.subjects.inventory() ?? snapshot
            await episode(n, in: snapshot)
            n += 1
            if !(await sleep(timing.every)) { return }
        }
    }

    func sleep(_ seconds: Double) async -> Bool {
        do {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return true
        } catch { return false }
    }

    /// The agents that can ask: sanctioned, owned by someone still here, so the walkthrough's first ask is an
    /// ordinary one (shadow agents show their flags when they ask).
    static func candidates(_ s: Snapshot) -> [AssessedEntity] {
        s.entities.filter { a in
            a.entity.population == .agent && a.entity.owner?.status == .active && a.entity.signals.sanctioned != false
        }
    }

    func episode(_ n: Int, in snapshot: Snapshot) async {
        let agents = Self.candidates(snapshot)
        guard !agents.isEmpty, let owner = agents[n % agents.count].entity.owner else { return }
        let agent = agents[n % agents.count].entity
        // The owner's name is the demo's, not a login: the audit log marks it and names who ran the agent.
        let runBy = Analyst.reported(owner.name, by: "the demo's simulated agent, run by \(host)")
        let engine = self.engine
        let gateway = AgentGateway(agent: agent.id, pollSeconds: timing.poll) { request throws(AgentGateway.GatewayError) in
            switch await engine.perform(request, by: runBy) {
            case .success(let r): return r
            case .failure(let e): throw AgentGateway.GatewayError(code: e.code, message: e.message)
            }
        }
        let ask = Self.asks[n % Self.asks.count]
        let noProgress: @Sendable (Double, Double?, String) async -> Void = { _, _, _ in }
        guard
            let filed = try? await gateway.run(
                "request_access", ["scope": .string(ask.scope), "ttl": "15m", "reason": .string(ask.reason)], progress: noProgress),
            !filed.isError, let id = AgentGateway.field(filed.text, "request_id")
        else { return }
        events.withLock { $0.append("asked \(id)") }
        // It keeps waiting on the one request until someone decides or it lapses: an agent never piles up asks.
        var decided: AgentGateway.Answer?
        repeat {
            decided = try? await gateway.run(
                "wait_for_decision", ["request_id": .string(id), "timeout_seconds": .int(max(1, Int(timing.waitFor)))],
                progress: noProgress)
        } while !Task.isCancelled && decided.map { AgentGateway.field($0.text, "decision") == "still_pending" } == true
        guard let decided, AgentGateway.field(decided.text, "decision") == "approved",
            let grant = AgentGateway.field(decided.text, "grant_id")
        else {
            events.withLock { $0.append("no grant for \(id)") }
            return
        }
        events.withLock { $0.append("approved \(grant)") }
        if !(await sleep(timing.holdFor)) { return }
        if let released = try? await gateway.run("release_access", ["grant_id": .string(grant)], progress: noProgress), !released.isError {
            events.withLock { $0.append("released \(grant)") }
        }
    }
}
