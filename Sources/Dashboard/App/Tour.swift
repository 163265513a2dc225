import Access
import Foundation
import Inventory
import Terminal

/// Where the guided tour is: its step. The dashboard stays live underneath and every other key works as usual.
public struct TourState: Sendable, Equatable {
    public var step: Int
}

/// The guided tour (`t`, `:tour`, `trustgap tour`): the seed's story told on the real, live panels, one caption per
/// step. Each caption is worked out from what is on screen when it is drawn (the real counts, the real names), never
/// from figures written here.
enum Tour {
    struct Step: Sendable {
        let title: String
        /// Brings the panels to what the caption talks about; false when that isn't there yet (the inventory or the
        /// store still arriving), so it is tried again when new data comes.
        let show: @Sendable (App) -> Bool
        /// The caption, from the live state.
        let caption: @Sendable (AppState, Glyphs) -> String
        /// The box sits at the top of the body (pointing down) rather than at its foot (pointing up).
        var atTop = false
    }

    /// The tour's own keys; every other key goes to the dashboard underneath.
    static let keys: [Key] = [.character(" "), .right, .left, .escape]

    static func percent(_ n: Int, _ of: Int) -> String { "\(GapFigures.percent(n, of: of))%" }

    /// The agents, from the population index (or, while the first quick preparation lacks it, the whole snapshot).
    static func agents(_ s: AppState) -> [AssessedEntity] {
        if let index = s.populationIndex[.agent], !index.isEmpty { return index.map { s.snapshot.entities[$0] } }
        return s.snapshot.entities.filter { $0.entity.population == .agent }
    }

    /// The newest shadow agent (firstSeen, then id).
    static func newestShadowAgent(_ s: AppState) -> AssessedEntity? {
        agents(s).lazy.filter { $0.entity.signals.sanctioned == false }
            .max { ($0.entity.firstSeen ?? .distantPast, $0.id) < ($1.entity.firstSeen ?? .distantPast, $1.id) }
    }

    /// The riskiest agent whose secret sits exposed in a config file (an MCP or assistant config), else any exposed.
    static func leakedAgent(_ s: AppState) -> (AssessedEntity, String)? {
        var best: (AssessedEntity, String)?
        for a in agents(s) {
            guard let exposure = a.entity.credentials.lazy.flatMap(\.exposures).first else { continue }
            if best == nil || a.risk > best!.0.risk || (a.risk == best!.0.risk && a.id < best!.0.id) { best = (a, exposure) }
        }
        return best
    }

    /// A pending request for an agent: one the agent asked itself first, the one with the longest left before it
    /// lapses first (the oldest may lapse while the presenter talks about it).
    static func agentRequest(_ s: AppState) -> AccessRequest? {
        let agents = s.access.pending.filter { $0.population == .agent }.sorted { $0.lapsesAt > $1.lapsesAt }
        return agents.first { $0.askedByAgent } ?? agents.first
    }

    /// The Access panel with the agent's request selected (steps 5 and 6).
    @Sendable static func showAgentRequest(_ app: App) -> Bool {
        app.switchTo(.access)
        guard let r = agentRequest(app.state) else { return false }
        app.select(r.id, on: .access)
        return true
    }

    /// The active grant that started last: the one just approved, usually.
    static func newestGrant(_ s: AppState) -> Grant? {
        s.access.grants.filter { $0.state == .active }.max { ($0.startsAt, $0.id) < ($1.startsAt, $1.id) }
    }

