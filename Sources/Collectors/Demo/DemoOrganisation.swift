import Foundation
import Inventory

/// The synthetic organisation "Acme": deterministic from a seed and a size, anchored at a moment in time.
/// Every entity is generated from its own index, so any size from a few dozen to a million is built the same way.
struct DemoOrganisation: Sendable {
    let seed: UInt64
    let size: Int
    let anchor: Date

    let appCount: Int
    let deviceCount: Int
    let serviceAccountCount: Int
    let agentCount: Int
    let peopleCount: Int
    /// Each person as an owner, made once: the entities a person owns share its strings.
    private(set) var people: [Owner] = []
    /// Each service-account template filled in for each environment, made once: id prefix and base privileges.
    private(set) var filledTemplates: [[(idPrefix: String, privileges: [Privilege])]] = []

    static let day = 86_400.0

    init(seed: UInt64, size: Int, anchor: Date) {
        self.seed = seed
        self.size = max(size, 8)
        self.anchor = anchor
        let n = self.size
        appCount = max(1, n * 9 / 100)
        agentCount = max(1, n * 6 / 100)
        serviceAccountCount = max(1, n * 40 / 100)
        deviceCount = n - appCount - agentCount - serviceAccountCount
        peopleCount = max(24, n / 6)
        filledTemplates = DemoCatalogue.serviceAccounts.map { t in
            DemoCatalogue.environments.map { env in
                (
                    Self.fill(t.idPrefix, env),
                    t.scopes.map { scope, level in
                        Privilege(scope: Self.fill(scope, env), level: PrivilegeLevel(rawValue: level) ?? .read, used: true)
                    }
                )
            }
        }
        people = (0..<peopleCount).map { i in
            let name = personName(i)
            return Owner(name: name, email: "\(name)@acme.example", status: personDeparted(i) ? .departed : .active)
        }
    }

    enum Stream: UInt64 { case person = 1, app, device, service, agent, fingerprint, event, request, keyAge, leaver, handover }

    func rng(_ stream: Stream, _ index: Int) -> SeededRandom {
        SeededRandom(seed: seed, stream: stream.rawValue, index: UInt64(index))
    }

    // MARK: People

    func personName(_ i: Int) -> String {
        let f = DemoCatalogue.firstNames
        let l = DemoCatalogue.lastNames
        let first = f[i % f.count]
        let last = l[(i / f.count + i * 7) % l.count]
        let round = i / (f.count * l.count)
        return round == 0 ? "\(first).\(last)" : "\(first).\(last)\(round + 1)"
    }

    func personDeparted(_ i: Int) -> Bool {
        var r = rng(.person, i)
        return r.chance(0.07)
    }

    func owner(_ i: Int) -> Owner { people[i] }

    /// `template` with every `{env}` replaced by `env`.
    static func fill(_ template: String, _ env: String) -> String {
        template.split(separator: "{env}", omittingEmptySubsequences: false).joined(separator: env)
    }

    func daysAgo(_ d: Double) -> Date { anchor.addingTimeInterval(-d * Self.day) }

    /// A heavy-tailed age in days: most recent, some very old.
    func age(_ r: inout SeededRandom, max: Double) -> Double {
        let u = Double(r.next() >> 11) / Double(1 << 53)
        return (u * u * max).rounded()
    }

    // MARK: Everything

    var total: Int { appCount + deviceCount + serviceAccountCount + agentCount }

    /// Every entity, generated on all cores (each from its own index, so the result is the same).
    func entities() -> [Entity] { entities(0..<total) }

    /// The entities at these indices (of `entities()`), generated on all cores.
    func entities<C: RandomAccessCollection & Sendable>(_ indices: C) -> [Entity] where C.Element == Int, C.Index == Int {
        parallelChunks(indices.count) { range in range.map { entity(indices[indices.startIndex + $0]) } }
    }

    /// The entity at index `k` of `entities()`.
    func entity(_ k: Int) -> Entity {
        let (apps, devices, services) = (appCount, appCount + deviceCount, appCount + deviceCount + serviceAccountCount)
        switch k {
        case ..<apps: return app(k)
        case ..<devices: return device(k - apps)
        case ..<services: return serviceAccount(k - devices)
        default: return agent(k - services)
        }
    }

    // MARK: Apps

