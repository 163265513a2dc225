import Foundation
import TestSupport
import Testing

/// `trustgap tour`, the real binary in tmux at 80×24: the whole tour, approving an agent for 15 minutes and
/// revoking it on the way, as a presenter would.
@Suite("The guided tour (the real binary)")
struct TourEndToEndTests {
    /// The screen as one line of words, the caption box's borders gone, so a wrapped caption reads whole.
    func flat(_ screen: String) -> String {
        screen.replacingOccurrences(of: "│", with: " ").split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test("trustgap tour walks all eight steps; the agent is approved for 15m and revoked from inside the tour")
    func wholeTour() async throws {
        let t = try TmuxSession(width: 80, height: 24)
        defer { t.close() }
        try t.start(["tour"])
        var screen = try await t.waitFor("Tour 1/8")
        // The caption fills in when the inventory arrives.
        screen = try await t.waitFor("THE GAP: of 700 identities")
        // And the demo's requests reach the store a moment later.
        try t.keys("6")
        _ = try await t.waitUntil("a pending agent request") { $0.split(separator: "\n").contains { $0.hasPrefix("  PENDING    agent") } }
        try t.keys("1")
        for (step, words) in [
            (2, "AI agents were never approved"), (3, "keeps its credential"), (4, "service accounts hold"), (5, "an AI agent"),
        ] {
            try t.keys("Space")
            screen = try await t.waitFor("Tour \(step)/8")
            #expect(flat(screen).contains(words), "step \(step):\n\(screen)")
        }
        try t.keys("Space")
        _ = try await t.waitFor("Tour 6/8")
        // The caption stays while the dialog is open over it; the keys go to the dialog.
        try t.keys("a")
        screen = try await t.waitFor("Approve request req-")
        #expect(screen.contains("(agent)"))
        #expect(screen.contains("verdict"))
        try t.type("15m")
        try t.keys("Enter")
        try t.type("shown in the tour")
        try t.keys("Enter")
        try await t.waitFor("[ Cancel ]")
        try t.keys("Right")
        try await t.waitFor("[ Approve ]")
        try t.keys("Enter")
        // The grant on top of the Access panel, not the 3-second flash (a loaded machine may not show it in time).
        _ = try await t.waitUntil("the approved grant on top") { $0.contains("+ APPROVED") }
        try t.keys("Space")
        screen = try await t.waitFor("Tour 7/8")
        #expect(flat(screen).contains("then loses it by itself"), "\(screen)")
        #expect(screen.contains("14m") || screen.contains("15m00s"), "it counts down from 15 minutes:\n\(screen)")
        try t.keys("r")
        _ = try await t.waitFor("Revoke grant gr-")
        try t.type("tour over")
        try t.keys("Enter")
        try await t.waitFor("[ Cancel ]")
        try t.keys("Right")
        try t.keys("Enter")
        _ = try await t.waitUntil("the grant gone") { !$0.contains("APPROVED") && !$0.contains("Revoke grant") }
        try t.keys("Space")
        _ = try await t.waitFor("Tour 8/8")
        // The chain is verified as entries arrive: the caption says so once the revoke's entry is checked.
        _ = try await t.waitUntil("the audit caption with the verified chain") { flat($0).contains("entries verified") }
        try t.keys("Space")
        _ = try await t.waitFor("That was the tour")
        try t.keys("q")
        try await t.waitFor("EXIT=0")
        // What the tour did is in the store, in order: approved for 15 minutes, then revoked.
        let r = try Binary.run(["audit", "--format", "json", "--store", t.scratch.path + "/state/trustgap/trustgap.db"])
        #expect(r.status == 0, "\(r.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let actions = entries.compactMap { $0["action"] as? String }
        let approve = try #require(entries.first { $0["action"] as? String == "approve" })
        #expect(approve["ttl_seconds"] as? Int == 900 || approve["ttl_seconds"] as? Double == 900, "\(approve)")
        #expect(approve["reason"] as? String == "shown in the tour")
        #expect(actions.firstIndex(of: "revoke").map { $0 > actions.firstIndex(of: "approve")! } == true, "\(actions)")
    }
}
