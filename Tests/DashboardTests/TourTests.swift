import Access
import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Dashboard
@testable import Inventory
@testable import Terminal

/// The guided tour (issue 14, item 1) and the one table of actions (item 7), on the in-memory terminal.
@Suite("The guided tour and the keys' one table")
struct TourTests {
    /// An app on the demo with a real store holding the demo's requests, as `trustgap tour` starts.
    func setUp(width: Int, height: Int, unicode: Bool = true, readonly: Bool = false) async throws -> (App, MemoryTerminal, AccessStore) {
        try await demoDesk(width: width, height: height, unicode: unicode, readonly: readonly)
    }

    @Test(
        "t walks eight steps on the live panels, each caption made from the data",
        arguments: [(80, 24, true), (200, 50, true), (80, 24, false)])
    func wholeTour(size: (Int, Int, Bool)) async throws {
        let (app, t, _) = try await setUp(width: size.0, height: size.1, unicode: size.2)
        let snap = app.state.snapshot
        let all = snap.totalGap
        let agents = try #require(snap.gap[.agent])
        let sa = try #require(snap.gap[.serviceAccount])
        app.press(.character("t"), on: t)
        var seen: [(Panel, String)] = []
        for step in 0..<Tour.steps.count {
            #expect(app.state.tour?.step == step)
            let screen = t.text
            #expect(screen.contains("Tour \(step + 1)/8"), "step \(step + 1) has its box:\n\(screen)")
            #expect(screen.contains("Space next"))
            // Nothing is cut at the box's edges: the caption wraps inside it.
            #expect(!screen.contains("\u{FFFD}"))
            seen.append((app.state.panel, screen))
            app.press(.character(" "), on: t)
        }
        #expect(app.state.tour == nil)
        #expect(t.text.contains("That was the tour"))
        // Where each step stood, and what it said: the real figures.
        #expect(seen.map(\.0) == [.overview, .agents, .agents, .serviceAccounts, .access, .access, .access, .audit])
        func joined(_ s: String) -> String { s.split(separator: "\n").joined(separator: " ").split(separator: " ").joined(separator: " ") }
        let caption = seen.map { joined($0.1) }
        #expect(caption[0].contains("of \(all.total) identities, \(GapFigures.percent(all.unmanaged, of: all.total))% sit outside SSO"))
        #expect(caption[1].contains("\(agents.shadow) of \(agents.total) AI agents were never approved"))
        #expect(caption[2].contains("keeps its credential plaintext in"))
        #expect(caption[2].contains("EXPOSED: plaintext in"), "the exposed credential is in view, below the caption")
        #expect(seen[2].1.split(separator: "\n")[2].contains("Tour 3/8"), "this caption sits at the top")
        #expect(caption[3].contains("\(GapFigures.percent(sa.overprivileged, of: sa.total))% of these \(sa.total) service accounts"))
        #expect(caption[3].contains("97%"), "the industry's figure beside ours")
        #expect(caption[4].contains("an AI agent"))
        #expect(caption[5].contains("agents get at most 1h"))
        #expect(caption[7].contains("hash-chained"))
    }

    @Test("Left goes back, Esc leaves the tour and the dashboard stays; other keys work underneath")
    func keys() async throws {
        let (app, t, store) = try await setUp(width: 80, height: 24)
        app.press(.character("t"), .right, .right, on: t)
        #expect(app.state.tour?.step == 2)
        app.press(.left, on: t)
        #expect(app.state.tour?.step == 1)
        #expect(app.state.panel == .agents)
        // The agent step: the selected row is the agent the caption names, above the box.
        app.press(.character(" "), .character(" "), .character(" "), on: t)
        #expect(app.state.tour?.step == 4)
        let r = try #require(Tour.agentRequest(app.state))
        let ts = app.state.table(.access)
        #expect(ts.selectedID == r.id)
        #expect(ts.cursor - ts.top < 24 - 4 - 10, "the selected row is above the caption")
        // a opens the approve dialog over the tour; the box steps aside until it closes.
        app.press(.character("a"), on: t)
        #expect(t.text.contains("Approve request \(r.id)"))
        #expect(!t.text.contains("Tour 5/8"))
        app.press(.escape, on: t)
        #expect(t.text.contains("Tour 5/8"))
        #expect(try store.grants().isEmpty)
        app.press(.escape, on: t)
        #expect(app.state.tour == nil)
        #expect(app.state.panel == .access)
        #expect(!t.text.contains("Tour "))
        #expect(t.text.contains("Left the tour"))
    }

