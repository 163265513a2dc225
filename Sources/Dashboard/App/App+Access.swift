import Access
import AccessService
import Foundation
import Inventory
import Terminal

/// The access workflow from the keyboard: a approve, d deny, e extend, r revoke, n grant, Space mark.
/// Every action goes through a dialog that names subject, scope and TTL with Cancel focused; policy is enforced by
/// the store, so a refusal here is the same refusal the CLI gives.
extension App {
    /// The first view comes from the feed (or the caller), never from a read on this thread.
    public func configureAccess(_ controller: AccessController?, policy: AccessPolicy, hooks: HookConfig) {
        access = controller
        state.policy = policy
        state.hooks = hooks
    }

    /// Applies the answers to decisions sent earlier. Called by the UI loop each turn.
    @discardableResult
    public func receiveOutcomes() -> Bool {
        guard let access else { return false }
        let outcomes = access.takeOutcomes()
        for o in outcomes { receive(o) }
        return !outcomes.isEmpty
    }

    public func receive(_ view: AccessView) {
        defer {
            tourDataArrived()
            dropGoneOverviewSelection()
        }
        // The rows after the selected one: when a decision takes the selected request away, the cursor goes on to the
        // next request, as it did before the grant it became was put on top.
        var following: [String] = []
        if state.panel == .access, let rows = state.rows[.access], !rows.isEmpty {
            let m = model(.access)
            let cursor = min(state.table(.access).cursor, rows.count - 1)
            following = rows[(cursor + 1)...].prefix(20).map { m.id($0) }
        }
        let selected = state.table(.access).selectedID
        state.access = view
        let live = Set(view.grants.map(\.id))
        state.marked = state.marked.intersection(live)
        updateRecentGrants(refresh: false)
        refreshTables([.access, .audit])
        guard state.panel == .access, let selected, let rows = state.rows[.access] else { return }
        let m = model(.access)
        guard m.row(forID: selected) == nil else { return }
        for id in following {
            if let row = m.row(forID: id), let at = rows.firstIndex(of: row) {
                moveCursor(to: at)
                break
            }
        }
    }

    /// How long a grant this analyst approved stays on top of the Access panel.
    static let recentWindow: Double = 300

    /// Works out which active grants this analyst approved (or granted) in the last `recentWindow` seconds; when that
    /// changes, the Access table is put in order again.
    func updateRecentGrants(refresh: Bool = true) {
        let me = state.analyst.user
        var recent = Set<String>()
        for g in state.access.grants
        where g.state == .active && state.now.timeIntervalSince(g.startsAt) < Self.recentWindow && g.approvers.contains(me) {
            recent.insert(g.id)
        }
        guard recent != state.recentGrants else { return }
        state.recentGrants = recent
        if refresh { refreshTables([.access]) }
    }

    var selectedAccessRow: AccessTable.Row? {
        guard state.panel == .access, let rows = state.rows[.access], !rows.isEmpty,
            let table = model(.access) as? AccessTable
        else { return nil }
        return table.rows[rows[min(state.table(.access).cursor, rows.count - 1)]]
    }

    /// Refuses when read-only or without a store; true when the action may go on.
    func mayAct() -> Bool {
        if state.readonly {
            flash("Read-only mode: access actions are turned off", error: true)
            return false
        }
        if access == nil {
            flash("No access store is open", error: true)
            return false
        }
        if state.access.unreachable {
            flash(
                state.access.storeDown
                    ? "The access store is unreachable: actions are off until it is back"
                    : "The access service is unreachable: actions are off until it is back", error: true)
            return false
        }
        return true
    }

    func hookLine(_ event: String) -> [Dialog.Line] {
        state.hooks.preview(event).map { [Dialog.Line("runs: \($0)")] } ?? []
    }

