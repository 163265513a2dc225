import Foundation
import Testing

@testable import Dashboard
@testable import Inventory
@testable import Terminal

/// Names a hostile or broken collector could report.
let hostileNames = [
    "\u{1B}[2J\u{1B}[Hwiped-the-screen",
    "\u{1B}]0;pwned-title\u{07}agent",
    "\u{1B}]2;title2\u{1B}\\x",
    "\u{9B}31mC1-csi",
    "\u{202E}gnp.exe-bidi",
    "\u{2066}isolate\u{2069}",
    String(repeating: "L", count: 10_000),
    "東京-agent-🚀-👩‍💻",
    String(decoding: [0x62, 0x61, 0x64, 0xFF, 0xFE, 0x75, 0x74, 0x66], as: UTF8.self),
    "bell\u{07}\u{08}\u{7F}del",
]

func hostileSnapshot() -> Snapshot {
    let entities = hostileNames.enumerated().map { i, name in
        var e = entity("host:agent/hostile-\(i)", name: name)
        e.owner = Owner(name: "\u{1B}[31mred-owner")
        e.attributes = ["config": "\u{1B}]8;;http://evil\u{1B}\\link"]
        return e
    }
    return Snapshot.build(
        version: 1, now: now, slices: [.init(source: "evil\u{1B}[5m", entities: entities)],
        collectors: [CollectorHealth(name: "evil", type: "file", state: .stale, lastError: "\u{1B}[2Jerror", intervalSeconds: 5)])
}

@Suite("Hostile inventory")
struct HostileInventoryTests {
    func assertClean(_ t: MemoryTerminal) {
        for y in 0..<t.screen.height {
            for x in 0..<t.screen.width {
                for s in t.screen[x, y].character.unicodeScalars {
                    #expect(!(s.value < 0x20 || (0x7F...0x9F).contains(s.value)), "control U+\(String(s.value, radix: 16)) at \(x),\(y)")
                    #expect(!(0x202A...0x202E).contains(s.value) && !(0x2066...0x2069).contains(s.value), "bidi at \(x),\(y)")
                }
            }
        }
    }

    @Test("every panel and the detail view draw hostile strings without controls, keeping columns aligned")
    func drawsSafely() {
        let (app, t) = makeApp(hostileSnapshot(), width: 120, height: 30)
        assertClean(t)
        app.press(.character("5"), on: t)
        assertClean(t)
        // Columns stay aligned: the OWNER column starts at the same x on every row despite wide characters.
        let ownerX = t.row(2).range(of: "OWNER")!.lowerBound.utf16Offset(in: t.row(2))
        for y in 3..<(3 + hostileNames.count) {
            // The owner's first character (the ESC, replaced) sits in the OWNER column's first cell on every row.
            #expect(t.screen[ownerX, y].character == "\u{FFFD}", "row \(y) misaligned: \(t.row(y))")
            #expect(t.screen[ownerX + 1, y].character == "[")
        }
        for i in hostileNames.indices {
            app.press(.character("g"), on: t)
            for _ in 0..<i { app.press(.character("j"), on: t) }
            app.press(.enter, on: t)
            assertClean(t)
            app.press(.escape, on: t)
        }
        app.press(.character("8"), on: t)
        assertClean(t)
        app.press(.character("1"), on: t)
        assertClean(t)
    }

    @Test("over-long values are cut with an ellipsis at the column's edge")
    func truncates() {
        let (app, t) = makeApp(hostileSnapshot(), width: 120, height: 30)
        app.press(.character("5"), .character("/"), on: t)
        app.type("llll", on: t)
        #expect(t.row(3).contains("LLLL…"))
    }
}
