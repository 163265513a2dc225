import Foundation
import Inventory
import Terminal

/// A population's entities as a table: the columns an analyst needs for that population.
struct EntityTable: TableModel {
    let snapshot: Snapshot
    let population: Population
    /// Indices into `snapshot.entities` of this population.
    let base: [Int]

    init(snapshot: Snapshot, population: Population, base: [Int]) {
        self.snapshot = snapshot
        self.population = population
        self.base = base
    }

    enum Field {
        case risk, name, kind, owner, environment, coverage, sso, approved, users, scopes, maxPrivilege, keyAge, lastUsed
        case os, encrypted, screenLock, mdm, patched, secret, finding
    }

    static func fields(_ p: Population) -> [Field] {
        switch p {
        case .app: [.risk, .name, .owner, .sso, .approved, .users, .scopes, .finding]
        case .device: [.risk, .name, .kind, .owner, .os, .encrypted, .screenLock, .mdm, .patched, .finding]
        case .serviceAccount: [.risk, .name, .kind, .environment, .owner, .coverage, .maxPrivilege, .keyAge, .lastUsed, .finding]
        case .agent: [.risk, .name, .kind, .owner, .approved, .coverage, .scopes, .secret, .finding]
        }
    }

    var fields: [Field] { Self.fields(population) }

    /// `base` lists entity indices in ascending order, and a built snapshot's entities are sorted by id.
    var baseInIDOrder: Bool { snapshot.isSortedByID }

    /// By binary search: the entity's index in the snapshot, then its place in `base` (ascending).
    func row(forID id: String) -> Int? {
        guard let at = snapshot.position(of: id) else { return nil }
        let row = base.lowerBound { $0 < at }
        return row < base.count && base[row] == at ? row : nil
    }

    var columns: [ColumnSpec] { fields.map(Self.spec) }

    static func spec(_ f: Field) -> ColumnSpec {
        switch f {
        case .risk: ColumnSpec(title: "RISK", minWidth: 8, maxWidth: 8, priority: 100)
        case .name: ColumnSpec(title: "NAME", minWidth: 16, maxWidth: 40, priority: 99, weight: 3)
        case .kind: ColumnSpec(title: "KIND", minWidth: 8, maxWidth: 20, priority: 40)
        case .owner: ColumnSpec(title: "OWNER", minWidth: 12, maxWidth: 22, priority: 70)
        case .environment: ColumnSpec(title: "ENV", minWidth: 5, maxWidth: 8, priority: 60)
        case .coverage: ColumnSpec(title: "COVERAGE", minWidth: 8, maxWidth: 16, priority: 80)
        case .sso: ColumnSpec(title: "SSO", minWidth: 3, maxWidth: 3, priority: 80)
        case .approved: ColumnSpec(title: "APPROVED", minWidth: 8, maxWidth: 8, priority: 75)
        case .users: ColumnSpec(title: "USERS", minWidth: 5, maxWidth: 6, priority: 30, alignRight: true)
        case .scopes: ColumnSpec(title: "SCOPES", minWidth: 10, maxWidth: 34, priority: 35)
        case .maxPrivilege: ColumnSpec(title: "PRIV", minWidth: 5, maxWidth: 5, priority: 65)
        case .keyAge: ColumnSpec(title: "KEY AGE", minWidth: 7, maxWidth: 7, priority: 68, alignRight: true)
        case .lastUsed: ColumnSpec(title: "USED", minWidth: 6, maxWidth: 8, priority: 45, alignRight: true)
        case .os: ColumnSpec(title: "OS", minWidth: 8, maxWidth: 16, priority: 50)
        case .encrypted: ColumnSpec(title: "DISK", minWidth: 4, maxWidth: 5, priority: 72)
        case .screenLock: ColumnSpec(title: "LOCK", minWidth: 4, maxWidth: 4, priority: 55)
        case .mdm: ColumnSpec(title: "MDM", minWidth: 3, maxWidth: 3, priority: 74)
        case .patched: ColumnSpec(title: "PATCHED", minWidth: 7, maxWidth: 7, priority: 58, alignRight: true)
        case .secret: ColumnSpec(title: "SECRET", minWidth: 7, maxWidth: 7, priority: 78)
        case .finding: ColumnSpec(title: "TOP FINDING", minWidth: 12, maxWidth: 200, priority: 90, weight: 3)
        }
    }

    var baseCount: Int { base.count }

    func entity(_ row: Int) -> AssessedEntity { snapshot.entities[base[row]] }

    func id(_ row: Int) -> String { entity(row).id }

    func descendingByDefault(_ column: Int) -> Bool {
        switch fields[column] {
        case .risk, .users, .keyAge, .lastUsed, .patched, .maxPrivilege: true
        default: false
        }
    }

    static func riskLabel(_ a: AssessedEntity) -> (String, Role) {
        let score = String(a.risk)
        let pad = String(repeating: " ", count: max(0, 4 - score.count))
        switch a.worst {
        case .critical?: return ("CRIT" + pad + score, .critical)
        case .high?: return ("HIGH" + pad + score, .high)
        case .medium?: return ("MED " + pad + score, .medium)
        case .low?: return ("LOW " + pad + score, .low)
        case nil: return ("ok  " + pad + score, .ok)
        }
    }

