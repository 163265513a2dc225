import Foundation

/// An entity with what the rules found on it. A class: tables pass these around constantly, and copying a
/// reference is one retain where copying the whole entity is dozens.
public final class AssessedEntity: Sendable {
    public let entity: Entity
    public let findings: [Finding]
    /// 0–100.
    public let risk: Int

    public init(entity: Entity, findings: [Finding], risk: Int) {
        self.entity = entity
        self.findings = findings
        self.risk = risk
    }

    public var id: String { entity.id }
    /// The most severe finding's severity, if any.
    public var worst: Severity? { findings.first?.severity }
}

/// The gap for one population: how much of it sits outside governance.
public struct GapFigures: Sendable, Hashable, Codable {
    public var total = 0
    public var unmanaged = 0
    /// No owner, or the owner has departed.
    public var unowned = 0
    public var overprivileged = 0
    public var longLivedSecrets = 0
    public var stale = 0
    /// What practitioners mean by visible: owned by someone still here, reported by a fresh collector (one that ran
    /// successfully within its interval), and under at least one of its population's governing controls.
    public var fullyVisible = 0
    /// Nobody approved it (`signals.sanctioned: false`): shadow IT, and for agents shadow AI.
    public var shadow = 0
    /// At least one credential found exposed (in plaintext, a repository, a log).
    public var exposedSecrets = 0
    /// Admin or wildcard access held standing, in the inventory, rather than through a time-bound grant.
    public var standingPrivilege = 0
    public var findings: [Severity: Int] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case total, unmanaged, unowned, overprivileged, longLivedSecrets = "long_lived_secrets", stale
        case fullyVisible = "fully_visible", findings
        case shadow, exposedSecrets = "exposed_secrets", standingPrivilege = "standing_privilege"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.decode(Int.self, forKey: .total)
        unmanaged = try c.decode(Int.self, forKey: .unmanaged)
        unowned = try c.decode(Int.self, forKey: .unowned)
        overprivileged = try c.decode(Int.self, forKey: .overprivileged)
        longLivedSecrets = try c.decode(Int.self, forKey: .longLivedSecrets)
        stale = try c.decode(Int.self, forKey: .stale)
        fullyVisible = try c.decode(Int.self, forKey: .fullyVisible)
        // Added later: a snapshot written before them reads as zero.
        shadow = try c.decodeIfPresent(Int.self, forKey: .shadow) ?? 0
        exposedSecrets = try c.decodeIfPresent(Int.self, forKey: .exposedSecrets) ?? 0
        standingPrivilege = try c.decodeIfPresent(Int.self, forKey: .standingPrivilege) ?? 0
        let raw = try c.decode([String: Int].self, forKey: .findings)
        findings = Dictionary(uniqueKeysWithValues: raw.compactMap { k, v in Severity(rawValue: k).map { ($0, v) } })
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(total, forKey: .total)
        try c.encode(unmanaged, forKey: .unmanaged)
        try c.encode(unowned, forKey: .unowned)
        try c.encode(overprivileged, forKey: .overprivileged)
        try c.encode(longLivedSecrets, forKey: .longLivedSecrets)
        try c.encode(stale, forKey: .stale)
        try c.encode(fullyVisible, forKey: .fullyVisible)
        try c.encode(shadow, forKey: .shadow)
        try c.encode(exposedSecrets, forKey: .exposedSecrets)
        try c.encode(standingPrivilege, forKey: .standingPrivilege)
        try c.encode(Dictionary(uniqueKeysWithValues: Severity.allCases.map { ($0.rawValue, findings[$0, default: 0]) }), forKey: .findings)
    }

    public static func percent(_ part: Int, of whole: Int) -> Int {
        whole == 0 ? 0 : Int((Double(part) * 100 / Double(whole)).rounded())
    }
}

/// An immutable view of the whole inventory at one moment, with a version that grows with every rebuild.
public struct Snapshot: Sendable {
    public let version: Int
    public let generatedAt: Date
    /// Sorted by id.
    public let entities: [AssessedEntity]
    public let gap: [Population: GapFigures]
    public let collectors: [CollectorHealth]
    public let requests: [RequestProposal]
    /// Lookup by id: a binary search when `entities` is sorted by id (as `build` makes it) and every id is ASCII;
    /// a dictionary otherwise. A dictionary of 100,000 ids costs ~7 MB and ~20 ms to build.
    let index: [String: Int]?
    /// What this snapshot changed from the one it was updated from (`update`); nil for a full build.
    public let change: SnapshotChange?
    /// When the entities that were not re-assessed since were assessed: a full build's time, kept by every update
    /// (the rules read the clock, so the runner rebuilds in full once this is old).
    public let assessedAt: Date
    /// What an update needs to work by difference, kept by `build` and `update` (nil for a snapshot made otherwise).
    let basis: Basis?

