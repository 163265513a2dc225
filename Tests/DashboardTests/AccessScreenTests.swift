import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Dashboard
@testable import Inventory
@testable import Terminal

@Suite("Access from the keyboard (in-memory terminal, real store)")
struct AccessScreenTests {
    func setUp(readonly: Bool = false, hooks: HookConfig = HookConfig()) async throws -> (App, MemoryTerminal, AccessStore) {
        try await demoDesk(width: 100, height: 30, readonly: readonly, hooks: hooks)
    }

    @Test("a opens a confirmation naming subject, scope and TTL with Cancel focused; Enter there cancels")
    func cancelIsFocused() async throws {
        let (app, t, store) = try await setUp(
            hooks: HookConfig(commands: ["approve": ["/opt/trustgap/hooks/grant.sh", "--mode", "approve"]]))
        app.press(.character("6"), on: t)
        #expect(t.row(3).hasPrefix("  PENDING"))
        app.press(.character("a"), on: t)
        let screen = t.text
        #expect(screen.contains("Approve request req-"))
        let first = try #require(try store.requests(state: .pending).sorted { $0.createdAt < $1.createdAt }.first)
        #expect(screen.contains("subject    \(first.subjectName) (\(first.population.rawValue))"))
        #expect(screen.contains("scope      \(first.scope)"))
        #expect(screen.contains("TTL:    \(DurationText.format(min(first.ttlSeconds, AccessPolicy()[first.population].maxTTLSeconds)))_"))
        #expect(screen.contains("runs: /opt/trustgap/hooks/grant.sh --mode approve  < grant.json"))
        app.type("ok", on: t) // typed into TTL: "30mok" — then fixed below
        app.press(.control("u"), on: t)
        app.type("30m", on: t)
        app.press(.enter, on: t)
        app.type("ship it", on: t)
        app.press(.enter, on: t)
        #expect(t.text.contains("[ Cancel ]"), "after the last field the focus is on Cancel")
        app.press(.enter, on: t)
        #expect(app.state.mode == .normal)
        #expect(try store.grants().isEmpty, "Cancel did nothing")
    }

    @Test("approve from the keyboard creates the grant; the Access panel shows its countdown")
    func approve() async throws {
        let (app, t, store) = try await setUp()
        app.press(.character("6"), .character("a"), .enter, on: t)
        app.type("reviewed", on: t)
        app.press(.enter, .right, .enter, on: t)
        await app.settleAccess(on: t)
        #expect(app.state.mode == .normal, "\(t.text)")
        let grants = try store.grants()
        #expect(grants.count == 1)
        #expect(grants[0].approvers == ["alice"])
        #expect(t.row(28).contains("Approved: \(grants[0].subjectName) \(grants[0].scope) for "))
        #expect(t.row(3).hasPrefix("+ APPROVED"), "the grant just approved is on top: \(t.row(3))")
        #expect(t.text.contains(AccessTable.countdown(grants[0].expiresAt.timeIntervalSince(now))))
    }