    static func severityRole(_ s: Severity) -> Role {
        switch s {
        case .critical: .critical
        case .high: .high
        case .medium: .medium
        case .low: .low
        }
    }

    static func age(_ date: Date?, now: Date) -> String {
        guard let date else { return "-" }
        let s = now.timeIntervalSince(date)
        return s < 0 ? "soon" : DurationText.format(s)
    }

    static func coverage(_ e: Entity) -> String {
        e.coverage.isEmpty
            ? "none"
            : e.coverage.sorted().map { c in
                switch c {
                case .secretsManager: "secrets"
                case .workloadIdentity: "wl-id"
                case .agentGateway: "gateway"
                default: c.rawValue
                }
            }.joined(separator: ",")
    }

    static func owner(_ e: Entity) -> (String, Role) {
        guard let o = e.owner else { return ("(none)", .warn) }
        return o.status == .departed ? ("\(o.name) (left)", .warn) : (o.name, .text)
    }

    func cell(_ row: Int, _ column: Int, now: Date) -> (String, Role) {
        let a = entity(row)
        let e = a.entity
        switch fields[column] {
        case .risk: return Self.riskLabel(a)
        case .name: return (e.name, .text)
        case .kind: return (e.kind, .muted)
        case .owner: return Self.owner(e)
        case .environment:
            return (e.environment ?? "-", e.environment.map { ["prod", "production"].contains($0.lowercased()) } == true ? .accent : .text)
        case .coverage: return (Self.coverage(e), e.unmanaged ? .warn : .ok)
        case .sso: return e.coverage.contains(.sso) ? ("yes", .ok) : ("NO", .warn)
        case .approved:
            switch e.signals.sanctioned {
            case true?: return ("yes", .ok)
            case false?: return ("SHADOW", .high)
            case nil: return ("?", .muted)
            }
        case .users: return (e.attribute("users") ?? "-", .text)
        case .scopes:
            let scopes = e.signals.oauthScopes ?? e.privileges.map(\.scope)
            return (scopes.isEmpty ? "-" : scopes.joined(separator: " "), .muted)
        case .maxPrivilege:
            guard let l = e.maxLevel else { return ("-", .muted) }
            return (l.rawValue, l == .admin ? .high : .text)
        case .keyAge:
            let oldest = e.credentials.filter(\.kind.isStaticSecret).compactMap(\.createdAt).min()
            guard let oldest else { return ("-", .muted) }
            return (Self.age(oldest, now: now), a.findings.contains { $0.rule == "NHI7" } ? .warn : .text)
        case .lastUsed:
            let last = e.lastUsedAt ?? e.credentials.compactMap(\.lastUsedAt).max()
            return (
                last == nil ? "never" : Self.age(last, now: now), a.findings.contains { $0.title == RiskRules.unusedTitle } ? .warn : .text
            )
        case .os: return ([e.posture?.os, e.posture?.osVersion].compactMap { $0 }.joined(separator: " "), .text)
        case .encrypted:
            switch e.posture?.diskEncrypted {
            case true?: return ("yes", .ok)
            case false?: return ("NO", .high)
            case nil: return ("?", .muted)
            }
        case .screenLock:
            switch e.posture?.screenLock {
            case true?: return ("yes", .ok)
            case false?: return ("NO", .medium)
            case nil: return ("-", .muted)
            }
        case .mdm: return e.coverage.contains(.mdm) ? ("yes", .ok) : ("NO", .warn)
        case .patched: return (Self.age(e.posture?.osPatchedAt, now: now), a.findings.contains { $0.rule == "DEV-OS" } ? .warn : .text)
        case .secret:
            if e.credentials.contains(where: { !$0.exposures.isEmpty }) { return ("EXPOSED", .critical) }
            return e.credentials.isEmpty ? ("-", .muted) : ("ok", .ok)
        case .finding:
            guard let f = a.findings.first else { return ("", .muted) }
            return ("\(f.rule) \(f.title)" + (a.findings.count > 1 ? " (+\(a.findings.count - 1))" : ""), Self.severityRole(f.severity))
        }
    }

    func sortValue(_ row: Int, _ column: Int, now: Date) -> SortValue {
        let a = entity(row)
        let e = a.entity
        switch fields[column] {
        case .risk: return .number(Double(a.risk))
        case .users: return .number(Double(e.attribute("users") ?? "") ?? -1)
        case .keyAge:
            let oldest = e.credentials.filter(\.kind.isStaticSecret).compactMap(\.createdAt).min()
            return .number(oldest.map { now.timeIntervalSince($0) } ?? -1)
        case .lastUsed:
            let last = e.lastUsedAt ?? e.credentials.compactMap(\.lastUsedAt).max()
            return .number(last.map { now.timeIntervalSince($0) } ?? .greatestFiniteMagnitude)
        case .patched: return .number(e.posture?.osPatchedAt.map { now.timeIntervalSince($0) } ?? -1)
        case .maxPrivilege: return .number(Double(e.maxLevel.map { PrivilegeLevel.allCases.firstIndex(of: $0)! } ?? -1))
        case .finding: return .text(a.findings.first.map { "\(9 - Severity.allCases.firstIndex(of: $0.severity)!)\($0.rule)" } ?? "~")
        default: return .text(cell(row, column, now: now).0.lowercased())
        }
    }
}
