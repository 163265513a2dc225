import Access
import Foundation
import Inventory
import Terminal

/// The dashboard's controller: turns keys and new snapshots into state, and state into frames.
/// It does no terminal I/O itself; `DashboardLoop` drives it with a real or in-memory terminal.
public final class App {
    public internal(set) var state: AppState
    public var size: (width: Int, height: Int)
    public private(set) var quitRequested = false
    /// Set when the screen must be repainted from scratch (Ctrl-L).
    public var wantsFullRedraw = false
    let themes: ThemeLibrary
    let cache = TableCache()
    /// Tables whose rows are out of date; worked out when they are next shown.
    var staleTables: Set<Panel> = []
    /// False while the shown snapshot came from the quick first preparation (see `PreparedSnapshot.overview`).
    var preparedComplete = true
    /// The tour's step is waiting for what it shows (see `tourDataArrived`).
    var tourWaiting = false
    /// The panel the tour's step put the analyst on.
    var tourPanel: Panel = .overview
    /// Sort-order jobs already handed to the background, by panel and data version.
    var ordersRequested: Set<String> = []

    /// A background job for the shown population table: every column's order, so `s` never sorts on a keystroke.
    public func sortOrdersJob() -> (@Sendable () -> SortOrders)? {
        guard let population = state.panel.population else { return nil }
        let panel = state.panel
        let version = dataVersion(panel)
        if let o = cache.orders[panel], o.version == version { return nil }
        guard ordersRequested.insert("\(panel.rawValue):\(version)").inserted else { return nil }
        let snapshot = state.snapshot
        let base = state.populationIndex[population] ?? []
        let now = state.now
        // The previous data's orders carried across by difference, when the refresh was one.
        if let (orders, rebase) = rebaseOrders[panel], version == Int64(snapshot.version) {
            rebaseOrders[panel] = nil
            return {
                orders.rebased(
                    rebase, version: version, model: EntityTable(snapshot: snapshot, population: population, base: base), now: now)
            }
        }
        return { SortOrders.compute(panel: panel, version: version, snapshot: snapshot, population: population, base: base, now: now) }
    }
    /// Each table's sort orders of the data before the last refresh, with how its rows moved (see `sortOrdersJob`).
    var rebaseOrders: [Panel: (SortOrders, TableRebase)] = [:]

    public func receive(_ orders: SortOrders) {
        guard orders.version == dataVersion(orders.panel) else { return }
        cache.orders[orders.panel] = orders
    }
    /// The access store's controller; nil when the dashboard runs without one (tests of the inventory panels).
    public var access: AccessController?
    /// Numbers each sent dialog, so its answer finds it.
    var dialogSerial = 0
    let workingDirectory: String

    public init(
        state: AppState = AppState(), size: (width: Int, height: Int) = (80, 24),
        themes: ThemeLibrary = .standard(), workingDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.state = state
        self.size = size
        self.themes = themes
        self.workingDirectory = workingDirectory
    }

    public func render() -> ScreenBuffer { Renderer.render(state, width: size.width, height: size.height) }

    var bodyRows: Int { max(1, size.height - 4 - 1) }

    // MARK: Time and data

    /// Moves the clock; expires flash messages and change marks. Paused, what the screen shows stays at the moment
    /// of the pause (`state.now`); only the status line's clock moves.
    public func tick(now: Date) {
        state.clock = now
        if !state.paused { state.now = now }
        updateRecentGrants()
        if let f = state.flash, f.until <= now { state.flash = nil }
        if let a = state.announcement, a.until <= now { state.announcement = nil }
        if !state.changed.isEmpty, state.changedUntil <= now { state.changed = [:] }
    }

    /// A new snapshot from the collectors. Held while paused.
    /// A new snapshot, prepared here (tests and small inventories); the dashboard prepares them off the UI thread.
    public func receive(_ snapshot: Snapshot) {
        guard snapshot.version != state.snapshot.version else { return }
        receive(PreparedSnapshot.prepare(snapshot, previous: state.snapshot, now: state.now))
    }

