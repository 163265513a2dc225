import Foundation

/// What a snapshot changed from the one it was updated from: ids in ascending order.
public struct SnapshotChange: Sendable, Equatable {
    /// The version of the snapshot this one was updated from.
    public let base: Int
    /// In both, and different: the entity, its findings or its score.
    public let updated: [String]
    /// Only in this one.
    public let added: [String]
    /// Only in the base.
    public let removed: [String]

    public init(base: Int, updated: [String], added: [String], removed: [String]) {
        self.base = base
        self.updated = updated
        self.added = added
        self.removed = removed
    }

    public var count: Int { updated.count + added.count + removed.count }
}

/// One collector's slice as the runner holds it between runs: in id order, each id once, its source recorded on every
/// entity. What `Snapshot.update` looks ids up in, and what a collector's delta is applied to.
public struct HeldSlice: Sendable {
    public let source: String
    public private(set) var entities: [Entity]

    /// The slice a collector reported, put in id order. An id reported twice is folded as the merge folds two
    /// collectors' reports of it (`Merge.merge`, the earlier report first); a slice already in order costs one pass.
    public init(source: String, entities reported: [Entity]) {
        self.source = source
        var es = reported
        for i in es.indices where !es[i].sources.contains(source) { es[i].sources.append(source) }
        if !es.indices.dropFirst().allSatisfy({ es[$0 - 1].id < es[$0].id }) {
            // Stable: equal ids keep the order they were reported in, so folding them is the merge's fold.
            var order = Array(es.indices)
            parallelSort(&order) { [es] a, b in es[a].id != es[b].id ? es[a].id < es[b].id : a < b }
            var folded: [Entity] = []
            folded.reserveCapacity(es.count)
            for i in order {
                if let last = folded.last, last.id == es[i].id {
                    folded[folded.count - 1] = Merge.merge(last, es[i])
                } else {
                    folded.append(es[i])
                }
            }
            es = folded
        }
        entities = es
    }

    /// The entity with this id, by binary search.
    public func entity(_ id: String) -> Entity? {
        let i = entities.lowerBound { $0.id < id }
        return i < entities.count && entities[i].id == id ? entities[i] : nil
    }

    /// Applies a collector's delta: `upserts` replace or add entities, `removed` ids go. Returns the ids it touched, in
    /// order (an entity sent again unchanged among them: `Snapshot.update` finds it the same). O(k log n) to find them; a delta that adds or removes also moves the rest of the slice
    /// (one copy of references), and one that only replaces changes it in place.
    public mutating func apply(upserts reported: [Entity], removed: [String]) -> [String] {
        let change = HeldSlice(source: source, entities: reported).entities
        let gone = Set(removed).subtracting(change.map(\.id)).sorted()
        // Every id the delta names, with where it sits now (or would go).
        var named: [(id: String, new: Entity?)] = []
        named.reserveCapacity(change.count + gone.count)
        var (j, g) = (0, 0)
        while j < change.count || g < gone.count {
            if g == gone.count || (j < change.count && change[j].id < gone[g]) {
                named.append((change[j].id, change[j]))
                j += 1
            } else {
                named.append((gone[g], nil))
                g += 1
            }
        }
        // A binary search each, on every core when there are many. (The slice's own copy is let go before it is
        // changed, so a delta that only replaces changes it in place.)
        func locate(_ held: [Entity], _ named: [(id: String, new: Entity?)]) -> [(id: String, at: Int, found: Bool, new: Entity?)] {
            parallelChunks(named.count, serialBelow: 256) { range in
                range.compactMap { k in
                    let (id, new) = named[k]
                    let at = held.lowerBound { $0.id < id }
                    let found = at < held.count && held[at].id == id
                    return found || new != nil ? (id, at, found, new) : nil
                }
            }
        }
        let edits = locate(entities, named)
        var ids: [String] = []
        if edits.allSatisfy({ $0.found && $0.new != nil }) {
            for e in edits {
                ids.append(e.id)
                entities[e.at] = e.new!
            }
            return ids
        }
        entities = parallelSplice(entities, edits: edits.map { (at: $0.at, replacing: $0.found, new: $0.new) })
        return edits.map(\.id)
    }

