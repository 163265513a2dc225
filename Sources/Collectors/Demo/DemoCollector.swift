import Foundation
import Inventory
import Synchronization

/// The built-in demo: a believable mid-size company ("Acme") that keeps living.
///
/// The first run builds the organisation from the seed and size, anchored at that run's time. Every later run
/// applies one more step of its life, deterministically for the seed and the step number: a new shadow AI agent is
/// discovered, every second step a key ages past 90 days, every third step an owner leaves, and an access request
/// arrives.
///
/// With a `lifeFile`, the steps lived are shared between processes: the dashboard records them there, and another
/// process (a CLI command collecting once, a second dashboard) starts from them, so both know the same entities.
public final class DemoCollector: Collector {
    /// Synthetic and built in: nothing to cut or redact, and at a million entities the intake would cost a refresh.
    public var admittedAlready: Bool { true }
    public let seed: UInt64
    public let size: Int

    struct World {
        var org: DemoOrganisation
        var entities: [Entity]
        /// Where each shadow agent added by a step sits in `entities`.
        var index: [String: Int]
        /// Positions in `entities`, in id order.
        var byID: [Int32]
        var requests: [RequestProposal]
        var applied: Int
        /// The collector's name, recorded on every entity (see `CollectContext.source`).
        var source: String
        /// The steps lived before this process's first run (read from the life file).
        var lived = 0
    }
    private let world = Mutex<World?>(nil)
    /// Where the steps lived are kept between processes (`$XDG_STATE_HOME/trustgap/demo-SEED-SIZE.life`); nil keeps
    /// them to this process.
    public let lifeFile: String?
    /// A life file not written for this long belongs to a demo nobody is watching: the next one starts afresh.
    public static let lifeHorizon: TimeInterval = 3600

    /// Default size: tens of apps, hundreds of devices and service accounts, dozens of agents.
    public static let defaultSize = 700

    public init(seed: UInt64 = 42, size: Int = DemoCollector.defaultSize, lifeFile: String? = nil) {
        self.seed = seed
        self.size = size
        self.lifeFile = lifeFile
    }

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        var w =
            world.withLock { $0 }
            ?? {
                var fresh = makeWorld(anchor: context.now, source: context.source)
                fresh.lived = readLife(now: context.now)
                return fresh
            }()
        let before = w.applied
        while w.applied < w.lived + context.run {
            try Task.checkCancellation()
            w.applied += 1
            live(&w, step: w.applied, now: context.now)
        }
        world.withLock { $0 = w }
        if w.applied > before, w.applied > readLife(now: context.now) { writeLife(w.applied) }
        // In id order, so the merge has nothing to sort.
        return CollectorReport(entities: w.byID.map { w.entities[Int($0)] }, requests: w.requests)
    }

    /// The steps the demo has lived, as the life file records them: 0 without one, or when it is unreadable or
    /// older than `lifeHorizon`.
    func readLife(now: Date) -> Int {
        guard let lifeFile, let attributes = try? FileManager.default.attributesOfItem(atPath: lifeFile),
            let modified = attributes[.modificationDate] as? Date, now.timeIntervalSince(modified) < Self.lifeHorizon,
            let data = FileManager.default.contents(atPath: lifeFile),
            let steps = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), steps >= 0
        else { return 0 }
        // A number no demo could have reached (hours of steps at the shortest interval) is not trusted.
        return min(steps, 100_000)
    }

    /// Records the steps lived, replacing the file whole (a reader never sees half a number). A demo that can't
    /// record them still works; it is only alone in its world.
    func writeLife(_ steps: Int) {
        guard let lifeFile else { return }
        let folder = URL(fileURLWithPath: lifeFile).deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? Data("\(steps)\n".utf8).write(to: URL(fileURLWithPath: lifeFile), options: .atomic)
    }

    func makeWorld(anchor: Date, source: String = "") -> World {
        let org = DemoOrganisation(seed: seed, size: size, anchor: anchor)
        var entities = org.entities()
        if !source.isEmpty {
            // Recorded while the world is built, so no later copy is needed to add it (see CollectContext.source).
            let sources = [source] // one array, shared by every entity
            for i in entities.indices { entities[i].sources = sources }
        }
        let byID = IDOrder.sorted(entities.map(\.id))
        // Only the shadow agents that later steps add are indexed: their ids ("…-newK") never meet a base entity's.
        var w = World(org: org, entities: entities, index: [:], byID: byID, requests: [], applied: 0, source: source)
        for k in 0..<4 { addRequest(&w, number: k, now: anchor.addingTimeInterval(Double(-900 * (4 - k)))) }
        return w
    }

    /// One step of the organisation's life.
    func live(_ w: inout World, step k: Int, now: Date) {
        let org = w.org
        var r = org.rng(.event, k)

        // A new shadow AI agent is discovered.
        var shadow = org.agent(0, shadowRun: k)
        shadow.firstSeen = now
        shadow.lastSeen = now
        shadow.lastUsedAt = now
        for j in shadow.credentials.indices {
            shadow.credentials[j].createdAt = now
            shadow.credentials[j].lastUsedAt = now
        }
        if let sources = w.entities.first?.sources, !w.source.isEmpty { shadow.sources = sources }
        if let i = w.index[shadow.id] {
            w.entities[i] = shadow
        } else {
            w.index[shadow.id] = w.entities.count
            let entities = w.entities
            let at = w.byID.lowerBound { entities[Int($0)].id < shadow.id }
            w.byID.insert(Int32(w.entities.count), at: at)
            w.entities.append(shadow)
        }

        // A key ages past the threshold.
        if k % 2 == 0 {
            let sa = org.appCount + org.deviceCount + r.int(0...org.serviceAccountCount - 1)
            if sa < w.entities.count, !w.entities[sa].credentials.isEmpty, w.entities[sa].credentials[0].kind.isStaticSecret {
                w.entities[sa].credentials[0].createdAt = now.addingTimeInterval(-Double(91 + k % 7) * DemoOrganisation.day)
            }
        }

        // An owner leaves: everything they owned is now owned by someone who is gone.
        if k % 3 == 0 {
            let leaver = org.personName(r.int(0...org.peopleCount - 1))
            for i in w.entities.indices where w.entities[i].owner?.name == leaver {
                w.entities[i].owner?.status = .departed
            }
        }

        // An access request arrives.
        addRequest(&w, number: 3 + k, now: now)
        if w.requests.count > 200 { w.requests.removeFirst(w.requests.count - 200) }
    }

    func addRequest(_ w: inout World, number k: Int, now: Date) {
        let org = w.org
        var r = org.rng(.request, k)
        let t = DemoCatalogue.requests[k % DemoCatalogue.requests.count]
        let base: Int
        let count: Int
        switch t.population {
        case 0: (base, count) = (0, org.appCount)
        case 1: (base, count) = (org.appCount, org.deviceCount)
        case 2: (base, count) = (org.appCount + org.deviceCount, org.serviceAccountCount)
        default: (base, count) = (org.appCount + org.deviceCount + org.serviceAccountCount, org.agentCount)
        }
        let subject = w.entities[base + r.int(0...count - 1)]
        let requester = subject.owner?.name ?? org.personName(r.int(0...org.peopleCount - 1))
        w.requests.append(
            RequestProposal(
                key: "demo-\(seed)-\(k)", subject: subject.id, scope: t.scope, requester: requester,
                reason: t.reason, ticket: r.chance(0.6) ? "SEC-\(4000 + k)" : nil, ttlSeconds: t.ttl, createdAt: now))
    }
}
