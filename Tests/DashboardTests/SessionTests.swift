import Foundation
import Testing

@testable import Access
@testable import Collectors
@testable import Dashboard
@testable import Inventory

@Suite("The dashboard session: what runs beside the UI loop")
struct SessionTests {
    @Test("it prepares each snapshot off the UI thread and hands the newest to the mailbox; stopped, nothing more arrives")
    func preparesAndStops() async throws {
        let spec = CollectorSpec(
            name: "demo", type: "demo", intervalSeconds: 0.2, timeoutSeconds: 60, collector: DemoCollector(seed: 3, size: 200))
        let session = DashboardSession(specs: [spec], rules: RiskRules(), access: nil, quickOverviewAt: 100)
        await session.start(watchSignals: false)
        var prepared: PreparedSnapshot?
        for _ in 0..<1000 {
            if let p = session.mailbox.take(), p.complete {
                prepared = p
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let p = try #require(prepared, "no complete snapshot reached the mailbox")
        #expect(p.snapshot.entities.count >= 200)
        #expect(p.haystacks.keys.contains(.agents), "tables were prepared, not only the Overview")
        await session.stop()
        _ = session.mailbox.take()
        try await Task.sleep(for: .milliseconds(600))
        #expect(session.mailbox.take() == nil, "the collectors and the feed stopped")
    }

    @Test("a first inventory at the threshold is shown from a quick Overview preparation first")
    func quickOverview() async throws {
        let report = try await DemoCollector(seed: 3, size: 150).collect(CollectContext(now: Date(), run: 0))
        let snap = Snapshot.build(
            version: 1, now: Date(), slices: [.init(source: "demo", entities: report.entities)], collectors: [], requests: [])
        #expect(!PreparedSnapshot.overview(snap).complete)
        #expect(PreparedSnapshot.prepare(snap, previous: nil, now: Date(), sorts: [:]).complete)
    }
}