    /// The ids whose entity differs between this slice and `other` (added, removed or changed), in order: a walk of
    /// both, comparing entities that are in both.
    public func changedIDs(to other: HeldSlice) -> [String] {
        let (a, b) = (entities, other.entities)
        var ids: [String] = []
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].id < b[j].id) {
                ids.append(a[i].id)
                i += 1
            } else if i == a.count || b[j].id < a[i].id {
                ids.append(b[j].id)
                j += 1
            } else {
                if a[i] != b[j] { ids.append(a[i].id) }
                i += 1
                j += 1
            }
        }
        return ids
    }
}

extension Snapshot {
    /// The snapshot `build` would make from `slices` at `now`, worked out from `previous` by difference: only the
    /// entities with an id in `changed` (ascending, each once) are merged again, and they and those sharing a
    /// credential fingerprint with them are assessed again; every other entity, its findings and its score are
    /// `previous`'s, and the gap figures move by difference. `slices` are the collectors' slices as they stand now,
    /// in order of precedence, `previous` having been built from them as they were before.
    ///
    /// Nil when it can't be done by difference (`previous` wasn't built or updated; ids that aren't ASCII; a changed
    /// entity now shares a fingerprint held by an entity that did not change and whose holders were not kept): the
    /// caller builds in full. The unchanged entities keep the findings they were assessed with at
    /// `previous.assessedAt`.
    public static func update(
        _ previous: Snapshot, version: Int, now: Date, changed: [String], slices: [HeldSlice], rules: RiskRules = RiskRules(),
        collectors: [CollectorHealth] = [], requests: [RequestProposal] = []
    ) -> Snapshot? {
        guard var basis = previous.basis, previous.isSortedByID, changed.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) else {
            return nil
        }
        // Each id once, in order (what `HeldSlice` gives; anything else is put so).
        let changed = zip(changed, changed.dropFirst()).allSatisfy { $0 < $1 } ? changed : Array(Set(changed)).sorted()
        // 1. The changed ids merged again, as `Merge.entities` would: each slice's report of the id, in order; and
        // where each was (a binary search each, on every core: at a million entities each probe misses the cache).
        let found: [(merged: Entity?, at: Int?)] = parallelChunks(changed.count, serialBelow: 256) { range in
            range.map { k in
                let id = changed[k]
                var out: Entity?
                for slice in slices {
                    guard let e = slice.entity(id) else { continue }
                    out = out.map { Merge.merge($0, e) } ?? e
                }
                return (out, previous.position(of: id))
            }
        }
        let merged = found.map(\.merged)
        var positions: [String: Int] = [:]
        positions.reserveCapacity(changed.count)
        for (id, f) in zip(changed, found) { if let at = f.at { positions[id] = at } }
        let before: [AssessedEntity?] = found.map { $0.at.map { previous.entities[$0] } }
        // 2. The shared fingerprints they touch, and who else must be assessed again because of them.
        let (leaving, arriving) = (before.compactMap { $0?.entity }, merged.compactMap { $0 })
        var cross = basis.cross
        var touched: Set<String>
        switch cross.update(removing: leaving, adding: arriving, unchanged: { previous[$0]?.entity }) {
        case .done(let others): touched = others
        case .holdersUnknown(let fingerprints):
            // A fingerprint a changed entity now holds was held alone by one that didn't change: the index keeps only
            // shared ones, so look for it once, by the fingerprints' hashes on every core, then by the strings.
            let hashes = Set(fingerprints.map(\.hashValue))
            let wanted = Set(fingerprints)
            let changedIDs = Set(changed)
            let found: [(String, String)] = parallelChunks(previous.entities.count) { [entities = previous.entities] range in
                var out: [(String, String)] = []
                for i in range {
                    for c in entities[i].entity.credentials {
                        if let fp = c.fingerprint, hashes.contains(fp.hashValue), wanted.contains(fp) { out.append((fp, entities[i].id)) }
                    }
                }
                return out
            }
            var alone: [String: [String]] = [:]
            for (fp, id) in found where !changedIDs.contains(id) && alone[fp]?.last != id { alone[fp, default: []].append(id) }
            cross = basis.cross
            guard
                case .done(let others) = cross.update(
                    removing: leaving, adding: arriving, unchanged: { previous[$0]?.entity }, alone: alone)
            else { return nil }
            touched = others
        }
        basis.cross = cross
        var again = Dictionary(uniqueKeysWithValues: zip(changed, merged))
        for id in touched where again[id] == nil {
            if let at = previous.position(of: id) {
                again[id] = previous.entities[at].entity
                positions[id] = at
            }
        }
        // 3. The rules, on those only (on every core when there are many).
        let ids = again.keys.sorted()
        let fresh = Set(collectors.filter { $0.isFresh(at: now) }.map(\.name))
        let assessed: [AssessedEntity?] = parallelChunks(ids.count, serialBelow: 256) { [again, cross] range in
            var scratch: [Finding] = []
            return range.map { k in
                guard let e = again[ids[k]]! else { return nil }
                let findings = rules.findings(for: e, now: now, cross: cross, scratch: &scratch)
                return AssessedEntity(entity: e, findings: findings, risk: RiskRules.score(findings, unmanaged: e.unmanaged))
            }
        }
        // 4. The entities: the previous ones with these replaced, added or removed; identical ones stay as they were.
        var updated: [String] = []
        var added: [String] = []
        var removed: [String] = []
        var replace: [(id: String, at: Int?, old: AssessedEntity?, new: AssessedEntity?)] = []
        for (id, new) in zip(ids, assessed) {
            let at = positions[id]
            let old = at.map { previous.entities[$0] }
            switch (old, new) {
            case (nil, nil): continue
            case (nil, _?): added.append(id)
            case (_?, nil): removed.append(id)
            case (let o?, let n?):
                if o.entity == n.entity, o.risk == n.risk, o.findings == n.findings { continue }
                updated.append(id)
            }
            replace.append((id, at, old, new))
        }
        let entities =
            replace.isEmpty
            ? previous.entities
            : parallelSplice(
                previous.entities,
                edits: replace.map { r in
                    (at: r.at ?? previous.entities.lowerBound { $0.id < r.id }, replacing: r.old != nil, new: r.new)
                })
        // 5. The figures by difference, or counted again when which collectors are fresh has changed.
        let anyCollectors = !collectors.isEmpty
        if fresh == basis.freshSources, anyCollectors == basis.anyCollectors {
            let (gone, came) = (replace.compactMap(\.old), replace.compactMap(\.new))
            for t in parallelChunks(
                gone.count, serialBelow: 256,
                { range in
                    [Tally.count(gone[range], freshSources: fresh, anyCollectors: anyCollectors)]
                })
            { basis.tally.add(t, times: -1) }
            for t in parallelChunks(
                came.count, serialBelow: 256,
                { range in
                    [Tally.count(came[range], freshSources: fresh, anyCollectors: anyCollectors)]
                })
            { basis.tally.add(t) }
        } else {
            var total = Tally()
            for t in parallelChunks(
                entities.count,
                { [entities] range in
                    [Tally.count(entities[range], freshSources: fresh, anyCollectors: anyCollectors)]
                })
            { total.add(t) }
            basis.tally = total
        }
        (basis.freshSources, basis.anyCollectors) = (fresh, anyCollectors)
        return Snapshot(
            version: version, generatedAt: now, entities: entities, gap: basis.tally.gap, collectors: collectors, requests: requests,
            sortedByID: true, asciiKnown: true,
            change: SnapshotChange(base: previous.version, updated: updated, added: added, removed: removed),
            assessedAt: min(previous.assessedAt, now), basis: basis)
    }
}

