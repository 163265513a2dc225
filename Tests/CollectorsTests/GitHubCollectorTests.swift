import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

@Suite("GitHub collector")
struct GitHubCollectorTests {
    func file(_ text: String) throws -> String {
        let path = TestTemporary.directory.appendingPathComponent("tg-gh-\(UUID()).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let pats = """
        [
          {"id": 25381, "owner": {"login": "octo-deployer", "id": 1, "type": "User", "site_admin": false},
           "repository_selection": "all", \
        "repositories_url": "https://api.github.com/organizations/652551/personal-access-tokens/25381/repositories",
           "permissions": {"organization": {"members": "read"}, "repository": {"contents": "write", "metadata": "read"}},
           "access_granted_at": "2024-02-01T10:00:00Z", "token_id": 98716, "token_name": "release-bot", "token_expired": false,
           "token_expires_at": null, "token_last_used_at": "2024-06-01T09:00:00Z"},
          {"id": 25382, "owner": {"login": "priya", "id": 2, "type": "User", "site_admin": false},
           "repository_selection": "subset", "permissions": {"repository": {"issues": "read"}},
           "access_granted_at": "2026-11-01T10:00:00Z", "token_id": 98717, "token_name": "triage", "token_expired": false,
           "token_expires_at": "2027-01-30T10:00:00Z", "token_last_used_at": "2026-11-28T09:00:00Z"},
          {"id": 25383, "owner": {"login": "old", "id": 3, "type": "User", "site_admin": false},
           "repository_selection": "all", "permissions": {}, "access_granted_at": "2023-01-01T10:00:00Z", "token_id": 1,
           "token_name": "gone", "token_expired": true, "token_expires_at": "2023-02-01T10:00:00Z", "token_last_used_at": null}
        ]
        """
    static let keys = """
        {"acme/infra": [{"id": 1, "key": "ssh-ed25519 AAAAC3Nza", \
        "url": "https://api.github.com/repos/acme/infra/keys/1", "title": "terraform-ci",
          "verified": true, "created_at": "2022-01-01T00:00:00Z", "read_only": false, \
        "added_by": "james", "last_used": "2024-01-01T00:00:00Z"}],
         "acme/docs": [{"id": 2, "key": "ssh-ed25519 AAAAC3Nzb", \
        "url": "https://api.github.com/repos/acme/docs/keys/2", "title": "docs-sync",
          "verified": true, "created_at": "2026-10-01T00:00:00Z", "read_only": true, \
        "added_by": "priya", "last_used": "2026-11-28T00:00:00Z"}]}
        """
    static let installs = """
        {"total_count": 2, "installations": [
          {"id": 1, "account": {"login": "acme"}, "app_slug": "some-ci-vendor", "app_id": 10, "target_type": "Organization",
           "permissions": {"contents": "write", "administration": "write", "metadata": "read"}, "events": ["push"],
           "repository_selection": "all", "created_at": "2023-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "suspended_at": null},
          {"id": 2, "account": {"login": "acme"}, "app_slug": "readonly-dashboard", "app_id": 11, "target_type": "Organization",
           "permissions": {"metadata": "read"}, "events": [], "repository_selection": "selected", "created_at": "2023-01-01T00:00:00Z",
           "updated_at": "2026-01-01T00:00:00Z", "suspended_at": null}]}
        """

    @Test("tokens, deploy keys and app installations become entities with the findings the issue names")
    func parses() async throws {
        let c = GitHubCollector(
            org: "acme", personalAccessTokens: try file(Self.pats), deployKeys: try file(Self.keys), installations: try file(Self.installs))
        let r = try await c.collect(CollectContext(now: t0Real, run: 0))
        #expect(r.entities.count == 6, "the expired token is left out")
        let snap = Snapshot.build(version: 1, now: t0Real, slices: [.init(source: "gh", entities: r.entities)])
        let bot = try #require(snap["github:acme/pat/25381"])
        #expect(bot.findings.contains { $0.rule == "NHI7" && $0.title == "Token never expires" })
        #expect(bot.findings.contains { $0.rule == "NHI1" && $0.title == "Unused" })
        #expect(bot.entity.privileges.contains(Privilege(scope: "github:acme:repository:contents", level: .write)))
        let triage = try #require(snap["github:acme/pat/25382"])
        #expect(!triage.findings.contains { $0.rule == "NHI7" })
        let infra = try #require(snap["github:acme/infra/deploy-key/1"])
        #expect(infra.entity.privileges == [Privilege(scope: "repo:acme/infra", level: .write)])
        #expect(infra.findings.contains { $0.rule == "NHI1" && $0.title == "Unused" })
        let vendor = try #require(snap["github:acme/app/some-ci-vendor"])
        #expect(vendor.findings.contains { $0.rule == "NHI3" && $0.severity == .high })
        #expect(!(snap["github:acme/app/readonly-dashboard"]?.findings.contains { $0.rule == "NHI3" } ?? true))
        try await checkConformance { c }
    }

    @Test("an export in the wrong shape is refused, naming the file")
    func wrongShape() async throws {
        let path = try file(#"{"not": "an array"}"#)
        do {
            _ = try await GitHubCollector(org: "acme", personalAccessTokens: path).collect(CollectContext(now: t0Real, run: 0))
            Issue.record("accepted the wrong shape")
        } catch let e as CollectorError {
            #expect(e.description.hasPrefix("\(path): not the GitHub API's JSON"))
        }
    }
}