    /// A prepared snapshot from the collectors. Held while paused.
    public func receive(_ prepared: PreparedSnapshot) {
        // The same version again is taken only as the full preparation following a quick one.
        guard prepared.snapshot.version != state.snapshot.version || (prepared.complete && !preparedComplete) else { return }
        if state.paused {
            state.held = prepared
            state.heldHealth = nil // the snapshot carries newer health
            return
        }
        apply(prepared)
    }

    /// Newer collector health, from a run that reported no change: shown without preparing anything again. Held
    /// while paused.
    public func receive(health: [CollectorHealth]) {
        if state.paused {
            state.heldHealth = health
            return
        }
        applyHealth(health)
    }

    func applyHealth(_ health: [CollectorHealth]) {
        state.showHealth(health)
        state.collectorsRevision += 1
        // The data was confirmed at its collectors' newest success, though nothing in it changed.
        if let confirmed = health.compactMap(\.lastSuccess).max(), confirmed > (state.lastRefresh ?? .distantPast) {
            state.lastRefresh = confirmed
        }
        refreshTables([.collectors])
    }

    func apply(_ prepared: PreparedSnapshot) {
        let sameVersion = prepared.snapshot.version == state.snapshot.version
        preparedComplete = prepared.complete
        // Freeing the previous snapshot and its caches (a million objects at 1M entities, ~0.4 s) is left to another
        // thread. The garbage takes them first and is sent off only after this thread has let go of every one of
        // them (below), so the last release — the one that frees — never happens here.
        let garbage = Garbage([
            state.snapshot, state.held as Any, cache.haystacks, cache.sorted, cache.orders, cache.filtered, state.populationIndex,
        ])
        defer { DispatchQueue.global(qos: .utility).async { garbage.drop() } }
        // Orders of the data shown until now are carried across by difference in the background (`sortOrdersJob`).
        rebaseOrders = [:]
        for (panel, rebase) in prepared.rebases {
            if let o = cache.orders[panel], o.version == Int64(rebase.fromVersion) { rebaseOrders[panel] = (o, rebase) }
        }
        cache.orders = [:]
        ordersRequested = []
        let snapshot = prepared.snapshot
        state.show(prepared)
        state.held = nil
        state.changed = prepared.changed
        let version = Int64(snapshot.version)
        for (panel, sorted) in prepared.sortedRows {
            cache.sorted[panel] = TableCache.Sorted(
                version: version, column: sorted.order.column, reversed: sorted.order.reversed, rows: sorted.rows)
            cache.filtered[panel] = nil
        }
        for (panel, hay) in prepared.haystacks { cache.haystacks[panel] = (version, hay) }
        state.changedUntil = state.clock.addingTimeInterval(4)
        if !sameVersion, state.lastRefresh != nil, let news = Self.announcement(prepared, now: state.clock) { state.announcement = news }
        state.lastRefresh = snapshot.generatedAt
        let g = snapshot.totalGap
        if !sameVersion {
            state.trendRisk.append(g.findings[.critical, default: 0] + g.findings[.high, default: 0])
            state.trendUnmanaged.append(g.unmanaged)
        }
        if state.trendRisk.count > 120 {
            state.trendRisk.removeFirst()
            state.trendUnmanaged.removeFirst()
        }
        // The Access table's RISK column reads the inventory.
        state.accessRevision += 1
        state.collectorsRevision += 1
        refreshTables([.apps, .devices, .serviceAccounts, .agents, .access, .collectors])
        tourDataArrived()
        dropGoneOverviewSelection()
    }

    /// Recomputes the visible table now and the others when they are shown, so a refresh costs one table.
    func refreshTables(_ panels: [Panel]) {
        for p in panels {
            if p == state.panel { recompute(p) } else { staleTables.insert(p) }
        }
    }

    /// The version of the data behind a table: it changes when its rows could.
    func dataVersion(_ p: Panel) -> Int64 {
        switch p {
        case .access: state.accessRevision
        case .audit: state.access.token
        case .collectors: state.collectorsRevision
        default: Int64(state.snapshot.version)
        }
    }