    /// What the inventory says of a subject now, as the Access panel's RISK column shows it.
    func inventoryLine(_ subject: String, recorded: [String] = []) -> Dialog.Line {
        let (text, role) = AccessTable.trust(state.snapshot[subject], recorded: recorded)
        return Dialog.Line("inventory  \(text)", role == .critical || role == .high ? .warning : .plain)
    }

    /// The subject line: its name and population.
    func subjectLine(name: String, population: Population) -> Dialog.Line {
        Dialog.Line("subject    \(name) (\(population.rawValue))")
    }

    func beginApprove() {
        guard state.panel == .access else { return flash("a approves a request: go to the Access panel (6)") }
        guard mayAct() else { return }
        guard case .request(let r)? = selectedAccessRow else { return flash("Select a pending request to approve", error: true) }
        // The store decides with the same verdict (AccessPolicy.approvalVerdict); this shows it before confirming.
        let verdict = state.policy.approvalVerdict(r, by: state.analyst)
        let ttl = min(r.ttlSeconds, state.policy[r.population].maxTTLSeconds)
        var lines = requestLines(r)
        lines += Self.verdictLines(verdict, analyst: state.analyst.user)
        if verdict.refusal == nil, ttl < r.ttlSeconds {
            lines.append(Dialog.Line("policy caps \(r.population.title.lowercased()) at \(DurationText.format(ttl))", .warning))
        }
        lines += hookLine("approve")
        var d = Dialog(
            action: .approve, title: "Approve request \(r.id)", lines: lines, targets: [r.id],
            fields: [
                .init(label: "TTL", value: DurationText.format(ttl), hint: "15m 1h 8h"), .init(label: "Reason", value: "", hint: "why"),
            ],
            confirmLabel: "Approve")
        // Nothing to confirm: the store would refuse it whatever the TTL and reason.
        if verdict.refusal != nil { d.close(because: nil) }
        state.mode = .dialog(d)
    }

    /// The policy's verdict on this analyst's approval, and whose approval it never takes.
    static func verdictLines(_ v: ApprovalVerdict, analyst: String) -> [Dialog.Line] {
        let progress =
            v.needed > 1
            ? "needs \(v.needed) approvals: \(v.approvedBy.count) so far"
                + (v.approvedBy.isEmpty ? "" : " (\(v.approvedBy.joined(separator: ", ")))") : nil
        let verdict: Dialog.Line
        if let refusal = v.refusal {
            let why: String
            switch refusal {
            case .refused(let rule, let message):
                let phrase =
                    switch rule {
                    case "no_self_approval": "you may not approve your own request"
                    case "no_owner_approval": "you own the subject, and its owner may not approve its access"
                    case "two_person": "you approved it already; another analyst must give the next approval"
                    default: message
                    }
                why = "refused by policy (\(rule)): \(phrase)"
            default: why = refusal.description
            }
            verdict = Dialog.Line("verdict    " + [progress, why].compactMap { $0 }.joined(separator: "; "), .refusal)
        } else if v.grants {
            verdict = Dialog.Line(
                "verdict    " + (progress.map { "\($0); yours is the last one needed: it grants the access" } ?? "your approval grants it"),
                .good)
        } else {
            let left = v.approvalsLeft - 1
            verdict = Dialog.Line(
                "verdict    \(progress ?? "needs \(v.needed) approvals"); yours records approval \(v.approvedBy.count + 1) of \(v.needed), "
                    + "then \(left) more from another analyst (two-person rule)", .warning)
        }
        let excluded = v.excluded.map { e in
            let who = e.user == analyst ? "you" : e.user
            let why =
                switch e.why {
                case .requester: "asked for it"
                case .owner: "owns the subject"
                case .approved: "approved already"
                }
            return "\(who) (\(why))"
        }
        return [verdict, Dialog.Line("approvers  any analyst except " + excluded.joined(separator: ", "))]
    }