extension RiskRules.CrossIndex {
    /// Moves the index from entities as they were (`removing`) to what they are now (`adding`; an entity in both is
    /// one that changed); `unchanged` finds the entities that did not. Returns the ids of the unchanged entities whose
    /// shared fingerprints changed, whose findings must be worked out again; nil when a changed entity now holds a
    /// fingerprint that an unchanged one held alone (the index keeps only shared ones): only a full build finds it.
    enum Outcome {
        /// The index is moved; these unchanged entities must be assessed again.
        case done(Set<String>)
        /// These fingerprints, now held by a changed entity, were held alone by unchanged ones the index didn't keep.
        case holdersUnknown([String])
    }

    /// `alone`: the unchanged holders of fingerprints the index didn't keep, found by the caller after
    /// `.holdersUnknown`.
    mutating func update(
        removing old: [Entity], adding new: [Entity], unchanged: (String) -> Entity?, alone: [String: [String]] = [:]
    ) -> Outcome {
        func fingerprints(_ e: Entity) -> [String] {
            var out: [String] = []
            for c in e.credentials {
                if let fp = c.fingerprint, !fp.isEmpty, !out.contains(fp) { out.append(fp) }
            }
            return out
        }
        let changedIDs = Set(old.map(\.id)).union(new.map(\.id))
        var touched: [String] = []
        var seen = Set<String>()
        // Which changed entities hold each fingerprint now.
        var holdingNow: [String: [Entity]] = [:]
        for e in new { for fp in fingerprints(e) { holdingNow[fp, default: []].append(e) } }
        var holdingBefore: [String: [Entity]] = [:]
        for e in old { for fp in fingerprints(e) { holdingBefore[fp, default: []].append(e) } }
        // The census, by hash: each entity once per hash.
        for (entities, step) in [(old, Int32(-1)), (new, Int32(1))] {
            for e in entities {
                var hashes: [Int] = []
                for fp in fingerprints(e) {
                    if seen.insert(fp).inserted { touched.append(fp) }
                    let h = fp.hashValue
                    guard !hashes.contains(h) else { continue }
                    hashes.append(h)
                    let n = census[h, default: 0] + step
                    census[h] = n > 0 ? n : nil
                }
            }
        }
        var others = Set<String>()
        var unknown: [String] = []
        for fp in touched {
            let holding = holdingNow[fp] ?? []
            let shared = byFingerprint[fp]
            let counted = Int(census[fp.hashValue, default: 0])
            // The common case: held by one entity (or none) before and after, so shared by nobody.
            if shared == nil, holding.count <= 1, counted <= holding.count { continue }
            // Or shared, by the same entities in the same environments as before: nothing about it moved.
            let held = holdingBefore[fp] ?? []
            if shared != nil, held.map(\.id) == holding.map(\.id),
                zip(held, holding).allSatisfy({ $0.environment?.lowercased() == $1.environment?.lowercased() })
            {
                continue
            }
            var kept = (shared?.entityIDs ?? []).filter { !changedIDs.contains($0) }
            if shared == nil, !holding.isEmpty, counted > holding.count {
                guard let found = alone[fp] else {
                    unknown.append(fp)
                    continue
                }
                kept = found
            }
            let ids = (kept + holding.map(\.id)).sorted()
            let environments = Set((holding + kept.compactMap(unchanged)).compactMap { $0.environment?.lowercased() })
            let use = ids.count > 1 ? Use(entityIDs: ids, environments: environments) : nil
            if use != byFingerprint[fp] {
                for id in (byFingerprint[fp]?.entityIDs ?? []) + ids where !changedIDs.contains(id) { others.insert(id) }
                byFingerprint[fp] = use
            }
        }
        return unknown.isEmpty ? .done(others) : .holdersUnknown(unknown)
    }
}
