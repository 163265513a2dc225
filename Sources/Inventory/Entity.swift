import Foundation

/// Something outside (or inside) SSO and PAM that holds access: an app, a device, a service account or an agent.
///
/// `id` is stable and source-qualified (`aws:iam:user/ci-deployer`, `k8s:prod/sa/argo`, `host:mcp/cursor-github`),
/// so two collectors reporting the same thing agree on it, and `Merge` folds them into one entity.
///
/// Entity is a copy-on-write value: its fields live in one shared box, so the copies that the demo world, the
/// collector runner's slices, the merge and the assessed snapshot hold of the same entity cost one pointer each
/// (8 bytes, one retain) instead of ~350 bytes and a retain per field. Mutation copies the box only when shared.
public struct Entity: Sendable, Hashable, Codable, Identifiable {
    /// The stored fields, compared and hashed as a whole.
    struct Fields: Hashable {
        var id: String
        var population: Population
        var kind: String
        var name: String
        var owner: Owner?
        var environment: String?
        var coverage: Set<Control>
        var privileges: [Privilege]
        var credentials: [Credential]
        var firstSeen: Date?
        var lastSeen: Date?
        var lastUsedAt: Date?
        var sources: [String]
        /// Boxed, and nil when empty: most entities carry few signals and only devices a posture, so 8 bytes
        /// inline instead of ~140.
        var signals: Boxed<Signals>?
        var posture: Boxed<DevicePosture>?
        /// Keys and values alternating, sorted by key: half the memory of a small dictionary.
        var attributes: [String]
    }

    static func flatten(_ attributes: [String: String]) -> [String] {
        attributes.isEmpty ? [] : attributes.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
    }

    /// An immutable value behind a reference.
    final class Boxed<T: Hashable & Sendable>: Hashable, Sendable {
        let value: T
        init(_ value: T) { self.value = value }
        static func == (a: Boxed, b: Boxed) -> Bool { a === b || a.value == b.value }
        func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
    }

    /// Written only while uniquely referenced (see `fields`), so sharing it across threads is safe.
    final class Box: @unchecked Sendable {
        /// No dynamic exclusivity check: it's written only through `Entity.fields` when uniquely referenced,
        /// and read on every sort comparison and table cell.
        @exclusivity(unchecked) var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    private var fields: Fields {
        get { box.fields }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            yield &box.fields
        }
    }

    public var id: String {
        get { box.fields.id }
        _modify { yield &fields.id }
    }
    public var population: Population {
        get { box.fields.population }
        _modify { yield &fields.population }
    }
    /// What it is within its population: `iam_user`, `k8s_service_account`, `mcp_server`, `laptop`, `saas`…
    public var kind: String {
        get { box.fields.kind }
        _modify { yield &fields.kind }
    }
    public var name: String {
        get { box.fields.name }
        _modify { yield &fields.name }
    }
    public var owner: Owner? {
        get { box.fields.owner }
        _modify { yield &fields.owner }
    }
    /// `prod`, `staging`, `dev`… as the source names it.
    public var environment: String? {
        get { box.fields.environment }
        _modify { yield &fields.environment }
    }
    /// The controls that govern it. Empty, or none of the population's governing controls, means *unmanaged*.
    public var coverage: Set<Control> {
        get { box.fields.coverage }
        _modify { yield &fields.coverage }
    }
    public var privileges: [Privilege] {
        get { box.fields.privileges }
        _modify { yield &fields.privileges }
    }
    public var credentials: [Credential] {
        get { box.fields.credentials }
        _modify { yield &fields.credentials }
    }
    public var firstSeen: Date? {
        get { box.fields.firstSeen }
        _modify { yield &fields.firstSeen }
    }
    public var lastSeen: Date? {
        get { box.fields.lastSeen }
        _modify { yield &fields.lastSeen }
    }
    /// The last time it was used (authenticated, called an API, checked in).
    public var lastUsedAt: Date? {
        get { box.fields.lastUsedAt }
        _modify { yield &fields.lastUsedAt }
    }
    /// The collectors that reported it.
    public var sources: [String] {
        get { box.fields.sources }
        _modify { yield &fields.sources }
    }
    /// Facts the rules read (sanctioned, vendor, CI use, human use, MFA).
    public var signals: Signals {
        get { box.fields.signals?.value ?? Signals() }
        set { fields.signals = newValue == Signals() ? nil : Boxed(newValue) }
    }
    /// Device posture, for devices.
    public var posture: DevicePosture? {
        get { box.fields.posture?.value }
        set { fields.posture = newValue.map(Boxed.init) }
    }
    /// Kind-specific attributes, shown in the detail view.
    public var attributes: [String: String] {
        get {
            let flat = box.fields.attributes
            var out: [String: String] = [:]
            out.reserveCapacity(flat.count / 2)
            for i in stride(from: 0, to: flat.count, by: 2) { out[flat[i]] = flat[i + 1] }
            return out
        }
        set { fields.attributes = Self.flatten(newValue) }
    }

