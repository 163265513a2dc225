import Access
import Foundation
import Inventory
import Terminal

/// The access workflow from the keyboard: a approve, d deny, e extend, r revoke, n grant, Space mark.
/// Every action goes through a dialog that names subject, scope and TTL with Cancel focused; policy is enforced by
/// the store, so a refusal here is the same refusal the CLI gives.
extension App {
    public func configureAccess(_ controller: AccessController?, policy: AccessPolicy, hooks: HookConfig) {
        access = controller
        state.policy = policy
        state.hooks = hooks
        if let controller { receive(controller.view()) }
    }

    public func receive(_ view: AccessView) {
        state.access = view
        let live = Set(view.grants.map(\.id))
        state.marked = state.marked.intersection(live)
        refreshTables([.access, .audit])
    }

    var selectedAccessRow: AccessTable.Row? {
        guard state.panel == .access, let rows = state.rows[.access], !rows.isEmpty,
              let table = model(.access) as? AccessTable else { return nil }
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
        var lines = [
            "subject    \(r.subjectName) (\(r.population.rawValue))",
            "scope      \(r.scope)",
            "asked by   \(r.requester) for \(DurationText.format(r.ttlSeconds)): \(r.reason)",
        ]
        if needed > 1 { lines.append("approvals  \(r.approvals.count) of \(needed) so far (two-person rule)") }
        if ttl < r.ttlSeconds { lines.append("policy caps \(r.population.title.lowercased()) at \(DurationText.format(ttl))") }
        lines += hookLine("approve")
        state.mode = .dialog(Dialog(
            action: .approve, title: "Approve request \(r.id)", lines: lines, targets: [r.id],
            fields: [.init(label: "TTL", value: DurationText.format(ttl), hint: "15m 1h 8h"), .init(label: "Reason", value: "", hint: "why")],
            confirmLabel: "Approve"))
    }

    func beginDeny() {
        guard state.panel == .access else { return flash("d denies a request: go to the Access panel (6)") }
        guard mayAct() else { return }
        guard case .request(let r)? = selectedAccessRow else { return flash("Select a pending request to deny", error: true) }
        state.mode = .dialog(Dialog(
            action: .deny, title: "Deny request \(r.id)",
            lines: ["subject    \(r.subjectName) (\(r.population.rawValue))", "scope      \(r.scope)",
                    "asked by   \(r.requester) for \(DurationText.format(r.ttlSeconds)): \(r.reason)"] + hookLine("deny"),
            targets: [r.id], fields: [.init(label: "Reason", value: "", hint: "why")], confirmLabel: "Deny"))
    }

