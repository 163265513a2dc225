import Foundation
import Inventory
import Synchronization

/// How fast the demo organisation lives: every period below is divided by `speed` (`--demo-speed`).
public struct DemoPace: Sendable, Equatable {
    public var speed: Double

    public init(speed: Double = 1) { self.speed = speed }

    /// Seconds between changes at speed 1.
    static let shadowAgentEvery = 90.0
    static let keyAgesEvery = 60.0
    static let ownerLeavesEvery = 240.0
    static let requestEvery = 60.0
    /// How long a requester waits for a decision before the request lapses.
    static let requestWaits = 300.0
    /// How many of each change stand at once: each new one retires the oldest (the agent is removed after review,
    /// the key is rotated, the leaver's things are handed over), so the figures hold steady.
    static let shadowAgentsHeld = 3
    static let agedKeysHeld = 4
    static let leaversHeld = 2

    func seconds(_ base: Double) -> Double { base / speed }
    /// A request lapses after this long, in every store the demo's requests reach.
    public var requestLapseSeconds: Double { seconds(Self.requestWaits) * 3 }
}

/// The built-in demo: a believable mid-size company ("Acme") that keeps living, in a steady state.
///
/// The first run builds the organisation from the seed and size, anchored at that run's time, already in its steady
/// state. From then on its life follows the clock: a new shadow AI agent is discovered every 90 s (the oldest one
/// found is removed after review), a key ages past 90 days every minute (the oldest such key is rotated), an owner
/// leaves every 4 minutes (the one before last hands their things over), and an access request arrives every minute
/// and waits 5 minutes for a decision. Each arrival is tied to wall-clock time, not to the run, so a restart on the
/// same store files the requests of its own time, never those an earlier run filed.
///
/// With a `lifeFile`, processes share one life: the dashboard records there when its organisation started, and
/// another process (a CLI command collecting once, a second dashboard) builds the organisation from that moment and
/// lives it up to now, so all of them know the same entities.
public final class DemoCollector: Collector {
    /// Synthetic and built in: nothing to cut or redact, and at a million entities the intake would cost a refresh.
    public var admittedAlready: Bool { true }
    public let seed: UInt64
    public let size: Int
    public let pace: DemoPace

    struct World {
        var org: DemoOrganisation
        var entities: [Entity]
        /// Positions in `entities`, in id order.
        var byID: [Int32]
        /// The collector's name, recorded on every entity (see `CollectContext.source`).
        var source: String
        /// The shadow agents discovered so far that still stand, oldest first: positions in `entities`.
        var shadows: [Int] = []
        var shadowsFound = 0
        /// Keys aged past the limit, oldest first.
        var aged: [Int] = []
        var agesApplied = 0
        /// People who left, oldest first, with what they owned.
        var leavers: [(person: Int, owned: [Int])] = []
        var leavesApplied = 0
        /// The pace it lives at: this collector's, or the shared demo's (see `lifeFile`).
        var pace = DemoPace()
        /// The report's number (`CollectorReport.revision`): bumped whenever a change is applied or the requests waiting
        /// change, so a run between two changes answers `unchanged`.
        var revision: UInt64 = 0
        /// The requests of the last report (nil before the first).
        var requests: [RequestProposal]?
        /// What changed since the report numbered `reported`: positions changed or added, ids removed. The next run
        /// sends just these (`CollectorReport.delta`) when the runner holds that report.
        var dirty = Set<Int>()
        var removed: [String] = []
        var reported: UInt64?
    }
    private let world = Mutex<World?>(nil)
    /// Where the demo's start is kept between processes (`$XDG_STATE_HOME/trustgap/demo-SEED-SIZE.life`); nil keeps
    /// it to this process.
    public let lifeFile: String?
    /// A life file not refreshed for this long belongs to a demo nobody is watching: the next one starts afresh.
    public static let lifeHorizon: TimeInterval = 3600
    /// When this process last refreshed the life file.
    private let lifeWritten = Mutex<Date?>(nil)

