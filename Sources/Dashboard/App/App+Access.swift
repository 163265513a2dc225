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
        state.access = view
        let live = Set(view.grants.map(\.id))
        state.marked = state.marked.intersection(live)
        refreshTables([.access, .audit])
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

    func hookLine(_ event: String) -> [String] {
        state.hooks.preview(event).map { ["runs: \($0)"] } ?? []
    }

    func beginApprove() {
        guard state.panel == .access else { return flash("a approves a request: go to the Access panel (6)") }
        guard mayAct() else { return }
        guard case .request(let r)? = selectedAccessRow else { return flash("Select a pending request to approve", error: true) }
        let needed = state.policy.approvalsNeeded(r.population, scope: r.scope)
        let ttl = min(r.ttlSeconds, state.policy[r.population].maxTTLSeconds)
        var lines = Self.requestLines(r)
        if needed > 1 { lines.append("approvals  \(r.approvals.count) of \(needed) so far (two-person rule)") }
        if ttl < r.ttlSeconds { lines.append("policy caps \(r.population.title.lowercased()) at \(DurationText.format(ttl))") }
        lines += hookLine("approve")
        state.mode = .dialog(
            Dialog(
                action: .approve, title: "Approve request \(r.id)", lines: lines, targets: [r.id],
                fields: [
                    .init(label: "TTL", value: DurationText.format(ttl), hint: "15m 1h 8h"), .init(label: "Reason", value: "", hint: "why"),
                ],
                confirmLabel: "Approve"))
    }

    func beginDeny() {
        guard state.panel == .access else { return flash("d denies a request: go to the Access panel (6)") }
        guard mayAct() else { return }
        guard case .request(let r)? = selectedAccessRow else { return flash("Select a pending request to deny", error: true) }
        state.mode = .dialog(
            Dialog(
                action: .deny, title: "Deny request \(r.id)",
                lines: Self.requestLines(r) + hookLine("deny"),
                targets: [r.id], fields: [.init(label: "Reason", value: "", hint: "why")], confirmLabel: "Deny"))
    }

    func beginExtend() {
        guard state.panel == .access else { return flash("e extends a grant: go to the Access panel (6)") }
        guard mayAct() else { return }
        guard case .grant(let g)? = selectedAccessRow, g.state == .active else {
            return flash("Select an active grant to extend", error: true)
        }
        let max = state.policy[g.population].maxTTLSeconds
        state.mode = .dialog(
            Dialog(
                action: .extend, title: "Extend grant \(g.id)",
                lines: [
                    "subject    \(g.subjectName) (\(g.population.rawValue))", "scope      \(g.scope)",
                    "left       \(AccessTable.countdown(g.remaining(at: state.now))); "
                        + "the new TTL counts from now (at most \(DurationText.format(max)))",
                ] + hookLine("extend"),
                targets: [g.id],
                fields: [
                    .init(
                        label: "TTL", value: DurationText.format(Self.extendDefault(left: g.remaining(at: state.now), max: max)),
                        hint: "from now"),
                    .init(label: "Reason", value: "", hint: "why"),
                ],
                confirmLabel: "Extend"))
    }

    /// What a decision dialog says of the request: subject, scope, who asked and why, and what is being trusted.
    static func requestLines(_ r: AccessRequest) -> [String] {
        [
            "subject    \(r.subjectName) (\(r.population.rawValue))",
            "scope      \(r.scope)",
            "asked by   \(askedBy(r)) for \(DurationText.format(r.ttlSeconds)): \(r.reason)",
        ] + (r.flags.isEmpty ? [] : ["trusting   \(r.flags.joined(separator: "; "))"])
    }

    /// Who asked: the analyst, or the agent itself through the gateway, run by that analyst.
    static func askedBy(_ r: AccessRequest) -> String {
        guard r.askedByAgent, let via = r.via else { return r.requester }
        return "the agent itself (\(via), run by \(r.requester))"
    }

    /// The suggested new TTL for an extension: an hour more than is left, in whole minutes, within the cap.
    static func extendDefault(left: Double, max: Double) -> Double {
        Swift.min(max, ((left + 3600) / 60).rounded(.up) * 60)
    }

    func beginRevoke() {
        guard state.panel == .access else { return flash("r revokes a grant: go to the Access panel (6)") }
        guard mayAct() else { return }
        let active = state.access.grants.filter { $0.state == .active }
        let marked = active.filter { state.marked.contains($0.id) }
        if marked.count > 1 {
            var lines = marked.prefix(6).map {
                "\($0.id)  \($0.subjectName)  \($0.scope)  \(AccessTable.countdown($0.remaining(at: state.now))) left"
            }
            if marked.count > 6 { lines.append("and \(marked.count - 6) more") }
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
                    "subject    \(g.subjectName) (\(g.population.rawValue))", "scope      \(g.scope)",
                    "left       \(AccessTable.countdown(g.remaining(at: state.now)))",
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
                    "subject    \(s.name) (\(s.population.rawValue))", "id         \(s.id)",
                    "policy     at most \(DurationText.format(max))"
                        + (state.policy[s.population].forbiddenScopes.isEmpty
                            ? "" : "; never \(state.policy[s.population].forbiddenScopes.joined(separator: ", "))"),
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

    /// An answer: success closes the dialog with a message; a refusal or a lost race shows why in the dialog.
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
                d.error = first.message
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
            d.error = first.message
            state.mode = .dialog(d)
            return
        }
        state.mode = .normal
        if let m = Self.message(for: o, action: d.action) { flash(m) }
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