    /// One attribute, without building the dictionary.
    public func attribute(_ key: String) -> String? {
        let flat = box.fields.attributes
        for i in stride(from: 0, to: flat.count, by: 2) where flat[i] == key { return flat[i + 1] }
        return nil
    }

    public static func == (lhs: Entity, rhs: Entity) -> Bool { lhs.box === rhs.box || lhs.box.fields == rhs.box.fields }
    public func hash(into hasher: inout Hasher) { box.fields.hash(into: &hasher) }

    public init(
        id: String, population: Population, kind: String, name: String,
        owner: Owner? = nil, environment: String? = nil, coverage: Set<Control> = [],
        privileges: [Privilege] = [], credentials: [Credential] = [],
        firstSeen: Date? = nil, lastSeen: Date? = nil, lastUsedAt: Date? = nil,
        sources: [String] = [], signals: Signals = Signals(), posture: DevicePosture? = nil,
        attributes: [String: String] = [:]
    ) {
        box = Box(
            Fields(
                id: id, population: population, kind: kind, name: name, owner: owner.map(Shared.owners.intern), environment: environment,
                coverage: coverage.isEmpty ? [] : Shared.coverage.intern(coverage), privileges: privileges, credentials: credentials,
                firstSeen: firstSeen, lastSeen: lastSeen, lastUsedAt: lastUsedAt,
                sources: sources.isEmpty ? [] : Shared.sources.intern(sources),
                signals: signals == Signals() ? nil : Boxed(signals), posture: posture.map(Boxed.init),
                attributes: Self.flatten(attributes)))
    }

    /// Why this entity can't be accepted from a source, or nil when it can: an id and a name are needed, and an
    /// id is at most 1024 bytes.
    public var validationProblem: String? {
        // Blank means nothing but white space; the first scalar that isn't settles it (run for every entity).
        // (Foundation's `.whitespacesAndNewlines` also counts the zero-width space U+200B; so does this.)
        func blank(_ s: String) -> Bool { !s.unicodeScalars.contains { !$0.properties.isWhitespace && $0 != "\u{200B}" } }
        if blank(id) { return "\"id\" is empty" }
        if id.utf8.count > 1024 { return "\"id\" is longer than 1024 bytes" }
        if blank(name) { return "\"name\" is empty" }
        return nil
    }

    /// True when none of the population's governing controls covers it.
    public var unmanaged: Bool { coverage.isDisjoint(with: population.governingControls) }

    /// The highest privilege level it holds.
    public var maxLevel: PrivilegeLevel? { privileges.map(\.level).max() }