    func beginDeny() {
        guard state.panel == .access else { return flash("d denies a request: go to the Access panel (6)") }
        guard mayAct() else { return }
        guard case .request(let r)? = selectedAccessRow else { return flash("Select a pending request to deny", error: true) }
        state.mode = .dialog(
            Dialog(
                action: .deny, title: "Deny request \(r.id)",
                lines: requestLines(r) + hookLine("deny"),
                targets: [r.id], fields: [.init(label: "Reason", value: "", hint: "why")], confirmLabel: "Deny"))
    }

    func beginExtend() {
        guard state.panel == .access else { return flash("e extends a grant: go to the Access panel (6)") }
        guard mayAct() else { return }
        guard case .grant(let g)? = selectedAccessRow, g.state == .active else {
            return flash("Select an active grant to extend", error: true)
        }
        let max = state.policy[g.population].maxTTLSeconds
        let proposal = Self.extendDefault(left: g.remaining(at: state.now), asked: g.askedTTLSeconds, max: max)
        state.mode = .dialog(
            Dialog(
                action: .extend, title: "Extend grant \(g.id)",
                lines: [
                    subjectLine(name: g.subjectName, population: g.population), inventoryLine(g.subject),
                    Dialog.Line("scope      \(g.scope)"),
                    Dialog.Line(
                        "left       ", until: g.expiresAt,
                        suffix: "; the new TTL counts from now (at most \(DurationText.format(max)))"),
                ] + (g.askedTTLSeconds.map { [Dialog.Line("asked for  \(DurationText.format($0)) when it was granted")] } ?? [])
                    + hookLine("extend"),
                targets: [g.id],
                fields: [
                    .init(label: "TTL", value: DurationText.format(proposal), hint: "from now"),
                    .init(label: "Reason", value: "", hint: "why"),
                ],
                confirmLabel: "Extend"))
    }

    /// What a decision dialog says of the request: subject, what the inventory says of it now, scope, who asked and
    /// why, and what was recorded as being trusted when it was filed.
    func requestLines(_ r: AccessRequest) -> [Dialog.Line] {
        [
            subjectLine(name: r.subjectName, population: r.population),
            inventoryLine(r.subject, recorded: r.flags),
            Dialog.Line("scope      \(r.scope)"),
            Dialog.Line(
                "asked by   \(Self.askedBy(r)) for \(DurationText.format(r.ttlSeconds)): \(r.reason)"
                    + (r.ticket.map { " [\($0)]" } ?? "")),
        ] + (r.flags.isEmpty ? [] : [Dialog.Line("trusting   \(r.flags.joined(separator: "; "))")])
    }

    /// Who asked: the analyst, or the agent itself through the gateway, run by that analyst.
    static func askedBy(_ r: AccessRequest) -> String {
        guard r.askedByAgent, let via = r.via else { return r.requester }
        return "the agent itself (\(via), run by \(r.requester))"
    }

    /// The suggested new TTL for an extension, counted from now: the TTL first asked for, within the cap; when that
    /// would not reach past the present expiry, that much beyond what is left. A grant that doesn't know what was
    /// asked (made before trustgap recorded it) gets an hour more than is left. In whole minutes.
    static func extendDefault(left: Double, asked: Double? = nil, max: Double) -> Double {
        guard let asked, asked > 0 else { return Swift.min(max, ((left + 3600) / 60).rounded(.up) * 60) }
        let again = Swift.min(max, (asked / 60).rounded(.up) * 60)
        if again > left + 60 { return again }
        return Swift.min(max, ((left + asked) / 60).rounded(.up) * 60)
    }

