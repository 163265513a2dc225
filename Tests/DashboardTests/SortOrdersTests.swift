import Foundation
import Testing
@testable import Dashboard
@testable import Inventory
@testable import Terminal

@Suite("Background sort orders")
struct SortOrdersTests {
    @Test("orders computed in the background give the same rows as sorting on the keystroke, for every column")
    func sameAsOnDemand() async throws {
        let snap = try await demoSnapshot()
        let (withOrders, t1) = makeApp(snap)
        let (plain, t2) = makeApp(snap)
        withOrders.press(.character("4"), on: t1)
        plain.press(.character("4"), on: t2)
        let job = try #require(withOrders.sortOrdersJob())
        withOrders.receive(job())
        for _ in 0..<10 {
            withOrders.press(.character("s"), on: t1)
            plain.press(.character("s"), on: t2)
            #expect(withOrders.state.rows[.serviceAccounts] == plain.state.rows[.serviceAccounts],
                    "column \(withOrders.state.tables[.serviceAccounts]!.sortColumn)")
            #expect(t1.text == t2.text)
        }
    }
}