    func app(_ i: Int) -> Entity {
        var r = rng(.app, i)
        let catalogue = DemoCatalogue.apps
        let name: String
        let slug: String
        let sanctionedP: Double
        let ssoP: Double
        let scopes: [String]
        let kind: String
        if i < catalogue.count {
            let a = catalogue[i]
            (name, slug, sanctionedP, ssoP, scopes, kind) = (a.name, a.slug, a.sanctioned, a.sso, a.scopes, "saas")
        } else if r.chance(0.5) {
            let word = r.pick(DemoCatalogue.internalWords)
            let team = r.pick(DemoCatalogue.teams)
            name = "\(team)-\(word)-\(i)"
            slug = name
            (sanctionedP, ssoP, scopes, kind) = (0.9, 0.45, [], "internal")
        } else {
            let a = r.pick(catalogue)
            let team = r.pick(DemoCatalogue.teams)
            name = "\(a.name) (\(team) workspace \(i))"
            slug = "\(a.slug)-\(team)-\(i)"
            (sanctionedP, ssoP, scopes, kind) = (a.sanctioned * 0.6, a.sso * 0.5, a.scopes, "saas")
        }
        let sanctioned = r.chance(sanctionedP)
        var coverage: Set<Control> = []
        if r.chance(sanctioned ? ssoP : ssoP * 0.2) {
            coverage.insert(.sso)
            if r.chance(0.5) { coverage.insert(.scim) }
        }
        var credentials: [Credential] = []
        if !coverage.contains(.sso), r.chance(0.4) {
            credentials.append(
                Credential(id: "shared-login", kind: .password, fingerprint: r.fingerprint(), createdAt: daysAgo(age(&r, max: 900))))
        }
        if r.chance(0.3) {
            let created = daysAgo(age(&r, max: 1000))
            credentials.append(
                Credential(
                    id: "api-key-\(i)", kind: .apiKey, fingerprint: r.fingerprint(), createdAt: created,
                    lastUsedAt: daysAgo(Double(r.int(0...20)))))
        }
        let firstSeen = daysAgo(age(&r, max: 1500) + 1)
        let users = r.int(2...400)
        return Entity(
            id: kind == "internal" ? "app:internal/\(slug)" : "saas:\(slug)",
            population: .app, kind: kind, name: name,
            owner: r.chance(0.85) ? owner(r.int(0...peopleCount - 1)) : nil,
            coverage: coverage,
            privileges: r.chance(0.3) ? [Privilege(scope: "tenant:acme", level: .admin)] : [Privilege(scope: "tenant:acme", level: .write)],
            credentials: credentials,
            firstSeen: firstSeen, lastSeen: anchor, lastUsedAt: daysAgo(r.chance(0.1) ? Double(r.int(95...400)) : Double(r.int(0...6))),
            sources: [], signals: Signals(sanctioned: sanctioned, oauthScopes: scopes.isEmpty ? nil : scopes),
            attributes: [
                "users": "\(users)",
                "discovered_via": r.pick(["oauth grants", "expense reports", "SSO catalogue", "browser extension", "DNS logs"]),
            ])
    }

    // MARK: Devices

    func device(_ i: Int) -> Entity {
        var r = rng(.device, i)
        let personIndex = r.int(0...peopleCount - 1)
        let person = personName(personIndex)
        let first = person.split(separator: ".").first.map(String.init) ?? person
        let roll = r.int(0...99)
        let kind: String
        let name: String
        let mdmP: Double
        var os = r.pick(DemoCatalogue.osChoices)
        switch roll {
        case 0..<62:
            kind = "laptop"
            if os.0 == "iOS" { os = DemoCatalogue.osChoices[0] }
            name = "\(os.0 == "macOS" ? "MBP" : "LT")-\(first)-\(String(i, radix: 16).uppercased())"
            mdmP = 0.82
        case 62..<80:
            kind = "server"
            os = DemoCatalogue.osChoices[2]
            name =
                "\(r.pick(["build-runner", "jump", "bastion", "gpu-worker", "ftp", "etl", "db-replica"]))-"
                + "\(String(format: "%02d", i % 100))-\(i)"
            mdmP = 0.15
        case 80..<93:
            kind = "phone"
            os = DemoCatalogue.osChoices[3]
            name = "iPhone-\(first)-\(i)"
            mdmP = 0.55
        default:
            kind = "byod"
            if os.0 == "iOS" { os = DemoCatalogue.osChoices[1] }
            name = "personal-\(first)-\(i)"
            mdmP = 0.0
        }
        let managed = r.chance(mdmP)
        let posture = DevicePosture(
            diskEncrypted: r.chance(managed ? 0.97 : 0.7),
            screenLock: kind == "server" ? nil : r.chance(managed ? 0.96 : 0.6),
            os: os.0, osVersion: r.pick(os.1),
            osPatchedAt: daysAgo(age(&r, max: managed ? 120 : 400)))
        var credentials: [Credential] = []
        if kind == "server" {
            credentials.append(
                Credential(id: "host-key", kind: .sshKey, fingerprint: r.fingerprint(), createdAt: daysAgo(age(&r, max: 1400))))
        }
        let serial = String(r.next() % 0xFFFF_FFFF, radix: 36).uppercased()
        return Entity(
            id: "mdm:device/\(serial)-\(i)", population: .device, kind: kind, name: name,
            owner: kind == "server" ? Owner(name: "team-\(r.pick(DemoCatalogue.teams))", status: .active) : owner(personIndex),
            environment: kind == "server" ? r.pick(DemoCatalogue.environments) : nil,
            coverage: managed ? [.mdm] : [], credentials: credentials,
            firstSeen: daysAgo(age(&r, max: 1200) + 1), lastSeen: daysAgo(Double(r.int(0...3))),
            lastUsedAt: daysAgo(Double(r.int(0...9))),
            posture: posture,
            attributes: [
                "serial": serial,
                "model": kind == "laptop" ? r.pick(["MacBook Pro 14", "MacBook Air 13", "ThinkPad X1", "Dell XPS 13"]) : kind,
            ])
    }

