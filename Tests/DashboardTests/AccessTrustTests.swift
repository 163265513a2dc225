import AccessService
import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Dashboard
@testable import Inventory
@testable import Terminal

/// Issue 14, item 4: decisions show what is trusted. A small inventory whose every subject is known, a real store, and
/// the dashboard on an in-memory terminal, acting as alice.
struct TrustDesk {
    let app: App
    let t: MemoryTerminal
    let store: AccessStore
    let controller: AccessController
    /// Oldest first: hana's write (asked by nina.vega), the deployer's iam:admin (carol; bob owns it), alice's own vpn,
    /// hana's k8s:prod:admin (filed under a policy that allowed it), the wiki's edit (dave, 45m).
    let requests: [AccessRequest]

    static let hana = "host:agent/cursor/github/hana"
    static let deployer = "aws:iam:user/deployer"

    static func inventory() -> Snapshot {
        var hana = entity(hana, name: "cursor-mcp-hana")
        hana.owner = Owner(name: "nina.vega", status: .departed)
        hana.signals = Signals(sanctioned: false)
        hana.credentials = [Credential(id: "k", kind: .accessKey, createdAt: now.addingTimeInterval(-86_400), exposures: ["in mcp.json"])]
        var deployer = entity(deployer, name: "deployer", population: .serviceAccount)
        deployer.kind = "iam_user"
        let laptop = entity("mdm:device/laptop-1", name: "laptop-1", population: .device)
        let wiki = entity("okta:app/wiki", name: "wiki", population: .app)
        return Snapshot.build(version: 1, now: now, slices: [.init(source: "test", entities: [hana, deployer, laptop, wiki])])
    }

