import Foundation
import TestSupport
import Testing

/// The CLI and a running dashboard on the same personal store see the same demo organisation: the entities the
/// dashboard shows (including the shadow agents its demo discovered since it started) are the ones the CLI can
/// look up, list and file requests for.
@Suite("The CLI and the dashboard agree on which entities exist (the real binary)")
struct DemoAgreementTests {
    /// The entity count in the dashboard's header (` trustgap │ 705 entities · …`).
    static func entityCount(_ screen: String) -> Int? {
        guard let header = screen.split(separator: "\n").first, let end = header.range(of: " entities") else { return nil }
        return Int(header[..<end.lowerBound].split(separator: " ").last ?? "")
    }

    @Test("a shadow agent the dashboard's demo discovered is in trustgap snapshot, and trustgap request finds it")
    func discoveredAgent() async throws {
        let t = try TmuxSession(width: 200, height: 50)
        defer { t.close() }
        // Five times as busy: a shadow agent found every 18 s (each retiring the oldest of the three found lately, so
        // the newest stands for 54 s: room for two CLI commands on a loaded machine).
        try t.start(["--refresh", "1s", "--demo-speed", "5"])
        try await t.waitFor("THE GAP")
        _ = try await t.waitFor("new shadow agent:", timeout: 30)
        // What the Agents table shows, as :export writes it; again until the table has caught up with the header.
        let exported = t.scratch.appendingPathComponent("agents.csv").path
        try t.keys("5")
        var shown = Set<String>()
        var discovered: [String] = []
        for attempt in 0..<100 where discovered.isEmpty {
            try? FileManager.default.removeItem(atPath: exported)
            try t.keys(":")
            try t.type("export! \(exported)")
            try t.keys("Enter")
            // The file itself, not the 3-second flash, which a loaded machine may not show in time.
            let deadline = Date().addingTimeInterval(45)
            while !FileManager.default.fileExists(atPath: exported), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let csv = try String(contentsOfFile: exported, encoding: .utf8)
            let rows = csv.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").dropFirst() // CSV ends lines with CRLF
            shown = Set(rows.compactMap { $0.split(separator: ",").first.map(String.init) })
            // Found since the start: the organisation opens with -new0 to -new2 already found.
            discovered = shown.filter { $0.contains("-new") && !$0.hasSuffix("-new0") && !$0.hasSuffix("-new1") && !$0.hasSuffix("-new2") }
            if discovered.isEmpty, attempt < 99 {
                try t.keys("Escape")
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        // The one found last, which stands longest.
        let number = { (id: String) in Int(id.split(separator: "-").last?.dropFirst(3) ?? "") ?? 0 }
        let newest = try #require(discovered.max { number($0) < number($1) }, "the dashboard shows the agents its demo discovered")

        let env = ["XDG_STATE_HOME": t.scratch.path + "/state", "XDG_CONFIG_HOME": t.scratch.path + "/config"]
        let snapshot = try Binary.run(["snapshot", "--format", "json"], environment: env)
        #expect(snapshot.status == 0, "\(snapshot.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(snapshot.stdout.utf8)) as? [String: Any])
        let listed = Set(((json["entities"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
        let agents = Set(listed.filter { $0.hasPrefix("host:agent/") })
        #expect(listed.contains(newest), "the CLI knows the agent the dashboard found")
        // One more may have been found in the second between the two, retiring the oldest shadow agent.
        #expect(
            shown.subtracting(agents).count <= 1, "agents on the dashboard that the CLI doesn't know: \(shown.subtracting(agents).sorted())"
        )

        let r = try Binary.run(
            ["request", "--subject", newest, "--scope", "repo:acme/api:read", "--ttl", "15m", "--reason", "triage the new agent"],
            environment: env)
        #expect(r.status == 0, "the CLI must find \(newest): \(r.stderr)")
        #expect(!r.stderr.contains("no entity"))
        try t.keys("q")
        try await t.waitFor("EXIT=0")
    }
}