    func model(_ p: Panel) -> any TableModel { TableModels.model(for: p, state: state) }

    /// Refilters and resorts a table, keeping the cursor on the same row id.
    /// `fromTop`: when the selected row is gone from the result (a filter that leaves it out), select the first
    /// row rather than the one at the old position, which in a new result means nothing.
    func recompute(_ p: Panel, fromTop: Bool = false) {
        guard var ts = state.tables[p] else { return }
        let m = model(p)
        ts.sortColumn = min(ts.sortColumn, max(0, m.columns.count - 1))
        staleTables.remove(p)
        let rows = cache.rows(
            m, panel: p, version: dataVersion(p), filter: ts.filter, column: ts.sortColumn, reversed: ts.reversed, now: state.now)
        state.rows[p] = rows
        if let id = ts.selectedID, ts.cursor < rows.count, m.id(rows[ts.cursor]) == id {
            // Still in place: the common case on a refresh.
        } else if let id = ts.selectedID, let target = m.row(forID: id), let pos = rows.firstIndex(of: target) {
            ts.cursor = pos
        } else {
            ts.cursor = fromTop ? 0 : min(ts.cursor, max(0, rows.count - 1))
            ts.selectedID = rows.isEmpty ? nil : m.id(rows[ts.cursor])
        }
        state.tables[p] = ts
        scrollIntoView(p)
    }

    func scrollIntoView(_ p: Panel) {
        guard var ts = state.tables[p] else { return }
        let n = state.rows[p]?.count ?? 0
        let visible = bodyRows
        if ts.cursor < ts.top { ts.top = ts.cursor }
        if ts.cursor >= ts.top + visible { ts.top = ts.cursor - visible + 1 }
        ts.top = max(0, min(ts.top, max(0, n - visible)))
        state.tables[p] = ts
    }

    func moveCursor(to position: Int) {
        let p = state.panel
        guard p.isTable, var ts = state.tables[p] else { return }
        ts.chosen = true
        let rows = state.rows[p] ?? []
        guard !rows.isEmpty else { return }
        ts.cursor = max(0, min(rows.count - 1, position))
        ts.selectedID = model(p).id(rows[ts.cursor])
        state.tables[p] = ts
        scrollIntoView(p)
    }

    public func resize(width: Int, height: Int) {
        size = (width, height)
        for p in Panel.allCases where p.isTable { scrollIntoView(p) }
    }

    /// The newest entity worth a line of its own: a shadow agent first, then any other shadow entity.
    static func announcement(_ prepared: PreparedSnapshot, now: Date) -> Announcement? {
        let new = prepared.changed.compactMap { id, isNew in isNew ? prepared.snapshot[id] : nil }
        guard
            let a = new.filter({ $0.entity.signals.sanctioned == false }).max(by: { a, b in
                (a.entity.population == .agent ? 1 : 0, a.id) < (b.entity.population == .agent ? 1 : 0, b.id)
            })
        else { return nil }
        let e = a.entity
        // "Apps" → "app", "Service accounts" → "service account".
        let what = "shadow " + e.population.title.lowercased().dropLast()
        let host = e.attributes["host"].map { " on \($0)" } ?? ""
        return Announcement(entityID: e.id, text: "new \(what): \(e.name)\(host)", until: now.addingTimeInterval(30))
    }

    func flash(_ text: String, error: Bool = false) {
        state.flash = Flash(text: text, isError: error, until: state.clock.addingTimeInterval(error ? 6 : 3))
    }

    // MARK: Keys