    init(width: Int, height: Int) async throws {
        let snap = Self.inventory()
        let dir = TestTemporary.directory.appendingPathComponent("tg-trust-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try AccessStore(path: dir.appendingPathComponent("t.db").path)
        let lax = AccessPolicy(populations: [.agent: PopulationPolicy(maxTTLSeconds: 3600)])
        let asks: [(String, String, String, Double)] = [
            (Self.hana, "repo:acme/api:write", "nina.vega", 1800), (Self.deployer, "iam:admin", "carol", 7200),
            ("mdm:device/laptop-1", "vpn:prod", "alice", 3600), (Self.hana, "k8s:prod:admin", "nina.vega", 1800),
            ("okta:app/wiki", "wiki:edit", "dave", 2700),
        ]
        var filed: [AccessRequest] = []
        for (i, (subject, scope, requester, ttl)) in asks.enumerated() {
            var s = Subject(try #require(snap[subject]))
            if subject == Self.deployer { s.owner = Owner(name: "bob") }
            filed.append(
                try store.file(
                    subject: s, scope: scope, ttlSeconds: ttl, reason: "task \(i)", by: Analyst(user: requester), policy: lax,
                    now: now.addingTimeInterval(Double(i - 10) * 60)))
        }
        requests = filed
        (app, t) = makeApp(snap, width: width, height: height)
        let me = Analyst(user: "alice")
        app.configure(theme: .builtinDefault, colorDepth: .indexed256, unicode: true, readonly: false, analyst: me)
        controller = AccessController(store: store, policy: AccessPolicy(), hooks: HookConfig(), analyst: me, clock: { now })
        app.configureAccess(controller, policy: AccessPolicy(), hooks: HookConfig())
        app.receive(await controller.view())
        app.press(.character("6"), on: t)
    }

    /// Reads the store again, as the change feed would.
    func refresh() async {
        app.receive(await controller.view())
        t.draw(app.render())
    }

    var dialog: Dialog? { if case .dialog(let d) = app.state.mode { d } else { nil } }
    var dialogText: String { dialog.map { d in d.lines.map { $0.text(at: app.state.now) }.joined(separator: "\n") } ?? "" }

    /// Puts the cursor on a row by id.
    func select(_ id: String) throws {
        let rows = try #require(app.state.rows[.access])
        let m = try #require(TableModels.model(for: .access, state: app.state) as? AccessTable)
        let at = try #require(rows.firstIndex { m.id($0) == id })
        app.press(.character("g"), on: t)
        for _ in 0..<at { app.press(.character("j"), on: t) }
    }

    /// Types a reason and sends the dialog: Enter past the TTL, the reason, Enter to Cancel, Right to the action, Enter.
    func confirm(reason: String) async {
        app.press(.enter, on: t)
        app.type(reason, on: t)
        app.press(.enter, .right, .enter, on: t)
        await app.settleAccess(on: t)
    }
}

@Suite("Decisions show what is trusted (in-memory terminal, real store)")
struct AccessTrustTests {
    @Test("80×24: each row has the subject's population and risk; /agent keeps the agents' rows")
    func narrow() async throws {
        let desk = try await TrustDesk(width: 80, height: 24)
        let t = desk.t
        let hana = try #require(desk.app.state.snapshot[TrustDesk.hana]?.risk)
        let deployer = try #require(desk.app.state.snapshot[TrustDesk.deployer]?.risk)
        #expect(t.row(2) == "  STATE▲     POP     SUBJECT         SCOPE          TTL/LEFT RISK     WHO       ")
        #expect(t.row(3) == "  PENDING    agent   cursor-mcp-hana repo:acme/ap…       30m CRIT \(hana)… nina.vega ")
        #expect(t.row(4) == "  PENDING    svc ac… deployer        iam:admin            2h ok \(deployer)     carol     ")
        #expect(t.row(5).hasPrefix("  PENDING    device  laptop-1        vpn:prod             1h MED "))
        #expect(t.row(6).hasPrefix("  PENDING    agent   cursor-mcp-hana k8s:prod:adm…       30m CRIT "))
        #expect(t.row(7).hasPrefix("  PENDING    app     wiki            wiki:edit           45m MED "))
        desk.app.press(.character("/"), on: t)
        desk.app.type("agent", on: t)
        desk.app.press(.enter, on: t)
        #expect(desk.app.state.rows[.access]?.count == 2)
        #expect(t.row(3).hasPrefix("  PENDING    agent   cursor-mcp-hana repo:acme/ap…"))
        #expect(t.row(4).hasPrefix("  PENDING    agent   cursor-mcp-hana k8s:prod:adm…"))
        #expect(t.row(5).trimmingCharacters(in: .whitespaces).isEmpty)
    }

    @Test("200×50: a request shows the subject's risk, shadow status, exposed secret and departed owner")
    func wide() async throws {
        let desk = try await TrustDesk(width: 200, height: 50)
        let t = desk.t
        let risk = try #require(desk.app.state.snapshot[TrustDesk.hana]?.risk)
        let (r0, r1) = (desk.requests[0].id, desk.requests[1].id)
        #expect(
            t.row(2)
                == "  STATE▲       POP      SUBJECT                SCOPE                 TTL/LEFT RISK" + String(repeating: " ", count: 42)
                + "WHO                  ID             REASON" + String(repeating: " ", count: 34))
        #expect(
            t.row(3)
                == "  PENDING      agent    cursor-mcp-hana        repo:acme/api:write        30m "
                + "CRIT \(risk), SHADOW, EXPOSED, nina.vega (left)    nina.vega            \(r0) waiting 10m: task 0"
                + String(repeating: " ", count: 21))
        #expect(t.row(4).hasPrefix("  PENDING      svc acct deployer               iam:admin                   2h ok "))
        #expect(t.row(4).hasSuffix("carol                \(r1) waiting 9m: task 1" + String(repeating: " ", count: 22)))
        #expect(t.row(7).hasPrefix("  PENDING      app      wiki "))
    }

