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
        struct Use { var entityIDs: [String]; var environments: Set<String> }
        var byFingerprint: [String: Use] = [:]

        /// Only fingerprints held by more than one entity are kept: a first pass notes each fingerprint's first
        /// holder (one small table entry, no arrays or sets), a second builds the uses of the shared ones.
        public init(_ entities: some Collection<Entity>) {
            let all = Array(entities)
            var first: [String: Int32] = [:]
            first.reserveCapacity(all.count)
            var shared: [String: Int32] = [:]  // fingerprint -> first holder, for those held by two or more
            for (i, e) in all.enumerated() {
                for c in e.credentials {
                    guard let fp = c.fingerprint, !fp.isEmpty else { continue }
                    if let holder = first[fp] {
                        if holder != Int32(i) { shared[fp] = holder }
                    } else {
                        first[fp] = Int32(i)
                    }
                }
            }
            first = [:]
            guard !shared.isEmpty else { return }
            let from = Int(shared.values.min()!)
            for i in from..<all.count {
                let e = all[i]
                for c in e.credentials {
                    guard let fp = c.fingerprint, shared[fp] != nil else { continue }
                    var use = byFingerprint[fp] ?? Use(entityIDs: [], environments: [])
                    if use.entityIDs.last != e.id { use.entityIDs.append(e.id) }
                    if let env = e.environment?.lowercased() { use.environments.insert(env) }
                    byFingerprint[fp] = use
                }
            }
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
            out.append(Finding(
                rule: "NHI1", title: "Owner has left", severity: .high,
                evidence: "owner \(owner.name) has departed; the identity is still \(e.credentials.isEmpty ? "present" : "holding \(e.credentials.count) credential\(e.credentials.count == 1 ? "" : "s")")",
                remediation: "Assign a new owner or decommission it and revoke its credentials."))
        } else if e.owner == nil, e.population != .device {
            out.append(Finding(
                rule: "NHI1", title: "No owner", severity: .medium,
                evidence: "no accountable owner recorded",
                remediation: "Assign an owner who can answer for its access, or remove it."))
        }

        // NHI2 secret leakage
        for c in e.credentials where !c.exposures.isEmpty {
            out.append(Finding(
                rule: "NHI2", title: "Secret exposed", severity: .critical,
                evidence: "\(c.kind) \(c.id) exposed: \(c.exposures.joined(separator: "; "))",
                remediation: "Rotate the secret now, remove it from where it was found, and move it to a secrets manager."))
        }

        // NHI3 vulnerable third-party NHI: a known advisory, or a third party holding write or admin access
        if let advisory = e.signals.vendorAdvisory, !advisory.isEmpty {
            out.append(Finding(
                rule: "NHI3", title: "Vulnerable third party", severity: .high,
                evidence: "\(e.signals.vendor ?? "vendor") integration: \(advisory)",
                remediation: "Review the vendor's advisory, rotate the credentials it holds and narrow its scopes."))
        } else if let vendor = e.signals.vendor, e.kind == "github_app", let p = e.privileges.max(by: { $0.level < $1.level }), p.level >= .write {
            out.append(Finding(
                rule: "NHI3", title: "Third-party app with write access", severity: p.level == .admin ? .high : .medium,
                evidence: "\(vendor) holds \(e.privileges.filter { $0.level >= .write }.prefix(3).map { "\($0.scope) (\($0.level.rawValue))" }.joined(separator: ", "))",
                remediation: "Review what the app needs; reduce its permissions or limit it to selected repositories."))
        }

        // NHI4 insecure authentication; a cloud root account with access keys is the worst case of it
        if e.kind == "root_account", let key = e.credentials.first(where: { $0.kind == .accessKey }) {
            out.append(Finding(
                rule: "NHI4", title: "Root account has access keys", severity: .critical,
                evidence: "the root account holds active \(key.id)\(e.signals.mfa == false ? " and has no MFA" : "")",
                remediation: "Delete the root access keys; use roles for automation and keep root for break-glass with MFA."))
        }
        for c in e.credentials where c.kind == .password {
            if e.signals.mfa != true {
                out.append(Finding(
                    rule: "NHI4", title: "Password without MFA", severity: .high,
                    evidence: "authenticates with a password\(e.signals.mfa == false ? " and MFA is off" : ", no MFA recorded")",
                    remediation: "Replace the password with federated or key-based auth, or enforce MFA."))
                break
            }
        }
        if isNHI, let pat = e.credentials.first(where: { $0.kind == .personalAccessToken }) {
            out.append(Finding(
                rule: "NHI4", title: "Personal token used by a machine", severity: .medium,
                evidence: "authenticates with personal access token \(pat.id), tied to a person",
                remediation: "Use an app installation, a workload identity or a scoped machine token instead."))
        }

        // NHI5 overprivileged
        if isNHI || e.population == .app {
            let broad = e.privileges.filter { $0.level == .admin || $0.scope == "*" || $0.scope.hasSuffix(":*") || $0.scope.hasSuffix("/*") }
            let unused = e.privileges.filter { $0.used == false && $0.level >= .write }
            if !broad.isEmpty {
                let list = broad.prefix(3).map { "\($0.scope) (\($0.level.rawValue))" }.joined(separator: ", ")
                out.append(Finding(
                    rule: "NHI5", title: "Overprivileged", severity: e.environment.map(isProd) == true || broad.contains { isProdScope($0.scope) } ? .critical : .high,
                    evidence: "holds \(list)\(broad.count > 3 ? " and \(broad.count - 3) more" : "")",
                    remediation: "Grant least privilege: replace admin and wildcard scopes with the specific ones it uses, or time-bound access."))
            } else if !unused.isEmpty {
                out.append(Finding(
                    rule: "NHI5", title: "Unused privileges", severity: .medium,
                    evidence: "\(unused.count) write/admin privilege\(unused.count == 1 ? "" : "s") never used: \(unused.prefix(3).map(\.scope).joined(separator: ", "))",
                    remediation: "Remove the privileges it never uses."))
            }
        }

        // NHI6 insecure cloud deployment configuration: static credentials in CI/CD
        if e.signals.ciPipeline == true,
           let c = e.credentials.first(where: { [.accessKey, .apiKey, .token, .personalAccessToken, .clientSecret].contains($0.kind) }) {
            out.append(Finding(
                rule: "NHI6", title: "Static secret in CI/CD", severity: .high,
                evidence: "pipeline authenticates with static \(c.kind) \(c.id)",
                remediation: "Switch the pipeline to OIDC federation (short-lived credentials) and delete the static key."))
        }

        // NHI7 long-lived secrets; a personal token that never expires is one by definition
        for c in e.credentials where c.kind == .personalAccessToken && c.expiresAt == nil && e.kind == "github_fine_grained_pat" {
            out.append(Finding(
                rule: "NHI7", title: "Token never expires", severity: .medium,
                evidence: "personal access token \(c.id) has no expiry",
                remediation: "Reissue it with an expiry (90 days at most), or replace it with a GitHub App."))
        }
        for c in e.credentials where c.kind.isStaticSecret {
            guard let created = c.createdAt else { continue }
            let age = now.timeIntervalSince(created) / day
            guard age > thresholds.keyMaxAgeDays else { continue }
            if let exp = c.expiresAt, exp <= now { continue }
            let never = c.expiresAt == nil ? ", never rotated, no expiry" : ", never rotated"
            out.append(Finding(
                rule: "NHI7", title: "Long-lived secret", severity: age > thresholds.keyMaxAgeDays * 4 ? .high : .medium,
                evidence: "\(c.kind) \(c.id) \(Int(age)) days old\(never) (limit \(Int(thresholds.keyMaxAgeDays)) days)",
                remediation: "Rotate it now and set an expiry; prefer short-lived, federated credentials."))
        }

        // NHI8 environment isolation
        if let env = e.environment?.lowercased(), !isProd(env) {
            if let p = e.privileges.first(where: { isProdScope($0.scope) }) {
                out.append(Finding(
                    rule: "NHI8", title: "Crosses environments", severity: .high,
                    evidence: "\(env) identity holds production scope \(p.scope)",
                    remediation: "Give each environment its own identity; a non-production identity must not reach production."))
            }
        }
        for c in e.credentials {
            guard let fp = c.fingerprint, let use = cross.byFingerprint[fp] else { continue }
            if use.environments.contains(where: isProd), use.environments.contains(where: { !isProd($0) }) {
                out.append(Finding(
                    rule: "NHI8", title: "Secret shared across environments", severity: .high,
                    evidence: "\(c.kind) \(c.id) is used in \(use.environments.sorted().joined(separator: " and "))",
                    remediation: "Issue a separate credential per environment."))
            }
            // NHI9 reuse
            let others = use.entityIDs.filter { $0 != e.id }
            out.append(Finding(
                rule: "NHI9", title: "Credential reused", severity: .medium,
                evidence: "\(c.kind) \(c.id) is also used by \(others.prefix(3).joined(separator: ", "))\(others.count > 3 ? " and \(others.count - 3) more" : "")",
                remediation: "Give each workload its own identity and credential."))
        }

        // NHI10 human use of NHI
        if let how = e.signals.humanUse, !how.isEmpty, isNHI {
            out.append(Finding(
                rule: "NHI10", title: "People use this machine identity", severity: .high,
                evidence: how,
                remediation: "Stop interactive use: people get their own accounts through SSO, with time-bound elevation."))
        }

        // A deploy key that can push: anyone holding the private key can change the repository
        if e.kind == "deploy_key", let p = e.privileges.first(where: { $0.level >= .write }) {
            out.append(Finding(
                rule: "NHI5", title: "Deploy key can push", severity: .medium,
                evidence: "deploy key with write access to \(p.scope)",
                remediation: "Make it read-only unless the automation must push; prefer a GitHub App with narrow permissions."))
        }

        // SSH keys that can log in from anywhere and run anything
        if e.kind == "ssh_authorized_key", e.attributes["restricted"] == "false" {
            out.append(Finding(
                rule: "NHI5", title: "Unrestricted SSH key", severity: .medium,
                evidence: "\(e.attributes["file"] ?? "authorized_keys") line \(e.attributes["line"] ?? "?") has no from= or command= restriction",
                remediation: "Restrict it with from=\"…\" and, for automation, command=\"…\"; remove it if nobody knows whose it is."))
        }

        // Kubernetes: the namespace's default account with bindings, and tokens mounted into pods that don't need them
        if e.kind == "k8s_service_account" {
            if e.name == "default", !e.privileges.isEmpty {
                out.append(Finding(
                    rule: "NHI5", title: "Default service account has bindings", severity: .high,
                    evidence: "every pod in \(e.attributes["namespace"] ?? "the namespace") without its own account gets \(e.privileges.map(\.scope).prefix(2).joined(separator: ", "))",
                    remediation: "Remove the bindings from the default account; give each workload its own service account."))
            }
            if e.attributes["automount_token"] == "true", let p = e.privileges.first(where: { $0.level >= .write }) {
                out.append(Finding(
                    rule: "NHI6", title: "Token mounted automatically", severity: .medium,
                    evidence: "automountServiceAccountToken is on for an account holding \(p.scope)",
                    remediation: "Set automountServiceAccountToken: false and mount a token only where a pod needs the API."))
            }
        }

        // Device posture
        if e.population == .device {
            if let p = e.posture {
                if p.diskEncrypted == false {
                    out.append(Finding(
                        rule: "DEV-ENC", title: "Disk not encrypted", severity: .high,
                        evidence: "full-disk encryption is off",
                        remediation: "Turn on FileVault, BitLocker or LUKS before the device holds company data."))
                }
                if let why = p.osOutdated {
                    out.append(Finding(
                        rule: "DEV-OS", title: "OS out of date", severity: .high, evidence: why,
                        remediation: "Upgrade the operating system to a supported version."))
                } else if let patched = p.osPatchedAt {
                    let age = now.timeIntervalSince(patched) / day
                    if age > thresholds.osPatchMaxAgeDays {
                        out.append(Finding(
                            rule: "DEV-OS", title: "OS out of date", severity: age > thresholds.osPatchMaxAgeDays * 3 ? .high : .medium,
                            evidence: "\([p.os, p.osVersion].compactMap { $0 }.joined(separator: " ")) last patched \(Int(age)) days ago (limit \(Int(thresholds.osPatchMaxAgeDays)))",
                            remediation: "Install the pending OS security updates."))
                    }
                }
                if p.screenLock == false {
                    out.append(Finding(
                        rule: "DEV-LOCK", title: "No screen lock", severity: .medium,
                        evidence: "screen lock is disabled",
                        remediation: "Require a screen lock after 5 minutes of inactivity."))
                }
            }
            if e.unmanaged {
                out.append(Finding(
                    rule: "DEV-MDM", title: "Not managed", severity: .medium,
                    evidence: "not enrolled in MDM, so its posture can't be enforced",
                    remediation: "Enrol it in MDM or block it from company resources."))
            }
        }

        // Apps and agents: shadow IT / shadow AI, SSO, OAuth scopes
        if e.signals.sanctioned == false, e.population == .app || e.population == .agent {
            out.append(Finding(
                rule: e.population == .app ? "APP-SHADOW" : "AI-SHADOW",
                title: e.population == .app ? "Shadow app" : "Shadow AI agent", severity: .high,
                evidence: "in use without approval\(e.owner.map { " (found with \($0.name))" } ?? "")",
                remediation: "Review it: sanction and bring it under SSO/vault, or remove it and revoke its grants."))
        }
        if e.population == .app, !e.coverage.contains(.sso), e.kind != "github_app" {  // apps act as themselves, not through SSO
            out.append(Finding(
                rule: "APP-SSO", title: "Not behind SSO", severity: .medium,
                evidence: "sign-in is not through the identity provider\(e.credentials.contains { $0.kind == .password } ? "; local passwords in use" : "")",
                remediation: "Connect it to SSO (SAML/OIDC) and turn off local logins."))
        }
        if let scopes = e.signals.oauthScopes, e.population == .app || e.population == .agent {
            let broad = scopes.filter(isBroadScope)
            if !broad.isEmpty {
                out.append(Finding(
                    rule: "APP-SCOPE", title: "Broad OAuth scopes", severity: broad.count > 1 ? .high : .medium,
                    evidence: "granted \(broad.prefix(4).joined(separator: ", "))",
                    remediation: "Re-consent with the narrowest scopes it needs."))
            }
        }

        // Stale identities
        if e.population != .device {
            let last = e.lastUsedAt ?? e.credentials.compactMap(\.lastUsedAt).max()
            if let last {
                let idle = now.timeIntervalSince(last) / day
                if idle > thresholds.staleAfterDays {
                    out.append(Finding(
                        // An unused machine identity is one nobody offboarded (NHI1); an unused app is just stale.
                        rule: isNHI ? "NHI1" : "STALE", title: Self.unusedTitle, severity: .low,
                        evidence: "last used \(Int(idle)) days ago",
                        remediation: "Disable it, then delete it if nobody objects."))
                }
            }
        }

        out.sort { $0.severity > $1.severity }
    }

    /// 0–100: the worst finding sets the base (critical 70, high 45, medium 20, low 5), each further finding
    /// adds 5 (at most 25), and being unmanaged adds 5.
    public static func score(_ findings: [Finding], unmanaged: Bool) -> Int {
        guard let worst = findings.map(\.severity).max() else { return unmanaged ? 5 : 0 }
        let base = switch worst {
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
