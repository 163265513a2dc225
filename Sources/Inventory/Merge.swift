import Foundation

/// Folds the slices that collectors reported into one entity per id.
///
/// The rule, when two slices (or one slice twice) report the same id:
/// - **Scalars** (`population`, `kind`, `name`, `owner`, `environment`, `posture`, signals field by field) come from
///   the report with the most recent `last_seen`; on a tie, from the collector listed first in the config.
///   A missing value never overwrites a present one.
/// - **Sets** are unions: `coverage`, `sources`; `privileges` by scope, keeping the highest level
///   (and `used: true` if any report saw it used); `credentials` by id, fields filled the same way as scalars.
/// - **Times**: `first_seen` is the earliest, `last_seen` and `last_used_at` the latest.
/// - **Attributes** are merged key by key, the preferred report winning a conflict.
public enum Merge {
    /// One collector's slice.
    public struct Slice: Sendable {
        public var source: String
        public var entities: [Entity]
        public init(source: String, entities: [Entity]) {
            self.source = source
            self.entities = entities
        }
    }

    /// Merges the slices in order of precedence (first wins ties). The result is sorted by id.
    public static func entities(_ slices: [Slice]) -> [Entity] {
        // The common case: one slice, already in id order with no id twice (a collector that keeps its
        // entities sorted). Nothing to fold or sort.
        if slices.count == 1 {
            let slice = slices[0]
            let es = slice.entities
            if es.indices.dropFirst().allSatisfy({ es[$0 - 1].id < es[$0].id }) {
                var out = es
                for i in out.indices where !out[i].sources.contains(slice.source) { out[i].sources.append(slice.source) }
                return out
            }
        }
        var index: [String: Int] = [:]
        var out: [Entity] = []
        let total = slices.reduce(0) { $0 + $1.entities.count }
        index.reserveCapacity(total)
        out.reserveCapacity(total)
        for slice in slices {
            for var e in slice.entities {
                if !e.sources.contains(slice.source) { e.sources.append(slice.source) }
                if let i = index[e.id] {
                    out[i] = merge(out[i], e)
                } else {
                    index[e.id] = out.count
                    out.append(e)
                }
            }
        }
        parallelSort(&out) { $0.id < $1.id }
        return out
    }

    /// Merges two reports of the same entity; `a` came first (higher precedence on a tie).
    public static func merge(_ a: Entity, _ b: Entity) -> Entity {
        let bNewer = (b.lastSeen ?? .distantPast) > (a.lastSeen ?? .distantPast)
        let (p, q) = bNewer ? (b, a) : (a, b) // p: preferred, q: other
        var m = p
        m.owner = p.owner ?? q.owner
        m.environment = p.environment ?? q.environment
        m.posture = mergePosture(p.posture, q.posture)
        m.signals = mergeSignals(p.signals, q.signals)
        m.coverage = p.coverage.union(q.coverage)
        var sources = p.sources
        for s in q.sources where !sources.contains(s) { sources.append(s) }
        m.sources = sources.sorted()
        m.privileges = mergePrivileges(p.privileges, q.privileges)
        m.credentials = mergeCredentials(p.credentials, q.credentials)
        m.firstSeen = minDate(p.firstSeen, q.firstSeen)
        m.lastSeen = maxDate(p.lastSeen, q.lastSeen)
        m.lastUsedAt = maxDate(p.lastUsedAt, q.lastUsedAt)
        m.attributes = q.attributes.merging(p.attributes) { _, preferred in preferred }
        return m
    }

    static func mergePrivileges(_ p: [Privilege], _ q: [Privilege]) -> [Privilege] {
        var out = p
        for priv in q {
            if let i = out.firstIndex(where: { $0.scope == priv.scope }) {
                out[i].level = max(out[i].level, priv.level)
                if priv.used == true { out[i].used = true } else if out[i].used == nil { out[i].used = priv.used }
            } else {
                out.append(priv)
            }
        }
        return out
    }

    static func mergeCredentials(_ p: [Credential], _ q: [Credential]) -> [Credential] {
        var out = p
        for c in q {
            if let i = out.firstIndex(where: { $0.id == c.id }) {
                var m = out[i]
                m.fingerprint = m.fingerprint ?? c.fingerprint
                m.createdAt = minDate(m.createdAt, c.createdAt)
                m.lastUsedAt = maxDate(m.lastUsedAt, c.lastUsedAt)
                m.expiresAt = m.expiresAt ?? c.expiresAt
                for x in c.exposures where !m.exposures.contains(x) { m.exposures.append(x) }
                out[i] = m
            } else {
                out.append(c)
            }
        }
        return out
    }

    static func mergeSignals(_ p: Signals, _ q: Signals) -> Signals {
        Signals(
            sanctioned: p.sanctioned ?? q.sanctioned, vendor: p.vendor ?? q.vendor,
            vendorAdvisory: p.vendorAdvisory ?? q.vendorAdvisory, ciPipeline: p.ciPipeline ?? q.ciPipeline,
            humanUse: p.humanUse ?? q.humanUse, mfa: p.mfa ?? q.mfa, oauthScopes: p.oauthScopes ?? q.oauthScopes)
    }

    static func mergePosture(_ p: DevicePosture?, _ q: DevicePosture?) -> DevicePosture? {
        guard let p else { return q }
        guard let q else { return p }
        return DevicePosture(
            diskEncrypted: p.diskEncrypted ?? q.diskEncrypted, screenLock: p.screenLock ?? q.screenLock,
            os: p.os ?? q.os, osVersion: p.osVersion ?? q.osVersion, osPatchedAt: p.osPatchedAt ?? q.osPatchedAt,
            osOutdated: p.osOutdated ?? q.osOutdated)
    }

    static func minDate(_ a: Date?, _ b: Date?) -> Date? {
        switch (a, b) {
        case (let a?, let b?): min(a, b)
        default: a ?? b
        }
    }

    static func maxDate(_ a: Date?, _ b: Date?) -> Date? {
        switch (a, b) {
        case (let a?, let b?): max(a, b)
        default: a ?? b
        }
    }
}