    @Test("the approve dialog's verdict before confirming: self-approval, two-person and forbidden scopes")
    func verdicts() async throws {
        let desk = try await TrustDesk(width: 80, height: 24)
        let (app, t) = (desk.app, desk.t)
        // Alice's own request: nothing to confirm; Close is focused, and the next key acts in the panel.
        try desk.select(desk.requests[2].id)
        app.press(.character("a"), on: t)
        #expect(desk.dialog?.closed == true)
        #expect(desk.dialogText.contains("verdict    refused by policy (no_self_approval): you may not approve your own request"))
        #expect(desk.dialogText.contains("approvers  any analyst except you (asked for it)"))
        #expect(t.text.contains("[ Close ]"))
        #expect(!t.text.contains("TTL:"), "no fields to fill in")
        app.press(.character("k"), on: t)
        #expect(app.state.mode == .normal)
        #expect(app.state.tables[.access]?.selectedID == desk.requests[1].id, "k closed the dialog and moved up")

        // iam:admin needs two approvals: alice's records the first.
        app.press(.character("a"), on: t)
        #expect(desk.dialog?.closed == false)
        #expect(
            desk.dialogText.contains(
                "verdict    needs 2 approvals: 0 so far; yours records approval 1 of 2, then 1 more from another analyst (two-person rule)")
        )
        #expect(desk.dialogText.contains("approvers  any analyst except carol (asked for it), bob (owns the subject)"))
        #expect(t.text.contains("│ verdict    needs 2 approvals: 0 so far; yours records approval 1 of 2,   │"))
        #expect(t.text.contains("│ then 1 more from another analyst (two-person rule)                       │"))
        await desk.confirm(reason: "reviewed")
        #expect(t.row(22).contains("Approval recorded; 1 more needed from another analyst"))
        app.press(.character("a"), on: t)
        #expect(desk.dialog?.closed == true)
        #expect(
            desk.dialogText.contains(
                "verdict    needs 2 approvals: 1 so far (alice); refused by policy (two_person): you approved it already"))
        #expect(
            desk.dialogText.contains("approvers  any analyst except carol (asked for it), bob (owns the subject), you (approved already)"))
        app.press(.escape, on: t)

        // An agent may never hold k8s:prod:admin: the dialog says what the store would.
        try desk.select(desk.requests[3].id)
        app.press(.character("a"), on: t)
        let refusal = try #require(AccessPolicy().approvalVerdict(desk.requests[3], by: Analyst(user: "alice")).refusal)
        #expect(throws: refusal) {
            try desk.store.approve(desk.requests[3].id, reason: "r", by: Analyst(user: "alice"), policy: AccessPolicy(), now: now)
        }
        #expect(desk.dialog?.closed == true)
        #expect(desk.dialogText.contains("verdict    needs 2 approvals: 0 so far; " + refusal.description))
        #expect(refusal.description.hasPrefix("refused by policy (forbidden_scopes): agents may never hold k8s:prod:admin"))
        #expect(t.text.contains("│ verdict    needs 2 approvals: 0 so far; refused by policy                │"))
        #expect(t.text.contains("│ (forbidden_scopes): agents may never hold k8s:prod:admin (matches        │"))
        #expect(t.text.contains("[ Close ]"))
        app.press(.enter, on: t)
        #expect(app.state.mode == .normal)
        #expect(try desk.store.grants().isEmpty)
    }

    @Test("an approval that grants says so; the grant is then on top, marked, and the cursor goes on to the next request")
    func justApproved() async throws {
        let desk = try await TrustDesk(width: 80, height: 24)
        let (app, t) = (desk.app, desk.t)
        // Another analyst's grant, older: below the pending requests.
        let other = try desk.store.directGrant(
            subject: Subject(id: "okta:app/wiki", name: "wiki", population: .app), scope: "wiki:read", ttlSeconds: 1200, reason: "r",
            by: Analyst(user: "bob"), policy: AccessPolicy(), now: now)
        await desk.refresh()
        try desk.select(desk.requests[0].id)
        app.press(.character("a"), on: t)
        #expect(desk.dialogText.contains("verdict    your approval grants it"))
        #expect(desk.dialogText.contains("approvers  any analyst except nina.vega (asked for it)"))
        await desk.confirm(reason: "ok")
        let g = try #require(try desk.store.grants().first { $0.requestID == desk.requests[0].id })
        #expect(t.row(3).hasPrefix("+ APPROVED   agent   cursor-mcp-hana repo:acme/ap…    30m00s CRIT"), "\(t.row(3))")
        #expect(t.row(3).hasSuffix(" alice     "))
        #expect(t.row(4).hasPrefix("  PENDING    svc ac… deployer"))
        #expect(app.state.tables[.access]?.selectedID == desk.requests[1].id, "on to the next request")
        #expect(t.row(8).hasPrefix("  ACTIVE     app     wiki            wiki:read        20m00s"), "someone else's grant is not pinned")
        // Five minutes on, it takes its place among the grants again.
        app.tick(now: now.addingTimeInterval(App.recentWindow))
        t.draw(app.render())
        #expect(t.row(3).hasPrefix("  PENDING    svc ac… deployer"))
        let rows = try #require(app.state.rows[.access])
        let m = try #require(TableModels.model(for: .access, state: app.state) as? AccessTable)
        #expect(rows.map { m.id($0) }.suffix(2) == [other.id, g.id], "by expiry: the 20m grant, then the 30m one")
        #expect(t.row(7).hasPrefix("  ACTIVE     app     wiki            wiki:read        15m00s"), "\(t.row(7))")
        #expect(t.row(8).hasPrefix("  ACTIVE     agent   cursor-mcp-hana repo:acme/ap…    25m00s CRIT"), "\(t.row(9))")
    }

    @Test("after a lost race the dialog closes for good: Close focused, the reason shown, and the next key acts in the panel")
    func lostRace() async throws {
        let desk = try await TrustDesk(width: 80, height: 24)
        let (app, t) = (desk.app, desk.t)
        let wiki = desk.requests[4]
        try desk.select(wiki.id)
        app.press(.character("a"), on: t)
        _ = try desk.store.deny(wiki.id, reason: "no", by: Analyst(user: "bob"), policy: AccessPolicy(), now: now)
        await desk.confirm(reason: "ok")
        let d = try #require(desk.dialog)
        #expect(d.closed)
        #expect(d.error == "request \(wiki.id) was already denied by bob at \(AccessStore.when(now)): no")
        #expect(t.text.contains("[ Close ]"))
        #expect(t.text.contains("was already denied by bob"))
        #expect(t.row(22).hasPrefix(" Enter close  Esc close"))
        #expect(t.text.contains("│ request \(wiki.id) was already denied by bob at "), "the reason, in the dialog")
        app.press(.tab, on: t)
        #expect(desk.dialog?.closed == true, "Tab has nowhere else to go")
        app.press(.character("g"), on: t)
        #expect(app.state.mode == .normal)
        #expect(app.state.tables[.access]?.cursor == 0, "g closed the dialog and went to the first row")
    }

    @Test("a refusal the input can fix puts the focus on that field, and the first key replaces its value")
    func fixable() async throws {
        let desk = try await TrustDesk(width: 80, height: 24)
        let (app, t) = (desk.app, desk.t)
        // The wiki asked for 45m: approving 2h is longer than asked.
        try desk.select(desk.requests[4].id)
        app.press(.character("a"), .control("u"), on: t)
        app.type("2h", on: t)
        await desk.confirm(reason: "ok")
        let d = try #require(desk.dialog)
        #expect(!d.closed)
        #expect(d.error == "2h is longer than the 45m asked for; approve 45m or less")
        #expect(d.focus == 0, "on the TTL")
        app.type("30m", on: t)
        #expect(desk.dialog?.value("TTL") == "30m")
        #expect(desk.dialog?.value("Reason") == "ok", "the reason typed is kept")
        app.press(.enter, .enter, .right, .enter, on: t)
        await app.settleAccess(on: t)
        #expect(app.state.mode == .normal)
        #expect(t.row(22).contains("Approved: wiki wiki:edit for 30m"))
    }

    @Test("extend proposes the TTL first asked for, capped by policy, and the time left counts down")
    func extend() async throws {
        let desk = try await TrustDesk(width: 80, height: 24)
        let (app, t) = (desk.app, desk.t)
        // Carol approves the wiki's 45m for 20m.
        _ = try desk.store.approve(
            desk.requests[4].id, ttlSeconds: 1200, reason: "ok", by: Analyst(user: "carol"), policy: AccessPolicy(), now: now)
        app.tick(now: now.addingTimeInterval(600))
        await desk.refresh()
        let g = try #require(try desk.store.grants().first)
        try desk.select(g.id)
        app.press(.character("e"), on: t)
        #expect(desk.dialog?.value("TTL") == "45m", "what was asked, not the maximum (24h) or an hour more")
        #expect(t.text.contains("left       10m00s; the new TTL counts from now (at most 1d)"))
        #expect(t.text.contains("asked for  45m when it was granted"))
        app.tick(now: now.addingTimeInterval(605))
        t.draw(app.render())
        #expect(t.text.contains("left       9m55s; the new TTL counts from now"))
        app.press(.escape, on: t)
        // A policy that has since shortened the cap: the proposal is capped.
        app.configureAccess(
            desk.controller, policy: AccessPolicy(populations: [.app: PopulationPolicy(maxTTLSeconds: 1800)]), hooks: HookConfig())
        app.press(.character("e"), on: t)
        #expect(desk.dialog?.value("TTL") == "30m")
    }

    @Test("the suggested extension: the TTL asked, within the cap; beyond what is left when that is not enough")
    func extendDefault() {
        #expect(App.extendDefault(left: 600, asked: 2700, max: 24 * 3600) == 2700)
        #expect(App.extendDefault(left: 600, asked: 2700, max: 1800) == 1800)
        #expect(App.extendDefault(left: 2700, asked: 2700, max: 24 * 3600) == 5400, "asked again would end it no later")
        #expect(App.extendDefault(left: 600, asked: nil, max: 8 * 3600) == 4200, "unknown: an hour beyond what is left")
    }
}
