import Access
import AccessService
import Foundation
import Inventory
import Logging

/// The two stores side by side (docs/performance.md, "PostgreSQL"): decisions per second through one service on
/// SQLite, one on PostgreSQL and two on the same PostgreSQL database (two "hosts": each its own store connections,
/// anchor, socket and change feed, as `trustgap serve` wires them), and the change feed's latency from a decision
/// through host A's socket to the event at a subscriber of host B.
struct StoreBench {
    let url: String
    let decisions: Int

    struct Host {
        let store: AccessStore
        let engine: AccessEngine
        let server: AccessServer
        let socket: String
        var feed: Task<Void, Never>?
    }

    func host(_ location: String, dir: String, name: String, key: String?) throws -> Host {
        let store = try AccessStore(
            path: location, service: true, keyPath: key, anchorPath: key == nil ? nil : "\(dir)/\(name).anchor")
        let engine = AccessEngine(store: store, policy: AccessPolicy(), hooks: HookConfig(), subjects: AccessBench.Fixed())
        let server = AccessServer(socketPath: "\(dir)/\(name).sock", engine: engine, logger: Logger(label: "bench"))
        try runBlocking { try await server.start() }
        var h = Host(store: store, engine: engine, server: server, socket: "\(dir)/\(name).sock")
        if let feed = StoreChangeFeed.forStore(store, after: try store.changeToken()) {
            h.feed = Task.detached { await feed.run { _ in server.changed() } }
        }
        return h
    }

    func file(_ n: Int, _ store: AccessStore) throws -> [String] {
        let other = Analyst(user: "bench-requester")
        return try (0..<n).map { i in
            try store.file(
                subject: AccessBench.subject, scope: "vpn:prod:\(i)", ttlSeconds: 3600, reason: "on call", by: other,
                policy: AccessPolicy(), now: Date()
            ).id
        }
    }

    /// Decisions per second: each host's client denies its own share, all at once.
    func throughput(_ hosts: [Host]) throws -> Double {
        let shares = try hosts.map { try file(decisions, $0.store) }
        let clients = try hosts.map { try AccessClient(socketPath: $0.socket) }
        let start = DispatchTime.now()
        DispatchQueue.concurrentPerform(iterations: hosts.count) { i in
            for id in shares[i] { _ = try? clients[i].call(WireRequest(op: "deny", reason: "bench", target: id)) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Double(decisions * hosts.count) / seconds
    }

    func run() throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tg-storebench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var out: [String] = []
        let sqlite = try host("\(dir)/trustgap.db", dir: dir, name: "sqlite", key: nil)
        out.append("decisions per second, one service, SQLite:       \(Int(try throughput([sqlite])))")
        sqlite.server.stop()
        let a = try host(url, dir: dir, name: "a", key: "\(dir)/audit.key")
        let b = try host(url, dir: dir, name: "b", key: "\(dir)/audit.key")
        defer {
            for h in [a, b] {
                h.feed?.cancel()
                h.server.stop()
                h.store.close()
            }
        }
        out.append("decisions per second, one service, PostgreSQL:   \(Int(try throughput([a])))")
        out.append("decisions per second, two services, PostgreSQL:  \(Int(try throughput([a, b])))")
        // The change feed: a deny through host A's socket until host B's subscriber hears of it.
        let decider = try AccessClient(socketPath: a.socket)
        let follower = try AccessClient(socketPath: b.socket)
        let seen = Arrivals(1)
        let t = Thread { try? follower.follow { token in seen.arrived(0, token) } }
        t.start()
        defer { follower.disconnect() }
        seen.waitForAll(atLeast: 0)
        var samples: [Double] = []
        for id in try file(decisions, a.store) {
            let start = DispatchTime.now()
            _ = try decider.call(WireRequest(op: "deny", reason: "bench", target: id))
            let when = seen.waitForAll(atLeast: try a.store.changeToken())
            samples.append(Double(when[0].uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
        }
        let l = Latency(samples, expectedIntervalMs: nil)
        out.append(
            "change feed, decision on host A to host B's subscriber: p50 \(String(format: "%.2f", l.p50)) ms  "
                + "p99 \(String(format: "%.2f", l.p99)) ms  max \(String(format: "%.2f", l.max)) ms  (\(l.samples) samples)")
        return out
    }
}
