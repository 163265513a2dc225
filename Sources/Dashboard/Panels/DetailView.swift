import Access
import Foundation
import Inventory
import Terminal

/// Everything about one entity: attributes, coverage, privileges, credentials (fingerprints only), findings with
/// evidence and remediation, and its grants.
enum DetailView {
    /// The detail as lines of (indent, text, role), so it can scroll.
    static func lines(_ a: AssessedEntity, now: Date, g: Glyphs, access: AccessView = AccessView()) -> [(Int, String, Role)] {
        let e = a.entity
        var out: [(Int, String, Role)] = []
        func kv(_ k: String, _ v: String, _ role: Role = .text) {
            out.append((2, k.count < 14 ? "\(k.padding(toLength: 14, withPad: " ", startingAt: 0))\(v)" : "\(k)  \(v)", role))
        }
        func head(_ t: String) {
            out.append((0, "", .text))
            out.append((0, t, .title))
        }
        let (risk, riskRole) = EntityTable.riskLabel(a)
        out.append((0, "\(e.name)", .accent))
        kv("id", e.id, .muted)
        kv("risk", risk, riskRole)
        kv("population", "\(e.population.rawValue) (\(e.kind))")
        let (owner, ownerRole) = EntityTable.owner(e)
        kv("owner", owner + (e.owner?.email.map { " <\($0)>" } ?? ""), ownerRole)
        kv("environment", e.environment ?? "-")
        kv("coverage", EntityTable.coverage(e) + (e.unmanaged ? "  (UNMANAGED)" : "  (managed)"), e.unmanaged ? .warn : .ok)
        kv("first seen", e.firstSeen.map { EntityTable.age($0, now: now) + " ago" } ?? "-")
        kv("last seen", e.lastSeen.map { EntityTable.age($0, now: now) + " ago" } ?? "-")
        kv("last used", e.lastUsedAt.map { EntityTable.age($0, now: now) + " ago" } ?? "never")
        kv("sources", e.sources.joined(separator: ", "))
        let sig = e.signals
        if let v = sig.sanctioned { kv("approved", v ? "yes" : "no (shadow)", v ? .ok : .high) }
        if let v = sig.vendor { kv("vendor", v) }
        if let v = sig.ciPipeline, v { kv("ci pipeline", "yes") }
        if let v = sig.mfa { kv("mfa", v ? "yes" : "no", v ? .ok : .warn) }
        if let v = sig.oauthScopes { kv("oauth scopes", v.joined(separator: " ")) }
        if let p = e.posture {
            head("POSTURE")
            kv("os", [p.os, p.osVersion].compactMap { $0 }.joined(separator: " "))
            kv("patched", p.osPatchedAt.map { EntityTable.age($0, now: now) + " ago" } ?? "-")
            kv("disk encrypted", p.diskEncrypted.map { $0 ? "yes" : "NO" } ?? "?", p.diskEncrypted == false ? .high : .text)
            kv("screen lock", p.screenLock.map { $0 ? "yes" : "NO" } ?? "-", p.screenLock == false ? .medium : .text)
        }
        for (k, v) in e.attributes.sorted(by: { $0.key < $1.key }) { kv(k, v, .muted) }

        head("FINDINGS (\(a.findings.count))")
        if a.findings.isEmpty { out.append((2, "none", .ok)) }
        for f in a.findings {
            out.append((2, "\(f.severity.rawValue.uppercased()) \(f.rule) \(f.title)", EntityTable.severityRole(f.severity)))
            out.append((6, "evidence: \(f.evidence)", .text))
            out.append((6, "fix: \(f.remediation)", .muted))
        }

        head("PRIVILEGES (\(e.privileges.count))")
        if e.privileges.isEmpty { out.append((2, "none recorded", .muted)) }
        for p in e.privileges {
            let used = p.used.map { $0 ? "used" : "never used" } ?? ""
            out.append(
                (
                    2, "\(p.level.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(p.scope)  \(used)",
                    p.level == .admin ? .high : .text
                ))
        }

        head("CREDENTIALS (\(e.credentials.count))")
        if e.credentials.isEmpty { out.append((2, "none", .muted)) }
        for cr in e.credentials {
            let fp = cr.fingerprint.map { short($0, g) } ?? "no fingerprint"
            out.append((2, "\(cr.kind) \(cr.id)  \(fp)", cr.exposures.isEmpty ? .text : .critical))
            let created = cr.createdAt.map { "created \(EntityTable.age($0, now: now)) ago" } ?? "created ?"
            let used = cr.lastUsedAt.map { "used \(EntityTable.age($0, now: now)) ago" } ?? "never used"
            let expires =
                cr.expiresAt.map { $0 > now ? "expires in \(DurationText.format($0.timeIntervalSince(now)))" : "expired" } ?? "no expiry"
            out.append((6, "\(created) \(g.dot) \(used) \(g.dot) \(expires)", .muted))
            for x in cr.exposures { out.append((6, "EXPOSED: \(x)", .critical)) }
        }

        let grants = access.grants.filter { $0.subject == e.id }
        let pending = access.pending.filter { $0.subject == e.id }
        head("GRANTS (\(grants.count) active, \(pending.count) pending)")
        if grants.isEmpty, pending.isEmpty { out.append((2, "no time-bound access (n grants some)", .muted)) }
        for gr in grants {
            let left = gr.state == .active ? "\(AccessTable.countdown(gr.remaining(at: now))) left" : gr.state.rawValue
            out.append(
                (
                    2, "\(gr.id)  \(gr.scope)  \(left)  by \(gr.approvers.joined(separator: ","))",
                    gr.actuation == .failed ? .critical : .active
                ))
            if gr.actuation == .failed { out.append((6, "hook failed: \(gr.actuationDetail ?? "")", .critical)) }
        }
        for r in pending {
            out.append((2, "\(r.id)  \(r.scope)  \(DurationText.format(r.ttlSeconds)) requested by \(r.requester): \(r.reason)", .pending))
        }
        return out
    }