    @Test("a refusal keeps the dialog open, says which rule refused, and puts the focus on the TTL to fix")
    func refusal() async throws {
        let (app, t, store) = try await setUp()
        app.press(.character("6"), on: t)
        // Pick an agent's request: agents may hold access for at most 1h.
        let rows = try #require(app.state.rows[.access])
        let table = try #require(TableModels.model(for: .access, state: app.state) as? AccessTable)
        let agentRow = try #require(
            rows.firstIndex { r in if case .request(let q) = table.rows[r] { return q.population == .agent } else { return false } })
        app.press(.character("g"), on: t)
        for _ in 0..<agentRow { app.press(.character("j"), on: t) }
        app.press(.character("a"), on: t)
        app.press(.control("u"), on: t)
        app.type("3h", on: t)
        app.press(.enter, on: t)
        app.type("too long", on: t)
        app.press(.enter, .right, .enter, on: t)
        await app.settleAccess(on: t)
        guard case .dialog = app.state.mode else {
            Issue.record("dialog closed")
            return
        }
        #expect(t.text.contains("refused by policy (max_ttl): agents may hold access for at most 1h; asked for 3h"))
        #expect(try store.grants().isEmpty)
        guard case .dialog(let d) = app.state.mode else { return }
        #expect(d.focus == 0, "the TTL field has the focus, not the button")
        app.type("1", on: t)
        guard case .dialog(let typed) = app.state.mode else { return }
        #expect(typed.value("TTL") == "1", "the first key replaced the refused value")
    }

    @Test("Space marks grants and one r revokes them all after typing the count")
    func bulkRevoke() async throws {
        let (app, t, store) = try await setUp()
        let ctl = try #require(app.access)
        for i in 0..<3 {
            let e = app.state.snapshot.entities[app.state.populationIndex[.device]![i]].entity
            _ = try store.directGrant(
                subject: Subject(id: e.id, name: e.name, population: .device), scope: "vpn:prod", ttlSeconds: 3600,
                reason: "r", by: Analyst(user: "bob"), policy: AccessPolicy(), now: now)
        }
        app.receive(await ctl.view())
        app.press(.character("6"), .character("G"), on: t)
        app.press(.character("k"), .character("k"), on: t)
        app.press(.character(" "), .character(" "), .character(" "), on: t)
        #expect(app.state.marked.count == 3)
        app.press(.character("r"), on: t)
        #expect(t.text.contains("Revoke 3 marked grants"))
        app.type("2", on: t)
        app.press(.enter, on: t)
        app.type("offboarding", on: t)
        app.press(.enter, .right, .enter, on: t)
        await app.settleAccess(on: t)
        #expect(t.text.contains("Type 3 to confirm"))
        #expect(try store.grants(state: .active).count == 3)
        app.press(.control("u"), on: t)
        app.type("3", on: t)
        app.press(.tab, .tab, .right, .enter, on: t)
        await app.settleAccess(on: t)
        #expect(try store.grants(state: .revoked).count == 3, "\(t.text)")
        #expect(app.state.marked.isEmpty)
    }

    @Test("n grants time-bound access to the selected entity from any panel")
    func directGrant() async throws {
        let (app, t, store) = try await setUp()
        app.press(.character("3"), .character("n"), on: t)
        #expect(t.text.contains("Grant time-bound access"))
        app.type("vpn:prod", on: t)
        app.press(.enter, .enter, on: t)
        app.type("travel", on: t)
        app.press(.enter, .right, .enter, on: t)
        await app.settleAccess(on: t)
        let g = try #require(try store.grants().first)
        #expect(g.population == .device)
        #expect(g.scope == "vpn:prod")
    }

    @Test("read-only hides the actions and refuses them")
    func readonly() async throws {
        let (app, t, store) = try await setUp(readonly: true)
        app.press(.character("6"), on: t)
        #expect(!t.row(28).contains("a approve"))
        #expect(t.row(29).contains("READ-ONLY"))
        app.press(.character("a"), on: t)
        #expect(app.state.mode == .normal)
        #expect(t.row(28).contains("Read-only mode"))
        #expect(try store.grants().isEmpty)
    }

    @Test("the Audit panel shows decisions newest first and whether the chain verifies")
    func auditPanel() async throws {
        let (app, t, _) = try await setUp()
        app.press(.character("6"), .character("d"), on: t)
        app.type("not now", on: t)
        app.press(.enter, .right, .enter, on: t)
        await app.settleAccess(on: t)
        app.tick(now: now.addingTimeInterval(10))
        app.press(.character("7"), on: t)
        #expect(t.row(3).contains("alice"))
        #expect(t.row(3).contains("deny"))
        #expect(t.row(28).contains("chain ok: 6 entries verified"))
    }

    @Test("without the TTL asked (a grant from before it was kept), the suggested extension is an hour beyond what is left")
    func extendDefault() {
        #expect(App.extendDefault(left: 2 * 3600, max: 8 * 3600) == 3 * 3600)
        #expect(App.extendDefault(left: 1799.5, max: 3600) == 3600)
        #expect(App.extendDefault(left: 600, max: 8 * 3600) == 4200)
    }
}
