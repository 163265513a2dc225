import Access
import Foundation
import Inventory
import Terminal

/// The dashboard's panels, in key order: `1`–`8`.
public enum Panel: Int, CaseIterable, Sendable {
    case overview = 1, apps, devices, serviceAccounts, agents, access, audit, collectors

    public var title: String {
        switch self {
        case .overview: "Overview"
        case .apps: "Apps"
        case .devices: "Devices"
        case .serviceAccounts: "Service accounts"
        case .agents: "Agents"
        case .access: "Access"
        case .audit: "Audit"
        case .collectors: "Collectors"
        }
    }

    var shortTitle: String { self == .serviceAccounts ? "Svc accts" : title }

    public var population: Population? {
        switch self {
        case .apps: .app
        case .devices: .device
        case .serviceAccounts: .serviceAccount
        case .agents: .agent
        default: nil
        }
    }

    /// Panels that list rows you can move through, filter and sort.
    var isTable: Bool { self != .overview }
}

/// What the keyboard is doing.
public enum Mode: Sendable, Equatable {
    case normal
    /// Typing a live filter after `/`.
    case filtering
    /// Typing a command after `:`.
    case command(String)
    case help
    /// The detail view of one entity, scrolled by `offset` lines.
    case detail(id: String, offset: Int)
    /// One audit entry in full (`seq`), scrolled by `offset` lines.
    case auditEntry(seq: Int64, offset: Int)
    /// A form asking for what an access action needs, then confirmation.
    case dialog(Dialog)
}

/// What the access store holds now, as the dashboard shows it.
public struct AccessView: Sendable {
    public var pending: [AccessRequest] = []
    public var grants: [Grant] = []
    /// The newest entries, oldest first.
    public var audit: [AuditEntry] = []
    public var verification: AuditVerification?
    public var error: String?
    public var token: Int64 = -1
    /// The access service can't be reached: what is shown is the last state read, and actions are off.
    public var unreachable = false
    /// It is the service's store (a database server) that can't be reached; the service itself answers.
    public var storeDown = false

    public init(
        pending: [AccessRequest] = [], grants: [Grant] = [], audit: [AuditEntry] = [], verification: AuditVerification? = nil,
        error: String? = nil,
        token: Int64 = -1, unreachable: Bool = false
    ) {
        self.unreachable = unreachable
        self.pending = pending
        self.grants = grants
        self.audit = audit
        self.verification = verification
        self.error = error
        self.token = token
    }
}

/// Per-table state: what is filtered, how it is sorted, where the cursor is.
public struct TableState: Sendable, Equatable {
    public var filter = ""
    public var sortColumn: Int
    public var reversed = false
    /// The selected row's id: the cursor follows the entity, not the position.
    public var selectedID: String?
    public var cursor = 0
    public var top = 0
    /// The analyst moved the cursor onto this row themselves: a sort keeps it there rather than going to the top.
    public var chosen = false

    public init(sortColumn: Int = 0) { self.sortColumn = sortColumn }
}

public struct Announcement: Sendable, Equatable {
    public var entityID: String
    public var text: String
    public var until: Date
}

public struct Flash: Sendable, Equatable {
    public var text: String
    public var isError: Bool
    public var until: Date
}

