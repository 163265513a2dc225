import ArgumentParser
import Collectors
import Dashboard
import Foundation
import Histogram
import Inventory
import Synchronization
import Terminal

/// Measures what docs/performance.md reports, on demo inventories of several sizes. Each size runs in a process
/// of its own, so its peak memory is its own.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trustgap-bench",
        abstract: "Measure snapshot build, first frame, keystroke-to-frame latency, memory and terminal bytes.")

    @Option(help: "Comma-separated inventory sizes.") var sizes = "10000,100000,1000000"
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Option(help: "Seed of the demo organisation.") var seed: UInt64 = 42
    @Option(help: ArgumentHelp("Measure one size in this process (used internally).", visibility: .hidden)) var one: Int?
    @Option(
        help: ArgumentHelp("Measure the access service through its socket instead, with this many decisions per figure.", valueName: "n"))
    var access: Int?
    @Option(
        help: ArgumentHelp(
            "Compare the stores instead: SQLite beside this empty PostgreSQL database (postgres://…), one and two services.",
            valueName: "url"))
    var postgres: String?

    func run() throws {
        if let postgres {
            for line in try StoreBench(url: postgres, decisions: access ?? 1000).run() { print(line) }
            return
        }
        if let access {
            let f = try AccessBench(decisions: access).run()
            func row(_ name: String, _ l: Latency) -> String {
                "\(name.padding(toLength: 52, withPad: " ", startingAt: 0)) p50 \(String(format: "%7.3f", l.p50)) ms  "
                    + "p99 \(String(format: "%7.3f", l.p99)) ms  p99.9 \(String(format: "%7.3f", l.p999)) ms  "
                    + "max \(String(format: "%7.3f", l.max)) ms  (\(l.samples) samples)"
            }
            print(row("approve round trip (socket)", f.roundTrip))
            print(row("deny round trip (socket)", f.denyRoundTrip))
            print(row("change delivered to each of \(f.subscribers) subscribers", f.toSubscribers))
            print(row("decision + dashboard update, empty store", f.updateEmpty))
            print(row("decision + dashboard update, \(f.historyEntries) audit entries", f.updateWithHistory))
            print("decisions per second, one client: \(Int(f.decisionsPerSecond))")
            print(
                "first full verification at \(f.historyEntries) entries: \(String(format: "%.0f", f.startVerificationMs)) ms "
                    + "(once, at service start)"
            )
            if let json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                try e.encode(f).write(to: URL(fileURLWithPath: json))
            }
            return
        }
        if let one {
            let r = try Measure(size: one, seed: seed).run()
            FileHandle.standardOutput.write(try JSONEncoder().encode(r))
            return
        }
        var results: [Result] = []
        for n in sizes.split(separator: ",").compactMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
            FileHandle.standardError.write(Data("measuring \(n) entities…\n".utf8))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            p.arguments = ["--one", "\(n)", "--seed", "\(seed)"]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw ValidationError("the run for \(n) entities failed") }
            results.append(try JSONDecoder().decode(Result.self, from: data))
        }
        print(Result.table(results))
        if let json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            try e.encode(results).write(to: URL(fileURLWithPath: json))
        }
    }
}

/// Percentiles from an HdrHistogram (microsecond resolution, three significant digits), with coordinated omission
/// corrected by the library's own `recordCorrectedValue`: a sample longer than the interval at which the next
/// input was due stands for the inputs that would have waited behind it.
struct Latency: Codable {
    var p50: Double
    var p99: Double
    var p999: Double
    var max: Double
    /// Samples measured; `corrected` counts the ones added for coordinated omission.
    var samples: Int
    var corrected: Int

    /// - Parameter expectedIntervalMs: how often the input would come (a key every 20 ms is key repeat); nil for
    ///   latencies of events that don't queue behind each other.
    init(_ ms: [Double], expectedIntervalMs: Double? = 20) {
        var h = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        for v in ms {
            let us = UInt64(Swift.max(1, (v * 1000).rounded()))
            if let e = expectedIntervalMs { _ = h.recordCorrectedValue(us, expectedInterval: UInt64(e * 1000)) } else { _ = h.record(us) }
        }
        func at(_ p: Double) -> Double { ms.isEmpty ? 0 : Double(h.valueAtPercentile(p)) / 1000 }
        p50 = at(50)
        p99 = at(99)
        p999 = at(99.9)
        max = ms.isEmpty ? 0 : Double(h.max) / 1000
        samples = ms.count
        corrected = Int(h.totalCount) - ms.count
    }
}

