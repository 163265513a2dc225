import Access
import AccessService
import Foundation
import Inventory
import Logging

/// The access service through its real Unix socket (docs/performance.md, "The access service"): a decision's round
/// trip, a change reaching 20 subscribers, and a decision with the dashboard's update on an empty store and on one
/// with 100,000 audit entries (which must not grow with history).
struct AccessBench {
    let decisions: Int

    struct Figures: Codable {
        var roundTrip: Latency
        var denyRoundTrip: Latency
        var toSubscribers: Latency
        var subscribers: Int
        var updateEmpty: Latency
        var updateWithHistory: Latency
        var historyEntries: Int
        var startVerificationMs: Double
        var decisionsPerSecond: Double
    }

    static let subject = Subject(id: "mdm:device/bench", name: "bench-laptop", population: .device)

    /// A service on a fresh store in a scratch folder, with `history` request/deny pairs already in it.
    func service(history: Int) throws -> (AccessServer, AccessEngine, String, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tg-bench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try AccessStore(path: dir + "/trustgap.db", service: true)
        if history > 0 { try store.seedHistoryForBenchmark(history, subject: Self.subject, now: Date()) }
        let engine = AccessEngine(store: store, policy: AccessPolicy(), hooks: HookConfig(), subjects: Fixed())
        let server = AccessServer(socketPath: dir + "/tg.sock", engine: engine, logger: Logger(label: "bench"))
        try runBlocking { try await server.start() }
        return (server, engine, dir + "/tg.sock", dir)
    }

    struct Fixed: SubjectDirectory {
        func lookup(_ id: String) async -> SubjectLookup { .found(AccessBench.subject) }
    }

    /// Pending requests from someone else, so this process's user may decide them.
    func file(_ n: Int, in engine: AccessEngine) throws -> [String] {
        let other = Analyst(user: "bench-requester")
        return try (0..<n).map { i in
            try engine.store.file(
                subject: Self.subject, scope: "vpn:prod:\(i)", ttlSeconds: 3600, reason: "on call", by: other,
                policy: AccessPolicy(), now: Date()
            ).id
        }
    }