    func beginExtend() {
        guard state.panel == .access else { return flash("e extends a grant: go to the Access panel (6)") }
        guard mayAct() else { return }
        guard case .grant(let g)? = selectedAccessRow, g.state == .active else { return flash("Select an active grant to extend", error: true) }
        let max = state.policy[g.population].maxTTLSeconds
        state.mode = .dialog(Dialog(
            action: .extend, title: "Extend grant \(g.id)",
            lines: ["subject    \(g.subjectName) (\(g.population.rawValue))", "scope      \(g.scope)",
                    "left       \(AccessTable.countdown(g.remaining(at: state.now))); the new TTL counts from now (at most \(DurationText.format(max)))"] + hookLine("extend"),
            targets: [g.id],
            fields: [.init(label: "TTL", value: DurationText.format(Self.extendDefault(left: g.remaining(at: state.now), max: max)), hint: "from now"),
                     .init(label: "Reason", value: "", hint: "why")],
            confirmLabel: "Extend"))
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
            var lines = marked.prefix(6).map { "\($0.id)  \($0.subjectName)  \($0.scope)  \(AccessTable.countdown($0.remaining(at: state.now))) left" }
            if marked.count > 6 { lines.append("and \(marked.count - 6) more") }
            state.mode = .dialog(Dialog(
                action: .revoke, title: "Revoke \(marked.count) marked grants", lines: lines + hookLine("revoke"),
                targets: marked.map(\.id),
                fields: [.init(label: "Type \(marked.count) to confirm", value: "", hint: "\(marked.count)"), .init(label: "Reason", value: "", hint: "why")],
                confirmLabel: "Revoke \(marked.count)", confirmCount: marked.count))
            return
        }
        let target = marked.first ?? { if case .grant(let g)? = selectedAccessRow, g.state == .active { return g } else { return nil } }()
        guard let g = target else { return flash("Select an active grant to revoke (Space marks several)", error: true) }
        state.mode = .dialog(Dialog(
            action: .revoke, title: "Revoke grant \(g.id)",
            lines: ["subject    \(g.subjectName) (\(g.population.rawValue))", "scope      \(g.scope)",
                    "left       \(AccessTable.countdown(g.remaining(at: state.now)))"] + hookLine("revoke"),
            targets: [g.id], fields: [.init(label: "Reason", value: "", hint: "why")], confirmLabel: "Revoke"))
    }

    func beginGrant() {
        guard mayAct() else { return }
        var subject: Subject?
        if case .detail(let id, _) = state.mode, let a = state.snapshot[id] {
            subject = Subject(id: a.id, name: a.entity.name, population: a.entity.population)
        } else if let p = state.panel.population, let rows = state.rows[state.panel], !rows.isEmpty {
            let e = state.snapshot.entities[state.populationIndex[p]![rows[min(state.table(state.panel).cursor, rows.count - 1)]]].entity
            subject = Subject(id: e.id, name: e.name, population: e.population)
        } else if let row = selectedAccessRow {
            switch row {
            case .request(let r): subject = Subject(id: r.subject, name: r.subjectName, population: r.population)
            case .grant(let g): subject = Subject(id: g.subject, name: g.subjectName, population: g.population)
            }
        }
        guard let s = subject else { return flash("Select an entity (panels 2-5) to grant it time-bound access", error: true) }
        let max = state.policy[s.population].maxTTLSeconds
        state.mode = .dialog(Dialog(
            action: .grant, title: "Grant time-bound access",
            lines: ["subject    \(s.name) (\(s.population.rawValue))", "id         \(s.id)",
                    "policy     at most \(DurationText.format(max))\(state.policy[s.population].forbiddenScopes.isEmpty ? "" : "; never \(state.policy[s.population].forbiddenScopes.joined(separator: ", "))")"] + hookLine("approve"),
            targets: [s.id],
            fields: [.init(label: "Scope", value: "", hint: "repo:acme/api:write"), .init(label: "TTL", value: DurationText.format(Swift.min(max, 3600)), hint: "15m 1h"),
                     .init(label: "Reason", value: "", hint: "why")],
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
                if !d.fields[d.focus].edited { d.fields[d.focus].value = "" } else if !d.fields[d.focus].value.isEmpty { d.fields[d.focus].value.removeLast() }
                d.fields[d.focus].edited = true
            }
        case .control("u"):
            if inField { d.fields[d.focus].value = ""; d.fields[d.focus].edited = true }
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

    /// Carries out a confirmed dialog. On a refusal the dialog stays open with the reason.
    func perform(_ d: inout Dialog) {
        guard let access else { return }
        let now = state.now
        func duration(_ label: String) -> Double? {
            guard let v = try? DurationText.seconds(d.value(label)), v > 0 else {
                d.error = "\(label): '\(d.value(label))' is not a duration like 15m, 1h or 8h"
                d.focus = d.fields.firstIndex { $0.label == label } ?? 0
                return nil
            }
            return v
        }
        do {
            let message: String
            switch d.action {
            case .approve:
                guard let ttl = duration("TTL") else { return }
                switch try access.approve(d.targets[0], ttl: ttl, reason: d.value("Reason"), now: now) {
                case .granted(let g): message = "Approved: \(g.subjectName) \(g.scope) for \(DurationText.format(ttl)) (grant \(g.id))"
                case .recorded(let left): message = "Approval recorded; \(left) more needed from another analyst"
                }
            case .deny:
                try access.deny(d.targets[0], reason: d.value("Reason"), now: now)
                message = "Denied \(d.targets[0])"
            case .extend:
                guard let ttl = duration("TTL") else { return }
                let g = try access.extend(d.targets[0], ttl: ttl, reason: d.value("Reason"), now: now)
                message = "Extended \(g.id): \(AccessTable.countdown(g.remaining(at: now))) left"
            case .revoke:
                if let n = d.confirmCount, d.fields.first?.value.trimmingCharacters(in: .whitespaces) != String(n) {
                    d.error = "Type \(n) to confirm revoking \(n) grants"
                    d.focus = 0
                    return
                }
                var done = 0
                var problems: [String] = []
                for id in d.targets {
                    do {
                        try access.revoke(id, reason: d.value("Reason"), now: now)
                        done += 1
                    } catch { problems.append(error.description) }
                }
                if done == 0, let first = problems.first { throw AccessError.conflict(first) }
                state.marked = []
                message = "Revoked \(done) grant\(done == 1 ? "" : "s")" + (problems.isEmpty ? "" : "; \(problems.count) not: \(problems[0])")
            case .grant:
                guard let ttl = duration("TTL") else { return }
                guard let a = state.snapshot[d.targets[0]] else { throw AccessError.notFound("\(d.targets[0]) is no longer in the inventory") }
                let g = try access.grant(Subject(id: a.id, name: a.entity.name, population: a.entity.population), scope: d.value("Scope"),
                                         ttl: ttl, reason: d.value("Reason"), now: now)
                message = "Granted \(g.subjectName) \(g.scope) for \(DurationText.format(ttl)) (grant \(g.id))"
            }
            state.mode = .normal
            receive(access.view())
            flash(message)
            access.settleInBackground {}
        } catch {
            d.error = (error as? AccessError)?.description ?? "\(error)"
        }
    }
}