/// Everything the renderer needs, and nothing it has to compute slowly.
public struct AppState: Sendable {
    public private(set) var snapshot: Snapshot = .empty
    /// The riskiest entities' indices, most risky first, computed once per snapshot.
    public private(set) var riskiest: [Int] = []
    /// Indices into `snapshot.entities` per population, rebuilt once per snapshot.
    public private(set) var populationIndex: [Population: [Int]] = [:]
    public var panel: Panel = .overview
    public var mode: Mode = .normal
    public var tables: [Panel: TableState] = [:]
    /// The rows each table shows now (after filter and sort): indices into its source.
    public var rows: [Panel: [Int]] = [:]
    public var theme: Theme = .builtinDefault
    public var colorDepth: ColorDepth = .indexed256
    public var unicode = true
    public var paused = false
    /// A snapshot that arrived while paused.
    public var held: PreparedSnapshot?
    /// Collector health that arrived while paused (a run that changed nothing).
    public var heldHealth: [CollectorHealth]?
    public var readonly = false
    public var analyst = Analyst(user: "analyst")
    /// The moment the screen shows: ages, countdowns, "refreshed … ago". It stands still while paused, so a paused
    /// screen changes only its clock.
    public var now = Date()
    /// The wall-clock time, for the status line's clock (and nothing else).
    public var clock = Date()
    public var flash: Flash?
    /// Entities added or changed by the last refresh, until when they stay marked.
    public var changed: [String: Bool] = [:]
    public var changedUntil: Date = .distantPast
    /// Recent figures for the sparklines, oldest first.
    public var trendRisk: [Int] = []
    public var trendUnmanaged: [Int] = []
    public var lastRefresh: Date?
    /// How far the help screen is scrolled.
    public var helpOffset = 0
    /// The Overview's selected list item (riskiest, pending, expiring), if any: j and k move it, Enter opens it.
    /// Held as the item itself, not its position, so a list changing under it never moves it to another.
    var overviewSelection: OverviewPanel.Item?
    /// A new entity worth knowing about ("new shadow agent: …"), shown on the prompt line for a while.
    public var announcement: Announcement?
    /// The guided tour, while it runs.
    public var tour: TourState?
    public var access = AccessView() { didSet { accessRevision += 1 } }
    /// Rows marked with Space in the Access panel (grant ids).
    public var marked: Set<String> = [] { didSet { accessRevision += 1 } }
    /// Active grants this analyst approved (or granted) in the last `App.recentWindow` seconds: kept on top of the
    /// Access panel, so a decision just made is not buried below every pending request.
    public var recentGrants: Set<String> = [] { didSet { accessRevision += 1 } }
    /// Counts every change to what the Access table shows (the store's view, marks, recent grants, the inventory
    /// behind its RISK column), so its cached order is never one of older rows.
    public var accessRevision: Int64 = 0
    /// Counts every change to the collectors' health (a snapshot, or a run that changed nothing), for the Collectors
    /// table's cached order.
    public var collectorsRevision: Int64 = 0
    public var policy = AccessPolicy()
    public var hooks = HookConfig()

    public init() {
        for p in Panel.allCases where p.isTable { tables[p] = TableState(sortColumn: 0) }
    }

    func table(_ p: Panel) -> TableState { tables[p] ?? TableState() }

    /// Newer collector health for the snapshot shown: nothing else in it changed, so nothing is prepared again.
    mutating func showHealth(_ health: [CollectorHealth]) {
        snapshot = snapshot.replacingCollectors(health)
    }

    mutating func show(_ prepared: PreparedSnapshot) {
        snapshot = prepared.snapshot
        populationIndex = prepared.populationIndex
        riskiest = prepared.riskiest
    }

    static func riskiest(_ s: Snapshot, count: Int) -> [Int] {
        var top: [Int] = []
        func before(_ a: Int, _ b: Int) -> Bool {
            let ea = s.entities[a]
            let eb = s.entities[b]
            return ea.risk != eb.risk ? ea.risk > eb.risk : ea.id < eb.id
        }
        for i in s.entities.indices where s.entities[i].risk > 0 {
            if top.count == count, let last = top.last, !before(i, last) { continue }
            let at = top.firstIndex { before(i, $0) } ?? top.count
            top.insert(i, at: at)
            if top.count > count { top.removeLast() }
        }
        return top
    }

    static func index(_ s: Snapshot) -> [Population: [Int]] {
        // Plain arrays in the loop (no hashing per entity): this is on the way to the first frame.
        var lists = [[Int]](repeating: [], count: Population.allCases.count)
        let ordinal = Dictionary(uniqueKeysWithValues: Population.allCases.enumerated().map { ($1, $0) })
        let entities = s.entities
        var last: Population? = nil
        var lastOrdinal = 0
        for i in entities.indices {
            let p = entities[i].entity.population
            if p != last {
                last = p
                lastOrdinal = ordinal[p]!
            }
            lists[lastOrdinal].append(i)
        }
        var out: [Population: [Int]] = [:]
        for (k, p) in Population.allCases.enumerated() { out[p] = lists[k] }
        return out
    }
}
