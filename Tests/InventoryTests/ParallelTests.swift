import Foundation
import TestSupport
import Testing

@testable import Inventory

@Suite("Work on every core")
struct ParallelTests {
    @Test(
        "parallelSort sorts like sort, keeps ties in order, for sizes around every run boundary",
        arguments: [0, 1, 2, 3, 7, 100, 1001, 4099])
    func sorts(count: Int) {
        var seed: UInt64 = 0x1234_5678 &+ UInt64(count)
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 58) // 0...63: many ties
        }
        let values = (0..<count).map { (key: next(), position: $0) }
        var ours = values
        parallelSort(&ours, serialBelow: 2) { $0.key < $1.key }
        let expected = values.enumerated().sorted { a, b in
            a.element.key != b.element.key ? a.element.key < b.element.key : a.offset < b.offset
        }.map(\.element)
        #expect(ours.map(\.key) == expected.map(\.key))
        #expect(ours.map(\.position) == expected.map(\.position), "ties keep their order")
    }

    @Test("parallelChunks keeps the order of the input", arguments: [0, 5, 30_000])
    func chunks(count: Int) {
        let out = parallelChunks(count, serialBelow: 2) { range in range.map { $0 * 2 } }
        #expect(out == (0..<count).map { $0 * 2 })
    }
}

@Suite("Id order")
struct IDOrderTests {
    @Test("ids sorted by their first bytes come out as String's order, long shared prefixes and non-ASCII included")
    func matchesStringOrder() {
        var seed: UInt64 = 42
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33) % n
        }
        let prefixes = ["aws:iam:user/svc-", "aws:iam:user/", "mdm:device/", "host:agent/cursor/github/", "", "é:", "k8s:prod/sa/", "a"]
        let alphabet = Array("abcXYZ-_/:0129é東\u{0}")
        var ids: [String] = []
        for _ in 0..<3000 {
            var id = prefixes[next(prefixes.count)]
            for _ in 0..<next(30) { id.append(alphabet[next(alphabet.count)]) }
            ids.append(id)
        }
        ids += ["ab", "ab\u{0}", "abc", "", "aws:iam:user/svc-billing-prod-eu", "aws:iam:user/svc-billing-prod-eu-2"]
        let order = IDOrder.sorted(ids).map { ids[Int($0)] }
        #expect(order == ids.sorted())
    }
}

@Suite("Binary search")
struct LowerBoundTests {
    @Test("lowerBound finds the first place not before the value, at either end and between duplicates")
    func lowerBound() {
        let a = [1, 3, 3, 3, 7, 9]
        #expect(a.lowerBound { $0 < 0 } == 0)
        #expect(a.lowerBound { $0 < 1 } == 0)
        #expect(a.lowerBound { $0 < 3 } == 1)
        #expect(a.lowerBound { $0 < 4 } == 4)
        #expect(a.lowerBound { $0 < 9 } == 5)
        #expect(a.lowerBound { $0 < 10 } == 6)
        #expect([Int]().lowerBound { $0 < 5 } == 0)
        #expect(a[2...].lowerBound { $0 < 7 } == 4, "indices of a slice are the base's")
    }

    @Test("a splice on every core equals the same edits made one by one", arguments: [1, 2, 3] as [UInt64])
    func spliceEqualsEditsOneByOne(seed: UInt64) {
        var r = SplitMix(state: seed)
        let old = (0..<5_000).map { "o\($0)" }
        var edits: [(at: Int, replacing: Bool, new: String?)] = []
        var at = 0
        while at < old.count {
            at += r.int(120)
            guard at <= old.count else { break }
            let replacing = at < old.count && r.chance(0.6)
            edits.append((at, replacing, replacing && r.chance(0.3) ? nil : "n\(at)"))
            if replacing { at += 1 }
        }
        var expected: [String] = []
        var i = 0
        for e in edits {
            expected.append(contentsOf: old[i..<e.at])
            i = e.at
            if e.replacing { i += 1 }
            if let n = e.new { expected.append(n) }
        }
        expected.append(contentsOf: old[i...])
        #expect(parallelSplice(old, edits: edits, serialBelow: 1) == expected)
        #expect(parallelSplice(old, edits: edits) == expected)
        #expect(parallelSplice(old, edits: []) == old)
    }
}