    func beginRevoke() {
        guard state.panel == .access else { return flash("r revokes a grant: go to the Access panel (6)") }
        guard mayAct() else { return }
        let active = state.access.grants.filter { $0.state == .active }
        let marked = active.filter { state.marked.contains($0.id) }
        if marked.count > 1 {
            var lines = marked.prefix(6).map {
                Dialog.Line("\($0.id)  \($0.subjectName)  \($0.scope)  ", until: $0.expiresAt, suffix: " left")
            }
            if marked.count > 6 { lines.append(Dialog.Line("and \(marked.count - 6) more")) }
            state.mode = .dialog(
                Dialog(
                    action: .revoke, title: "Revoke \(marked.count) marked grants", lines: lines + hookLine("revoke"),
                    targets: marked.map(\.id),
                    fields: [
                        .init(label: "Type \(marked.count) to confirm", value: "", hint: "\(marked.count)"),
                        .init(label: "Reason", value: "", hint: "why"),
                    ],
                    confirmLabel: "Revoke \(marked.count)", confirmCount: marked.count))
            return
        }
        let target = marked.first ?? { if case .grant(let g)? = selectedAccessRow, g.state == .active { return g } else { return nil } }()
        guard let g = target else { return flash("Select an active grant to revoke (Space marks several)", error: true) }
        state.mode = .dialog(
            Dialog(
                action: .revoke, title: "Revoke grant \(g.id)",
                lines: [
                    subjectLine(name: g.subjectName, population: g.population), inventoryLine(g.subject),
                    Dialog.Line("scope      \(g.scope)"), Dialog.Line("left       ", until: g.expiresAt),
                ] + hookLine("revoke"),
                targets: [g.id], fields: [.init(label: "Reason", value: "", hint: "why")], confirmLabel: "Revoke"))
    }

    func beginGrant() {
        guard mayAct() else { return }
        var subject: Subject?
        if case .detail(let id, _) = state.mode, let a = state.snapshot[id] {
            subject = Subject(a)
        } else if let p = state.panel.population, let rows = state.rows[state.panel], !rows.isEmpty {
            let e = state.snapshot.entities[state.populationIndex[p]![rows[min(state.table(state.panel).cursor, rows.count - 1)]]].entity
            subject = Subject(e)
        } else if let row = selectedAccessRow {
            switch row {
            case .request(let r): subject = Subject(id: r.subject, name: r.subjectName, population: r.population)
            case .grant(let g): subject = Subject(id: g.subject, name: g.subjectName, population: g.population)
            }
        }
        guard let s = subject else { return flash("Select an entity (panels 2-5) to grant it time-bound access", error: true) }
        let max = state.policy[s.population].maxTTLSeconds
        state.mode = .dialog(
            Dialog(
                action: .grant, title: "Grant time-bound access",
                lines: [
                    subjectLine(name: s.name, population: s.population), Dialog.Line("id         \(s.id)"),
                    inventoryLine(s.id),
                    Dialog.Line(
                        "policy     at most \(DurationText.format(max))"
                            + (state.policy[s.population].forbiddenScopes.isEmpty
                                ? "" : "; never \(state.policy[s.population].forbiddenScopes.joined(separator: ", "))")),
                ] + hookLine("approve"),
                targets: [s.id],
                fields: [
                    .init(label: "Scope", value: "", hint: "repo:acme/api:write"),
                    .init(label: "TTL", value: DurationText.format(Swift.min(max, 3600)), hint: "15m 1h"),
                    .init(label: "Reason", value: "", hint: "why"),
                ],
                confirmLabel: "Grant"))
    }

    func toggleMark() {
        guard state.panel == .access, case .grant(let g)? = selectedAccessRow, g.state == .active else { return }
        if state.marked.contains(g.id) { state.marked.remove(g.id) } else { state.marked.insert(g.id) }
        recompute(.access)
        moveCursor(to: state.table(.access).cursor + 1)
    }

