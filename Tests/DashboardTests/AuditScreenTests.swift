import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Dashboard
@testable import Inventory
@testable import Terminal

@Suite("The Audit panel and one entry in full (in-memory terminal, real store)")
struct AuditScreenTests {
    static let longReason =
        "rotate the deploy key after the contractor's laptop was lost: the key was copied to the build host and to two "
        + "developer machines, and the audit of who used it since last Tuesday needs read access to the release bucket "
        + "and its access logs, which the on-call lead asked for in the incident channel before the weekend"

    /// The demo's observed requests, ingested by alice as a dashboard does, then one request of hers with a long reason.
    func setUp(width: Int, height: Int) async throws -> (App, MemoryTerminal, AccessStore) {
        let snap = try await demoSnapshot()
        let dir = TestTemporary.directory.appendingPathComponent("tg-audit-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try AccessStore(path: dir.appendingPathComponent("t.db").path)
        let me = Analyst(user: "alice", sshClient: "203.0.113.9")
        let proposals = snap.requests.map { p in
            var p = p
            p.source = "demo"
            return p
        }
        _ = try store.ingest(proposals, subjects: { id in snap[id].map { Subject($0) } }, by: me, policy: AccessPolicy(), now: now)
        let subject = try #require(snap.entities.first { $0.entity.population == .agent && $0.entity.id.count > 30 })
        _ = try store.file(
            subject: Subject(subject), scope: "s3:release-bucket:read", ttlSeconds: 1800, reason: Self.longReason, by: me,
            policy: AccessPolicy(), now: now)
        let (app, t) = makeApp(snap, width: width, height: height)
        app.configure(theme: .builtinDefault, colorDepth: .indexed256, unicode: true, readonly: false, analyst: me)
        let controller = AccessController(store: store, policy: AccessPolicy(), hooks: HookConfig(), analyst: me, clock: { now })
        app.configureAccess(controller, policy: AccessPolicy(), hooks: HookConfig())
        app.receive(await controller.view())
        t.draw(app.render())
        return (app, t, store)
    }

    /// The value of a field in the entry's view: its first line after the label, then its wrapped continuation lines.
    func field(_ label: String, on t: MemoryTerminal, joinedBy separator: String = " ") -> (value: String, lines: Int)? {
        let rows = (0..<t.size.height).map { t.row($0) }
        let pad = String(repeating: " ", count: AuditDetailView.labelWidth)
        guard
            let first = rows.firstIndex(where: {
                $0.hasPrefix("   " + label.padding(toLength: AuditDetailView.labelWidth, withPad: " ", startingAt: 0))
            })
        else { return nil }
        var parts = [String(rows[first].dropFirst(3 + AuditDetailView.labelWidth)).trimmingCharacters(in: .whitespaces)]
        var i = first + 1
        while i < rows.count, rows[i].hasPrefix("   " + pad), !rows[i].dropFirst(3 + AuditDetailView.labelWidth).hasPrefix(" ") {
            parts.append(String(rows[i].dropFirst(3 + AuditDetailView.labelWidth)).trimmingCharacters(in: .whitespaces))
            i += 1
        }
        return (parts.joined(separator: separator), parts.count)
    }

    @Test("the table marks a reported requester at 80 columns; Enter shows every field whole, wrapped, at 80x24")
    func entryAt80() async throws {
        let (app, t, store) = try await setUp(width: 80, height: 24)
        app.press(.character("7"), on: t)
        let table = t.text
        #expect(t.row(4).contains("(rep) "), "an observed request's requester is marked at 80 columns:\n\(table)")
        #expect(t.row(22).contains("Enter entry"))
        let newest = try #require(try store.audit().last)
        #expect(!t.row(3).contains(newest.subject), "the table cuts this subject id at 80 columns: the entry view is what shows it")
        app.press(.enter, on: t)
        #expect(app.state.mode == .auditEntry(seq: newest.seq, offset: 0))
        #expect(t.row(2).contains("Audit entry \(newest.seq)"))
        #expect(t.row(2).contains(" 1-19/"), "longer than the screen: it scrolls, below its title")
        #expect(field("analyst", on: t)?.value == "alice")
        #expect(field("ssh client", on: t)?.value == "203.0.113.9")
        #expect(field("subject", on: t)?.value == newest.subject)
        #expect(field("target", on: t)?.value == newest.target)
        let reason = try #require(field("reason", on: t))
        #expect(reason.value == Self.longReason)
        #expect(reason.lines > 1, "wrapped, not cut")
        app.press(.character("G"), on: t)
        let mac = try #require(field("mac", on: t, joinedBy: ""))
        #expect(mac.value == newest.hash && mac.lines == 2, "a MAC is 64 columns: broken, never cut")
        #expect(field("previous mac", on: t, joinedBy: "")?.value == newest.prevHash)
        app.press(.escape, on: t)
        #expect(app.state.mode == .normal)
        #expect(t.row(2).contains("ANALYST"))
    }

    @Test("at 200x50 an observed request's entry names its requester as reported and who ingested it, on single lines")
    func observedAt200() async throws {
        let (app, t, store) = try await setUp(width: 200, height: 50)
        app.press(.character("7"), .character("j"), on: t) // the second newest: the last observed request
        let entries = try store.audit()
        let observed = entries[entries.count - 2]
        #expect(observed.action == "request" && observed.analyst.hasSuffix(" (reported)"))
        app.press(.enter, on: t)
        #expect(field("analyst", on: t)?.value == observed.analyst)
        #expect(field("ssh client", on: t)?.value == "-", "alice's address is not the requester's")
        let detail = try #require(field("detail", on: t))
        #expect(detail.value == observed.detail && detail.lines == 1)
        #expect(detail.value.hasSuffix("reported by collector demo, ingested by alice@203.0.113.9"))
        #expect(field("mac", on: t)?.lines == 1)
        #expect(!t.row(2).contains("/"), "it all fits: no scroll position")
        app.press(.character("k"), .enter, on: t)
        #expect(app.state.mode == .normal, "Enter closes it too")
    }

    @Test("the ANALYST cell puts the mark first: a login, a reported name, the system")
    func whoCell() {
        func entry(_ analyst: String, ssh: String? = nil) -> AuditEntry {
            AuditEntry(
                seq: 1, at: now, analyst: analyst, sshClient: ssh, action: "expire", subject: "s", scope: "x", ttlSeconds: nil,
                reason: "time is up", result: "expired", target: "gr-1", detail: "", prevHash: "", hash: "")
        }
        #expect(AuditTable.who(entry("alice", ssh: "203.0.113.9")) == ("alice@203.0.113.9", .text))
        #expect(AuditTable.who(entry("nina.vega (reported)")) == ("(rep) nina.vega", .muted))
        #expect(AuditTable.who(entry(Analyst.system.user)) == ("(system)", .muted))
    }
}
