import Foundation
import MCP
import TestSupport
import Testing

@testable import Access
@testable import AccessService
@testable import AgentGateway
@testable import Collectors
@testable import Inventory

/// The gateway in process, against the engine the CLI and the dashboard use, and the demo's simulated agent.
@Suite("Agent gateway in process; the demo's agents ask through it")
struct DemoAgentTests {
    func engine() async throws -> (AccessEngine, SnapshotDirectory) {
        let now = Date()
        let report = try await DemoCollector(seed: 42, size: 300).collect(CollectContext(now: now, run: 0))
        let snapshot = Snapshot.build(version: 1, now: now, slices: [.init(source: "demo", entities: report.entities)])
        let directory = SnapshotDirectory()
        directory.update(snapshot)
        let dir = TestTemporary.directory.appendingPathComponent("tg-gw-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try AccessStore(path: dir.appendingPathComponent("s.db").path)
        return (AccessEngine(store: store, policy: AccessPolicy(), hooks: HookConfig(), subjects: directory), directory)
    }

    @Test("a simulated agent asks, a person approves, the agent holds the grant and then gives it back")
    func demoEpisode() async throws {
        let (engine, _) = try await engine()
        let agent = DemoAgent(engine: engine, timing: .init(firstAfter: 0, every: 3600, holdFor: 0.3, waitFor: 30, poll: 0.05))
        let running = Task { await agent.run() }
        defer { running.cancel() }
        var pending: AccessRequest?
        for _ in 0..<400 where pending == nil {
            pending = try engine.store.requests(state: .pending).first { $0.askedByAgent }
            if pending == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let r = try #require(pending, "the demo's agent asked through the gateway")
        #expect(r.via?.hasPrefix("mcp:host:") == true, "\(r.via ?? "")")
        #expect(r.requester != "presenter", "filed as the agent's owner, who runs it, not as whoever watches")
        let presenter = Analyst(user: "presenter")
        guard
            case .granted(let g) = try engine.store.approve(r.id, reason: "looks right", by: presenter, policy: engine.policy, now: Date())
        else {
            Issue.record("not granted")
            return
        }
        for _ in 0..<400 where !agent.events.withLock({ $0 }).contains("released \(g.id)") {
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(agent.events.withLock { $0 } == ["asked \(r.id)", "approved \(g.id)", "released \(g.id)"])
        let after = try #require(try engine.store.grant(id: g.id))
        #expect(after.state == .revoked)
        #expect(after.endReason?.hasPrefix("released by the agent") == true)
    }

    @Test("in process: unknown tools and missing arguments are protocol errors; an unknown agent is a tool error")
    func errors() async throws {
        let (engine, _) = try await engine()
        let me = Analyst(user: "alice")
        func gateway(_ agent: String) -> AgentGateway {
            AgentGateway(agent: agent) { request throws(AgentGateway.GatewayError) in
                switch await engine.perform(request, by: me) {
                case .success(let r): return r
                case .failure(let e): throw AgentGateway.GatewayError(code: e.code, message: e.message)
                }
            }
        }
        let none: @Sendable (Double, Double?, String) async -> Void = { _, _, _ in }
        await #expect(throws: MCPError.self) { _ = try await gateway("autogen").run("become_root", [:], progress: none) }
        await #expect(throws: MCPError.self) { _ = try await gateway("autogen").run("request_access", ["scope": "x"], progress: none) }
        let unknown = try await gateway("no-such-agent").run("my_access", [:], progress: none)
        #expect(unknown.isError)
        #expect(unknown.text.contains("no agent \\\"no-such-agent\\\" in the inventory"), "\(unknown.text)")
        let byClient = try await gateway("autogen").run("my_access", [:], progress: none)
        #expect(!byClient.isError, "a client name finds that client's agent: \(byClient.text)")
    }

    @Test("what the approve hook leaves the agent goes once, to the requester only, and not after a revoke")
    func handoff() async throws {
        let now = Date()
        let report = try await DemoCollector(seed: 42, size: 300).collect(CollectContext(now: now, run: 0))
        let directory = SnapshotDirectory()
        directory.update(Snapshot.build(version: 1, now: now, slices: [.init(source: "demo", entities: report.entities)]))
        let dir = TestTemporary.directory.appendingPathComponent("tg-handoff-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        chmod(dir.path, 0o755)
        let hook = dir.appendingPathComponent("mint.sh").path
        try "#!/bin/sh\ncat >/dev/null\necho 'TRUSTGAP-FOR-AGENT: lease-' $$\n".write(toFile: hook, atomically: true, encoding: .utf8)
        chmod(hook, 0o755)
        let store = try AccessStore(path: dir.appendingPathComponent("s.db").path)
        let engine = AccessEngine(
            store: store, policy: AccessPolicy(), hooks: HookConfig(commands: ["approve": [hook]]), subjects: directory)
        let alice = Analyst(user: "alice")
        let bob = Analyst(user: "bob")
        let agent = "host:agent/devin/sandbox/tariq-12"
        func ask() async throws -> String {
            let r = try await engine.perform(
                WireRequest(op: "request", subject: agent, scope: "db:read", ttlSeconds: 600, reason: "r", via: "mcp:x"), by: alice
            ).get()
            let id = try #require(r.request?.id)
            let g = try await engine.perform(WireRequest(op: "approve", reason: "ok", target: id), by: bob).get()
            return try #require(g.grant?.id)
        }
        let first = try await ask()
        #expect(
            try await engine.perform(WireRequest(op: "handoff", target: first), by: bob).get().credential == nil, "not to another analyst")
        #expect(
            try await engine.perform(WireRequest(op: "handoff", target: first), by: alice).get().credential?.hasPrefix("lease-") == true)
        #expect(try await engine.perform(WireRequest(op: "handoff", target: first), by: alice).get().credential == nil, "once")
        let second = try await ask()
        _ = try await engine.perform(WireRequest(op: "revoke", reason: "done", target: second), by: alice).get()
        #expect(
            try await engine.perform(WireRequest(op: "handoff", target: second), by: alice).get().credential == nil, "not after a revoke")
        #expect(!(try store.audit().map(\.detail).joined()).contains("lease-"), "never in the audit")
    }
}
