import Access
import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Dashboard
@testable import Inventory
@testable import Terminal

/// The Overview makes the story's numbers, and its lists open what they show (issue 14, item 3).
@Suite("Overview: the story's numbers and selectable lists")
struct OverviewStoryTests {
    @Test("shadow AI, exposed secrets and standing privilege sit beside the gauges, from the data", arguments: [(80, 24), (200, 50)])
    func storyNumbers(size: (Int, Int)) async throws {
        let snap = try await demoSnapshot()
        let (_, t) = makeApp(snap, width: size.0, height: size.1)
        let agents = try #require(snap.gap[.agent])
        let shadowAgents = snap.entities.filter { $0.entity.population == .agent && $0.entity.signals.sanctioned == false }.count
        let exposed = snap.entities.filter { $0.entity.credentials.contains { !$0.exposures.isEmpty } }.count
        #expect(agents.shadow == shadowAgents && shadowAgents > 0)
        #expect(snap.totalGap.exposedSecrets == exposed && exposed > 0)
        let line = try #require(t.lines.first { $0.contains("SHADOW AI") })
        #expect(line.contains("SHADOW AI \(shadowAgents) of \(agents.total) agents"))
        #expect(line.contains("EXPOSED SECRETS \(exposed)"))
        #expect(line.contains("STANDING PRIVILEGE \(snap.totalGap.standingPrivilege)"))
    }

    @Test("fully visible means owned by someone here, under a control, and freshly collected")
    func fullyVisible() {
        let here = Owner(name: "bob")
        func e(_ id: String, owner: Owner?, coverage: Set<Control>, sanctioned: Bool? = nil, admin: Bool = false, exposed: Bool = false)
            -> Entity
        {
            Entity(
                id: id, population: .serviceAccount, kind: "k", name: id, owner: owner, coverage: coverage,
                privileges: [Privilege(scope: admin ? "iam:*" : "s3:logs", level: admin ? .write : .read, used: true)],
                credentials: [
                    Credential(id: "c", kind: .accessKey, fingerprint: "f", createdAt: now, exposures: exposed ? ["plaintext in .env"] : [])
                ],
                lastSeen: now, lastUsedAt: now, signals: Signals(sanctioned: sanctioned))
        }
        let snap = Snapshot.build(
            version: 1, now: now,
            slices: [
                .init(
                    source: "s",
                    entities: [
                        e("a", owner: here, coverage: [.vault]),
                        e("b", owner: nil, coverage: [.vault], admin: true),
                        e("c", owner: Owner(name: "gone", status: .departed), coverage: [.vault], exposed: true),
                        e("d", owner: here, coverage: [], sanctioned: false),
                    ])
            ])
        let g = try! #require(snap.gap[.serviceAccount])
        #expect(g.fullyVisible == 1, "only a: b has no owner, c's owner left, d is under no control")
        #expect(g.shadow == 1)
        #expect(g.standingPrivilege == 1, "a wildcard scope is standing privilege even at write")
        #expect(g.exposedSecrets == 1)
    }

    @Test("j selects the riskiest, Enter opens its detail; Esc comes back and clears", arguments: [(80, 24), (200, 50)])
    func riskiestOpens(size: (Int, Int)) async throws {
        let snap = try await demoSnapshot()
        let (app, t) = makeApp(snap, width: size.0, height: size.1)
        let first = snap.entities[app.state.riskiest[0]]
        app.press(.character("j"), on: t)
        #expect(app.state.overviewSelection == .entity(first.id))
        #expect(t.row(size.1 - 2).contains("Enter open"))
        app.press(.enter, on: t)
        #expect(app.state.mode == .detail(id: first.id, offset: 0))
        #expect(t.text.contains(first.entity.name))
        app.press(.escape, on: t)
        #expect(app.state.panel == .overview)
        app.press(.escape, on: t)
        #expect(app.state.overviewSelection == nil)
    }

