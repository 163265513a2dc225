import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

#if canImport(Glibc)
import Glibc
#endif

/// A named pipe nobody writes: opening it for reading blocks, as a read from a hung NFS server does.
final class HungPipe: Sendable {
    let path: String

    init() throws {
        signal(SIGPIPE, SIG_IGN) // a release may write after the reader has gone
        let folder = TestTemporary.directory.appendingPathComponent("tg-hung-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent("export.jsonl").path
        guard mkfifo(path, 0o600) == 0 else { throw CollectorError.failed("mkfifo \(path): \(String(cString: strerror(errno)))") }
    }

    /// Lets a reader blocked in `open` go on (a writer opens and closes: it reads `text`, then the end).
    func release(writing text: String = "") {
        let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return } // nobody is waiting
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, text.utf8.count) }
        close(fd)
    }

    /// Releases readers until `done` holds (a reader may reach `open` only after a release); a deadlock guard, not a
    /// timing: it gives up after a minute.
    func releaseUntil(writing text: String = "", _ done: () -> Bool) async {
        let deadline = Date().addingTimeInterval(60)
        while !done(), Date() < deadline {
            release(writing: text)
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// Fires `action` after `seconds`, then again every 10 ms, until cancelled: releases what a broken test left blocked
/// (readers that reach their `open` later too), so it fails instead of hanging the suite.
final class Watchdog: Sendable {
    private let cancelled = DispatchSemaphore(value: 0)
    private let firedFlag = Atomic<Bool>(false)
    var fired: Bool { firedFlag.load(ordering: .acquiring) }

    init(seconds: Double, _ action: @escaping @Sendable () -> Void) {
        Thread { [self] in
            var wait = seconds
            while cancelled.wait(timeout: .now() + wait) == .timedOut {
                firedFlag.store(true, ordering: .releasing)
                action()
                wait = 0.01
            }
        }.start()
    }

    func cancel() { cancelled.signal() }
}

/// What a fake host's walk read, and whether its reads in bob's home block.
final class Walked: Sendable {
    let paths = Mutex<[String]>([])
    let blockBob = Atomic<Bool>(false)
    var list: [String] { paths.withLock { $0 } }
}

/// Counts reads; the third one waits until `hold` is signalled.
final class SlowThird: Sendable {
    let reads = Atomic<Int>(0)
    let reached = Atomic<Bool>(false)
    let hold = DispatchSemaphore(value: 0)
}

@Suite("Blocking work stays off the cooperative pool", .serialized)
struct BlockingWorkTests {
    @Test("file collectors hung on reads (more than the pool's threads) time out, and meanwhile every other task runs")
    func hungFilesHoldNoPoolThread() async throws {
        let width = ProcessInfo.processInfo.activeProcessorCount
        let pipes = try (0...width).map { _ in try HungPipe() }
        let collectors = pipes.map { FileCollector(path: $0.path) }
        let clock = ManualClock(start: t0)
        let runner = CollectorRunner(
            specs: collectors.enumerated().map { i, c in
                CollectorSpec(name: "hung\(i)", type: "file", intervalSeconds: 30, timeoutSeconds: 10, collector: c)
            },
            clock: clock)
        // Long enough for a loaded 2-core machine at the suite's start: held threads never finish before it, however long.
        let watchdog = Watchdog(seconds: 120) { for p in pipes { p.release() } }
        defer { watchdog.cancel() }

        let all = Task { await runner.runAllOnce() }
        while clock.sleeperCount < pipes.count, !watchdog.fired { try await Task.sleep(for: .milliseconds(5)) }
        while collectors.contains(where: { $0.lane.outstanding == 0 }), !watchdog.fired { try await Task.sleep(for: .milliseconds(5)) }
        // Every reader is blocked (or about to be); tasks, many more than the pool has threads, still all run.
        let ran = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<(width * 8) {
                group.addTask {
                    await Task.yield()
                    return 1
                }
            }
            return await group.reduce(0, +)
        }
        #expect(ran == width * 8)
        #expect(!watchdog.fired, "the tasks ran only once the watchdog released the reads: pool threads were held")

        try #require(!watchdog.fired)

        clock.advance(by: 10)
        await all.value
        for h in await runner.collectorHealth {
            #expect(h.state == .failed)
            #expect(h.lastError == "timed out after 10s")
        }
        // Still stuck: the next run says so at once, and leaves no second thread behind.
        await runner.runOnce("hung0")
        let stuck = try #require(await runner.collectorHealth.first?.lastError)
        #expect(stuck == "still stuck in a previous run: reading \(pipes[0].path) has not returned; not started again until it does")
        #expect(collectors[0].lane.outstanding == 1)

        // The reads return with a valid record: the timed-out runs drop it, and nothing of theirs is applied.
        let version = await runner.snapshot.version
        let record = #"{"id":"late:1","population":"app","name":"late"}"# + "\n"
        for (p, c) in zip(pipes, collectors) { await p.releaseUntil(writing: record) { c.lane.outstanding == 0 } }
        #expect(collectors.allSatisfy { $0.lane.outstanding == 0 })
        #expect(await runner.snapshot.version == version)
        #expect(await runner.snapshot.entities.isEmpty)
        #expect(collectors.allSatisfy { c in c.cacheIsEmpty })
    }

    /// A fake host whose homes are read in order: alice, bob, carol; each has a `.bashrc` holding an AI key.
    func host(blocking pipe: HungPipe, walked: Walked) throws -> HostCollector {
        let root = TestTemporary.directory.appendingPathComponent("tg-host-hang-\(UUID())").path
        for user in ["alice", "bob", "carol"] {
            let home = "\(root)/home/\(user)"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            try "export OPENAI_API_KEY=sk-proj-\(user)AAAAAAAAAAAAAAAAAAAAAAAA\n".write(
                toFile: "\(home)/.bashrc", atomically: true, encoding: .utf8)
        }
        let collector = HostCollector(
            homeRoot: "\(root)/home", includeRootHome: false, passwd: "\(root)/passwd", hostName: "jump", source: "host"
        ) { path in
            walked.paths.withLock { $0.append(path) }
            // Bob's home is on a server that stopped answering: the first read there blocks.
            if walked.blockBob.load(ordering: .acquiring), path.contains("/home/bob/") {
                let fd = open(pipe.path, O_RDONLY | O_CLOEXEC)
                if fd >= 0 { close(fd) }
            }
        }
        return collector
    }

    @Test("a host walk blocked in one home times out, keeps its last good slice, and stops at the next file")
    func hungHome() async throws {
        let pipe = try HungPipe()
        let walked = Walked()
        let collector = try host(blocking: pipe, walked: walked)
        let watchdog = Watchdog(seconds: 30) { pipe.release() }
        defer { watchdog.cancel() }
        let clock = ManualClock(start: t0)
        let runner = CollectorRunner(
            specs: [CollectorSpec(name: "host", type: "host", intervalSeconds: 30, timeoutSeconds: 10, collector: collector)],
            clock: clock)
        await runner.runOnce("host")
        let good = await runner.snapshot.entities.map(\.id)
        #expect(good.count == 3)

        walked.blockBob.store(true, ordering: .releasing)
        walked.paths.withLock { $0.removeAll() }
        let run = Task { await runner.runOnce("host") }
        await clock.waitForSleepers(1)
        while !walked.list.contains(where: { $0.contains("/home/bob/") }) { try await Task.sleep(for: .milliseconds(5)) }
        clock.advance(by: 10)
        await run.value
        let h = try #require(await runner.collectorHealth.first)
        #expect(h.state == .stale)
        #expect(h.lastError == "timed out after 10s")
        #expect(await runner.snapshot.entities.map(\.id) == good, "the last good slice is kept")

        let before = walked.list
        await pipe.releaseUntil { collector.lane.outstanding == 0 }
        #expect(collector.lane.outstanding == 0)
        #expect(walked.list == before, "the walk read nothing after its run timed out")
        #expect(!before.contains { $0.contains("/home/carol/") })
        #expect(await runner.snapshot.entities.map(\.id) == good)
    }

    @Test("cancelled blocking work returns at once and reads no further file")
    func cancelledWalkStops() async throws {
        let slow = SlowThird()
        let root = TestTemporary.directory.appendingPathComponent("tg-host-cancel-\(UUID())").path
        for user in ["a", "b", "c", "d"] {
            try FileManager.default.createDirectory(atPath: "\(root)/home/\(user)", withIntermediateDirectories: true)
        }
        let collector = HostCollector(
            homeRoot: "\(root)/home", includeRootHome: false, passwd: "\(root)/passwd", hostName: "jump", source: "host"
        ) { _ in
            // The third file is slow; the run is cancelled while it is read.
            if slow.reads.add(1, ordering: .acquiringAndReleasing).newValue == 3 {
                slow.reached.store(true, ordering: .releasing)
                _ = slow.hold.wait(timeout: .now() + 60)
            }
        }
        let task = Task { try await collector.collect(CollectContext(now: t0, run: 0)) }
        while !slow.reached.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(collector.lane.outstanding == 1, "the caller heard before the thread returned")
        slow.hold.signal()
        while collector.lane.outstanding > 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(slow.reads.load(ordering: .acquiring) == 3)
    }

    @Test("a timed-out exec collector's program is killed")
    func timedOutProgramKilled() async throws {
        let folder = TestTemporary.directory.appendingPathComponent("tg-exec-hang-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pidFile = folder.appendingPathComponent("pid").path
        let exec = ExecCollector(command: ["/bin/sh", "-c", "echo $$ > '\(pidFile)'; exec sleep 300"], timeoutSeconds: 600)
        let clock = ManualClock(start: t0)
        let runner = CollectorRunner(
            specs: [CollectorSpec(name: "slow", type: "exec", intervalSeconds: 30, timeoutSeconds: 5, collector: exec)], clock: clock)
        let run = Task { await runner.runOnce("slow") }
        await clock.waitForSleepers(1)
        var pid: pid_t?
        let deadline = Date().addingTimeInterval(60)
        while pid == nil, Date() < deadline {
            pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if pid == nil { try await Task.sleep(for: .milliseconds(5)) }
        }
        let child = try #require(pid)
        clock.advance(by: 5)
        await run.value
        #expect(await runner.collectorHealth.first?.lastError == "timed out after 5s")
        while kill(child, 0) == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(kill(child, 0) == -1 && errno == ESRCH, "the program outlived its timed-out run")
    }
}

extension FileCollector {
    var cacheIsEmpty: Bool { cacheStamp == nil }
}