struct Result: Codable {
    var size: Int
    var generateMs: Double
    var buildMs: Double
    /// Preparing the snapshot for the UI, off the UI thread.
    var prepareMs: Double
    /// From a prepared snapshot to the first frame, on the UI thread.
    var firstFrameMs: Double
    /// From a built snapshot to the first frame: the quick Overview preparation, then the frame.
    var firstFrameFromSnapshotMs: Double
    /// Every column's order for the shown table, in the background.
    var sortOrdersMs: Double
    var keys: [String: Latency]
    /// Preparing a refresh in which 1% of entities changed, by difference (background).
    var refreshPrepareMs: Double
    /// The 1% refresh's snapshot: the delta applied to the slice held and the snapshot updated by difference.
    var refreshBuildMs: Double = 0
    /// Applying a prepared refresh and drawing, on the UI thread: how long input waits during a merge.
    var refreshApplyMs: Double
    /// Finding the 1% by comparing a whole slice with the one held (a collector that reports whole slices).
    var refreshCompareMs: Double = 0
    /// For comparison: what a 1% refresh cost before, a full build and a full preparation.
    var refreshFullBuildMs: Double = 0
    var refreshFullPrepareMs: Double = 0
    /// The shown table's every-column orders carried across (background).
    var refreshOrdersMs: Double = 0
    var refreshChanged: Int = 0
    /// From nothing to the first frame with data, as the dashboard gets it: the demo's first part built and drawn.
    var partOnScreenMs: Double = 0
    var partEntities: Int = 0
    var peakRSSMB: Double
    var bytes: [String: Int]

    static func table(_ rs: [Result]) -> String {
        var lines = [
            "entities   generate     build  1st frame from snapshot  data on screen   prepare  1st frame (UI)  "
                + "sort orders (bg)  1% refresh: build  prepare  apply (UI)   peak RSS"
        ]
        var refresh = [
            "1% refresh   changed   by difference: build   compare whole slice   prepare   all orders (bg)   "
                + "full: build   prepare   build by difference vs full"
        ]
        for r in rs {
            // Data on screen, in process: generating the inventory, building the snapshot, the quick Overview frame.
            let onScreen = r.generateMs + r.buildMs + r.firstFrameFromSnapshotMs
            lines.append(
                String(
                    format: "%8d %9.0fms %8.0fms %22.1fms %13.0fms %8.0fms %13.1fms %15.0fms %18.0fms %7.0fms %10.1fms %8.0fMB",
                    r.size, r.generateMs, r.buildMs, r.firstFrameFromSnapshotMs, onScreen, r.prepareMs, r.firstFrameMs, r.sortOrdersMs,
                    r.refreshBuildMs, r.refreshPrepareMs, r.refreshApplyMs, r.peakRSSMB))
            refresh.append(
                String(
                    format: "%10d %9d %20.1fms %19.1fms %8.1fms %15.1fms %11.0fms %8.0fms %26.1f%%",
                    r.size, r.refreshChanged, r.refreshBuildMs, r.refreshCompareMs, r.refreshPrepareMs, r.refreshOrdersMs,
                    r.refreshFullBuildMs, r.refreshFullPrepareMs,
                    r.refreshFullBuildMs > 0 ? 100 * r.refreshBuildMs / r.refreshFullBuildMs : 0))
        }
        lines.append("")
        lines.append(contentsOf: refresh)
        lines.append("")
        lines.append("data on screen (first part)   entities in it   from nothing to its frame")
        for r in rs { lines.append(String(format: "%28d %16d %24.0fms", r.size, r.partEntities, r.partOnScreenMs)) }
        lines.append("")
        func col(_ s: String) -> String { String(repeating: " ", count: max(1, 22 - s.count)) + s }
        lines.append(
            "keystroke to frame, ms".padding(toLength: 28, withPad: " ", startingAt: 0)
                + rs.map { col("\($0.size): p50 / p99 / p99.9") }.joined() + "   (samples)")
        for k in ["scroll (j)", "page down", "filter (6 chars)", "sort (s)", "switch panel", "j during a merge"] {
            lines.append(
                k.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + rs.map { r in
                        col(r.keys[k].map { String(format: "%.2f / %.2f / %.2f", $0.p50, $0.p99, $0.p999) } ?? "-")
                    }.joined() + "   (\(rs.first?.keys[k].map { "\($0.samples)+\($0.corrected)" } ?? "-"))")
        }
        lines.append("")
        lines.append("terminal bytes (estimated ANSI from the cell diff, 120x40)")
        for k in ["cursor move", "page down", "idle frame", "refresh, 1% rows changed"] {
            lines.append(k.padding(toLength: 28, withPad: " ", startingAt: 0) + rs.map { col("\($0.bytes[k] ?? 0)") }.joined())
        }
        return lines.joined(separator: "\n")
    }
}