    public func handle(_ key: Key) {
        if key == .control("c") {
            quitRequested = true
            return
        }
        if key == .control("l") {
            wantsFullRedraw = true
            return
        }
        if key == .resize { return }
        if handleTour(key) { return }
        switch state.mode {
        case .filtering: handleFilter(key)
        case .command(let text): handleCommand(key, text: text)
        case .help:
            switch key {
            case .escape, .character("?"), .enter: state.mode = .normal
            case .character("q"): quitRequested = true
            case .character("j"), .down: state.helpOffset += 1
            case .character("k"), .up: state.helpOffset = max(0, state.helpOffset - 1)
            case .pageDown, .control("f"), .character(" "): state.helpOffset += max(1, size.height - 6)
            case .pageUp, .control("b"): state.helpOffset = max(0, state.helpOffset - max(1, size.height - 6))
            default:
                state.mode = .normal
                handleNormal(key)
            }
        case .detail(let id, let offset): handleDetail(key, id: id, offset: offset)
        case .auditEntry(let seq, let offset): handleAuditEntry(key, seq: seq, offset: offset)
        case .dialog(let d): handleDialog(key, d)
        case .normal: handleNormal(key)
        }
    }

    /// Keys in a panel, through the one table of actions (`Actions`): what help lists and the hints show is what
    /// happens, and read-only refuses exactly the actions that change access.
    func handleNormal(_ key: Key) {
        let p = state.panel
        guard let action = Actions.action(for: key, on: p) else {
            // A key that does something on another panel says where.
            // Read-only never advertises what it hides.
            if let elsewhere = Actions.all.first(where: {
                $0.keys.contains(key) && !$0.label.isEmpty && !(state.readonly && $0.changesAccess)
            }),
                case .panels(let panels) = elsewhere.scope
            {
                let names = Panel.allCases.filter(panels.contains).map { "\($0.title) (\($0.rawValue))" }
                flash("\(elsewhere.label) works on \(names.joined(separator: ", ")): \(elsewhere.help)")
            }
            return
        }
        if action.changesAccess, state.readonly { return flash("Read-only mode: access actions are turned off", error: true) }
        let ts = state.table(p)
        let page = max(1, bodyRows - 1)
        if p == .overview, [.down, .up, .first, .last, .back, .open].contains(action.id) { return overview(action.id) }
        switch action.id {
        case .quit: quitRequested = true
        case .panel:
            if case .character(let c) = key, let n = c.wholeNumberValue, let panel = Panel(rawValue: n) { switchTo(panel) }
        case .nextPanel: switchTo(Panel(rawValue: p.rawValue % Panel.allCases.count + 1)!)
        case .previousPanel: switchTo(Panel(rawValue: (p.rawValue + Panel.allCases.count - 2) % Panel.allCases.count + 1)!)
        case .down: moveCursor(to: ts.cursor + 1)
        case .up: moveCursor(to: ts.cursor - 1)
        case .pageDown: moveCursor(to: ts.cursor + page)
        case .pageUp: moveCursor(to: ts.cursor - page)
        case .first: moveCursor(to: 0)
        case .last: moveCursor(to: Int.max / 2)
        case .filter: state.mode = .filtering
        case .command: state.mode = .command("")
        case .help:
            state.helpOffset = 0
            state.mode = .help
        case .pause: togglePause()
        case .tour: startTour()
        case .sort: cycleSort(reverse: false)
        case .pickSort: state.mode = .command("sort ")
        case .open: openDetail()
        case .back:
            if !ts.filter.isEmpty {
                setFilter("")
            } else if p == .access, !state.marked.isEmpty {
                state.marked = []
                recompute(.access)
            }
        case .approve: beginApprove()
        case .deny: beginDeny()
        case .extend: beginExtend()
        case .revoke: beginRevoke()
        case .grant: beginGrant()
        case .mark: toggleMark()
        }
    }

