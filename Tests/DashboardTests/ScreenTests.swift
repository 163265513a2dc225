import Foundation
import TestSupport
import Testing

@testable import Dashboard
@testable import Inventory
@testable import Terminal

@Suite("Dashboard screens (in-memory terminal)")
struct ScreenTests {
    @Test("the Overview shows the gap per population, findings, the riskiest, requests and collectors")
    func overview() async throws {
        let (_, t) = makeApp(try await demoSnapshot())
        #expect(t.row(0).hasPrefix(" trustgap 300 entities"))
        #expect(t.row(1).hasPrefix(" 1 Overview 2 Apps 3 Devices 4 Svc accts 5 Agents 6 Access 7 Audit 8 Collectors"))
        #expect(t.row(2).hasPrefix(" THE GAP           TOTAL UNMANAGED  UNOWNED    OVERPRIV   LONG-LIVED"))
        #expect(t.row(3).hasPrefix(" Apps "))
        #expect(t.row(6).hasPrefix(" Agents "))
        #expect(t.row(7).hasPrefix(" All                 300 "))
        #expect(t.text.contains("FINDINGS"))
        #expect(t.text.contains("critical"))
        #expect(t.text.contains("RISKIEST"))
        #expect(t.text.contains("PENDING REQUESTS (5)"))
        #expect(t.text.contains("OK demo"))
        #expect(t.row(23).contains("collectors 1/1 ok"))
        #expect(t.row(23).contains("analyst alice@203.0.113.9"))
        #expect(t.row(23).hasSuffix("08:00:00 UTC "))
    }

