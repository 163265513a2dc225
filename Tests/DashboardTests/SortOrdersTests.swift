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

@Suite("Filter text")
struct HaystacksTests {
    @Test("each row's text is searched on its own: a match never spans two rows")
    func rows() {
        var h = Haystacks()
        for text in ["alpha", "beta", "", "gamma-deploy"] {
            h.bytes.append(contentsOf: text.utf8)
            h.ends.append(Int32(h.bytes.count))
        }
        #expect(h.contains(row: 0, Array("alpha".utf8)))
        #expect(!h.contains(row: 0, Array("ab".utf8)), "alpha+beta must not match across the boundary")
        #expect(!h.contains(row: 1, Array("alpha".utf8)))
        #expect(h.contains(row: 1, Array("eta".utf8)))
        #expect(!h.contains(row: 2, Array("a".utf8)))
        #expect(h.contains(row: 3, Array("deploy".utf8)))
        #expect(!h.contains(row: 3, Array("deployx".utf8)))
    }
}