    /// Default size: tens of apps, hundreds of devices and service accounts, dozens of agents.
    public static let defaultSize = 700

    /// With `parts`, a first run at `partsFrom` entities or more reports a sample of every population first (one in
    /// 32, marked `loading`), and the whole organisation on the next run: the runner asks for it at once, and the first
    /// figures are on screen in a fraction of the time the whole takes to make and assess. (More parts would move the
    /// progress line, but each costs a full build of its size on the way to the whole.)
    public init(
        seed: UInt64 = 42, size: Int = DemoCollector.defaultSize, pace: DemoPace = DemoPace(), lifeFile: String? = nil, parts: Bool = false,
        partsFrom: Int = DemoCollector.partsFrom
    ) {
        self.partsFrom = partsFrom
        self.seed = seed
        self.size = size
        self.pace = pace
        self.lifeFile = lifeFile
        self.parts = parts
    }

    public let parts: Bool
    /// Sizes from which a first run comes in parts (see `init`).
    public static let partsFrom = 50_000
    let partsFrom: Int
    /// Each part's sample: one entity in this many (then the whole).
    static let partStrides = [32]
    /// A world still being made in parts: the organisation, its start and pace, and the entities made so far.
    struct Making {
        var org: DemoOrganisation
        var pace: DemoPace
        var made: [Entity?]
        var part = 0
    }
    private let making = Mutex<Making?>(nil)

    /// The thread the organisation is built and lived on (a million entities is seconds on every core, with
    /// `concurrentPerform`): never a pool thread.
    let lane = BlockingLane("trustgap-demo")