    // MARK: Service accounts

    func serviceFingerprint(_ i: Int) -> String {
        var r = rng(.fingerprint, i)
        return r.fingerprint()
    }

    func serviceAccount(_ i: Int) -> Entity {
        var r = rng(.service, i)
        let templates = DemoCatalogue.serviceAccounts
        let t = templates[i % templates.count]
        let envs = DemoCatalogue.environments
        let env = envs[(i / templates.count) % envs.count]
        let round = i / (templates.count * envs.count)
        let regions = ["", "-eu", "-us", "-apac", "-latam"]
        let name = "\(t.base)-\(env)" + (round < regions.count ? regions[round] : "-\(round)")
        let filled = filledTemplates[i % templates.count][(i / templates.count) % envs.count]
        let idPrefix = filled.idPrefix

        var coverage: Set<Control> = []
        let coverRoll = r.int(0...99)
        var credentialKind = CredentialKind(rawValue: t.credential)
        if coverRoll < 12 {
            coverage.insert(.workloadIdentity)
            credentialKind = .federated
        } else if coverRoll < 30 {
            coverage.insert(r.chance(0.5) ? .vault : .secretsManager)
        }
        if credentialKind == .federated { coverage.insert(.workloadIdentity) }

        var privileges = filled.privileges
        let privRoll = r.int(0...99)
        if privRoll < 45, !privileges.contains(where: { $0.level == .admin }) {
            privileges.append(
                Privilege(scope: r.pick(["iam:*", "s3:*", "ec2:*", "k8s:\(env):cluster-admin", "org:acme"]), level: .admin, used: false))
        } else if privRoll < 88 {
            privileges.append(
                Privilege(
                    scope: r.pick(["s3:\(env)-archive", "sqs:\(env)-events", "dynamodb:\(env)-sessions", "kms:\(env)-keys"]), level: .write,
                    used: false))
        }
        if env != "prod", r.chance(0.08) {
            privileges.append(Privilege(scope: "s3:prod-exports", level: .write, used: true))
        }

        let keyAge = age(&r, max: 1500)
        let lastUsed: Double = r.chance(0.12) ? Double(r.int(95...700)) : Double(r.int(0...20))
        var fingerprint = serviceFingerprint(i)
        if i > 0, r.chance(0.04) { fingerprint = serviceFingerprint(i - 1) }
        var exposures: [String] = []
        if credentialKind != .federated, r.chance(0.03) { exposures.append(r.pick(DemoCatalogue.exposures)) }
        let credID = credentialKind == .accessKey ? r.awsKeyID() : Self.credentialID(credentialKind, &r)
        let credential = Credential(
            id: credID, kind: credentialKind, fingerprint: credentialKind == .federated ? nil : fingerprint,
            createdAt: credentialKind == .federated ? nil : daysAgo(keyAge),
            lastUsedAt: daysAgo(lastUsed),
            expiresAt: credentialKind == .federated ? anchor.addingTimeInterval(3600) : nil,
            exposures: exposures)

        var signals = Signals()
        signals.ciPipeline = t.ci ? true : nil
        if let vendor = t.vendor {
            signals.vendor = vendor
            if r.chance(0.12) { signals.vendorAdvisory = "\(vendor) disclosed a leaked integration token (advisory 2026-0\(r.int(1...9)))" }
        }
        if r.chance(0.03) {
            signals.humanUse =
                "console sign-in by \(personName(r.int(0...peopleCount - 1))) from 203.0.113.\(r.int(2...250)) "
                + "on \(r.int(2...19)) days last month"
        }
        if credentialKind == .password { signals.mfa = false }

        return Entity(
            id: "\(idPrefix)\(name)", population: .serviceAccount, kind: t.kind, name: name,
            owner: r.chance(0.86) ? owner(r.int(0...peopleCount - 1)) : nil,
            environment: env, coverage: coverage, privileges: privileges, credentials: [credential],
            firstSeen: daysAgo(keyAge + Double(r.int(0...200))), lastSeen: anchor, lastUsedAt: daysAgo(lastUsed),
            signals: signals, attributes: ["team": r.pick(DemoCatalogue.teams), "platform": String(idPrefix.prefix { $0 != ":" })])
    }