    static let steps: [Step] = [
        Step(
            title: "The gap",
            show: { app in
                app.switchTo(.overview)
                return app.state.snapshot.version > 0
            },
            caption: { s, g in
                let all = s.snapshot.totalGap
                guard all.total > 0 else { return "Collecting the inventory\(g.ellipsis) the figures appear in a moment." }
                let parts = Population.allCases.compactMap { p -> String? in
                    guard let f = s.snapshot.gap[p], f.total > 0 else { return nil }
                    return "\(percent(f.unmanaged, f.total)) of \(p.title.lowercased())"
                }
                return "\(g.up) THE GAP: of \(all.total) identities, \(percent(all.unmanaged, all.total)) sit outside SSO, PAM "
                    + "or any other control: \(parts.joined(separator: ", ")). Each population needs its own rules, "
                    + "and the ones nobody governs are where access goes unseen."
            }),
        Step(
            title: "Shadow AI",
            show: { app in
                app.switchTo(.agents)
                guard let a = newestShadowAgent(app.state) else { return false }
                app.select(a.id, on: .agents)
                return true
            },
            caption: { s, g in
                let agents = s.snapshot.gap[.agent] ?? GapFigures()
                var text =
                    "\(agents.shadow) of \(agents.total) AI agents were never approved by anyone: shadow AI, running "
                    + "with real credentials (APPROVED says no)."
                if let a = newestShadowAgent(s) {
                    let host = a.entity.attributes["host"].map { " on \($0)" } ?? ""
                    let age = a.entity.firstSeen.map { " \(EntityTable.age($0, now: s.now)) ago" } ?? ""
                    text += " \(g.up) The newest, \(a.entity.name)\(host), was found\(age)."
                }
                return text
            }),
        Step(
            title: "A leaked secret",
            show: { app in
                app.switchTo(.agents)
                guard let (a, _) = leakedAgent(app.state) else { return false }
                app.select(a.id, on: .agents)
                // Scrolled to the end, where the credentials are, below the caption.
                app.state.mode = .detail(id: a.id, offset: Int.max / 2)
                return true
            },
            caption: { s, g in
                let exposed = s.snapshot.totalGap.exposedSecrets
                guard let (a, exposure) = leakedAgent(s) else {
                    return "\(exposed) identities have a credential found exposed; none of them is an agent right now."
                }
                return "\(g.down) \(a.entity.name) keeps its credential \(exposure) (EXPOSED, below): whoever can read "
                    + "that file holds its access. trustgap shows only the secret's fingerprint, never the secret. "
                    + "\(exposed) identities have a secret exposed like this."
            }, atTop: true),
        Step(
            title: "More than they use",
            show: { app in
                app.switchTo(.serviceAccounts)
                return app.state.snapshot.version > 0
            },
            caption: { s, g in
                let sa = s.snapshot.gap[.serviceAccount] ?? GapFigures()
                return "\(g.up) \(percent(sa.overprivileged, sa.total)) of these \(sa.total) service accounts hold "
                    + "privileges they never use (the industry's figure: 97% of non-human identities carry excessive "
                    + "privileges). \(s.snapshot.totalGap.standingPrivilege) identities hold admin or wildcard access "
                    + "standing, not time-bound."
            }),
        Step(
            title: "An agent asks",
            show: showAgentRequest,
            caption: { s, g in
                guard let r = agentRequest(s) else {
                    return "No agent is asking right now: the demo's agent asks about 20 seconds after the start, "
                        + "through the same gateway an AI client uses. Press Left then Space to look again."
                }
                let who = r.askedByAgent ? "asks itself, through the gateway, run by \(r.requester)" : "is asked for by \(r.requester)"
                let trusting = r.flags.isEmpty ? "" : " What you would trust: \(r.flags.joined(separator: ", "))."
                return "\(g.up) \(r.subjectName), an AI agent, \(who): \(r.scope) for "
                    + "\(DurationText.format(r.ttlSeconds)), to \(r.reason).\(trusting)"
            }),
        Step(
            title: "Approve it, for 15 minutes",
            show: showAgentRequest,
            caption: { s, _ in
                let p = s.policy[.agent]
                let forbidden = p.forbiddenScopes.first.map { ", and never an admin scope (\($0))" } ?? ""
                if s.readonly {
                    return "This dashboard is read-only, so it can't approve: an analyst who can presses a, sets 15m and a "
                        + "reason. The agent policy decides, not the dashboard: agents get at most "
                        + "\(DurationText.format(p.maxTTLSeconds))\(forbidden)."
                }
                return "Press a: the dialog shows what you are trusting. Type 15m as the TTL, a reason, then Tab to "
                    + "Approve and Enter. The agent policy decides, not the dashboard: agents get at most "
                    + "\(DurationText.format(p.maxTTLSeconds))\(forbidden). Then Space."
            }),
        Step(
            title: "Time-bound",
            show: { app in
                app.switchTo(.access)
                guard let grant = newestGrant(app.state) else { return false }
                app.select(grant.id, on: .access)
                return true
            },
            caption: { s, g in
                guard let grant = newestGrant(s) else {
                    return "No grant is active yet: approve a request (Left goes back a step) and watch it count down here."
                }
                return "\(g.up) \(grant.subjectName) holds \(grant.scope) for \(AccessTable.countdown(grant.remaining(at: s.now))) "
                    + "more, then loses it by itself: no standing access."
                    + (s.readonly ? " An analyst who can may revoke it now (r)." : " Press r to revoke it now.")
            }),
        Step(
            title: "The audit proves it",
            show: { app in
                app.switchTo(.audit)
                return true
            },
            caption: { s, g in
                let chain: String
                if let v = s.access.verification {
                    chain = v.ok ? "the chain holds: \(v.entries) entries verified" : "the chain is BROKEN: \(v.problem ?? "")"
                } else {
                    chain = "the chain is checked as entries arrive"
                }
                let newest = s.access.audit.last.map { " The newest: \($0.analyst) \($0.action) \($0.subject)." } ?? ""
                return "\(g.up) Every decision is in a hash-chained, keyed audit log: who, what, when and why; \(chain)."
                    + "\(newest) Editing the store breaks the chain, and trustgap audit verify says where."
            }),
    ]
}