    /// Between two changes (every 60–240 s at speed 1) a run costs next to nothing: when the runner holds the current
    /// revision, the answer is `unchanged`, and nothing is copied or rebuilt.
    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        return try await lane.run("building the demo organisation") { stop in try self.run(context, stop: stop) }
    }

    /// A run: the world built or brought up to `context.now`, kept only when the run is still on.
    func run(_ context: CollectContext, stop: BlockingStop) throws -> CollectorReport {
        if world.withLock({ $0 == nil }), parts, size >= partsFrom, let part = try nextPart(context, stop: stop) { return part }
        var w =
            try world.withLock { $0 }
            ?? {
                if let m = making.withLock({ $0 }) {
                    // The last part: the organisation whole, from what the parts made and the rest.
                    let missing = m.made.indices.filter { m.made[$0] == nil }
                    try stop.check()
                    var all = m.made
                    for (k, e) in zip(missing, m.org.entities(missing)) { all[k] = e }
                    var fresh = makeWorld(org: m.org, entities: all.map { $0! }, source: context.source)
                    fresh.pace = m.pace
                    return fresh
                }
                let shared = readLife(now: context.now)
                var fresh = makeWorld(anchor: shared?.anchor ?? context.now, source: context.source)
                fresh.pace = shared?.pace ?? pace
                return fresh
            }()
        making.withLock { $0 = nil }
        let before = (w.shadowsFound, w.agesApplied, w.leavesApplied)
        live(&w, now: context.now)
        let waiting = requests(w, now: context.now)
        if before != (w.shadowsFound, w.agesApplied, w.leavesApplied) || waiting != w.requests {
            w.revision += 1
            w.requests = waiting
        }
        try stop.check()
        let report: CollectorReport
        if context.heldRevision == w.revision {
            report = .unchanged(revision: w.revision)
        } else if let held = context.heldRevision, held == w.reported {
            // The runner holds the last report: only what changed since.
            let upserts = w.dirty.sorted().map { w.entities[$0] }
            report = .delta(since: held, revision: w.revision, upserts: upserts, removed: w.removed, requests: waiting)
        } else {
            // In id order, so the merge has nothing to sort.
            report = CollectorReport(entities: w.byID.map { w.entities[Int($0)] }, requests: waiting, revision: w.revision)
        }
        if !report.isUnchanged { (w.dirty, w.removed, w.reported) = ([], [], w.revision) }
        world.withLock { $0 = w }
        // A demo that keeps running records its start (and keeps the record fresh); collecting once writes nothing.
        if context.run > 0 { writeLife(w.org.anchor, pace: w.pace, now: context.now) }
        return report
    }

    /// When the shared demo started and at what pace, as the life file records them (`START SPEED`): nil without
    /// one, when it is unreadable, starts in the future or over a day ago, or was not refreshed for `lifeHorizon`.
    func readLife(now: Date) -> (anchor: Date, pace: DemoPace)? {
        guard let lifeFile, let text = Self.readSmallPrivateFile(lifeFile, modifiedWithin: Self.lifeHorizon, now: now) else {
            return nil
        }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let seconds = Double(fields[0]), let speed = Double(fields[1]), (0.1...20).contains(speed) else {
            return nil
        }
        let anchor = Date(timeIntervalSince1970: seconds)
        guard anchor <= now, now.timeIntervalSince(anchor) < 86_400 else { return nil }
        return (anchor, DemoPace(speed: speed))
    }

    /// A small regular file of this user's, read without following a symlink or waiting on a FIFO, at most 128
    /// bytes: anything else (a planted symlink, a huge or sparse file, another user's file) is nobody's demo.
    static func readSmallPrivateFile(_ path: String, modifiedWithin horizon: TimeInterval, now: Date) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid(), st.st_size <= 128 else { return nil }
        let modified = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        guard now.timeIntervalSince(modified) < horizon else { return nil }
        var buffer = [UInt8](repeating: 0, count: 129)
        let n = read(fd, &buffer, 128)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }

    /// Records the demo's start, replacing the file whole (a reader never sees half a number), at most once a minute.
    /// A demo that can't record it still works; it is only alone in its world.
    func writeLife(_ anchor: Date, pace: DemoPace, now: Date) {
        guard let lifeFile else { return }
        let due = lifeWritten.withLock { last in
            guard last.map({ now.timeIntervalSince($0) >= 60 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let folder = URL(fileURLWithPath: lifeFile).deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // The exact number (Double's description reads back the same), so every process counts the same changes.
        try? Data("\(anchor.timeIntervalSince1970) \(pace.speed)\n".utf8).write(to: URL(fileURLWithPath: lifeFile), options: .atomic)
    }

    /// The next part of a world made in parts, or nil when the parts are done (the caller makes the whole).
    func nextPart(_ context: CollectContext, stop: BlockingStop) throws -> CollectorReport? {
        var m =
            making.withLock { $0 }
            ?? {
                let shared = readLife(now: context.now)
                let org = DemoOrganisation(seed: seed, size: size, anchor: shared?.anchor ?? context.now)
                return Making(org: org, pace: shared?.pace ?? pace, made: Array(repeating: nil, count: org.total))
            }()
        guard m.part < Self.partStrides.count else { return nil }
        let stride = Self.partStrides[m.part]
        let wanted = Swift.stride(from: 0, to: m.made.count, by: stride).filter { m.made[$0] == nil }
        let fresh = m.org.entities(wanted)
        try stop.check()
        for (k, e) in zip(wanted, fresh) { m.made[k] = e }
        m.part += 1
        var sample = Swift.stride(from: 0, to: m.made.count, by: stride).map { m.made[$0]! }
        if !context.source.isEmpty {
            let sources = [context.source]
            for i in sample.indices { sample[i].sources = sources }
        }
        making.withLock { $0 = m }
        var report = CollectorReport(entities: sample)
        report.loading = .init(done: sample.count, total: m.made.count)
        return report
    }

    func makeWorld(anchor: Date, source: String = "") -> World {
        let org = DemoOrganisation(seed: seed, size: size, anchor: anchor)
        return makeWorld(org: org, entities: org.entities(), source: source)
    }

    func makeWorld(org: DemoOrganisation, entities made: [Entity], source: String) -> World {
        let anchor = org.anchor
        var entities = made
        if !source.isEmpty {
            // Recorded while the world is built, so no later copy is needed to add it (see CollectContext.source).
            let sources = [source] // one array, shared by every entity
            for i in entities.indices { entities[i].sources = sources }
        }
        let byID = IDOrder.sorted(entities.map(\.id))
        var w = World(org: org, entities: entities, byID: byID, source: source)
        w.pace = pace
        // Already in its steady state: the last few changes happened just before the first look. The shadow agents
        // found lately take the last agents' places, so the organisation has the size asked for.
        w.shadows = Array(entities.indices.suffix(min(DemoPace.shadowAgentsHeld, org.agentCount)))
        for n in 0..<DemoPace.shadowAgentsHeld {
            discoverShadow(&w, number: n, at: anchor.addingTimeInterval(-Double(DemoPace.shadowAgentsHeld - n) * 30))
        }
        for n in 0..<DemoPace.agedKeysHeld { ageKey(&w, number: n, at: anchor) }
        for n in 0..<DemoPace.leaversHeld { leave(&w, number: n) }
        return w
    }

    /// Applies every change due by `now`, in order.
    func live(_ w: inout World, now: Date) {
        let elapsed = max(0, now.timeIntervalSince(w.org.anchor))
        func due(_ every: Double) -> Int { Int((elapsed / w.pace.seconds(every)).rounded(.down)) }
        while w.shadowsFound - DemoPace.shadowAgentsHeld < due(DemoPace.shadowAgentEvery) {
            discoverShadow(&w, number: w.shadowsFound, at: now)
        }
        while w.agesApplied - DemoPace.agedKeysHeld < due(DemoPace.keyAgesEvery) { ageKey(&w, number: w.agesApplied, at: now) }
        while w.leavesApplied - DemoPace.leaversHeld < due(DemoPace.ownerLeavesEvery) { leave(&w, number: w.leavesApplied) }
    }

    /// A new shadow AI agent is discovered; past the number held, the oldest one found is removed after review.
    func discoverShadow(_ w: inout World, number n: Int, at now: Date) {
        w.shadowsFound = n + 1
        var shadow = w.org.agent(0, shadowRun: n)
        shadow.firstSeen = now
        shadow.lastSeen = now
        shadow.lastUsedAt = now
        for j in shadow.credentials.indices {
            shadow.credentials[j].createdAt = now
            shadow.credentials[j].lastUsedAt = now
        }
        if let sources = w.entities.first?.sources, !w.source.isEmpty { shadow.sources = sources }
        let slot: Int
        if w.shadows.count >= DemoPace.shadowAgentsHeld {
            // The new agent takes the retired one's place.
            slot = w.shadows.removeFirst()
            let entities = w.entities
            let old = entities[slot].id
            w.removed.append(old)
            let at = w.byID.lowerBound { entities[Int($0)].id < old }
            w.byID.remove(at: at)
            w.entities[slot] = shadow
        } else {
            slot = w.entities.count
            w.entities.append(shadow)
        }
        let entities = w.entities
        let at = w.byID.lowerBound { entities[Int($0)].id < shadow.id }
        w.byID.insert(Int32(slot), at: at)
        w.shadows.append(slot)
        w.dirty.insert(slot)
    }

    /// A service account's key ages past the limit; past the number held, the oldest such key is rotated.
    func ageKey(_ w: inout World, number n: Int, at now: Date) {
        w.agesApplied = n + 1
        let org = w.org
        var r = org.rng(.keyAge, n)
        let first = org.appCount + org.deviceCount
        let limit = now.addingTimeInterval(-90 * DemoOrganisation.day)
        for _ in 0..<16 {
            let i = first + r.int(0...org.serviceAccountCount - 1)
            guard let c = w.entities[i].credentials.first, c.kind.isStaticSecret, let created = c.createdAt, created > limit,
                !w.aged.contains(i)
            else { continue }
            w.entities[i].credentials[0].createdAt = now.addingTimeInterval(-Double(91 + n % 7) * DemoOrganisation.day)
            w.aged.append(i)
            w.dirty.insert(i)
            break
        }
        if w.aged.count > DemoPace.agedKeysHeld {
            let i = w.aged.removeFirst()
            w.entities[i].credentials[0].createdAt = now
            w.entities[i].credentials[0].fingerprint = r.fingerprint()
            w.dirty.insert(i)
        }
    }

    /// Someone leaves: everything they owned is now owned by someone who is gone. Past the number held, the one who
    /// left longest ago has handed their things over to a colleague.
    func leave(_ w: inout World, number n: Int) {
        w.leavesApplied = n + 1
        let org = w.org
        var r = org.rng(.leaver, n)
        for _ in 0..<16 {
            let p = r.int(0...org.peopleCount - 1)
            guard org.people[p].status == .active, !w.leavers.contains(where: { $0.person == p }) else { continue }
            let name = org.people[p].name
            let owned = w.entities.indices.filter { w.entities[$0].owner?.name == name }
            for i in owned { w.entities[i].owner?.status = .departed }
            w.dirty.formUnion(owned)
            w.leavers.append((p, owned))
            break
        }
        if w.leavers.count > DemoPace.leaversHeld {
            let gone = w.leavers.removeFirst()
            // Each thing to a colleague of its own, so ownership never piles up on a few over a long run.
            var h = org.rng(.handover, n)
            for i in gone.owned where w.entities[i].owner?.name == org.people[gone.person].name {
                var heir = h.int(0...org.peopleCount - 1)
                for _ in 0..<16 where org.people[heir].status != .active || w.leavers.contains(where: { $0.person == heir }) {
                    heir = h.int(0...org.peopleCount - 1)
                }
                w.entities[i].owner = org.people[heir]
                w.dirty.insert(i)
            }
        }
    }

    /// The requests waiting now: one arrives every minute of wall-clock time and waits five for a decision, so
    /// about five are pending at any moment, across restarts, whatever earlier runs filed.
    func requests(_ w: World, now: Date) -> [RequestProposal] {
        let every = w.pace.seconds(DemoPace.requestEvery)
        let waits = w.pace.seconds(DemoPace.requestWaits)
        let last = Int((now.timeIntervalSince1970 / every).rounded(.down))
        let first = Int(((now.timeIntervalSince1970 - waits) / every).rounded(.down)) + 1
        return (first...max(first, last)).filter { Double($0) * every <= now.timeIntervalSince1970 }.map {
            request(w, slot: $0, every: every)
        }
    }

    func request(_ w: World, slot: Int, every: Double) -> RequestProposal {
        let org = w.org
        var r = org.rng(.request, slot)
        // Which request comes follows the run's own start, so every start opens on the same story; the key follows the
        // clock, so a restart never files what an earlier run filed, nor misses what is due.
        let first = Int((org.anchor.timeIntervalSince1970 / every).rounded(.down)) - Int(DemoPace.requestWaits / DemoPace.requestEvery) + 1
        let count = DemoCatalogue.requests.count
        let t = DemoCatalogue.requests[((slot - first) % count + count) % count]
        let base: Int
        let size: Int
        switch t.population {
        case 0: (base, size) = (0, org.appCount)
        case 1: (base, size) = (org.appCount, org.deviceCount)
        case 2: (base, size) = (org.appCount + org.deviceCount, org.serviceAccountCount)
        default: (base, size) = (org.appCount + org.deviceCount + org.serviceAccountCount, org.agentCount)
        }
        let subject = w.entities[base + r.int(0...size - 1)]
        let requester = subject.owner?.name ?? org.personName(r.int(0...org.peopleCount - 1))
        let at = Date(timeIntervalSince1970: Double(slot) * every)
        return RequestProposal(
            key: "demo-\(seed)-\(Int(every * 1000))-\(slot)", subject: subject.id, scope: t.scope, requester: requester,
            reason: t.reason, ticket: r.chance(0.6) ? "SEC-\(4000 + slot % 6000)" : nil, ttlSeconds: t.ttl, createdAt: at,
            lapsesAt: at.addingTimeInterval(w.pace.seconds(DemoPace.requestWaits)))
    }
}
