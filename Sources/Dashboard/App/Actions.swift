import Terminal

/// Every key of the dashboard's panels and what it does, in one table (as k9s keeps its key actions): the key
/// handler dispatches through it, the help screen lists it, the prompt line's hints come from it, and read-only mode
/// hides and refuses exactly the actions marked as changing access. None of the three can disagree.
enum Actions {
    enum ID: Equatable, Sendable {
        case quit, panel, nextPanel, previousPanel
        case down, up, pageDown, pageUp, first, last
        case open, back, filter, sort, pickSort, command, pause, help, tour
        case approve, deny, extend, revoke, mark, grant
    }

    /// Where an action works.
    enum Scope: Sendable {
        case everywhere
        case panels(Set<Panel>)
        /// The detail view of an entity.
        case detail
    }

    struct Action: Sendable {
        let id: ID
        let keys: [Key]
        /// How help writes the keys: `j k / Down Up`.
        let label: String
        /// What it does, in help.
        let help: String
        let scope: Scope
        /// Carries out an access decision: hidden and refused in read-only mode.
        let changesAccess: Bool
        /// The prompt line's short form (`a approve`), and when it is shown there.
        let hint: String?
        let hinted: @Sendable (AppState) -> Bool

        init(
            _ id: ID, _ keys: [Key], _ label: String, _ help: String, _ scope: Scope = .everywhere, changesAccess: Bool = false,
            hint: String? = nil, hinted: @escaping @Sendable (AppState) -> Bool = { _ in true }
        ) {
            self.id = id
            self.keys = keys
            self.label = label
            self.help = help
            self.scope = scope
            self.changesAccess = changesAccess
            self.hint = hint
            self.hinted = hinted
        }

        func applies(to panel: Panel) -> Bool {
            switch scope {
            case .everywhere: true
            case .panels(let set): set.contains(panel)
            case .detail: false
            }
        }
    }

    static let tables = Set(Panel.allCases.filter(\.isTable))
    static let populations = Set(Panel.allCases.filter { $0.population != nil })
    static let subjects = populations.union([.access])
    static let digits = (1...Panel.allCases.count).map { Key.character(Character(String($0))) }
    static func on(_ panels: Panel...) -> Scope { .panels(Set(panels)) }