    struct Basis: Sendable {
        var tally: Tally
        var cross: RiskRules.CrossIndex
        var freshSources: Set<String>
        var anyCollectors: Bool
    }

    public init(
        version: Int, generatedAt: Date, entities: [AssessedEntity], gap: [Population: GapFigures],
        collectors: [CollectorHealth], requests: [RequestProposal]
    ) {
        self.init(
            version: version, generatedAt: generatedAt, entities: entities, gap: gap, collectors: collectors, requests: requests,
            sortedByID: false)
    }

    /// `sortedByID`: the caller guarantees `entities` is in id order (the merge's output), so it isn't checked.
    init(
        version: Int, generatedAt: Date, entities: [AssessedEntity], gap: [Population: GapFigures],
        collectors: [CollectorHealth], requests: [RequestProposal], sortedByID: Bool, asciiKnown: Bool = false,
        change: SnapshotChange? = nil, assessedAt: Date? = nil, basis: Basis? = nil
    ) {
        self.version = version
        self.generatedAt = generatedAt
        self.entities = entities
        self.gap = gap
        self.collectors = collectors
        self.requests = requests
        self.change = change
        self.assessedAt = assessedAt ?? generatedAt
        self.basis = basis
        // Binary search needs an order `String.<` keeps consistently, which it does for ASCII ids; ids with other
        // characters (decomposed accents, say) are looked up in a dictionary instead.
        let ascii = asciiKnown || entities.allSatisfy { $0.entity.id.utf8.allSatisfy { $0 < 0x80 } }
        let sorted = ascii && (sortedByID || zip(entities, entities.dropFirst()).allSatisfy { $0.id < $1.id })
        if sorted {
            self.index = nil
        } else {
            var index: [String: Int] = [:]
            index.reserveCapacity(entities.count)
            for (i, e) in entities.enumerated() { index[e.id] = i }
            self.index = index
        }
    }

    private init(_ s: Snapshot, collectors: [CollectorHealth]) {
        version = s.version
        generatedAt = s.generatedAt
        entities = s.entities
        gap = s.gap
        self.collectors = collectors
        requests = s.requests
        index = s.index
        change = s.change
        assessedAt = s.assessedAt
        basis = s.basis
    }

    /// The same snapshot (version, entities, findings, figures) with newer collector health: what a run that changed
    /// nothing publishes. Costs nothing at any size.
    public func replacingCollectors(_ collectors: [CollectorHealth]) -> Snapshot { Snapshot(self, collectors: collectors) }

    public static let empty = Snapshot(
        version: 0, generatedAt: Date(timeIntervalSince1970: 0), entities: [], gap: [:], collectors: [], requests: [])

    public subscript(id: String) -> AssessedEntity? { position(of: id).map { entities[$0] } }

    /// True when `entities` is in id order (every snapshot `build` makes).
    public var isSortedByID: Bool { index == nil }

    /// Where the entity with this id sits in `entities`.
    public func position(of id: String) -> Int? {
        if let index { return index[id] }
        let i = entities.lowerBound { $0.entity.id < id }
        return i < entities.count && entities[i].entity.id == id ? i : nil
    }

    /// The gap summed over every population.
    public var totalGap: GapFigures {
        gap.values.reduce(into: GapFigures()) { sum, g in
            sum.total += g.total
            sum.unmanaged += g.unmanaged
            sum.unowned += g.unowned
            sum.overprivileged += g.overprivileged
            sum.longLivedSecrets += g.longLivedSecrets
            sum.stale += g.stale
            sum.fullyVisible += g.fullyVisible
            sum.shadow += g.shadow
            sum.exposedSecrets += g.exposedSecrets
            sum.standingPrivilege += g.standingPrivilege
            for (s, n) in g.findings { sum.findings[s, default: 0] += n }
        }
    }