    enum CodingKeys: String, CodingKey {
        case id, population, kind, name, owner, environment, coverage, unmanaged, privileges, credentials
        case firstSeen = "first_seen", lastSeen = "last_seen", lastUsedAt = "last_used_at"
        case sources, signals, posture, attributes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .id)
        let population = try c.decode(Population.self, forKey: .population)
        self.init(
            id: id, population: population,
            kind: try c.decodeIfPresent(String.self, forKey: .kind) ?? population.rawValue,
            name: try c.decodeIfPresent(String.self, forKey: .name) ?? id,
            owner: try c.decodeIfPresent(Owner.self, forKey: .owner),
            environment: try c.decodeIfPresent(String.self, forKey: .environment),
            coverage: Set(try c.decodeIfPresent([Control].self, forKey: .coverage) ?? []),
            privileges: try c.decodeIfPresent([Privilege].self, forKey: .privileges) ?? [],
            credentials: try c.decodeIfPresent([Credential].self, forKey: .credentials) ?? [],
            firstSeen: try c.decodeIfPresent(Date.self, forKey: .firstSeen),
            lastSeen: try c.decodeIfPresent(Date.self, forKey: .lastSeen),
            lastUsedAt: try c.decodeIfPresent(Date.self, forKey: .lastUsedAt),
            sources: try c.decodeIfPresent([String].self, forKey: .sources) ?? [],
            signals: try c.decodeIfPresent(Signals.self, forKey: .signals) ?? Signals(),
            posture: try c.decodeIfPresent(DevicePosture.self, forKey: .posture),
            attributes: try c.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(population, forKey: .population)
        try c.encode(kind, forKey: .kind)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(owner, forKey: .owner)
        try c.encodeIfPresent(environment, forKey: .environment)
        try c.encode(coverage.sorted(), forKey: .coverage)
        try c.encode(unmanaged, forKey: .unmanaged)
        try c.encode(privileges, forKey: .privileges)
        try c.encode(credentials, forKey: .credentials)
        try c.encodeIfPresent(firstSeen, forKey: .firstSeen)
        try c.encodeIfPresent(lastSeen, forKey: .lastSeen)
        try c.encodeIfPresent(lastUsedAt, forKey: .lastUsedAt)
        try c.encode(sources, forKey: .sources)
        if signals != Signals() { try c.encode(signals, forKey: .signals) }
        try c.encodeIfPresent(posture, forKey: .posture)
        if !box.fields.attributes.isEmpty { try c.encode(attributes, forKey: .attributes) }
    }
}

/// The human accountable for an entity.
public struct Owner: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case active, departed, unknown
    }
    public var name: String
    public var email: String?
    public var status: Status

    public init(name: String, email: String? = nil, status: Status = .active) {
        self.name = name
        self.email = email
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case name, email, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        email = try c.decodeIfPresent(String.self, forKey: .email)
        status = try c.decodeIfPresent(Status.self, forKey: .status) ?? .unknown
    }
}

public enum PrivilegeLevel: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case read, write, admin

    var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    public static func < (lhs: PrivilegeLevel, rhs: PrivilegeLevel) -> Bool { lhs.rank < rhs.rank }
}

/// One thing an entity may do: a scope (`repo:acme/api`, `s3:prod-backups`, `*`) at a level.
public struct Privilege: Sendable, Hashable, Codable {
    public var scope: String
    public var level: PrivilegeLevel
    /// Privileges that are granted but never exercised mark an overprivileged identity.
    public var used: Bool?

    public init(scope: String, level: PrivilegeLevel, used: Bool? = nil) {
        self.scope = scope
        self.level = level
        self.used = used
    }
}

/// A credential an entity authenticates with. Only its fingerprint is ever held, never the secret.
public struct Credential: Sendable, Hashable, Codable {
    public var id: String
    public var kind: CredentialKind
    /// A one-way fingerprint (`SHA256:…`) of the secret, for reuse detection.
    public var fingerprint: String?
    public var createdAt: Date?
    public var lastUsedAt: Date?
    public var expiresAt: Date?
    /// Where the secret was found exposed: `plaintext in ~/.cursor/mcp.json`, `committed to acme/infra`.
    public var exposures: [String]

    public init(
        id: String, kind: CredentialKind, fingerprint: String? = nil, createdAt: Date? = nil,
        lastUsedAt: Date? = nil, expiresAt: Date? = nil, exposures: [String] = []
    ) {
        self.id = id
        self.kind = kind
        self.fingerprint = fingerprint
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.exposures = exposures
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, fingerprint
        case createdAt = "created_at", lastUsedAt = "last_used_at", expiresAt = "expires_at"
        case exposures
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(CredentialKind.self, forKey: .kind)
        fingerprint = try c.decodeIfPresent(String.self, forKey: .fingerprint)
        createdAt = try c.decodeIfPresent(Date.self, forKey: .createdAt)
        lastUsedAt = try c.decodeIfPresent(Date.self, forKey: .lastUsedAt)
        expiresAt = try c.decodeIfPresent(Date.self, forKey: .expiresAt)
        exposures = try c.decodeIfPresent([String].self, forKey: .exposures) ?? []
    }
}