    @Test("a pending request on the Overview opens in the Access panel with the cursor on it")
    func requestOpens() async throws {
        let (app, t, _) = try await demoDesk(width: 80, height: 24)
        let items = OverviewPanel.items(app.state, width: 80, height: 24)
        let position = try #require(items.firstIndex { if case .request = $0 { true } else { false } })
        guard case .request(let id) = items[position] else { return }
        // The second request, to show the cursor lands on the one chosen, not the first row.
        app.press(.end, on: t)
        for _ in 0..<(items.count - 1 - position - 1) { app.press(.character("k"), on: t) }
        let chosen = try #require(app.state.overviewSelection)
        guard case .request(let chosenID) = chosen else {
            Issue.record("not on a request: \(chosen)")
            return
        }
        #expect(chosenID != id)
        app.press(.enter, on: t)
        #expect(app.state.panel == .access)
        let ts = app.state.table(.access)
        let rows = try #require(app.state.rows[.access])
        #expect(app.model(.access).id(rows[ts.cursor]) == chosenID, "the cursor is on the request chosen")
        #expect(ts.cursor > 0)
    }

    @Test("the selection is the item, not its place: a request decided above it leaves it on the same one")
    func selectionFollowsItem() async throws {
        let (app, t, store) = try await demoDesk(width: 80, height: 24)
        let items = OverviewPanel.items(app.state, width: 80, height: 24)
        let requests = items.compactMap { if case .request(let id) = $0 { id } else { nil } }
        #expect(requests.count >= 2)
        app.press(.end, on: t)
        while app.state.overviewSelection != .request(requests[1]) { app.press(.character("k"), on: t) }
        // The first request is denied elsewhere: the list moves up, the selection stays on the second.
        _ = try store.deny(requests[0], reason: "no", by: Analyst(user: "bob"), policy: AccessPolicy(), now: now)
        app.receive(await app.access!.view())
        t.draw(app.render())
        #expect(app.state.overviewSelection == .request(requests[1]))
        // Then the selected one is decided too: nothing is selected, and the hints say so.
        _ = try store.deny(requests[1], reason: "no", by: Analyst(user: "bob"), policy: AccessPolicy(), now: now)
        app.receive(await app.access!.view())
        t.draw(app.render())
        #expect(app.state.overviewSelection == nil)
        #expect(t.row(22).contains("1-8 panels"))
    }

    @Test("a newly found shadow agent is announced; Enter on the Overview opens it", arguments: [(80, 24), (200, 50)])
    func announced(size: (Int, Int)) async throws {
        let demo = DemoCollector(seed: 11, size: 300)
        let first = try await demo.collect(CollectContext(now: now, run: 0))
        func snapshot(_ r: CollectorReport, _ v: Int, _ at: Date) -> Snapshot {
            Snapshot.build(version: v, now: at, slices: [.init(source: "demo", entities: r.entities)], requests: r.requests)
        }
        let (app, t) = makeApp(snapshot(first, 1, now), width: size.0, height: size.1)
        #expect(app.state.announcement == nil, "nothing is announced on the first look")
        let later = now.addingTimeInterval(95)
        let second = try await demo.collect(CollectContext(now: later, run: 1))
        let new = try #require(second.entities.first { e in !first.entities.contains { $0.id == e.id } })
        app.tick(now: later)
        app.receive(snapshot(second, 2, later))
        t.draw(app.render())
        let prompt = t.row(size.1 - 2)
        #expect(prompt.contains("new shadow agent: \(new.name.prefix(size.0 - 40))"), "\(prompt)")
        if size.0 >= 120 { #expect(prompt.contains("on \(new.attributes["host"]!)")) }
        #expect(prompt.contains("Enter opens it"))
        app.press(.enter, on: t)
        #expect(app.state.mode == .detail(id: new.id, offset: 0))
        app.press(.escape, on: t)
        #expect(app.state.announcement == nil)
        // It goes by itself after half a minute.
        app.receive(snapshot(second, 3, later))
        app.tick(now: later.addingTimeInterval(31))
        #expect(app.state.announcement == nil)
    }
}

extension MemoryTerminal {
    var lines: [String] { (0..<size.height).map(row) }
}
