import Foundation
import Inventory

/// An organisation's non-human access on GitHub, from exported API responses (offline):
/// - `personal_access_tokens`: the array of `GET /orgs/{org}/personal-access-tokens` (fine-grained token grants);
/// - `deploy_keys`: an object mapping `owner/repo` to the array of `GET /repos/{owner}/{repo}/keys`;
/// - `installations`: the object of `GET /orgs/{org}/installations` (GitHub Apps).
public final class GitHubCollector: Collector {
    public let org: String
    public let personalAccessTokens: String?
    public let deployKeys: String?
    public let installations: String?
    let source: String

    public init(
        org: String, personalAccessTokens: String? = nil, deployKeys: String? = nil, installations: String? = nil, source: String = "github"
    ) {
        self.org = org
        self.personalAccessTokens = personalAccessTokens
        self.deployKeys = deployKeys
        self.installations = installations
        self.source = source
    }

    struct PAT: Decodable {
        struct Owner: Decodable { var login: String }
        var id: Int
        var owner: Owner
        var repository_selection: String?
        var permissions: [String: [String: String]]?
        var access_granted_at: String?
        var token_id: Int?
        var token_name: String?
        var token_expired: Bool?
        var token_expires_at: String?
        var token_last_used_at: String?
    }

    struct DeployKey: Decodable {
        var id: Int
        var title: String?
        var read_only: Bool?
        var created_at: String?
        var last_used: String?
        var added_by: String?
        var verified: Bool?
    }

    struct Installations: Decodable {
        struct Installation: Decodable {
            struct Account: Decodable { var login: String? }
            var id: Int
            var app_slug: String
            var app_id: Int?
            var account: Account?
            var permissions: [String: String]?
            var repository_selection: String?
            var created_at: String?
            var updated_at: String?
            var suspended_at: String?
        }
        var total_count: Int?
        var installations: [Installation]
    }

    /// The thread its files are read on: a hung mount holds it, never a pool thread.
    let lane = BlockingLane("trustgap-github")

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        return try await lane.run("reading the GitHub exports of \(org)") { stop in try self.read(context, stop: stop) }
    }

    /// The run itself, on the lane's thread; it stops at the next file once the run is over.
    func read(_ context: CollectContext, stop: BlockingStop) throws -> CollectorReport {
        guard personalAccessTokens != nil || deployKeys != nil || installations != nil else {
            throw CollectorError.failed(
                "the github collector has no export to read: give personal_access_tokens, deploy_keys or installations")
        }
        var entities: [Entity] = []
        let now = context.now
        func load<T: Decodable>(_ path: String, as: T.Type) throws -> T {
            try stop.check()
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CollectorError.failed("\(path): cannot read the file")
            }
            do { return try JSONDecoder().decode(T.self, from: data) } catch {
                throw CollectorError.failed("\(path): not the GitHub API's JSON for this export: \(DecodingProblem.describe(error))")
            }
        }
        if let path = personalAccessTokens {
            for t in try load(path, as: [PAT].self) where t.token_expired != true {
                var privileges: [Privilege] = []
                for (area, perms) in (t.permissions ?? [:]).sorted(by: { $0.key < $1.key }) {
                    for (name, access) in perms.sorted(by: { $0.key < $1.key }) {
                        privileges.append(Privilege(scope: "github:\(org):\(area):\(name)", level: Self.level(name, access)))
                    }
                }
                let lastUsed = t.token_last_used_at.flatMap(ISO8601.parse)
                entities.append(
                    Entity(
                        id: "github:\(org)/pat/\(t.id)", population: .serviceAccount, kind: "github_fine_grained_pat",
                        name: t.token_name ?? "token \(t.token_id ?? t.id)", owner: Owner(name: t.owner.login, status: .unknown),
                        privileges: privileges,
                        credentials: [
                            Credential(
                                id: "pat-\(t.token_id ?? t.id)", kind: .personalAccessToken,
                                createdAt: t.access_granted_at.flatMap(ISO8601.parse), lastUsedAt: lastUsed,
                                expiresAt: t.token_expires_at.flatMap(ISO8601.parse))
                        ],
                        firstSeen: t.access_granted_at.flatMap(ISO8601.parse), lastSeen: now, lastUsedAt: lastUsed, sources: [source],
                        attributes: ["repository_selection": t.repository_selection ?? "-", "expires": t.token_expires_at ?? "never"]))
            }
        }
        if let path = deployKeys {
            for (repo, keys) in try load(path, as: [String: [DeployKey]].self).sorted(by: { $0.key < $1.key }) {
                for k in keys {
                    let lastUsed = k.last_used.flatMap(ISO8601.parse)
                    entities.append(
                        Entity(
                            id: "github:\(repo)/deploy-key/\(k.id)", population: .serviceAccount, kind: "deploy_key",
                            name: k.title ?? "deploy key \(k.id)", owner: k.added_by.map { Owner(name: $0, status: .unknown) },
                            privileges: [Privilege(scope: "repo:\(repo)", level: k.read_only == false ? .write : .read)],
                            credentials: [
                                Credential(
                                    id: "deploy-key-\(k.id)", kind: .deployKey, createdAt: k.created_at.flatMap(ISO8601.parse),
                                    lastUsedAt: lastUsed)
                            ],
                            firstSeen: k.created_at.flatMap(ISO8601.parse), lastSeen: now, lastUsedAt: lastUsed, sources: [source],
                            attributes: ["repository": repo, "read_only": k.read_only == false ? "false" : "true"]))
                }
            }
        }
        if let path = installations {
            for i in try load(path, as: Installations.self).installations where i.suspended_at == nil {
                let privileges = (i.permissions ?? [:]).sorted(by: { $0.key < $1.key }).map {
                    Privilege(scope: "github:\(org):\($0.key)", level: Self.level($0.key, $0.value))
                }
                entities.append(
                    Entity(
                        id: "github:\(org)/app/\(i.app_slug)", population: .app, kind: "github_app", name: i.app_slug,
                        coverage: [], privileges: privileges, firstSeen: i.created_at.flatMap(ISO8601.parse), lastSeen: now,
                        sources: [source],
                        // An app named after the organisation is its own; any other is a third party.
                        signals: Signals(vendor: i.app_slug.lowercased().hasPrefix(org.lowercased()) ? nil : i.app_slug),
                        attributes: ["installation_id": "\(i.id)", "repository_selection": i.repository_selection ?? "-"]))
            }
        }
        return CollectorReport(entities: entities)
    }

    /// GitHub's `read`/`write`/`admin` per permission; write on administration or members is admin-grade.
    static func level(_ permission: String, _ access: String) -> PrivilegeLevel {
        switch access.lowercased() {
        case "admin": return .admin
        case "write":
            return ["administration", "members", "organization_administration", "secrets", "organization_secrets", "workflows"].contains(
                permission) ? .admin : .write
        default: return .read
        }
    }
}