    /// A fingerprint shortened for display: enough to compare, never the secret.
    static func short(_ fp: String, _ g: Glyphs) -> String {
        fp.count > 19 ? String(fp.prefix(19)) + g.ellipsis : fp
    }

    /// The detail's lines below its title, wrapped to `width` columns: a long line (a finding's fix, a reason)
    /// continues on the next, indented two more, rather than being cut. A word longer than a line (an id) is cut.
    static func body(_ a: AssessedEntity, now: Date, g: Glyphs, access: AccessView, width: Int) -> [(Int, String, Role)] {
        lines(a, now: now, g: g, access: access).dropFirst().flatMap { indent, text, role in
            let room = max(10, width - indent - 4)
            return wrap(SafeText.sanitize(text), width: room).enumerated().map { i, part in
                (i == 0 ? indent : indent + 2, SafeText.truncate(part, to: room, ellipsis: g.ellipsis), role)
            }
        }
    }

    /// How far the detail can scroll at this size.
    static func maxOffset(_ a: AssessedEntity, now: Date, access: AccessView, width: Int, height: Int) -> Int {
        max(0, body(a, now: now, g: .unicode, access: access, width: width).count - (height - 1))
    }

    /// The entity's name on the first row, with the scroll position at its right (never over content); the rest
    /// below it, wrapped, scrolled by `offset`.
    static func render(_ buf: inout ScreenBuffer, _ c: Renderer.Context, id: String, offset: Int, y: Int, height: Int) {
        guard let a = c.s.snapshot[id] else {
            buf.put("This entity is no longer in the inventory (Esc to go back).", x: 2, y: y + 1, style: c.style(.warn))
            return
        }
        let w = buf.width
        let all = body(a, now: c.s.now, g: c.g, access: c.s.access, width: w)
        let room = height - 1
        let start = max(0, min(offset, max(0, all.count - room)))
        var label = ""
        if all.count > room { label = " \(start + 1)-\(min(all.count, start + room))/\(all.count) " }
        let labelW = SafeText.width(label)
        buf.put(
            SafeText.truncate(SafeText.sanitize(a.entity.name), to: w - 2 - labelW - 1, ellipsis: c.g.ellipsis), x: 1, y: y,
            style: c.style(.accent))
        if labelW > 0 { buf.put(label, x: w - labelW, y: y, style: c.style(.muted)) }
        for (i, (indent, text, role)) in all.dropFirst(start).prefix(room).enumerated() {
            buf.put(text, x: 1 + indent, y: y + 1 + i, style: c.style(role), maxWidth: w - indent - 2)
        }
    }
}