    @Test("help, the prompt line's hints and read-only come from one table and agree", arguments: Panel.allCases)
    func oneTable(panel: Panel) async throws {
        for readonly in [false, true] {
            let (app, t, _) = try await setUp(width: 200, height: 50, readonly: readonly)
            app.press(.character(Character(String(panel.rawValue))), on: t)
            let help = HelpView.keys(for: panel, readonly: readonly)
            let hints = Actions.hints(app.state)
            #expect(!hints.isEmpty)
            // Every hint names a key help lists for this panel.
            for hint in hints {
                // "j/k select" names j; "/ filter" names /.
                let word = String(hint.prefix { $0 != " " })
                let key = word.count > 1 && word.contains("/") ? String(word.prefix { $0 != "/" }) : word
                #expect(help.contains { $0.0.split(separator: " ").contains { $0 == key } }, "\(panel): \(hint)")
                #expect(t.row(48).contains(hint) || SafeText.width(hints.joined(separator: "  ")) > 196, "\(panel): \(hint) on screen")
            }
            // Read-only: nothing that changes access is listed or hinted, and pressing it is refused.
            let changing = Actions.all.filter { $0.changesAccess && $0.applies(to: panel) }
            for a in changing {
                #expect(help.contains { $0.1 == a.help } != readonly, "\(panel) \(a.id) readonly \(readonly)")
                if let hint = a.hint, a.hinted(app.state) || readonly { #expect(hints.contains(hint) != readonly) }
                if readonly {
                    app.press(a.keys[0], on: t)
                    #expect(app.state.mode == .normal)
                    #expect(t.row(48).contains("Read-only mode"), "\(panel) \(a.id)")
                }
            }
        }
    }

    @Test("a step waiting for its subject never pulls back an analyst who went elsewhere")
    func waitingStepStaysPut() async throws {
        let (app, t, store) = try await setUp(width: 80, height: 24)
        let controller = try #require(app.access)
        app.press(.character("t"), on: t)
        for _ in 0..<6 { app.press(.character(" "), on: t) }
        #expect(app.state.tour?.step == 6)
        #expect(t.text.contains("No grant is active yet"))
        app.press(.character("2"), on: t)
        // New data: a grant now exists, and a refresh comes; the analyst stays on Apps.
        let r = try #require(try store.requests(state: .pending).first { !AccessPolicy.isAdmin($0.scope) })
        _ = try store.approve(r.id, reason: "ok", by: Analyst(user: "bob"), policy: AccessPolicy(), now: now)
        app.receive(await controller.view())
        app.receive(app.state.snapshot)
        t.draw(app.render())
        #expect(app.state.panel == .apps)
        // Going back to the step shows the grant that is there now.
        app.press(.left, .right, on: t)
        #expect(app.state.panel == .access)
        let words = t.text.replacingOccurrences(of: "│", with: " ").split(whereSeparator: { $0 == " " || $0 == "\n" })
        #expect(words.joined(separator: " ").contains("then loses it by itself"))
    }

    @Test("read-only never says where a hidden action works")
    func readonlyElsewhere() async throws {
        let (app, t, _) = try await setUp(width: 80, height: 24, readonly: true)
        app.press(.character("2"), .character("a"), on: t)
        #expect(!t.row(22).contains("works on"))
    }

    @Test("a key of another panel says where it works")
    func elsewhere() async throws {
        let (app, t, _) = try await setUp(width: 80, height: 24)
        app.press(.character("2"), .character("a"), on: t)
        #expect(app.state.mode == .normal)
        #expect(t.row(22).contains("a works on Access (6): approve the selected request"), "\(t.row(22))")
    }
}
