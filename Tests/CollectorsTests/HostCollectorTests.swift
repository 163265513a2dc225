import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Inventory

/// Builds a small fake host: homes with AI client configs, rc files, authorized_keys, and a passwd file.
func makeFakeHost() throws -> (root: URL, secrets: [String]) {
    let root = TestTemporary.directory.appendingPathComponent("tg-host-\(UUID())")
    let secrets = (1...6).map { "TGSECRET-DO-NOT-SHOW-90\(String(format: "%02d", $0))" }
    func put(_ rel: String, _ text: String) throws {
        let url = root.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    try put(
        "home/alice/.cursor/mcp.json",
        """
        {"mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
          "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "\(secrets[0])"}},
         "postgres": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres", "postgresql://localhost/app"]}}}
        """)
    try put(
        "home/alice/.claude.json",
        """
        {"numStartups": 12, "mcpServers": {"sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp", \
        "headers": {"Authorization": "Bearer \(secrets[1])"}}},
         "projects": {"/srv/app": {"mcpServers": {"linear": {"command": "npx", "args": ["mcp-remote", "https://mcp.linear.app/sse"]}}}}}
        """)
    try put(
        "home/bob/.vscode/mcp.json",
        """
        // VS Code workspace servers
        {"inputs": [{"type": "promptString", "id": "gh-token", "password": true}],
         "servers": {"github": {"type": "stdio", "command": "docker", "args": ["run", "-i", "ghcr.io/github/github-mcp-server"],
           "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${input:gh-token}", "OTHER": "${env:OTHER_TOKEN}"}}}}
        """)
    try put("home/bob/.codeium/windsurf/mcp_config.json", #"{"mcpServers": {"jira": {"serverUrl": "https://mcp.atlassian.com/v1/sse"}}}"#)
    try put("home/carol/.gemini/settings.json", #"{"theme": "Default", "mcpServers": {"gcloud": {"command": "gcloud-mcp"}}}"#)
    try put("home/carol/.env", "OPENAI_API_KEY=\(secrets[2])\nDEBUG=1\n")
    try put(
        "home/carol/.bashrc",
        "alias ll='ls -l'\nexport ANTHROPIC_API_KEY=\"\(secrets[3])\"\n"
            + "# export HF_TOKEN=\(secrets[4])\nexport GEMINI_API_KEY=$GEMINI_FROM_VAULT\n"
    )
    try put(
        "home/alice/.ssh/authorized_keys",
        """
        from="10.0.0.0/8",command="/usr/local/bin/backup" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEB backup@jump
        ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEC alice@laptop
        ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAB deploy-bot
        """)
    try put(
        "etc/passwd",
        """
        root:x:0:0:root:/root:/bin/bash
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        deploy:x:998:998:Deploy user:/var/lib/deploy:/bin/bash
        backup:x:34:34:backup:/var/backups:/bin/sh
        alice:x:1000:1000:Alice:/home/alice:/bin/bash
        postgres:x:114:120:PostgreSQL:/var/lib/postgresql:/bin/bash
        """)
    try put("home/dave/.config/Claude/claude_desktop_config.json", "{ broken json")
    _ = secrets[5]
    return (root, secrets)
}

@Suite("Host collector")
struct HostCollectorTests {
    @Test("agents from every client's MCP config, AI keys, SSH keys, local service accounts; secrets only as fingerprints")
    func collects() async throws {
        let (root, secrets) = try makeFakeHost()
        let c = HostCollector(
            homeRoot: root.appendingPathComponent("home").path, includeRootHome: false,
            passwd: root.appendingPathComponent("etc/passwd").path, hostName: "jump-01")
        let r = try await c.collect(CollectContext(now: t0Real, run: 0))
        let byKind = Dictionary(grouping: r.entities, by: \.kind)
        let mcp = (byKind["mcp_server"] ?? []).map(\.name).sorted()
        #expect(
            mcp == [
                "claude-code-mcp-linear-alice", "claude-code-mcp-sentry-alice", "cursor-mcp-github-alice", "cursor-mcp-postgres-alice",
                "gemini-cli-mcp-gcloud-carol", "vscode-mcp-github-bob", "windsurf-mcp-jira-bob",
            ])
        let github = try #require(byKind["mcp_server"]?.first { $0.name == "cursor-mcp-github-alice" })
        #expect(github.credentials.count == 1)
        #expect(github.credentials[0].fingerprint?.hasPrefix("SHA256:") == true)
        #expect(github.credentials[0].exposures == ["plaintext in ~alice/.cursor/mcp.json"])
        #expect(github.owner?.name == "alice")
        let vscode = try #require(byKind["mcp_server"]?.first { $0.name == "vscode-mcp-github-bob" })
        #expect(vscode.credentials.isEmpty, "${input:…} and ${env:…} are references, not secrets")
        #expect(byKind["mcp_server"]?.first { $0.name == "windsurf-mcp-jira-bob" }?.attributes["url"] == "https://mcp.atlassian.com/v1/sse")
        #expect(
            (byKind["ai_api_key"] ?? []).map(\.name).sorted() == [
                "ANTHROPIC_API_KEY (carol)", "HF_TOKEN (carol)", "OPENAI_API_KEY (carol)",
            ])
        #expect(
            byKind["ai_api_key"]?.first { $0.name == "HF_TOKEN (carol)" }?.credentials.first?.exposures.first?.hasSuffix("(commented out)")
                == true)
        let ssh = byKind["ssh_authorized_key"] ?? []
        #expect(ssh.count == 3)
        #expect(ssh.filter { $0.attributes["restricted"] == "false" }.count == 2)
        #expect((byKind["local_account"] ?? []).map(\.name).sorted() == ["backup", "deploy", "postgres"])
        #expect(r.warnings.contains { $0.contains("dave/.config/Claude/claude_desktop_config.json: not valid JSON") })
        let snap = Snapshot.build(version: 1, now: t0Real, slices: [.init(source: "host", entities: r.entities)])
        #expect(snap[github.id]?.findings.contains { $0.rule == "NHI2" } == true)
        #expect(
            snap[ssh.first { $0.attributes["restricted"] == "false" }!.id]?.findings.contains { $0.title == "Unrestricted SSH key" } == true
        )
        // No secret anywhere in what the collector produced.
        let json = String(decoding: try SnapshotDocument.encoder().encode(SnapshotDocument(snap)), as: UTF8.self)
        for s in secrets { #expect(!json.contains(s), "secret \(s) leaked into the snapshot") }
        for w in r.warnings { for s in secrets { #expect(!w.contains(s)) } }
        try await checkConformance { c }
    }

    @Test("secret detection works on whole words and redacts URLs and flags")
    func secretHeuristics() {
        #expect(!SecretRedaction.looksSecret(name: "MEMORY_FILE_PATH", value: "/home/bob/notes/memory.json"))
        #expect(SecretRedaction.looksSecret(name: "GITHUB_TOKEN", value: "abcdefgh12345"))
        #expect(SecretRedaction.looksSecret(name: "X", value: "ghp_0123456789abcdef0123456789abcdef0123"))
        #expect(!SecretRedaction.looksSecret(name: "API_KEY", value: "${env:API_KEY}"))
        #expect(!SecretRedaction.hasSecretWord("--author"))
        #expect(!SecretRedaction.hasSecretWord("--passthrough"))
        #expect(SecretRedaction.hasSecretWord("--api-key"))
        let (url, found) = SecretRedaction.redactURL("postgresql://ro:s3cr3t-pw@db:5432/app?sslmode=require&token=abc123")
        #expect(url == "postgresql://ro:***@db:5432/app?sslmode=require&token=***")
        #expect(found.map(\.secret) == ["s3cr3t-pw", "abc123"])
        #expect(SecretRedaction.redactArguments(["x", "--token=xyz987654"]).argv == ["x", "--token=***"])
        #expect(SecretRedaction.redactURL("https://example.com/?design=blue").found.isEmpty)
    }
}