    func handleDialog(_ key: Key, _ dialog: Dialog) {
        var d = dialog
        if d.closed {
            // It can't go on: Close is the only button. A key the dialog has no use for closes it and acts in the panel;
            // `q` only closes, so typing after a refusal never quits.
            switch key {
            case .escape, .enter, .character(" "), .character("q"): state.mode = .normal
            case .tab, .backTab, .left, .right: break
            default:
                state.mode = .normal
                handleNormal(key)
            }
            return
        }
        if d.sending {
            // Waiting for the answer: Esc closes the box (the decision still goes through), nothing else acts.
            if key == .escape { state.mode = .normal }
            return
        }
        let inField = d.focus < d.fields.count
        switch key {
        case .escape:
            state.mode = .normal
            return
        case .tab, .down:
            d.focus = (d.focus + 1) % (d.fields.count + 2)
        case .backTab, .up:
            d.focus = (d.focus + d.fields.count + 1) % (d.fields.count + 2)
        case .left where !inField, .right where !inField:
            d.focus = d.focus == d.cancelIndex ? d.confirmIndex : d.cancelIndex
        case .enter:
            if inField {
                // Enter moves on; after the last field the focus lands on Cancel, never on the action.
                d.focus += 1
            } else if d.focus == d.cancelIndex {
                state.mode = .normal
                flash("Cancelled")
                return
            } else {
                perform(&d)
                if case .dialog = state.mode { state.mode = .dialog(d) }
                return
            }
        case .backspace, .delete:
            if inField {
                if !d.fields[d.focus].edited {
                    d.fields[d.focus].value = ""
                } else if !d.fields[d.focus].value.isEmpty {
                    d.fields[d.focus].value.removeLast()
                }
                d.fields[d.focus].edited = true
            }
        case .control("u"):
            if inField {
                d.fields[d.focus].value = ""
                d.fields[d.focus].edited = true
            }
        case .character(let c):
            if inField {
                if !d.fields[d.focus].edited { d.fields[d.focus].value = "" }
                d.fields[d.focus].value.append(c)
                d.fields[d.focus].edited = true
            }
        default: break
        }
        d.error = nil
        state.mode = .dialog(d)
    }

    /// Sends a confirmed dialog's intents; the answer comes back through `receiveOutcomes`. Nothing here touches the
    /// store or a socket: this is the UI thread.
    func perform(_ d: inout Dialog) {
        guard let access else { return }
        func duration(_ label: String) -> Double? {
            guard let v = try? DurationText.seconds(d.value(label)), v > 0 else {
                d.error = "\(label): '\(d.value(label))' is not a duration like 15m, 1h or 8h"
                d.focus = d.fields.firstIndex { $0.label == label } ?? 0
                if d.focus < d.fields.count { d.fields[d.focus].edited = false }
                return nil
            }
            return v
        }
        let reason = d.value("Reason")
        let requests: [WireRequest]
        switch d.action {
        case .approve:
            guard let ttl = duration("TTL") else { return }
            requests = [WireRequest(op: "approve", ttlSeconds: ttl, reason: reason, target: d.targets[0])]
        case .deny:
            requests = [WireRequest(op: "deny", reason: reason, target: d.targets[0])]
        case .extend:
            guard let ttl = duration("TTL") else { return }
            requests = [WireRequest(op: "extend", ttlSeconds: ttl, reason: reason, target: d.targets[0])]
        case .revoke:
            if let n = d.confirmCount, d.fields.first?.value.trimmingCharacters(in: .whitespaces) != String(n) {
                d.error = "Type \(n) to confirm revoking \(n) grants"
                d.focus = 0
                return
            }
            requests = d.targets.map { WireRequest(op: "revoke", reason: reason, target: $0) }
        case .grant:
            guard let ttl = duration("TTL") else { return }
            guard state.snapshot[d.targets[0]] != nil else {
                d.error = "\(d.targets[0]) is no longer in the inventory"
                return
            }
            if !access.isService { access.subjects.update(state.snapshot) }
            requests = [WireRequest(op: "grant", subject: d.targets[0], scope: d.value("Scope"), ttlSeconds: ttl, reason: reason)]
        }
        dialogSerial += 1
        d.serial = dialogSerial
        d.sending = true
        d.error = nil
        access.submit(requests, dialog: d.serial, action: d.action.rawValue)
    }

