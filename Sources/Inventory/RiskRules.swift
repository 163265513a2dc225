import Foundation

/// The risk rules: the OWASP Non-Human Identities Top 10 (2025) as far as the model can show them,
/// device posture and app rules. Pure functions of the entities, the thresholds and the time.
public struct RiskRules: Sendable {
    public var thresholds: RuleThresholds

    public init(thresholds: RuleThresholds = RuleThresholds()) {
        self.thresholds = thresholds
    }

    /// Facts that span entities: which fingerprints are shared, and in which environments.
    public struct CrossIndex: Sendable {
        struct Use: Equatable {
            var entityIDs: [String]
            var environments: Set<String>
        }
        var byFingerprint: [String: Use] = [:]
        /// Fingerprint hash → how many entities hold it (see `init`).
        var census: [Int: Int32] = [:]
        struct Seen: Sendable {
            var hash: Int
            var entity: Int32
            var credential: Int32
        }

        /// Only fingerprints held by more than one entity are kept. The fingerprints are hashed on every core; the
        /// pass that finds the shared ones then works on integers; only the few shared are looked at as strings.
        public init(_ entities: some Collection<Entity>) {
            let all = Array(entities)
            let seen: [Seen] = parallelChunks(all.count) { range in
                var out: [Seen] = []
                out.reserveCapacity(range.count)
                for i in range {
                    for (k, c) in all[i].credentials.enumerated() {
                        guard let fp = c.fingerprint, !fp.isEmpty else { continue }
                        out.append(Seen(hash: fp.hashValue, entity: Int32(i), credential: Int32(k)))
                    }
                }
                return out
            }
            // How many entities hold each fingerprint's hash (an entity once, however many of its credentials hold
            // it): kept, so an incremental update knows whether a fingerprint it sees is held elsewhere.
            census.reserveCapacity(seen.count)
            var shared = Set<Int>()
            var runStart = 0 // where the current entity's entries begin (each entity's are together)
            for (i, s) in seen.enumerated() {
                if i > 0, seen[i - 1].entity != s.entity { runStart = i }
                guard !seen[runStart..<i].contains(where: { $0.hash == s.hash }) else { continue }
                let n = census[s.hash, default: 0] + 1
                census[s.hash] = n
                if n == 2 { shared.insert(s.hash) }
            }
            guard !shared.isEmpty else { return }
            for s in seen where shared.contains(s.hash) {
                let e = all[Int(s.entity)]
                guard let fp = e.credentials[Int(s.credential)].fingerprint else { continue }
                var use = byFingerprint[fp] ?? Use(entityIDs: [], environments: [])
                if use.entityIDs.last != e.id { use.entityIDs.append(e.id) }
                if let env = e.environment?.lowercased() { use.environments.insert(env) }
                byFingerprint[fp] = use
            }
            // Two different fingerprints with the same hash looked shared: keep only the truly shared.
            byFingerprint = byFingerprint.filter { $0.value.entityIDs.count > 1 }
        }
    }

    /// Every finding for one entity, most severe first.
    public func findings(for e: Entity, now: Date, cross: CrossIndex) -> [Finding] {
        var out: [Finding] = []
        appendFindings(for: e, now: now, cross: cross, to: &out)
        return out
    }

    /// The same, built in a scratch buffer the caller reuses and returned in an array of exactly its size: no
    /// growth on the way and no spare capacity kept (a snapshot holds hundreds of thousands of these arrays).
    public func findings(for e: Entity, now: Date, cross: CrossIndex, scratch: inout [Finding]) -> [Finding] {
        scratch.removeAll(keepingCapacity: true)
        appendFindings(for: e, now: now, cross: cross, to: &scratch)
        if scratch.isEmpty { return [] }
        return scratch.withUnsafeBufferPointer { Array($0) }
    }