    func ms(_ since: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - since.uptimeNanoseconds) / 1e6 }

    func run() throws -> Figures {
        // 1. Round trips: approve and deny through the socket, one client.
        let (server, engine, socket, dir) = try service(history: 0)
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
        let ids = try file(decisions * 2, in: engine)
        let client = try AccessClient(socketPath: socket)
        var approve: [Double] = []
        var deny: [Double] = []
        let started = DispatchTime.now()
        for (i, id) in ids.enumerated() {
            let t = DispatchTime.now()
            _ = try client.call(WireRequest(op: i % 2 == 0 ? "approve" : "deny", reason: "bench", target: id))
            if i % 2 == 0 { approve.append(ms(t)) } else { deny.append(ms(t)) }
        }
        let perSecond = Double(ids.count) / (ms(started) / 1000)

        // 2. A change reaching 20 subscribers: from sending the decision to each one's event.
        let subscribers = 20
        let arrivals = Arrivals(subscribers)
        var followers: [AccessClient] = []
        for i in 0..<subscribers {
            let c = try AccessClient(socketPath: socket)
            followers.append(c)
            let t = Thread { try? c.follow { token in arrivals.arrived(i, token) } }
            t.start()
        }
        defer { for c in followers { c.disconnect() } }
        arrivals.waitForAll(atLeast: 0)
        var fanout: [Double] = []
        for id in try file(200, in: engine) {
            let t = DispatchTime.now()
            let token =
                try client.call(WireRequest(op: "deny", reason: "bench", target: id)).request.map { _ in try engine.store.changeToken() }
                ?? 0
            for when in arrivals.waitForAll(atLeast: token) { fanout.append(Double(when.uptimeNanoseconds - t.uptimeNanoseconds) / 1e6) }
        }

        // 3. A decision and the dashboard's update (the event, then the view it reads), empty store vs. 100,000 entries.
        let empty = try update(history: 0)
        let historyPairs = 50_000
        let t0 = DispatchTime.now()
        let (hServer, hEngine, hSocket, hDir) = try service(history: historyPairs)
        defer {
            hServer.stop()
            try? FileManager.default.removeItem(atPath: hDir)
        }
        FileHandle.standardError.write(Data("seeded \(historyPairs * 2) audit entries in \(Int(ms(t0))) ms\n".utf8))
        let tv = DispatchTime.now()
        _ = try hEngine.runningVerification()
        let startVerification = ms(tv)
        let withHistory = try update(server: hServer, engine: hEngine, socket: hSocket)
        return Figures(
            roundTrip: Latency(approve, expectedIntervalMs: nil), denyRoundTrip: Latency(deny, expectedIntervalMs: nil),
            toSubscribers: Latency(fanout, expectedIntervalMs: nil), subscribers: subscribers,
            updateEmpty: empty, updateWithHistory: withHistory, historyEntries: historyPairs * 2,
            startVerificationMs: startVerification, decisionsPerSecond: perSecond)
    }

    func update(history: Int) throws -> Latency {
        let (server, engine, socket, dir) = try service(history: history)
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
        return try update(server: server, engine: engine, socket: socket)
    }

    /// One analyst decides; another dashboard gets the event and reads its view: the time until that view is in hand.
    func update(server: AccessServer, engine: AccessEngine, socket: String) throws -> Latency {
        let decider = try AccessClient(socketPath: socket)
        let reader = try AccessClient(socketPath: socket)
        // The dashboard's first view (the audit tail, and the service's full check) comes before timing; each update
        // then reads what the dashboard does: the queue, live grants and the audit entries after the newest it has.
        let first = try reader.call(WireRequest(op: "view", limit: 2000))
        let newest = Box(first.audit?.last?.seq ?? 0)
        let follower = try AccessClient(socketPath: socket)
        let seen = Arrivals(1)
        let t = Thread {
            try? follower.follow { token in
                if let r = try? reader.call(WireRequest(op: "view", limit: 2000, after: newest.get())), let last = r.audit?.last?.seq {
                    newest.set(last)
                }
                seen.arrived(0, token)
            }
        }
        t.start()
        defer { follower.disconnect() }
        seen.waitForAll(atLeast: 0)
        var samples: [Double] = []
        // One request at a time, so the queue the view carries stays short: what is measured is history, not queue.
        for _ in 0..<decisions {
            let id = try file(1, in: engine)[0]
            server.changed() // filed behind the server's back: tell the subscribers, and let that settle first
            seen.waitForAll(atLeast: try engine.store.changeToken())
            let start = DispatchTime.now()
            _ = try decider.call(WireRequest(op: "deny", reason: "bench", target: id))
            let token = try engine.store.changeToken()
            let when = seen.waitForAll(atLeast: token)
            samples.append(Double(when[0].uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
        }
        return Latency(samples, expectedIntervalMs: nil)
    }
}

/// When each subscriber saw a token at least as new as the one waited for.
final class Arrivals: @unchecked Sendable {
    private let cond = NSCondition()
    private var tokens: [Int64]
    private var times: [DispatchTime]

    init(_ n: Int) {
        tokens = Array(repeating: -1, count: n)
        times = Array(repeating: .now(), count: n)
    }

    func arrived(_ i: Int, _ token: Int64) {
        let now = DispatchTime.now()
        cond.lock()
        if token > tokens[i] {
            tokens[i] = token
            times[i] = now
        }
        cond.broadcast()
        cond.unlock()
    }

    @discardableResult
    func waitForAll(atLeast token: Int64) -> [DispatchTime] {
        cond.lock()
        defer { cond.unlock() }
        let deadline = Date().addingTimeInterval(10)
        while tokens.contains(where: { $0 < token }), Date() < deadline { _ = cond.wait(until: deadline) }
        return times
    }
}

final class Box<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func get() -> T { lock.withLock { value } }
    func set(_ v: T) { lock.withLock { value = v } }
}