    /// The Overview's keys: j k (and arrows, g G) select an item of its lists, Enter opens it, Esc clears the
    /// selection; with nothing selected, Enter opens the entity just announced.
    func overview(_ id: Actions.ID) {
        let items = OverviewPanel.items(state, width: size.width, height: size.height)
        let last = items.count - 1
        let at = state.overviewSelection.flatMap { items.firstIndex(of: $0) }
        func select(_ i: Int?) { state.overviewSelection = i.flatMap { items.indices.contains($0) ? items[$0] : nil } }
        switch id {
        case .down: select(items.isEmpty ? nil : min(last, (at ?? -1) + 1))
        case .up: select(items.isEmpty ? nil : max(0, min(last, (at ?? 1) - 1)))
        case .first: select(0)
        case .last: select(last)
        case .back:
            if state.overviewSelection != nil { state.overviewSelection = nil } else { state.announcement = nil }
        case .open:
            if let i = at {
                open(items[i])
            } else if let a = state.announcement, state.snapshot[a.entityID] != nil {
                state.announcement = nil
                state.mode = .detail(id: a.entityID, offset: 0)
            } else {
                flash("j and k select an item of the lists; Enter opens it")
            }
        default: break
        }
    }

    /// After new data: an Overview item no longer drawn (a request decided, an entity gone) is no longer selected.
    func dropGoneOverviewSelection() {
        guard let selected = state.overviewSelection else { return }
        if !OverviewPanel.items(state, width: size.width, height: size.height).contains(selected) { state.overviewSelection = nil }
    }

    /// Opens what an Overview item shows: an entity's detail, or the request or grant in the Access panel.
    func open(_ item: OverviewPanel.Item) {
        switch item {
        case .entity(let id):
            if state.snapshot[id] != nil { state.mode = .detail(id: id, offset: 0) }
        case .request(let id), .grant(let id):
            state.tables[.access]?.selectedID = id
            switchTo(.access)
            recompute(.access)
        }
    }

    func switchTo(_ panel: Panel) {
        state.panel = panel
        state.mode = .normal
        if staleTables.contains(panel) { recompute(panel) }
    }

    func togglePause() {
        state.paused.toggle()
        state.now = state.clock
        let health = state.heldHealth
        state.heldHealth = nil
        if !state.paused, let held = state.held {
            apply(held)
            if let health { applyHealth(health) }
            flash("Resumed: showing the latest data")
        } else {
            if !state.paused, let health { applyHealth(health) }
            flash(state.paused ? "Paused: live updates are held until you press p again" : "Resumed")
        }
    }

    /// Each table's current sort, for the background preparation of the next snapshot.
    public var sortChoices: [Panel: SortChoice] {
        var out: [Panel: SortChoice] = [:]
        for (p, ts) in state.tables { out[p] = SortChoice(column: ts.sortColumn, reversed: ts.reversed) }
        return out
    }

    /// `s`: sorts by the next column on screen (a column left out at this width is skipped); `S` reverses.
    func cycleSort(reverse: Bool) {
        let p = state.panel
        guard p.isTable, let ts = state.tables[p] else { return }
        let m = model(p)
        if reverse { return sort(by: ts.sortColumn, reversed: !ts.reversed) }
        let visible = layoutColumns(m.columns, width: size.width - 2).map(\.index).sorted()
        let next = visible.first { $0 > ts.sortColumn } ?? visible.first ?? 0
        sort(by: next, reversed: false)
    }

    /// Sorts a table by a column. The cursor goes to the top of the new order, unless the analyst had put it on a
    /// row themselves: then it stays on that row.
    func sort(by column: Int, reversed: Bool) {
        let p = state.panel
        guard p.isTable, var ts = state.tables[p] else { return }
        let m = model(p)
        ts.sortColumn = column
        ts.reversed = reversed
        if !ts.chosen {
            ts.selectedID = nil
            ts.cursor = 0
            ts.top = 0
        }
        state.tables[p] = ts
        recompute(p, fromTop: !ts.chosen)
        let title = m.columns[column].title
        let desc = m.descendingByDefault(column) != reversed
        flash("Sorted by \(title), \(desc ? "descending" : "ascending")" + (ts.chosen ? " (the cursor stays on your row)" : ""))
    }