    func appendFindings(for e: Entity, now: Date, cross: CrossIndex, to out: inout [Finding]) {
        let isNHI = e.population == .serviceAccount || e.population == .agent
        let day = 86_400.0

        // NHI1 improper offboarding
        if let owner = e.owner, owner.status == .departed {
            out.append(
                Finding(
                    Texts.t0, severity: .high,
                    evidence:
                        "owner \(owner.name) has departed; the identity is still "
                        + (e.credentials.isEmpty
                            ? "present" : "holding \(e.credentials.count) credential\(e.credentials.count == 1 ? "" : "s")")
                ))
        } else if e.owner == nil, e.population != .device {
            out.append(
                Finding(
                    Texts.t1, severity: .medium,
                    evidence: "no accountable owner recorded"))
        }

        // NHI2 secret leakage
        for c in e.credentials where !c.exposures.isEmpty {
            out.append(
                Finding(
                    Texts.t2, severity: .critical,
                    evidence: "\(c.kind) \(c.id) exposed: \(c.exposures.joined(separator: "; "))"))
        }

        // NHI3 vulnerable third-party NHI: a known advisory, or a third party holding write or admin access
        if let advisory = e.signals.vendorAdvisory, !advisory.isEmpty {
            out.append(
                Finding(
                    Texts.t3, severity: .high,
                    evidence: "\(e.signals.vendor ?? "vendor") integration: \(advisory)"))
        } else if let vendor = e.signals.vendor, e.kind == "github_app", let p = e.privileges.max(by: { $0.level < $1.level }),
            p.level >= .write
        {
            out.append(
                Finding(
                    Texts.t4, severity: p.level == .admin ? .high : .medium,
                    evidence:
                        "\(vendor) holds "
                        + e.privileges.filter { $0.level >= .write }.prefix(3).map { "\($0.scope) (\($0.level.rawValue))" }
                        .joined(separator: ", ")
                ))
        }

        // NHI4 insecure authentication; a cloud root account with access keys is the worst case of it
        if e.kind == "root_account", let key = e.credentials.first(where: { $0.kind == .accessKey }) {
            out.append(
                Finding(
                    Texts.t5, severity: .critical,
                    evidence: "the root account holds active \(key.id)\(e.signals.mfa == false ? " and has no MFA" : "")"))
        }
        for c in e.credentials where c.kind == .password {
            if e.signals.mfa != true {
                out.append(
                    Finding(
                        Texts.t6, severity: .high,
                        evidence: "authenticates with a password\(e.signals.mfa == false ? " and MFA is off" : ", no MFA recorded")"))
                break
            }
        }
        if isNHI, let pat = e.credentials.first(where: { $0.kind == .personalAccessToken }) {
            out.append(
                Finding(
                    Texts.t7, severity: .medium,
                    evidence: "authenticates with personal access token \(pat.id), tied to a person"))
        }

        // NHI5 overprivileged
        if isNHI || e.population == .app {
            let broad = e.privileges.filter {
                $0.level == .admin || $0.scope == "*" || $0.scope.hasSuffix(":*") || $0.scope.hasSuffix("/*")
            }
            let unused = e.privileges.filter { $0.used == false && $0.level >= .write }
            if !broad.isEmpty {
                let list = broad.prefix(3).map { "\($0.scope) (\($0.level.rawValue))" }.joined(separator: ", ")
                out.append(
                    Finding(
                        Texts.t8,
                        severity: e.environment.map(isProd) == true || broad.contains { isProdScope($0.scope) } ? .critical : .high,
                        evidence: "holds \(list)\(broad.count > 3 ? " and \(broad.count - 3) more" : "")"))
            } else if !unused.isEmpty {
                out.append(
                    Finding(
                        Texts.t9, severity: .medium,
                        evidence:
                            "\(unused.count) write/admin privilege\(unused.count == 1 ? "" : "s") never used: "
                            + "\(unused.prefix(3).map(\.scope).joined(separator: ", "))"
                    ))
            }
        }

        // NHI6 insecure cloud deployment configuration: static credentials in CI/CD
        if e.signals.ciPipeline == true,
            let c = e.credentials.first(where: { [.accessKey, .apiKey, .token, .personalAccessToken, .clientSecret].contains($0.kind) })
        {
            out.append(
                Finding(
                    Texts.t10, severity: .high,
                    evidence: "pipeline authenticates with static \(c.kind) \(c.id)"))
        }

        // NHI7 long-lived secrets; a personal token that never expires is one by definition
        for c in e.credentials where c.kind == .personalAccessToken && c.expiresAt == nil && e.kind == "github_fine_grained_pat" {
            out.append(
                Finding(
                    Texts.t11, severity: .medium,
                    evidence: "personal access token \(c.id) has no expiry"))
        }
        for c in e.credentials where c.kind.isStaticSecret {
            guard let created = c.createdAt else { continue }
            let age = now.timeIntervalSince(created) / day
            guard age > thresholds.keyMaxAgeDays else { continue }
            if let exp = c.expiresAt, exp <= now { continue }
            let never = c.expiresAt == nil ? ", never rotated, no expiry" : ", never rotated"
            out.append(
                Finding(
                    Texts.t12, severity: age > thresholds.keyMaxAgeDays * 4 ? .high : .medium,
                    evidence: "\(c.kind) \(c.id) \(Int(age)) days old\(never) (limit \(Int(thresholds.keyMaxAgeDays)) days)"))
        }

        // NHI8 environment isolation
        if let env = e.environment?.lowercased(), !isProd(env) {
            if let p = e.privileges.first(where: { isProdScope($0.scope) }) {
                out.append(
                    Finding(
                        Texts.t13, severity: .high,
                        evidence: "\(env) identity holds production scope \(p.scope)"))
            }
        }
        for c in e.credentials {
            guard let fp = c.fingerprint, let use = cross.byFingerprint[fp] else { continue }
            if use.environments.contains(where: isProd), use.environments.contains(where: { !isProd($0) }) {
                out.append(
                    Finding(
                        Texts.t14, severity: .high,
                        evidence: "\(c.kind) \(c.id) is used in \(use.environments.sorted().joined(separator: " and "))"))
            }
            // NHI9 reuse
            let others = use.entityIDs.filter { $0 != e.id }
            out.append(
                Finding(
                    Texts.t15, severity: .medium,
                    evidence:
                        "\(c.kind) \(c.id) is also used by \(others.prefix(3).joined(separator: ", "))"
                        + "\(others.count > 3 ? " and \(others.count - 3) more" : "")"
                ))
        }

        // NHI10 human use of NHI
        if let how = e.signals.humanUse, !how.isEmpty, isNHI {
            out.append(
                Finding(
                    Texts.t16, severity: .high,
                    evidence: how))
        }

        // A deploy key that can push: anyone holding the private key can change the repository
        if e.kind == "deploy_key", let p = e.privileges.first(where: { $0.level >= .write }) {
            out.append(
                Finding(
                    Texts.t17, severity: .medium,
                    evidence: "deploy key with write access to \(p.scope)"))
        }

        // SSH keys that can log in from anywhere and run anything
        if e.kind == "ssh_authorized_key", e.attribute("restricted") == "false" {
            out.append(
                Finding(
                    Texts.t18, severity: .medium,
                    evidence:
                        "\(e.attribute("file") ?? "authorized_keys") line \(e.attribute("line") ?? "?") "
                        + "has no from= or command= restriction"
                ))
        }

        // Kubernetes: the namespace's default account with bindings, and tokens mounted into pods that don't need them
        if e.kind == "k8s_service_account" {
            if e.name == "default", !e.privileges.isEmpty {
                out.append(
                    Finding(
                        Texts.t19, severity: .high,
                        evidence:
                            "every pod in \(e.attribute("namespace") ?? "the namespace") without its own account gets "
                            + "\(e.privileges.map(\.scope).prefix(2).joined(separator: ", "))"
                    ))
            }
            if e.attribute("automount_token") == "true", let p = e.privileges.first(where: { $0.level >= .write }) {
                out.append(
                    Finding(
                        Texts.t20, severity: .medium,
                        evidence: "automountServiceAccountToken is on for an account holding \(p.scope)"))
            }
        }

        // Device posture
        if e.population == .device {
            if let p = e.posture {
                if p.diskEncrypted == false {
                    out.append(
                        Finding(
                            Texts.t21, severity: .high,
                            evidence: "full-disk encryption is off"))
                }
                if let why = p.osOutdated {
                    out.append(Finding(Texts.t22, severity: .high, evidence: why))
                } else if let patched = p.osPatchedAt {
                    let age = now.timeIntervalSince(patched) / day
                    if age > thresholds.osPatchMaxAgeDays {
                        out.append(
                            Finding(
                                Texts.t23, severity: age > thresholds.osPatchMaxAgeDays * 3 ? .high : .medium,
                                evidence:
                                    "\([p.os, p.osVersion].compactMap { $0 }.joined(separator: " ")) last patched "
                                    + "\(Int(age)) days ago (limit \(Int(thresholds.osPatchMaxAgeDays)))"
                            ))
                    }
                }
                if p.screenLock == false {
                    out.append(
                        Finding(
                            Texts.t24, severity: .medium,
                            evidence: "screen lock is disabled"))
                }
            }
            if e.unmanaged {
                out.append(
                    Finding(
                        Texts.t25, severity: .medium,
                        evidence: "not enrolled in MDM, so its posture can't be enforced"))
            }
        }

        // Apps and agents: shadow IT / shadow AI, SSO, OAuth scopes
        if e.signals.sanctioned == false, e.population == .app || e.population == .agent {
            out.append(
                Finding(
                    e.population == .app ? Texts.shadowApp : Texts.shadowAgent, severity: .high,
                    evidence: "in use without approval\(e.owner.map { " (found with \($0.name))" } ?? "")"))
        }
        if e.population == .app, !e.coverage.contains(.sso), e.kind != "github_app" { // apps act as themselves, not through SSO
            out.append(
                Finding(
                    Texts.t26, severity: .medium,
                    evidence:
                        "sign-in is not through the identity provider"
                        + "\(e.credentials.contains { $0.kind == .password } ? "; local passwords in use" : "")"
                ))
        }
        if let scopes = e.signals.oauthScopes, e.population == .app || e.population == .agent {
            let broad = scopes.filter(isBroadScope)
            if !broad.isEmpty {
                out.append(
                    Finding(
                        Texts.t27, severity: broad.count > 1 ? .high : .medium,
                        evidence: "granted \(broad.prefix(4).joined(separator: ", "))"))
            }
        }

        // Stale identities
        if e.population != .device {
            let last = e.lastUsedAt ?? e.credentials.compactMap(\.lastUsedAt).max()
            if let last {
                let idle = now.timeIntervalSince(last) / day
                if idle > thresholds.staleAfterDays {
                    // An unused machine identity is one nobody offboarded (NHI1); an unused app is just stale.
                    out.append(
                        Finding(
                            isNHI ? Texts.unusedNHI : Texts.unusedOther, severity: .low,
                            evidence: "last used \(Int(idle)) days ago"))
                }
            }
        }

        out.sort { $0.severity > $1.severity }
    }