    /// Builds a snapshot: merges the slices, runs the rules, counts the gap.
    public static func build(
        version: Int, now: Date, slices: [Merge.Slice], rules: RiskRules = RiskRules(),
        collectors: [CollectorHealth] = [], requests: [RequestProposal] = []
    ) -> Snapshot {
        let merged = Merge.entities(slices)
        let cross = RiskRules.CrossIndex(merged)
        let freshSources = Set(collectors.filter { $0.isFresh(at: now) }.map(\.name))
        // The rules, on every core.
        let assessed: [AssessedEntity] = parallelChunks(merged.count) { range in
            var scratch: [Finding] = []
            return range.map { i in
                let e = merged[i]
                let findings = rules.findings(for: e, now: now, cross: cross, scratch: &scratch)
                return AssessedEntity(entity: e, findings: findings, risk: RiskRules.score(findings, unmanaged: e.unmanaged))
            }
        }
        // The figures, counted per chunk on every core with plain counters, then added up.
        let tallies = parallelChunks(assessed.count) { range in
            [Tally.count(assessed[range], freshSources: freshSources, anyCollectors: !collectors.isEmpty)]
        }
        var total = Tally()
        for t in tallies { total.add(t) }
        return Snapshot(
            version: version, generatedAt: now, entities: assessed, gap: total.gap, collectors: collectors, requests: requests,
            sortedByID: true,
            basis: Basis(tally: total, cross: cross, freshSources: freshSources, anyCollectors: !collectors.isEmpty))
    }
}

/// The gap figures of part of a snapshot, per population (in `Population.allCases` order), in plain counters.
struct Tally {
    static let fields = 10
    var counts = [Int](repeating: 0, count: Population.allCases.count * fields)
    var severities = [Int](repeating: 0, count: Population.allCases.count * Severity.allCases.count)

    static func count(_ part: some Sequence<AssessedEntity>, freshSources: Set<String>, anyCollectors: Bool) -> Tally {
        var t = Tally()
        func ordinal(_ s: Severity) -> Int {
            switch s {
            case .low: 0
            case .medium: 1
            case .high: 2
            case .critical: 3
            }
        }
        func ordinal(_ p: Population) -> Int {
            switch p {
            case .app: 0
            case .device: 1
            case .serviceAccount: 2
            case .agent: 3
            }
        }
        var lastSources: [String] = []
        var lastVisible = false
        for a in part {
            let e = a.entity
            let p = ordinal(e.population)
            let base = p * fields
            t.counts[base] += 1
            if e.unmanaged { t.counts[base + 1] += 1 }
            let unowned = e.owner == nil || e.owner?.status == .departed
            if unowned { t.counts[base + 2] += 1 }
            if e.signals.sanctioned == false { t.counts[base + 7] += 1 }
            if e.credentials.contains(where: { !$0.exposures.isEmpty }) { t.counts[base + 8] += 1 }
            if e.privileges.contains(where: { $0.level == .admin || ScopeGrammar.isAdmin($0.scope) }) { t.counts[base + 9] += 1 }
            var over = false
            var longLived = false
            var stale = false
            for f in a.findings {
                t.severities[p * Severity.allCases.count + ordinal(f.severity)] += 1
                switch f.rule {
                case "NHI5", "APP-SCOPE": over = true
                case "NHI7": longLived = true
                default: break
                }
                if f.title == RiskRules.unusedTitle { stale = true }
            }
            if over { t.counts[base + 3] += 1 }
            if longLived { t.counts[base + 4] += 1 }
            if stale { t.counts[base + 5] += 1 }
            // Entities mostly share one interned list of sources: look it up once per run of the same list.
            let sources = e.sources
            if sources != lastSources {
                lastSources = sources
                lastVisible = sources.contains(where: freshSources.contains)
            }
            if !anyCollectors || lastVisible, !unowned, !e.unmanaged { t.counts[base + 6] += 1 }
        }
        return t
    }

    mutating func add(_ other: Tally, times sign: Int = 1) {
        for i in counts.indices { counts[i] += sign * other.counts[i] }
        for i in severities.indices { severities[i] += sign * other.severities[i] }
    }

    var gap: [Population: GapFigures] {
        var gap: [Population: GapFigures] = [:]
        for (i, p) in Population.allCases.enumerated() { gap[p] = figures(i) }
        return gap
    }

    func figures(_ p: Int) -> GapFigures {
        var g = GapFigures()
        let base = p * Self.fields
        (g.shadow, g.exposedSecrets, g.standingPrivilege) = (counts[base + 7], counts[base + 8], counts[base + 9])
        (g.total, g.unmanaged, g.unowned, g.overprivileged) = (counts[base], counts[base + 1], counts[base + 2], counts[base + 3])
        (g.longLivedSecrets, g.stale, g.fullyVisible) = (counts[base + 4], counts[base + 5], counts[base + 6])
        for (i, s) in Severity.allCases.enumerated() where severities[p * Severity.allCases.count + i] > 0 {
            g.findings[s] = severities[p * Severity.allCases.count + i]
        }
        return g
    }
}