/// Counts what a real terminal would be sent: the changed runs as cursor moves, colour changes and UTF-8 text.
final class CountingTerminal: Terminal {
    var size: (width: Int, height: Int)
    let colorDepth: ColorDepth = .indexed256
    let unicode = true
    var screen: ScreenBuffer?
    var bytes = 0

    init(width: Int, height: Int) { size = (width, height) }

    func draw(_ buffer: ScreenBuffer) {
        var last: Style?
        for run in buffer.changes(since: screen) {
            bytes += 8 // CSI row;col H
            for x in run.x..<(run.x + run.length) where !buffer[x, run.y].isContinuation {
                let cell = buffer[x, run.y]
                if cell.style != last {
                    bytes += 14
                    last = cell.style
                } // CSI 0;1;38;5;n;48;5;n m, roughly
                bytes += String(cell.character).utf8.count
            }
        }
        screen = buffer
    }
    func readKey(timeout milliseconds: Int) -> Key? { nil }
    func invalidate() { screen = nil }
    func shutdown() {}
}

struct Measure {
    let size: Int
    let seed: UInt64

    func ms(_ since: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - since.uptimeNanoseconds) / 1e6 }

    func run() throws -> Result {
        let now = Date()
        // Data on screen as the dashboard gets it now: the demo's first part (at 50,000 entities or more, one in 32 of
        // every population), built, and the quick Overview frame.
        var t = DispatchTime.now()
        let part = try runBlocking {
            try await DemoCollector(seed: seed, size: size, parts: true).collect(CollectContext(now: now, run: 0, source: "demo"))
        }
        let partApp = App(size: (120, 40))
        partApp.tick(now: now)
        partApp.receive(
            PreparedSnapshot.overview(Snapshot.build(version: 1, now: now, slices: [.init(source: "demo", entities: part.entities)])))
        CountingTerminal(width: 120, height: 40).draw(partApp.render())
        let partOnScreen = ms(t)
        t = DispatchTime.now()
        let demo = DemoCollector(seed: seed, size: size)
        let report = try runBlocking { try await demo.collect(CollectContext(now: now, run: 0, source: "demo")) }
        let generate = ms(t)
        Self.stage("generated")
        t = DispatchTime.now()
        let health = [
            CollectorHealth(name: "demo", type: "demo", state: .ok, lastRun: now, lastSuccess: now, entityCount: size, intervalSeconds: 5)
        ]
        let snapshot = Snapshot.build(
            version: 1, now: now, slices: [.init(source: "demo", entities: report.entities)], collectors: health, requests: report.requests)
        let build = ms(t)
        Self.stage("built")
        if ProcessInfo.processInfo.environment["TG_BENCH_STAGES"] != nil {
            var t2 = DispatchTime.now()
            let merged = Merge.entities([.init(source: "demo", entities: report.entities)])
            let mergeMs = ms(t2)
            t2 = DispatchTime.now()
            _ = RiskRules.CrossIndex(merged)
            FileHandle.standardError.write(Data("  of the build: merge \(Int(mergeMs)) ms, cross index \(Int(ms(t2))) ms\n".utf8))
        }

        let term = CountingTerminal(width: 120, height: 40)
        // The first frame as the dashboard draws it once the first snapshot is built: from the quick Overview
        // preparation, on its own app and terminal.
        let quickTerm = CountingTerminal(width: 120, height: 40)
        let quickApp = App(size: quickTerm.size)
        quickApp.tick(now: now)
        t = DispatchTime.now()
        quickApp.receive(PreparedSnapshot.overview(snapshot))
        quickTerm.draw(quickApp.render())
        let fromSnapshot = ms(t)

        let app = App(size: term.size)
        app.tick(now: now)
        t = DispatchTime.now()
        let first = PreparedSnapshot.prepare(snapshot, previous: nil, now: now)
        let firstPrepare = ms(t)
        Self.stage("prepared")
        t = DispatchTime.now()
        app.receive(first)
        term.draw(app.render())
        let firstFrame = ms(t)
        Self.stage("first frame")

        func press(_ keys: [Key]) -> Double {
            let start = DispatchTime.now()
            for k in keys { app.handle(k) }
            term.draw(app.render())
            return ms(start)
        }
        var keys: [String: Latency] = [:]
        _ = press([.character("4")])
        // What the dashboard does in the background once a table is shown: every column's order.
        let ordersStart = DispatchTime.now()
        if let job = app.sortOrdersJob() { app.receive(job()) }
        let sortOrders = ms(ordersStart)
        Self.stage("sort orders")
        // At least 1,000 samples per key, so a p99 is a percentile and not the slowest of a few dozen.
        keys["scroll (j)"] = Latency((0..<2000).map { i in press([.character(i % 400 < 200 ? "j" : "k")]) })
        keys["page down"] = Latency((0..<1000).map { i in press([i % 200 < 100 ? .pageDown : .pageUp]) })
        var filter: [Double] = []
        for _ in 0..<170 {
            _ = press([.character("/")])
            for ch in "deploy" { filter.append(press([.character(ch)])) }
            _ = press([.escape])
        }
        keys["filter (6 chars)"] = Latency(filter)
        keys["sort (s)"] = Latency((0..<1000).map { _ in press([.character("s")]) })
        keys["switch panel"] = Latency((0..<1000).map { i in press([.character(Character("\(i % 8 + 1)"))]) })

        // Bytes: a cursor move, a page down, an idle frame, and a refresh in which 1% of rows changed.
        var bytes: [String: Int] = [:]
        _ = press([.character("4"), .character("g")])
        func sent(_ body: () -> Void) -> Int {
            let before = term.bytes
            body()
            return term.bytes - before
        }
        bytes["cursor move"] = sent { _ = press([.character("j")]) }
        bytes["page down"] = sent { _ = press([.pageDown]) }
        bytes["idle frame"] = sent { term.draw(app.render()) }
        var changed = report.entities
        var x: UInt64 = seed &+ 0x9E37_79B9_7F4A_7C15 // the same 1% every run (splitmix64)
        for _ in 0..<(size / 100) {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            let i = Int((z ^ (z >> 31)) % UInt64(changed.count))
            changed[i].lastUsedAt = now
        }
        // Input while a collector's merge runs: the build and preparation of the refreshed snapshot run in the
        // background (on every core, as in the dashboard) while `j` is pressed every 4 ms. Latency is from when the
        // key was due to the frame drawn, so it counts waiting for a core as well as handling the key.
        let merging = Atomic<Bool>(true)
        let sliceForMerge = changed
        let requestsForMerge = report.requests
        let sortsForMerge = app.sortChoices
        let previousForMerge = snapshot
        let mergeThread = Thread {
            let s = Snapshot.build(
                version: 3, now: now, slices: [.init(source: "demo", entities: sliceForMerge)], collectors: health,
                requests: requestsForMerge)
            _ = PreparedSnapshot.prepare(s, previous: previousForMerge, now: now, sorts: sortsForMerge)
            merging.store(false, ordering: .releasing)
        }
        mergeThread.start()
        var during: [Double] = []
        var due = DispatchTime.now()
        while merging.load(ordering: .acquiring) || during.isEmpty {
            due = DispatchTime(uptimeNanoseconds: due.uptimeNanoseconds + 4_000_000)
            let wait = Int64(due.uptimeNanoseconds) - Int64(DispatchTime.now().uptimeNanoseconds)
            if wait > 0 { usleep(UInt32(wait / 1000)) }
            app.handle(.character(during.count % 200 < 100 ? "j" : "k"))
            term.draw(app.render())
            during.append(ms(due))
        }
        // Already measured from when each key was due (an open loop), so nothing to correct.
        keys["j during a merge"] = Latency(during, expectedIntervalMs: nil)
        // The 1% refresh as the runner and the dashboard now do it: the collector's delta applied to the slice held and
        // the snapshot updated by difference; then the same from a whole slice, compared with the one held; then,
        // for comparison, the full build and full preparation every refresh cost before.
        let upserts = zip(report.entities, changed).filter { $0.0 != $0.1 }.map(\.1)
        // Held by the runner alone (a copy of its own), as in the dashboard, so the delta changes it in place.
        var held = HeldSlice(source: "demo", entities: report.entities.map { $0 })
        let original = HeldSlice(source: "demo", entities: report.entities)
        t = DispatchTime.now()
        let ids = held.apply(upserts: upserts, removed: [])
        let refreshed = Snapshot.update(
            snapshot, version: 2, now: now, changed: ids, slices: [held], collectors: health, requests: report.requests)
        let refreshBuild = ms(t)
        guard let refreshed else { throw BenchError("the 1% refresh could not be worked out by difference") }
        t = DispatchTime.now()
        let compared = original.changedIDs(to: HeldSlice(source: "demo", entities: changed))
        let refreshCompare = ms(t)
        guard compared == ids else { throw BenchError("comparing whole slices found \(compared.count) changes, the delta \(ids.count)") }
        t = DispatchTime.now()
        _ = Snapshot.build(
            version: 2, now: now, slices: [.init(source: "demo", entities: changed)], collectors: health, requests: report.requests)
        let refreshFullBuild = ms(t)
        // What the dashboard prepared last, in the analyst's current sorts (as its feed does).
        let shown = PreparedSnapshot.prepare(snapshot, previous: nil, now: now, sorts: app.sortChoices)
        t = DispatchTime.now()
        let byDifference = PreparedSnapshot.update(shown, to: refreshed, now: now, sorts: app.sortChoices)
        let prepare = ms(t)
        guard let prepared = byDifference else { throw BenchError("the 1% refresh could not be prepared by difference") }
        t = DispatchTime.now()
        _ = PreparedSnapshot.prepare(refreshed, previous: snapshot, now: now, sorts: app.sortChoices)
        let refreshFullPrepare = ms(t)
        var refreshApply = 0.0
        _ = press([.character("4")])
        if let job = app.sortOrdersJob() { app.receive(job()) }
        bytes["refresh, 1% rows changed"] = sent {
            let start = DispatchTime.now()
            app.receive(prepared)
            term.draw(app.render())
            refreshApply = ms(start)
        }
        // The shown table's every-column orders, carried across in the background.
        t = DispatchTime.now()
        if let job = app.sortOrdersJob() { app.receive(job()) }
        let refreshOrders = ms(t)
        return Result(
            size: size, generateMs: generate, buildMs: build, prepareMs: firstPrepare, firstFrameMs: firstFrame,
            firstFrameFromSnapshotMs: fromSnapshot, sortOrdersMs: sortOrders, keys: keys,
            refreshPrepareMs: prepare, refreshBuildMs: refreshBuild, refreshApplyMs: refreshApply, refreshCompareMs: refreshCompare,
            refreshFullBuildMs: refreshFullBuild, refreshFullPrepareMs: refreshFullPrepare, refreshOrdersMs: refreshOrders,
            refreshChanged: ids.count, partOnScreenMs: partOnScreen, partEntities: part.entities.count, peakRSSMB: Self.peakRSS(),
            bytes: bytes)
    }

    /// With TG_BENCH_STAGES set, the resident memory after each stage goes to stderr.
    static func stage(_ name: String) {
        guard ProcessInfo.processInfo.environment["TG_BENCH_STAGES"] != nil,
            let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return }
        FileHandle.standardError.write(Data("\(name): \(line)\n".utf8))
    }

    static func peakRSS() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}

/// Runs async work from synchronous code (the benchmark is one thread on purpose).
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.value = .success(try await body()) } catch { box.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.value!.get()
}

final class ResultBox<T>: @unchecked Sendable {
    var value: Swift.Result<T, any Error>?
}

/// A measurement that could not be made as described: the bench stops and says why.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