    /// An answer: success closes the dialog with a message. A refusal the input can fix puts the focus on the field to
    /// change; any other refusal, or a lost race, closes the dialog for good with the reason and Close focused.
    func receive(_ o: AccessOutcome) {
        if let v = o.view { receive(v) }
        guard case .dialog(var d) = state.mode, d.serial == o.dialog else {
            // The dialog was closed while waiting: say what happened on the status line.
            if let failure = o.results.lazy.compactMap({ if case .failure(let e) = $0 { e } else { nil } }).first {
                flash(failure.message, error: true)
            } else if let message = Self.message(for: o, action: Dialog.Action(rawValue: o.action)) {
                flash(message)
            }
            return
        }
        d.sending = false
        let failures = o.results.compactMap { if case .failure(let e) = $0 { e } else { nil } }
        if d.action == .revoke, d.targets.count > 1 {
            let done = o.results.count - failures.count
            if done == 0, let first = failures.first {
                refuse(&d, first)
                state.mode = .dialog(d)
                return
            }
            state.marked = []
            state.mode = .normal
            flash(
                "Revoked \(done) grant\(done == 1 ? "" : "s")" + (failures.isEmpty ? "" : "; \(failures.count) not: \(failures[0].message)")
            )
            return
        }
        if let first = failures.first {
            refuse(&d, first)
            state.mode = .dialog(d)
            return
        }
        state.mode = .normal
        if let m = Self.message(for: o, action: d.action) { flash(m) }
    }

    /// Shows a refusal: in the field that can fix it, focused, its value replaced by the first key typed; or, when no
    /// input can (someone else decided first, a rule about who may decide, the service away), with Close focused.
    func refuse(_ d: inout Dialog, _ e: WireError) {
        d.sending = false
        guard let label = Self.fieldToFix(e, in: d), let i = d.fields.firstIndex(where: { $0.label == label }) else {
            return d.close(because: e.message)
        }
        d.error = e.message
        d.focus = i
        d.fields[i].edited = false
    }

    /// The field whose value caused a refusal, if changing it could help.
    static func fieldToFix(_ e: WireError, in d: Dialog) -> String? {
        switch e.code {
        case "refused":
            switch e.rule {
            case "max_ttl": return "TTL"
            case "require_reason": return "Reason"
            case "forbidden_scopes" where d.action == .grant: return "Scope"
            default: return nil
            }
        case "invalid":
            // Bad input: a reason or ticket with a NUL, a scope outside the grammar, or a TTL (too long for what was
            // asked, not reaching past the present expiry, not longer than zero).
            if e.message.contains("reason") { return "Reason" }
            if e.message.hasPrefix("scope") { return "Scope" }
            return "TTL"
        default: return nil
        }
    }

    static func message(for o: AccessOutcome, action: Dialog.Action?) -> String? {
        guard case .success(let r)? = o.results.first else { return nil }
        if let g = r.grant {
            switch action {
            case .extend?: return "Extended \(g.id): \(AccessTable.countdown(g.expiresAt.timeIntervalSinceNow)) left"
            case .revoke?: return "Revoked \(g.id)"
            case .grant?:
                return
                    "Granted \(g.subjectName) \(g.scope) for \(DurationText.format(g.expiresAt.timeIntervalSince(g.startsAt))) "
                    + "(grant \(g.id))"
            default:
                if g.state == .revoked { return "Revoked \(g.id)" }
                return
                    "Approved: \(g.subjectName) \(g.scope) for \(DurationText.format(g.expiresAt.timeIntervalSince(g.startsAt))) "
                    + "(grant \(g.id))"
            }
        }
        if let left = r.approvalsLeft {
            return (action == .extend ? "Extension approval" : "Approval") + " recorded; \(left) more needed from another analyst"
        }
        if let req = r.request, req.state == .denied { return "Denied \(req.id)" }
        return nil
    }
}
