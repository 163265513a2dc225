import Foundation
import Testing

@testable import Inventory

@Suite("Merging collector slices")
struct MergeTests {
    @Test("the same id from two collectors becomes one entity")
    func noDuplicates() {
        let a = cleanServiceAccount()
        var b = cleanServiceAccount()
        b.coverage = [.pam]
        let merged = Merge.entities([.init(source: "aws", entities: [a]), .init(source: "vault", entities: [b])])
        #expect(merged.count == 1)
        #expect(merged[0].coverage == [.vault, .pam])
        #expect(merged[0].sources == ["aws", "vault"])
    }

    @Test("scalars come from the most recently seen report; missing values never erase present ones")
    func newestWins() {
        var older = cleanServiceAccount()
        older.name = "old-name"
        older.lastSeen = daysAgo(2)
        older.environment = "prod"
        var newer = cleanServiceAccount()
        newer.name = "new-name"
        newer.lastSeen = daysAgo(1)
        newer.environment = nil
        newer.owner = nil
        for order in [[older, newer], [newer, older]] {
            let m = Merge.entities([.init(source: "one", entities: [order[0]]), .init(source: "two", entities: [order[1]])])[0]
            #expect(m.name == "new-name")
            #expect(m.environment == "prod")
            #expect(m.owner?.name == "priya.shah")
            #expect(m.lastSeen == daysAgo(1))
            #expect(m.firstSeen == daysAgo(100))
        }
    }

    @Test("on a tie, the collector listed first wins")
    func tieBreak() {
        var a = cleanServiceAccount()
        a.name = "from-first"
        var b = cleanServiceAccount()
        b.name = "from-second"
        let m = Merge.entities([.init(source: "first", entities: [a]), .init(source: "second", entities: [b])])[0]
        #expect(m.name == "from-first")
    }

    @Test("privileges union by scope at the highest level; credentials union by id")
    func unions() {
        var a = cleanServiceAccount()
        a.privileges = [Privilege(scope: "s3:x", level: .read, used: false), Privilege(scope: "s3:y", level: .write)]
        a.credentials[0].exposures = ["in a gist"]
        var b = cleanServiceAccount()
        b.privileges = [Privilege(scope: "s3:x", level: .admin, used: true)]
        b.credentials.append(Credential(id: "AKIA2", kind: .accessKey))
        let m = Merge.merge(a, b)
        #expect(m.privileges.count == 2)
        #expect(m.privileges.first { $0.scope == "s3:x" }?.level == .admin)
        #expect(m.privileges.first { $0.scope == "s3:x" }?.used == true)
        #expect(m.credentials.map(\.id).sorted() == ["AKIA1", "AKIA2"])
        #expect(m.credentials.first { $0.id == "AKIA1" }?.exposures == ["in a gist"])
    }

    @Test("the result is sorted by id and the snapshot index finds every entity")
    func sortedAndIndexed() {
        let ids = ["c:1", "a:1", "b:1"]
        let slices = [Merge.Slice(source: "s", entities: ids.map { cleanServiceAccount($0) })]
        let snap = Snapshot.build(version: 1, now: now, slices: slices)
        #expect(snap.entities.map(\.id) == ["a:1", "b:1", "c:1"])
        for id in ids { #expect(snap[id]?.id == id) }
    }
}