    /// `:sort COLUMN [asc|desc]`: a column by its title (any unambiguous prefix, case-insensitive). The same column
    /// again, without a direction, reverses it.
    func sort(named text: String) {
        let p = state.panel
        guard p.isTable, let ts = state.tables[p] else { return flash("Pick a table panel (2-8) to sort", error: true) }
        let m = model(p)
        var words = text.lowercased().split(separator: " ").map(String.init)
        let direction = words.last.flatMap { ["asc", "desc"].contains($0) ? $0 : nil }
        if direction != nil { words.removeLast() }
        let name = words.joined(separator: " ")
        let titles = m.columns.map { $0.title.lowercased() }
        let matches =
            titles.indices.filter { titles[$0] == name } + titles.indices.filter { titles[$0] != name && titles[$0].hasPrefix(name) }
        guard !name.isEmpty, let column = matches.first, matches.count == 1 || titles[column] == name else {
            return flash(
                (name.isEmpty
                    ? ":sort needs a column" : matches.isEmpty ? "no column \"\(name)\" here" : "\"\(name)\" is more than one column")
                    + "; this panel's: \(m.columns.map { $0.title.lowercased() }.joined(separator: ", "))", error: true)
        }
        let reversed: Bool
        switch direction {
        case "asc": reversed = m.descendingByDefault(column)
        case "desc": reversed = !m.descendingByDefault(column)
        default: reversed = column == ts.sortColumn ? !ts.reversed : false
        }
        sort(by: column, reversed: reversed)
    }

    func setFilter(_ text: String) {
        let p = state.panel
        guard p.isTable else { return }
        state.tables[p]?.filter = text
        state.tables[p]?.chosen = false
        recompute(p, fromTop: true)
    }

    func handleFilter(_ key: Key) {
        let p = state.panel
        let current = state.table(p).filter
        switch key {
        case .enter: state.mode = .normal
        case .escape:
            setFilter("")
            state.mode = .normal
        case .backspace, .delete:
            if current.isEmpty { state.mode = .normal } else { setFilter(String(current.dropLast())) }
        case .control("u"): setFilter("")
        case .character(let c): setFilter(current + String(c))
        case .down: moveCursor(to: state.table(p).cursor + 1)
        case .up: moveCursor(to: state.table(p).cursor - 1)
        default: break
        }
    }

    func handleCommand(_ key: Key, text: String) {
        switch key {
        case .escape: state.mode = .normal
        case .enter:
            state.mode = .normal
            run(command: text)
        case .tab: state.mode = .command(Commands.complete(text))
        case .backspace, .delete:
            state.mode = text.isEmpty ? .normal : .command(String(text.dropLast()))
        case .control("u"): state.mode = .command("")
        case .character(let c): state.mode = .command(text + String(c))
        default: break
        }
    }

    func run(command text: String) {
        let parsed: Commands.Parsed
        do {
            parsed = try Commands.parse(text)
        } catch {
            flash(error.message, error: true)
            return
        }
        switch parsed {
        case .panel(let p): switchTo(p)
        case .quit: quitRequested = true
        case .help: state.mode = .help
        case .tour: startTour()
        case .sort(let column): sort(named: column)
        case .filter(let f):
            guard state.panel.isTable else { return flash("Nothing to filter on the Overview: pick a panel (2-8) first", error: true) }
            setFilter(f)
        case .theme(let name):
            do {
                state.theme = try themes.load(name)
                flash("Theme \(state.theme.name)")
            } catch {
                flash(error.description, error: true)
            }
        case .export(let file, let overwrite): export(to: file, overwrite: overwrite)
        }
    }

    func openDetail() {
        let p = state.panel
        guard p.isTable, let rows = state.rows[p], !rows.isEmpty else { return }
        let ts = state.table(p)
        let row = rows[min(ts.cursor, rows.count - 1)]
        switch p {
        case .access:
            guard let table = model(.access) as? AccessTable else { return }
            let subject: String =
                switch table.rows[row] {
                case .request(let r): r.subject
                case .grant(let g): g.subject
                }
            if state.snapshot[subject] != nil {
                state.mode = .detail(id: subject, offset: 0)
            } else {
                flash("The subject \(subject) is not in the inventory", error: true)
            }
        case .collectors:
            let h = state.snapshot.collectors[row]
            flash(h.lastError ?? h.warnings.first ?? "\(h.name): \(h.entityCount) entities, no problems", error: h.lastError != nil)
        case .audit:
            if let table = model(.audit) as? AuditTable { state.mode = .auditEntry(seq: table.entries[row].seq, offset: 0) }
        default: state.mode = .detail(id: model(p).id(row), offset: 0)
        }
    }