    @Test("1-8, Tab and Shift-Tab switch panels")
    func panels() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character("5"), on: t)
        #expect(app.state.panel == .agents)
        #expect(t.row(2).hasPrefix("  RISK▼    NAME"))
        app.press(.tab, on: t)
        #expect(app.state.panel == .access)
        #expect(t.row(2).contains("SUBJECT"))
        app.press(.backTab, .backTab, on: t)
        #expect(app.state.panel == .serviceAccounts)
        app.press(.character("8"), on: t)
        #expect(t.row(3).hasPrefix("  OK      demo          demo          300"))
        app.press(.tab, on: t)
        #expect(app.state.panel == .overview)
    }

    @Test("each population table has its analyst columns at 80 columns and more at 200")
    func columns() async throws {
        let snap = try await demoSnapshot()
        let (app, t) = makeApp(snap)
        app.press(.character("2"), on: t)
        #expect(t.row(2) == "  RISK▼    NAME              OWNER        SSO  APPROVED  SCOPES     TOP FINDING ")
        app.press(.character("3"), on: t)
        #expect(t.row(2).contains("DISK") && t.row(2).contains("MDM"))
        let (wide, wt) = makeApp(snap, width: 200, height: 50)
        wide.press(.character("4"), on: wt)
        for title in ["RISK", "NAME", "KIND", "ENV", "OWNER", "COVERAGE", "PRIV", "KEY AGE", "USED", "TOP FINDING"] {
            #expect(wt.row(2).contains(title), "missing \(title)")
        }
        #expect(wt.row(48).contains("1/120"))
    }

    @Test("j/k, PgDn/PgUp, g/G move the cursor, and the selection is drawn on its row")
    func navigation() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character("4"), on: t)
        #expect(app.state.tables[.serviceAccounts]?.cursor == 0)
        app.press(.character("j"), .character("j"), .down, on: t)
        #expect(app.state.tables[.serviceAccounts]?.cursor == 3)
        app.press(.character("k"), on: t)
        #expect(app.state.tables[.serviceAccounts]?.cursor == 2)
        app.press(.pageDown, on: t)
        #expect(app.state.tables[.serviceAccounts]?.cursor == 20)
        app.press(.control("b"), on: t)
        #expect(app.state.tables[.serviceAccounts]?.cursor == 2)
        app.press(.character("G"), on: t)
        #expect(app.state.tables[.serviceAccounts]?.cursor == 119)
        #expect(t.row(22).hasSuffix(" 120/120 "))
        app.press(.character("g"), on: t)
        #expect(app.state.tables[.serviceAccounts]?.cursor == 0)
        #expect(t.screen[2, 3].style.bg == Theme.builtinDefault[.selection].bg)
    }

    @Test("a filter that leaves out the selected row selects the first row; one that keeps it keeps it")
    func filterSelection() async throws {
        let snap = try await demoSnapshot()
        var checked = 0
        // Queries that match many service accounts; each is tried with row 30 selected.
        for query in ["prod", "staging", "dev", "vault", "admin", "write", "none"] {
            let (app, t) = makeApp(snap)
            app.press(.character("4"), on: t)
            for _ in 0..<30 { app.press(.character("j"), on: t) }
            let selected = app.state.tables[.serviceAccounts]!.selectedID!
            app.press(.character("/"), on: t)
            app.type(query, on: t)
            let ts = app.state.tables[.serviceAccounts]!
            let rows = app.state.rows[.serviceAccounts]!
            guard rows.count > 30 else { continue }
            if ts.selectedID == selected {
                // Kept: the cursor is on it, wherever it now is.
                #expect(app.model(.serviceAccounts).id(rows[ts.cursor]) == selected)
            } else {
                // Left out: the view starts at the top, not at row 30 of a result where row 30 means nothing.
                #expect(ts.cursor == 0 && ts.top == 0, "query \(query)")
                checked += 1
            }
        }
        #expect(checked > 0, "at least one query left the selected row out")
    }

    @Test("/ filters live over the columns, ! negates, Esc clears")
    func filter() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character("5"), .character("/"), on: t)
        app.type("cursor", on: t)
        let rows = app.state.rows[.agents] ?? []
        #expect(!rows.isEmpty)
        #expect(t.row(22).hasPrefix("/cursor_"))
        for y in 3..<(3 + min(rows.count, 19)) { #expect(t.row(y).lowercased().contains("cursor"), "row \(y): \(t.row(y))") }
        app.press(.enter, on: t)
        #expect(t.row(22).hasPrefix(" filter \"cursor\""))
        let total = app.state.populationIndex[.agent]!.count
        app.press(.character("/"), .control("u"), on: t)
        app.type("!cursor", on: t)
        #expect((app.state.rows[.agents]?.count ?? 0) == total - rows.count)
        app.press(.escape, on: t)
        #expect(app.state.rows[.agents]?.count == total)
        #expect(app.state.mode == .normal)
    }

    @Test("s cycles through the columns on screen only; :sort picks one (again reverses); S asks for one", arguments: [80, 200])
    func sort(width: Int) async throws {
        let height = width == 80 ? 24 : 50
        let (app, t) = makeApp(try await demoSnapshot(), width: width, height: height)
        app.press(.character("4"), on: t)
        #expect(t.row(2).hasPrefix("  RISK▼"))
        let m = app.model(.serviceAccounts)
        let visible = layoutColumns(m.columns, width: width - 2).map(\.index).sorted()
        func risks() -> [Int] {
            (app.state.rows[.serviceAccounts] ?? []).map {
                app.state.snapshot.entities[app.state.populationIndex[.serviceAccount]![$0]].risk
            }
        }
        #expect(risks() == risks().sorted(by: >))
        // s visits exactly the columns on screen, in order, and comes back to the first.
        var visited: [Int] = []
        for _ in visible {
            app.press(.character("s"), on: t)
            visited.append(app.state.table(.serviceAccounts).sortColumn)
            let title = m.columns[visited.last!].title
            #expect(t.row(2).contains(title + "▲") || t.row(2).contains(title + "▼"), "the sorted column is on screen: \(title)")
        }
        #expect(visited == Array(visible.dropFirst()) + [visible[0]])
        if width == 80 { #expect(visible.count < m.columns.count, "some columns are left out at 80 columns, and skipped") }
        // :sort names a column directly; the same one again reverses it; a direction can be given.
        app.run(command: "sort risk asc")
        t.draw(app.render())
        #expect(t.row(2).hasPrefix("  RISK▲"))
        #expect(risks() == risks().sorted())
        app.run(command: "sort risk")
        t.draw(app.render())
        #expect(t.row(2).hasPrefix("  RISK▼"))
        app.run(command: "sort na")
        t.draw(app.render())
        #expect(t.row(2).contains("NAME▲"))
        let names = app.state.rows[.serviceAccounts]!.map {
            app.state.snapshot.entities[app.state.populationIndex[.serviceAccount]![$0]].entity.name.lowercased()
        }
        #expect(names == names.sorted())
        app.run(command: "sort nosuch")
        t.draw(app.render())
        #expect(t.row(height - 2).contains("no column \"nosuch\" here; this panel's: risk, name"))
        // S opens the command bar on :sort.
        app.press(.character("S"), on: t)
        #expect(app.state.mode == .command("sort "))
        app.press(.escape, on: t)
    }

    @Test("after a sort the cursor goes to the top, unless the analyst put it on a row")
    func sortCursor() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character("4"), on: t)
        app.press(.character("s"), on: t)
        #expect(app.state.table(.serviceAccounts).cursor == 0)
        app.press(.character("j"), .character("j"), .character("j"), on: t)
        let chosen = try #require(app.state.table(.serviceAccounts).selectedID)
        app.press(.character("s"), on: t)
        #expect(app.state.table(.serviceAccounts).selectedID == chosen, "the row the analyst chose stays selected")
        #expect(t.row(22).contains("the cursor stays on your row"))
        // A new filter is a new start: the next sort goes to the top again.
        app.press(.character("/"), .character("e"), .enter, on: t)
        app.press(.character("s"), on: t)
        #expect(app.state.table(.serviceAccounts).cursor == 0)
        #expect(app.state.table(.serviceAccounts).top == 0)
    }

    @Test("the detail view wraps long lines at 80 columns and keeps its scroll position off the content")
    func detailWraps() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character("4"), .enter, on: t)
        guard case .detail(let id, _) = app.state.mode, let a = app.state.snapshot[id] else {
            Issue.record("not in detail")
            return
        }
        // Every finding's fix is on screen in full, across lines, somewhere as the analyst scrolls.
        var seen = ""
        for _ in 0..<40 {
            seen += (3..<22).map { t.row($0).trimmingCharacters(in: .whitespaces) }.joined(separator: " ") + " "
            app.press(.character(" "), on: t)
        }
        let flat = seen.split(separator: " ").joined(separator: " ")
        for f in a.findings { #expect(flat.contains("fix: \(f.remediation)"), "\(f.rule) fix is cut") }
        // The position sits on the title row, beside the name, never over a line of the detail.
        app.press(.character("g"), on: t)
        #expect(t.row(2).hasPrefix(" \(a.entity.name)"))
        #expect(t.row(2).hasSuffix("/\(DetailView.body(a, now: app.state.now, g: .unicode, access: app.state.access, width: 80).count) "))
        app.press(.character("j"), on: t)
        #expect(t.row(2).hasPrefix(" \(a.entity.name)"), "the title stays while scrolling")
        #expect(t.row(2).contains(" 2-"))
    }

    @Test("Enter opens the detail with findings and remediation; Esc goes back")
    func detail() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character("4"), .enter, on: t)
        guard case .detail(let id, _) = app.state.mode else {
            Issue.record("not in detail")
            return
        }
        #expect(t.row(3).contains("id            \(id)"))
        #expect(t.text.contains("FINDINGS"))
        app.press(.pageDown, .pageDown, .pageDown, on: t)
        #expect(t.text.contains("fix: ") || t.text.contains("CREDENTIALS"))
        app.press(.escape, on: t)
        #expect(app.state.mode == .normal)
        #expect(t.row(2).hasPrefix("  RISK"))
    }

    @Test("? lists every key of the panel")
    func help() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character("4"), .character("?"), on: t)
        #expect(t.row(2).hasPrefix(" KEYS · Service accounts"))
        var seen = t.text
        for _ in 0..<3 {
            app.press(.pageDown, on: t)
            seen += t.text
        }
        for k in [
            "1-8", "Tab / Shift-Tab", "j k / Down Up", "PgDn PgUp / Ctrl-F Ctrl-B", "g G / Home End", "/", "s", "S", "Enter", "n", "Esc",
            ":", "p", "q / Ctrl-C",
        ] {
            #expect(seen.contains("  \(k) "), "help lacks \(k)")
        }
        app.press(.escape, on: t)
        #expect(app.state.mode == .normal)
    }

    @Test("the command bar completes names, switches panels, and reports unknown commands")
    func commandBar() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character(":"), on: t)
        app.type("ag", on: t)
        app.press(.tab, on: t)
        #expect(t.row(22).hasPrefix(":agents_"))
        app.press(.enter, on: t)
        #expect(app.state.panel == .agents)
        app.press(.character(":"), on: t)
        app.type("frobnicate", on: t)
        app.press(.enter, on: t)
        #expect(t.row(22).contains("unknown command :frobnicate"))
        app.press(.character(":"), on: t)
        app.type("filter github", on: t)
        app.press(.enter, on: t)
        #expect(app.state.tables[.agents]?.filter == "github")
        app.press(.character(":"), on: t)
        app.type("theme nope", on: t)
        app.press(.enter, on: t)
        #expect(t.row(22).contains("no such theme"))
        app.press(.character(":"), on: t)
        app.type("theme light", on: t)
        app.press(.enter, on: t)
        #expect(app.state.theme.name == "light")
        app.press(.character(":"), on: t)
        app.type("q", on: t)
        app.press(.enter, on: t)
        #expect(app.quitRequested)
    }

    @Test(":export writes the table as filtered and sorted, and never overwrites without !")
    func export() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        let file = "tg-export-\(UUID()).csv"
        let path = TestTemporary.directory.appendingPathComponent(file).path
        defer { try? FileManager.default.removeItem(atPath: path) }
        app.press(.character("5"), .character("/"), on: t)
        app.type("cursor", on: t)
        app.press(.enter, .character(":"), on: t)
        app.type("export \(file)", on: t)
        app.press(.enter, on: t)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\r\n")
        #expect(lines.count == (app.state.rows[.agents]?.count ?? 0) + 1)
        #expect(lines[0].hasPrefix("id,population"))
        #expect(lines.dropFirst().allSatisfy { $0.contains("cursor") })
        app.press(.character(":"), on: t)
        app.type("export \(file)", on: t)
        app.press(.enter, on: t)
        #expect(t.row(22).contains("exists; use :export!"))
        let json = file.replacingOccurrences(of: ".csv", with: ".json")
        defer { try? FileManager.default.removeItem(atPath: TestTemporary.directory.appendingPathComponent(json).path) }
        app.press(.character(":"), on: t)
        app.type("export \(json)", on: t)
        app.press(.enter, on: t)
        let data = try Data(contentsOf: TestTemporary.directory.appendingPathComponent(json))
        let items = try SnapshotDocument.decoder().decode([SnapshotDocument.Item].self, from: data)
        #expect(items.count == app.state.rows[.agents]?.count)
    }

    @Test("below the minimum size a clear message says what is needed")
    func tooSmall() async throws {
        let (app, t) = makeApp(try await demoSnapshot(), width: 40, height: 12)
        #expect(t.text.contains("terminal too small"))
        #expect(t.text.contains("need 64x16, have 40x12"))
        app.resize(width: 80, height: 24)
        t.size = (80, 24)
        t.draw(app.render())
        #expect(t.row(2).hasPrefix(" THE GAP"))
    }

    @Test("without UTF-8 every cell is ASCII")
    func ascii() async throws {
        let (app, t) = makeApp(try await demoSnapshot(), unicode: false)
        #expect(t.text.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(t.text.contains("#"))
        app.press(.character("5"), on: t)
        #expect(t.text.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(t.row(2).hasPrefix("  RISKv"))
    }

    @Test("p pauses live updates and shows it; the cursor stays on its entity across refreshes")
    func liveAndPause() async throws {
        let first = try await demoSnapshot(version: 1)
        let (app, t) = makeApp(first)
        app.press(.character("4"), .character("j"), .character("j"), on: t)
        let selected = app.state.tables[.serviceAccounts]?.selectedID
        // A refresh in which a new, riskier entity sorts above the cursor.
        var extra = entity("aaa:new-admin", name: "aaa-new-admin", population: .serviceAccount)
        extra.owner = Owner(name: "gone", status: .departed)
        extra.signals = Signals(ciPipeline: true, humanUse: "console sign-ins by a person")
        extra.privileges = [Privilege(scope: "*", level: .admin)]
        extra.environment = "prod"
        extra.credentials = [
            Credential(id: "k", kind: .accessKey, createdAt: now.addingTimeInterval(-500 * 86_400), exposures: ["in a gist"])
        ]
        let second = Snapshot.build(
            version: 2, now: now, slices: [.init(source: "demo", entities: first.entities.map(\.entity) + [extra])],
            collectors: first.collectors)
        app.receive(second)
        t.draw(app.render())
        #expect(app.state.tables[.serviceAccounts]?.selectedID == selected)
        #expect(app.state.tables[.serviceAccounts]?.cursor == 3)
        #expect(t.row(3).hasPrefix("+ CRIT"), "new rows are marked: \(t.row(3))")
        app.press(.character("p"), on: t)
        #expect(t.row(23).contains("PAUSED"))
        app.receive(
            Snapshot.build(
                version: 3, now: now, slices: [.init(source: "demo", entities: first.entities.map(\.entity))], collectors: first.collectors)
        )
        t.draw(app.render())
        #expect(app.state.snapshot.version == 2)
        #expect(t.row(23).contains("PAUSED (new data)"))
        app.press(.character("p"), on: t)
        #expect(app.state.snapshot.version == 3)
        #expect(!t.row(23).contains("PAUSED"))
    }

    @Test("a cursor move rewrites only the two rows it changed")
    func minimalDiff() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.character("4"), on: t)
        let before = t.cellsWritten
        app.press(.character("j"), on: t)
        let written = t.cellsWritten - before
        // Two table rows, plus the position counter on the prompt line.
        #expect(written <= 2 * 80 + 12, "wrote \(written) cells")
        let idle = t.cellsWritten
        t.draw(app.render())
        #expect(t.cellsWritten == idle, "nothing changed, nothing written")
    }

    @Test("q and Ctrl-C quit")
    func quit() async throws {
        let (app, t) = makeApp(try await demoSnapshot())
        app.press(.control("c"), on: t)
        #expect(app.quitRequested)
        let (app2, t2) = makeApp(try await demoSnapshot())
        app2.press(.character("q"), on: t2)
        #expect(app2.quitRequested)
    }
}