    /// A short, recognisable credential id: a prefix by kind and six hex digits.
    static func credentialID(_ kind: CredentialKind, _ r: inout SeededRandom) -> String {
        let prefix =
            switch kind.rawValue {
            case "password": "pw"
            case "token": "tok"
            case "api_key": "key"
            case "ssh_key": "ssh"
            case "deploy_key": "dk"
            case "client_secret": "cs"
            case "personal_access_token": "pat"
            case "oauth_grant": "oauth"
            case "access_key": "ak"
            default: "cred"
            }
        return "\(prefix)-\(String(r.next() % 0xFFFFFF, radix: 16))"
    }

    // MARK: Agents

    func agent(_ i: Int, shadowRun: Int? = nil) -> Entity {
        var r = shadowRun.map { rng(.event, 10_000 + $0) } ?? rng(.agent, i)
        let catalogue = DemoCatalogue.agents
        let pick = Int(r.next() % UInt64(catalogue.count))
        let t = catalogue[shadowRun == nil && i < catalogue.count ? i : pick]
        let personIndex = r.int(0...peopleCount - 1)
        let person = personName(personIndex)
        let user = person.split(separator: ".").first.map(String.init) ?? person
        let suffix = shadowRun.map { "new\($0)" } ?? "\(i)"
        let name = t.kind == "mcp_server" ? "\(t.tool)-mcp-\(t.server)-\(user)" : "\(t.tool)-\(t.server)"
        let sanctioned = shadowRun == nil ? r.chance(0.55) : false
        var coverage: Set<Control> = []
        if sanctioned, r.chance(0.35) { coverage.insert(r.pick([.agentGateway, .vault, .secretsManager])) }
        let kind = CredentialKind(rawValue: t.credential)
        var exposures: [String] = []
        if !t.configPath.isEmpty, kind != .federated, kind != .oauthGrant, coverage.isEmpty, r.chance(0.45) {
            exposures.append("plaintext in \(t.configPath)")
        }
        let created = shadowRun == nil ? daysAgo(age(&r, max: 500)) : anchor
        let credential = Credential(
            id: Self.credentialID(kind, &r), kind: kind,
            fingerprint: kind == .federated ? nil : r.fingerprint(), createdAt: created,
            lastUsedAt: daysAgo(Double(r.int(0...3))), exposures: exposures)
        let privileges = t.scopes.map { Privilege(scope: $0.0, level: PrivilegeLevel(rawValue: $0.1) ?? .read, used: r.chance(0.5)) }
        var oauth: [String]? = nil
        if kind == .oauthGrant || t.kind == "assistant" {
            oauth = r.chance(0.5) ? ["repo", "read:org"] : ["https://www.googleapis.com/auth/drive", "https://mail.google.com/"]
        }
        return Entity(
            id: "host:agent/\(t.tool)/\(t.server)/\(user)-\(suffix)", population: .agent, kind: t.kind, name: name,
            owner: r.chance(0.9) ? owner(personIndex) : nil,
            environment: t.scopes.contains { $0.0.contains("prod") } ? "prod" : "dev",
            coverage: coverage, privileges: privileges, credentials: [credential],
            firstSeen: created, lastSeen: anchor, lastUsedAt: daysAgo(Double(r.int(0...3))),
            signals: Signals(sanctioned: sanctioned, oauthScopes: oauth),
            attributes: [
                "tool": t.tool, "server": t.server, "config": t.configPath.isEmpty ? "-" : t.configPath, "host": "\(user)-workstation",
            ])
    }
}