    /// Keys in an entity's detail, through the same table of actions as the panels.
    func handleDetail(_ key: Key, id: String, offset: Int) {
        guard let action = Actions.detailAction(for: key) else { return }
        if action.changesAccess, state.readonly { return flash("Read-only mode: access actions are turned off", error: true) }
        let maxOffset =
            state.snapshot[id].map {
                DetailView.maxOffset($0, now: state.now, access: state.access, width: size.width, height: size.height - 4)
            } ?? 0
        let page = max(1, size.height - 5)
        func scroll(_ o: Int) { state.mode = .detail(id: id, offset: max(0, min(maxOffset, o))) }
        switch action.id {
        case .back: state.mode = .normal
        case .quit: quitRequested = true
        case .down: scroll(offset + 1)
        case .up: scroll(offset - 1)
        case .pageDown: scroll(offset + page)
        case .pageUp: scroll(offset - page)
        case .first: scroll(0)
        case .last: scroll(maxOffset)
        case .help: state.mode = .help
        case .command: state.mode = .command("")
        case .grant: beginGrant()
        case .panel:
            if case .character(let c) = key, let n = c.wholeNumberValue, let panel = Panel(rawValue: n) { switchTo(panel) }
        default: break
        }
    }

    // MARK: Export

    func export(to file: String, overwrite: Bool) {
        let p = state.panel
        guard p.isTable else {
            flash("Pick a table panel (2-8) to export", error: true)
            return
        }
        let path = file.hasPrefix("/") ? file : URL(fileURLWithPath: workingDirectory).appendingPathComponent(file).path
        if !overwrite, FileManager.default.fileExists(atPath: path) {
            flash("\(file) exists; use :export! \(file) to replace it", error: true)
            return
        }
        let rows = state.rows[p] ?? []
        let m = model(p)
        let data: Data
        do {
            if let table = m as? EntityTable {
                let items = rows.map { table.entity($0) }
                if file.hasSuffix(".json") {
                    data = try SnapshotDocument.encoder().encode(
                        items.map { SnapshotDocument.Item(entity: $0.entity, risk: $0.risk, findings: $0.findings) })
                } else {
                    data = Data(CSVExport.entities(items).utf8)
                }
            } else {
                let titles = m.columns.map { $0.title.lowercased().replacingOccurrences(of: " ", with: "_") }
                let table = rows.map { r in (0..<m.columns.count).map { m.cell(r, $0, now: state.now).0 } }
                if file.hasSuffix(".json") {
                    let objects = table.map { Dictionary(uniqueKeysWithValues: zip(titles, $0)) }
                    data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
                } else {
                    data = Data((CSVExport.line(titles) + table.map(CSVExport.line).joined()).utf8)
                }
            }
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            flash("Exported \(rows.count) rows to \(path)")
        } catch {
            flash("Export failed: \(path): \((error as NSError).localizedDescription)", error: true)
        }
    }

    // MARK: Set-up

    public func configure(theme: Theme, colorDepth: ColorDepth, unicode: Bool, readonly: Bool, analyst: Analyst) {
        state.theme = theme
        state.colorDepth = colorDepth
        state.unicode = unicode
        state.readonly = readonly
        state.analyst = analyst
    }
}

/// Things whose last reference is handed to a background thread, so their release doesn't stall input.
final class Garbage: @unchecked Sendable {
    private var items: [Any]
    init(_ items: [Any]) { self.items = items }
    func drop() { items.removeAll() }
}
