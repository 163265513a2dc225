import AccessService
import Foundation
import TestSupport
import Testing

@testable import Access
@testable import Dashboard
@testable import Inventory

@Suite("Change feed between dashboards")
struct ChangeFeedTests {
    /// The feed polls every 500 ms, so a decision normally shows within a second; the bound here is loose because
    /// test machines are shared (latency belongs to the benchmark, not to an assertion).
    @Test("a decision in one dashboard reaches another through the change feed")
    func seesOthersDecisions() async throws {
        let dir = TestTemporary.directory.appendingPathComponent("tg-feed-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("t.db").path
        let mine = AccessController(
            store: try AccessStore(path: path), policy: AccessPolicy(), hooks: HookConfig(), analyst: Analyst(user: "alice"))
        let theirs = AccessController(
            store: try AccessStore(path: path), policy: AccessPolicy(), hooks: HookConfig(), analyst: Analyst(user: "bob"))
        let mailbox = Mailbox()
        let (stream, cont) = AsyncStream.makeStream(of: Snapshot.self)
        let feed = Task { await theirs.runFeed(mailbox: mailbox, snapshots: stream, sweepEvery: 3600) }
        defer {
            feed.cancel()
            cont.finish()
        }
        // The first view arrives at once.
        var view: AccessView?
        for _ in 0..<100 where view == nil {
            view = mailbox.takeAccess()
            if view == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(view?.pending.isEmpty == true)
        let subject = Subject(id: "mdm:device/1", name: "MBP-1", population: .device)
        let r = try #require(mine.store).file(
            subject: subject, scope: "vpn:prod", ttlSeconds: 600, reason: "on call", by: Analyst(user: "carol"), policy: AccessPolicy(),
            now: Date())
        guard case .success = await mine.perform(WireRequest(op: "approve", reason: "ok", target: r.id)) else {
            Issue.record("approve failed")
            return
        }
        let started = Date()
        var seen: AccessView?
        while Date().timeIntervalSince(started) < 15 {
            if let v = mailbox.takeAccess(), v.grants.contains(where: { $0.requestID == r.id }) {
                seen = v
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(seen != nil, "bob's dashboard never saw alice's decision")
        #expect(elapsed < 15, "took \(elapsed)s")
        #expect(seen?.audit.last?.analyst == "alice")
    }
}
