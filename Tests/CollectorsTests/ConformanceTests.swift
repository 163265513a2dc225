import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

/// The contract every collector meets (see `Collector`'s documentation).
func checkConformance(_ make: () throws -> any Collector) async throws {
    let collector = try make()
    // 1. A report whose entities have ids, names, and source-qualified ids.
    let report = try await collector.collect(CollectContext(now: t0, run: 0))
    try report.validate()
    #expect(!report.entities.isEmpty)
    for e in report.entities.prefix(1000) {
        #expect(e.id.contains(":"), "id \(e.id) is not source-qualified")
    }
    // 2. The whole slice each time: a second run returns a full report too.
    let again = try await collector.collect(CollectContext(now: t0.addingTimeInterval(5), run: 1))
    #expect(again.entities.count >= report.entities.count)
    // 3. Honours cancellation.
    let fresh = try make()
    // The collect starts only once the task is cancelled, so the check can't race the work.
    let task = Task {
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
        return try await fresh.collect(CollectContext(now: t0, run: 0))
    }
    task.cancel()
    await #expect(throws: CancellationError.self) { try await task.value }
    // 4. No secrets: credentials carry fingerprints, never values that look like secret material.
    for e in report.entities.prefix(1000) {
        for c in e.credentials {
            if let fp = c.fingerprint { #expect(fp.hasPrefix("SHA256:")) }
        }
    }
}

@Suite("Collector conformance")
struct ConformanceTests {
    @Test("the demo collector conforms")
    func demo() async throws {
        try await checkConformance { DemoCollector(seed: 7, size: 300) }
    }

    @Test("the file collector conforms")
    func file() async throws {
        let dir = TestTemporary.directory.appendingPathComponent("tg-conf-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("e.jsonl").path
        let line =
            #"{"id":"aws:iam:user/a","population":"service_account","name":"a","credentials":"#
            + #"[{"id":"AKIA1","kind":"access_key","fingerprint":"SHA256:x"}]}"#
        try (line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try await checkConformance { FileCollector(path: path) }
    }
}