    /// 0–100: the worst finding sets the base (critical 70, high 45, medium 20, low 5), each further finding
    /// adds 5 (at most 25), and being unmanaged adds 5.
    public static func score(_ findings: [Finding], unmanaged: Bool) -> Int {
        guard let worst = findings.map(\.severity).max() else { return unmanaged ? 5 : 0 }
        let base =
            switch worst {
            case .critical: 70
            case .high: 45
            case .medium: 20
            case .low: 5
            }
        return min(100, base + min(25, (findings.count - 1) * 5) + (unmanaged ? 5 : 0))
    }

    /// The title of the finding for an identity unused past the threshold, whatever rule it is filed under.
    public static let unusedTitle = "Unused"

    func isProd(_ env: String) -> Bool { thresholds.productionEnvironments.contains(env.lowercased()) }

    /// True when one of the scope's parts (split at `:` `/` `-` `_` `.`) names a production environment.
    func isProdScope(_ scope: String) -> Bool {
        // The common case, an ASCII scope, is read byte by byte (this runs for every privilege of every entity).
        var token: [UInt8] = []
        token.reserveCapacity(16)
        func matches() -> Bool {
            !token.isEmpty && thresholds.productionEnvironments.contains { $0.utf8.elementsEqual(token) }
        }
        for b in scope.utf8 {
            if b >= 0x80 {
                let s = scope.lowercased()
                return thresholds.productionEnvironments.contains { prod in
                    s.split(whereSeparator: { ":/-_.".contains($0) }).contains { $0 == prod }
                }
            }
            switch b {
            case UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                if matches() { return true }
                token.removeAll(keepingCapacity: true)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): token.append(b + 32)
            default: token.append(b)
            }
        }
        return matches()
    }

    func isBroadScope(_ scope: String) -> Bool {
        let s = scope.lowercased()
        if thresholds.broadOAuthScopes.contains(s) { return true }
        let tail = s.split(whereSeparator: { $0 == "/" }).last.map(String.init) ?? s
        return thresholds.broadOAuthScopes.contains(tail)
    }
}