extension App {
    /// Starts the guided tour at its first step.
    public func startTour() {
        state.tour = TourState(step: 0)
        state.overviewSelection = nil
        if case .detail = state.mode { state.mode = .normal }
        show(step: 0)
    }

    /// Shows a step; when what it shows isn't there yet, it waits for it on the panel it went to.
    func show(step: Int) {
        tourWaiting = !Tour.steps[step].show(self)
        tourPanel = state.panel
    }

    /// New data while a step waits for what it shows: shows it now, once, and only while the analyst is still where
    /// the step left them; an analyst who went elsewhere is never pulled back.
    func tourDataArrived() {
        guard tourWaiting, let tour = state.tour, tour.step < Tour.steps.count else { return }
        guard state.mode == .normal, state.panel == tourPanel else {
            if state.panel != tourPanel { tourWaiting = false }
            return
        }
        show(step: tour.step)
    }

    /// The tour's own keys (Space and Right next, Left back, Esc leaves); every other key goes to the dashboard.
    func handleTour(_ key: Key) -> Bool {
        guard let tour = state.tour else { return false }
        switch state.mode {
        case .normal, .detail: break
        default: return false
        }
        switch key {
        case .character(" "), .right: go(to: tour.step + 1)
        case .left: go(to: max(0, tour.step - 1))
        case .escape:
            state.tour = nil
            if case .detail = state.mode { state.mode = .normal }
            flash("Left the tour: the dashboard is yours (t starts it again)")
        default: return false
        }
        return true
    }

    func go(to step: Int) {
        guard step < Tour.steps.count else {
            state.tour = nil
            state.mode = .normal
            return flash("That was the tour: the dashboard is yours (t starts it again)")
        }
        state.tour = TourState(step: step)
        state.mode = .normal
        show(step: step)
    }

    /// Puts a table's cursor on a row by id, near the top, so the caption below never hides it.
    func select(_ id: String, on panel: Panel) {
        state.tables[panel]?.selectedID = id
        recompute(panel)
        if let ts = state.tables[panel] { state.tables[panel]?.top = max(0, ts.cursor - 1) }
        scrollIntoView(panel)
    }
}

/// The caption box, at the foot of the body, over the panel it talks about.
enum TourView {
    static func render(_ buf: inout ScreenBuffer, _ c: Renderer.Context, _ tour: TourState, y: Int, height: Int) {
        guard tour.step < Tour.steps.count else { return }
        let step = Tour.steps[tour.step]
        let w = min(buf.width, 80)
        let x = (buf.width - w) / 2
        let inner = w - 4
        let lines = wrap(SafeText.sanitize(step.caption(c.s, c.g)), width: inner)
        let footer = "Space next  \(c.s.unicode ? "←" : "<-") back  Esc leave the tour"
        let h = min(height, lines.count + 4)
        let top = step.atTop ? y : y + height - h
        // The whole width of its rows is cleared, so nothing of the panel shows beside a box narrower than the screen.
        buf.fill(x: 0, y: top, width: buf.width, height: h, style: c.style(.background))
        DialogView.box(
            &buf, c, x: x, y: top, width: w, height: h, title: "Tour \(tour.step + 1)/\(Tour.steps.count) \(c.g.dot) \(step.title)")
        var row = top + 1
        for line in lines where row < top + h - 2 {
            buf.put(line, x: x + 2, y: row, style: c.style(.text), maxWidth: inner)
            row += 1
        }
        buf.put(footer, x: x + w - 2 - SafeText.width(footer), y: top + h - 2, style: c.style(.muted), maxWidth: inner)
    }
}