    /// In the order help lists them; the prompt line shows the hinted ones in this order, as many as fit.
    static let all: [Action] = [
        // The Overview's lists.
        Action(
            .down, [.character("j"), .down], "j k / Down Up", "select an item of the lists (riskiest, pending, expiring)", on(.overview),
            hint: "j/k select"),
        Action(.up, [.character("k"), .up], "", "", on(.overview)),
        Action(.first, [.character("g"), .home], "g G / Home End", "first / last item", on(.overview)),
        Action(.last, [.character("G"), .end], "", "", on(.overview)),
        Action(
            .open, [.enter], "Enter",
            "open the selected item: the entity's detail, or the request or grant in Access; "
                + "with nothing selected, the entity just announced", on(.overview), hint: "Enter open",
            hinted: { $0.overviewSelection != nil }),
        Action(
            .back, [.escape], "Esc", "clear the selection, or the announcement", on(.overview), hint: "Esc clear",
            hinted: { $0.overviewSelection != nil }),
        // Access decisions.
        Action(
            .approve, [.character("a")], "a",
            "approve the selected request (the policy's verdict first; TTL and reason asked, then Cancel/Approve)", on(.access),
            changesAccess: true, hint: "a approve"),
        Action(.deny, [.character("d")], "d", "deny the selected request", on(.access), changesAccess: true, hint: "d deny"),
        Action(
            .extend, [.character("e")], "e", "extend the selected grant (the TTL first asked for is proposed; it counts from now)",
            on(.access), changesAccess: true,
            hint: "e extend"),
        Action(
            .revoke, [.character("r")], "r", "revoke the selected grant, or every marked one (type the count to confirm)", on(.access),
            changesAccess: true, hint: "r revoke"),
        Action(.mark, [.character(" ")], "Space", "mark or unmark a grant", on(.access), changesAccess: true, hint: "Space mark"),
        // Tables.
        Action(
            .open, [.enter], "Enter", "open the entity's detail", .panels(subjects), hint: "Enter detail",
            hinted: { $0.panel != .access || $0.readonly }),
        Action(.open, [.enter], "Enter", "show the collector's last problem", on(.collectors), hint: "Enter detail"),
        Action(.open, [.enter], "Enter", "open the entry in full (every field, wrapped)", on(.audit), hint: "Enter entry"),
        Action(
            .grant, [.character("n")], "n", "grant the selected entity time-bound access", .panels(subjects), changesAccess: true,
            hint: "n grant", hinted: { $0.panel != .access }),
        Action(.down, [.character("j"), .down], "j k / Down Up", "move the cursor", .panels(tables)),
        Action(.up, [.character("k"), .up], "", "", .panels(tables)),
        Action(.pageDown, [.pageDown, .control("f")], "PgDn PgUp / Ctrl-F Ctrl-B", "page down / up", .panels(tables)),
        Action(.pageUp, [.pageUp, .control("b")], "", "", .panels(tables)),
        Action(.first, [.character("g"), .home], "g G / Home End", "first / last row", .panels(tables)),
        Action(.last, [.character("G"), .end], "", "", .panels(tables)),
        Action(
            .filter, [.character("/")], "/", "filter as you type (any column, case-insensitive; start with ! to negate); Esc clears",
            .panels(tables), hint: "/ filter"),
        Action(
            .sort, [.character("s")], "s", "sort by the next column on screen (the cursor goes to the top, unless you put it on a row)",
            .panels(tables), hint: "s sort", hinted: { $0.panel != .access && $0.panel != .audit }),
        Action(
            .pickSort, [.character("S")], "S", "sort by a column you name (:sort COLUMN [asc|desc]; the same column again reverses)",
            .panels(tables)),
        Action(.back, [.escape], "Esc", "clear the filter (on Access, the marks)", .panels(tables)),
        // Everywhere.
        Action(
            .panel, digits, "1-8", "switch panel: 1 Overview 2 Apps 3 Devices 4 Service accounts 5 Agents 6 Access 7 Audit 8 Collectors",
            hint: "1-8 panels", hinted: { $0.panel == .overview && $0.overviewSelection == nil }),
        Action(
            .nextPanel, [.tab], "Tab / Shift-Tab", "next / previous panel", hint: "Tab next",
            hinted: { $0.panel == .overview && $0.overviewSelection == nil }),
        Action(.previousPanel, [.backTab], "", ""),
        Action(
            .tour, [.character("t")], "t", "the guided tour: the story of the gap on the live panels (Space next, Left back, Esc leaves)",
            hint: "t tour", hinted: { $0.panel == .overview && $0.overviewSelection == nil }),
        Action(
            .command, [.character(":")], ":",
            "command: overview apps devices sa agents access audit collectors, theme NAME, filter TEXT, "
                + "sort COLUMN [asc|desc], export FILE.csv|FILE.json (export! to replace), tour, q (Tab completes)",
            hint: ": command", hinted: { $0.panel != .access && $0.panel != .audit && $0.overviewSelection == nil }),
        Action(.help, [.character("?")], "?", "this help", hint: "? help"),
        Action(
            .pause, [.character("p")], "p", "pause / resume live updates", hint: "p pause",
            hinted: { $0.panel == .overview && $0.overviewSelection == nil }),
        Action(.quit, [.character("q")], "q / Ctrl-C", "quit", hint: "q quit", hinted: { $0.panel != .access && $0.panel != .audit }),
        // The detail view.
        Action(.back, [.escape, .backspace, .left, .character("h")], "Esc h Left Backspace", "back", .detail, hint: "Esc back"),
        Action(.down, [.character("j"), .down], "j k", "scroll a line", .detail, hint: "j/k scroll"),
        Action(.up, [.character("k"), .up], "", "", .detail),
        Action(.pageDown, [.pageDown, .control("f"), .character(" ")], "Space PgDn PgUp", "scroll a page", .detail),
        Action(.pageUp, [.pageUp, .control("b")], "", "", .detail),
        Action(.first, [.character("g"), .home], "g G", "top / bottom", .detail),
        Action(.last, [.character("G"), .end], "", "", .detail),
        Action(.grant, [.character("n")], "n", "grant this entity time-bound access", .detail, changesAccess: true, hint: "n grant"),
        Action(.panel, digits, "1-8", "switch panel", .detail),
        Action(.command, [.character(":")], ":", "command", .detail),
        Action(.help, [.character("?")], "?", "help", .detail),
        Action(.quit, [.character("q")], "q", "quit", .detail, hint: "q quit"),
    ]

    /// The action a key does in the detail view, if any.
    static func detailAction(for key: Key) -> Action? {
        all.first { if case .detail = $0.scope { $0.keys.contains(key) } else { false } }
    }

    /// The action a key does on a panel, if any.
    static func action(for key: Key, on panel: Panel) -> Action? {
        all.first { $0.applies(to: panel) && $0.keys.contains(key) }
    }

    /// What help lists for a panel: its actions, then the ones that work everywhere, without those read-only hides.
    static func help(for panel: Panel, readonly: Bool) -> [(String, String)] {
        let shown = all.filter { $0.applies(to: panel) && !$0.label.isEmpty && !(readonly && $0.changesAccess) }
        var lines = shown.map { ($0.label, $0.help) }
        lines += [
            ("Ctrl-L", "redraw the screen"),
            ("in a dialog", "Tab moves between fields and buttons; Enter moves on, then presses; Esc cancels"),
            ("  refused", "Close only: Enter or Esc closes; any other key closes it and acts in the panel"),
            (
                "in the detail",
                all.filter { if case .detail = $0.scope { !(readonly && $0.changesAccess) && !$0.label.isEmpty } else { false } }
                    .map { "\($0.label) \($0.help)" }.joined(separator: "; ")
            ),
        ]
        if readonly { lines.append(("", "read-only: actions that change access are hidden")) }
        return lines
    }

    /// The prompt line's hints for the panel as it is now.
    static func hints(_ s: AppState) -> [String] {
        all.filter { a in
            a.hint != nil && a.applies(to: s.panel) && !(s.readonly && a.changesAccess) && a.hinted(s)
                // During the tour, Space, Left, Right and Esc are the tour's: not hinted for anything else.
                && !(s.tour != nil && a.keys.contains { Tour.keys.contains($0) })
        }.compactMap(\.hint)
    }

    /// The detail view's hints.
    static func detailHints(readonly: Bool) -> [String] {
        all.filter { if case .detail = $0.scope { !(readonly && $0.changesAccess) } else { false } }.compactMap(\.hint)
    }
}