/// What a credential is. Open: sources may name kinds not listed here.
public struct CredentialKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public var description: String { String(String.UnicodeScalarView(rawValue.unicodeScalars.map { $0 == "_" ? " " : $0 })) }

    public static let accessKey = CredentialKind(rawValue: "access_key")
    public static let apiKey = CredentialKind(rawValue: "api_key")
    public static let token = CredentialKind(rawValue: "token")
    public static let personalAccessToken = CredentialKind(rawValue: "personal_access_token")
    public static let password = CredentialKind(rawValue: "password")
    public static let sshKey = CredentialKind(rawValue: "ssh_key")
    public static let deployKey = CredentialKind(rawValue: "deploy_key")
    public static let clientSecret = CredentialKind(rawValue: "client_secret")
    public static let certificate = CredentialKind(rawValue: "certificate")
    public static let oauthGrant = CredentialKind(rawValue: "oauth_grant")
    /// Federated, short-lived credentials (OIDC, IRSA, workload identity): nothing static to leak.
    public static let federated = CredentialKind(rawValue: "federated")

    /// Static secrets: the kinds that can leak, age and be reused.
    public var isStaticSecret: Bool { self != .federated && self != .oauthGrant }
}

/// Facts about an entity that rules read. Every field is optional: absent means "the source did not say".
public struct Signals: Sendable, Hashable, Codable {
    /// Approved by IT (apps, agents). `false` marks shadow IT / shadow AI.
    public var sanctioned: Bool?
    /// The third party that operates this NHI (a SaaS integration, a GitHub App).
    public var vendor: String?
    /// A known vulnerability or breach of the vendor or its integration.
    public var vendorAdvisory: String?
    /// Used by a CI/CD pipeline.
    public var ciPipeline: Bool?
    /// Evidence that people log in as this NHI interactively.
    public var humanUse: String?
    /// Multi-factor authentication, for identities that accept passwords.
    public var mfa: Bool?
    /// OAuth scopes granted (apps, agents).
    public var oauthScopes: [String]?

    public init(
        sanctioned: Bool? = nil, vendor: String? = nil, vendorAdvisory: String? = nil, ciPipeline: Bool? = nil,
        humanUse: String? = nil, mfa: Bool? = nil, oauthScopes: [String]? = nil
    ) {
        self.sanctioned = sanctioned
        self.vendor = vendor
        self.vendorAdvisory = vendorAdvisory
        self.ciPipeline = ciPipeline
        self.humanUse = humanUse
        self.mfa = mfa
        self.oauthScopes = oauthScopes
    }

    enum CodingKeys: String, CodingKey {
        case sanctioned, vendor, vendorAdvisory = "vendor_advisory", ciPipeline = "ci_pipeline"
        case humanUse = "human_use", mfa, oauthScopes = "oauth_scopes"
    }
}

/// Device posture as an endpoint agent (osquery, MDM) reports it.
public struct DevicePosture: Sendable, Hashable, Codable {
    public var diskEncrypted: Bool?
    public var screenLock: Bool?
    public var os: String?
    public var osVersion: String?
    /// When the OS last received a security update.
    public var osPatchedAt: Date?
    /// Why the OS counts as out of date, when a source can tell from the version alone (below a minimum).
    public var osOutdated: String?

    public init(
        diskEncrypted: Bool? = nil, screenLock: Bool? = nil, os: String? = nil, osVersion: String? = nil, osPatchedAt: Date? = nil,
        osOutdated: String? = nil
    ) {
        self.diskEncrypted = diskEncrypted
        self.screenLock = screenLock
        self.os = os
        self.osVersion = osVersion
        self.osPatchedAt = osPatchedAt
        self.osOutdated = osOutdated
    }

    enum CodingKeys: String, CodingKey {
        case diskEncrypted = "disk_encrypted", screenLock = "screen_lock", os, osVersion = "os_version"
        case osPatchedAt = "os_patched_at", osOutdated = "os_outdated"
    }
}