/// What each rule says whatever the entity, made once and shared by every finding of its kind.
enum Texts {
    static let shadowApp = Finding.Text(
        rule: "APP-SHADOW", title: "Shadow app",
        remediation: "Review it: sanction and bring it under SSO/vault, or remove it and revoke its grants.")
    static let shadowAgent = Finding.Text(
        rule: "AI-SHADOW", title: "Shadow AI agent",
        remediation: "Review it: sanction and bring it under SSO/vault, or remove it and revoke its grants.")
    static let unusedNHI = Finding.Text(
        rule: "NHI1", title: RiskRules.unusedTitle, remediation: "Disable it, then delete it if nobody objects.")
    static let unusedOther = Finding.Text(
        rule: "STALE", title: RiskRules.unusedTitle, remediation: "Disable it, then delete it if nobody objects.")
    static let t0 = Finding.Text(
        rule: "NHI1", title: "Owner has left",
        remediation: "Assign a new owner or decommission it and revoke its credentials.")
    static let t1 = Finding.Text(
        rule: "NHI1", title: "No owner",
        remediation: "Assign an owner who can answer for its access, or remove it.")
    static let t2 = Finding.Text(
        rule: "NHI2", title: "Secret exposed",
        remediation: "Rotate the secret now, remove it from where it was found, and move it to a secrets manager.")
    static let t3 = Finding.Text(
        rule: "NHI3", title: "Vulnerable third party",
        remediation: "Review the vendor's advisory, rotate the credentials it holds and narrow its scopes.")
    static let t4 = Finding.Text(
        rule: "NHI3", title: "Third-party app with write access",
        remediation: "Review what the app needs; reduce its permissions or limit it to selected repositories.")
    static let t5 = Finding.Text(
        rule: "NHI4", title: "Root account has access keys",
        remediation: "Delete the root access keys; use roles for automation and keep root for break-glass with MFA.")
    static let t6 = Finding.Text(
        rule: "NHI4", title: "Password without MFA",
        remediation: "Replace the password with federated or key-based auth, or enforce MFA.")
    static let t7 = Finding.Text(
        rule: "NHI4", title: "Personal token used by a machine",
        remediation: "Use an app installation, a workload identity or a scoped machine token instead.")
    static let t8 = Finding.Text(
        rule: "NHI5", title: "Overprivileged",
        remediation: "Grant least privilege: replace admin and wildcard scopes with the specific ones it uses, or time-bound access.")
    static let t9 = Finding.Text(
        rule: "NHI5", title: "Unused privileges",
        remediation: "Remove the privileges it never uses.")
    static let t10 = Finding.Text(
        rule: "NHI6", title: "Static secret in CI/CD",
        remediation: "Switch the pipeline to OIDC federation (short-lived credentials) and delete the static key.")
    static let t11 = Finding.Text(
        rule: "NHI7", title: "Token never expires",
        remediation: "Reissue it with an expiry (90 days at most), or replace it with a GitHub App.")
    static let t12 = Finding.Text(
        rule: "NHI7", title: "Long-lived secret",
        remediation: "Rotate it now and set an expiry; prefer short-lived, federated credentials.")
    static let t13 = Finding.Text(
        rule: "NHI8", title: "Crosses environments",
        remediation: "Give each environment its own identity; a non-production identity must not reach production.")
    static let t14 = Finding.Text(
        rule: "NHI8", title: "Secret shared across environments",
        remediation: "Issue a separate credential per environment.")
    static let t15 = Finding.Text(
        rule: "NHI9", title: "Credential reused",
        remediation: "Give each workload its own identity and credential.")
    static let t16 = Finding.Text(
        rule: "NHI10", title: "People use this machine identity",
        remediation: "Stop interactive use: people get their own accounts through SSO, with time-bound elevation.")
    static let t17 = Finding.Text(
        rule: "NHI5", title: "Deploy key can push",
        remediation: "Make it read-only unless the automation must push; prefer a GitHub App with narrow permissions.")
    static let t18 = Finding.Text(
        rule: "NHI5", title: "Unrestricted SSH key",
        remediation: "Restrict it with from=\"…\" and, for automation, command=\"…\"; remove it if nobody knows whose it is.")
    static let t19 = Finding.Text(
        rule: "NHI5", title: "Default service account has bindings",
        remediation: "Remove the bindings from the default account; give each workload its own service account.")
    static let t20 = Finding.Text(
        rule: "NHI6", title: "Token mounted automatically",
        remediation: "Set automountServiceAccountToken: false and mount a token only where a pod needs the API.")
    static let t21 = Finding.Text(
        rule: "DEV-ENC", title: "Disk not encrypted",
        remediation: "Turn on FileVault, BitLocker or LUKS before the device holds company data.")
    static let t22 = Finding.Text(
        rule: "DEV-OS", title: "OS out of date",
        remediation: "Upgrade the operating system to a supported version.")
    static let t23 = Finding.Text(
        rule: "DEV-OS", title: "OS out of date",
        remediation: "Install the pending OS security updates.")
    static let t24 = Finding.Text(
        rule: "DEV-LOCK", title: "No screen lock",
        remediation: "Require a screen lock after 5 minutes of inactivity.")
    static let t25 = Finding.Text(
        rule: "DEV-MDM", title: "Not managed",
        remediation: "Enrol it in MDM or block it from company resources.")
    static let t26 = Finding.Text(
        rule: "APP-SSO", title: "Not behind SSO",
        remediation: "Connect it to SSO (SAML/OIDC) and turn off local logins.")
    static let t27 = Finding.Text(
        rule: "APP-SCOPE", title: "Broad OAuth scopes",
        remediation: "Re-consent with the narrowest scopes it needs.")
}
