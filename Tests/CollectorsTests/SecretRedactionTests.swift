import Foundation
import Testing

@testable import Collectors

/// Fake tokens are put together at run time, so no literal token sits in the source for secret scanners to flag.
private func fake(_ a: String, _ b: String) -> String { a + b }

private let ghp = fake("gh", "p_FAKEfake0123456789FAKEfake0123456789")
private let skAnt = fake("sk-", "ant-api03-FAKEfake0123456789FAKEfake0123456789-abcDEF_x")
private let jwt = fake(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkZha2UifQ.c2lnbmF0dXJlLWZha2UtMDEyMzQ1Njc4OQ")
/// 20 random-looking characters: upper and lower case and digits.
private let random20 = "Zq8xR2vLp0TmW5nKc7Yb"

/// Every secret is gone from the output and listed in `found`; redacting the output again changes and finds nothing.
private func expectArguments(
    _ argv: [String], hide secrets: [String], as expected: [String]? = nil, password: Bool? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let r = SecretRedaction.redactArguments(argv)
    let joined = r.argv.joined(separator: " ")
    for s in secrets {
        #expect(!joined.contains(s), "secret \(s) leaked: \(r.argv)", sourceLocation: sourceLocation)
        #expect(r.found.contains { $0.secret == s }, "\(s) not found: \(r.found)", sourceLocation: sourceLocation)
    }
    if let expected { #expect(r.argv == expected, sourceLocation: sourceLocation) }
    if let password { #expect(r.found.allSatisfy { $0.isPassword == password }, "\(r.found)", sourceLocation: sourceLocation) }
    let again = SecretRedaction.redactArguments(r.argv)
    #expect(again.argv == r.argv && again.found.isEmpty, "not idempotent: \(again)", sourceLocation: sourceLocation)
}

private func expectURL(
    _ url: String, hide secrets: [String], as expected: String? = nil, password: Bool? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let r = SecretRedaction.redactURL(url)
    for s in secrets {
        #expect(!r.url.contains(s), "secret \(s) leaked: \(r.url)", sourceLocation: sourceLocation)
        #expect(r.found.contains { $0.secret == s }, "\(s) not found: \(r.found)", sourceLocation: sourceLocation)
    }
    if let expected { #expect(r.url == expected, sourceLocation: sourceLocation) }
    if let password { #expect(r.found.allSatisfy { $0.isPassword == password }, "\(r.found)", sourceLocation: sourceLocation) }
    let again = SecretRedaction.redactURL(r.url)
    #expect(again.url == r.url && again.found.isEmpty, "not idempotent: \(again)", sourceLocation: sourceLocation)
    // The same URL as an MCP server's argument, and inside free text.
    let arg = SecretRedaction.redactArguments(["npx", "mcp-remote", url]).argv[2]
    let text = SecretRedaction.redactText("see \(url) now").text
    for s in secrets {
        #expect(!arg.contains(s), "argument form leaked \(s): \(arg)", sourceLocation: sourceLocation)
        #expect(!text.contains(s), "text form leaked \(s): \(text)", sourceLocation: sourceLocation)
    }
}

private func expectText(
    _ text: String, hide secrets: [String], as expected: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let r = SecretRedaction.redactText(text)
    for s in secrets {
        #expect(!r.text.contains(s), "secret \(s) leaked: \(r.text)", sourceLocation: sourceLocation)
        #expect(r.found.contains { $0.secret == s }, "\(s) not found: \(r.found)", sourceLocation: sourceLocation)
    }
    if let expected { #expect(r.text == expected, sourceLocation: sourceLocation) }
    let again = SecretRedaction.redactText(r.text)
    #expect(again.text == r.text && again.found.isEmpty, "not idempotent: \(again)", sourceLocation: sourceLocation)
}

/// Nothing found, nothing changed.
private func expectUntouched(_ argv: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    let r = SecretRedaction.redactArguments(argv)
    #expect(r.argv == argv && r.found.isEmpty, "false positive: \(r.found)", sourceLocation: sourceLocation)
}

private func expectUntouchedURL(_ url: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let r = SecretRedaction.redactURL(url)
    #expect(r.url == url && r.found.isEmpty, "false positive: \(r.found)", sourceLocation: sourceLocation)
}

private func expectUntouchedText(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let r = SecretRedaction.redactText(text)
    #expect(r.text == text && r.found.isEmpty, "false positive: \(r.found)", sourceLocation: sourceLocation)
}

@Suite("Secret redaction")
struct SecretRedactionTests {
    // MARK: The forms that leaked

    @Test("docker run -e NAME=value, --env NAME=value, --env=NAME=value, -e NAME=value in one argument, -eNAME=value")
    func dockerEnv() {
        expectArguments(
            [
                "docker", "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN=TGSECRET-DO-NOT-SHOW-9001",
                "ghcr.io/github/github-mcp-server",
            ],
            hide: ["TGSECRET-DO-NOT-SHOW-9001"],
            as: ["docker", "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN=***", "ghcr.io/github/github-mcp-server"])
        expectArguments(
            ["docker", "run", "--env", "OPENAI_API_KEY=abc123def456ghi", "img"], hide: ["abc123def456ghi"],
            as: ["docker", "run", "--env", "OPENAI_API_KEY=***", "img"])
        expectArguments(
            ["docker", "run", "--env=SLACK_BOT_TOKEN=Abc123Def456", "img"], hide: ["Abc123Def456"],
            as: ["docker", "run", "--env=SLACK_BOT_TOKEN=***", "img"])
        expectArguments(
            ["docker", "run", "-e API_TOKEN=Zx9Zx9Zx9Zx9", "img"], hide: ["Zx9Zx9Zx9Zx9"],
            as: ["docker", "run", "-e API_TOKEN=***", "img"])
        expectArguments(["docker", "run", "-eDB_PASSWORD=hunter2hunter2", "img"], hide: ["hunter2hunter2"], password: true)
        // A name without an auth word: the value's shape gives it away.
        expectArguments(["docker", "run", "-e", "GH=\(ghp)", "img"], hide: [ghp])
        expectArguments(["docker", "run", "-e", "FOO_BAR=\(random20)", "img"], hide: [random20])
    }

    @Test("--header \"Authorization: Bearer …\" as a separate argument, -H, --header=, and other auth headers")
    func authorizationHeader() {
        expectArguments(
            ["npx", "mcp-remote", "https://mcp.example.com/sse", "--header", "Authorization: Bearer TGSECRET-abc123"],
            hide: ["TGSECRET-abc123"],
            as: ["npx", "mcp-remote", "https://mcp.example.com/sse", "--header", "Authorization: Bearer ***"])
        expectArguments(
            ["curl", "-H", "Authorization: Bearer s3cr3tT0ken99", "https://api.example.com"], hide: ["s3cr3tT0ken99"],
            as: ["curl", "-H", "Authorization: Bearer ***", "https://api.example.com"])
        expectArguments(
            ["mcp-remote", "--header=Authorization: Bearer x9y8z7w6"], hide: ["x9y8z7w6"],
            as: ["mcp-remote", "--header=Authorization: Bearer ***"])
        expectArguments(["mcp-remote", "--header", "Authorization", "Bearer Q1w2E3r4T5y6"], hide: ["Q1w2E3r4T5y6"])
        expectArguments(["x", "--header", "Authorization:token \(ghp)"], hide: [ghp], as: ["x", "--header", "Authorization:token ***"])
        expectArguments(["x", "--header", "X-API-Key: abc123def456"], hide: ["abc123def456"], as: ["x", "--header", "X-API-Key: ***"])
        expectArguments(["x", "-H", "Authorization: Basic dXNlcjpwYXNzd29yZA=="], hide: ["dXNlcjpwYXNzd29yZA=="])
    }

    @Test("a bare sk-ant-… argument")
    func bareAnthropicKey() {
        expectArguments(["uvx", "claude-mcp", skAnt], hide: [skAnt], as: ["uvx", "claude-mcp", "***"])
        #expect(SecretRedaction.redactArguments(["x", skAnt]).found.first?.why == "known token prefix sk-ant-")
    }

    @Test("camelCase and other spellings of secret flags: --accessToken value, --apiKey=…, --clientSecret, --api_key")
    func camelCaseFlags() {
        expectArguments(
            ["node", "server.js", "--accessToken", "plainvalue123"], hide: ["plainvalue123"],
            as: ["node", "server.js", "--accessToken", "***"])
        expectArguments(["node", "server.js", "--apiKey=abcdEFGH1234"], hide: ["abcdEFGH1234"], as: ["node", "server.js", "--apiKey=***"])
        expectArguments(["x", "--clientSecret", "s3cr3tvalue"], hide: ["s3cr3tvalue"])
        expectArguments(["x", "--api_key", "abcdefgh12345"], hide: ["abcdefgh12345"])
        expectArguments(["x", "--password", "correcthorsebattery"], hide: ["correcthorsebattery"], password: true)
        expectArguments(["x", "--api-key abc123xyz789"], hide: ["abc123xyz789"], as: ["x", "--api-key ***"])
        #expect(SecretRedaction.redactArguments(["x", "--accessToken", "plainvalue123"]).found.first?.why == "value of --accessToken")
    }

    @Test("-t ghp_… (a short flag whose name says nothing)")
    func shortFlagGitHubToken() {
        expectArguments(["gh-mcp", "-t", ghp], hide: [ghp], as: ["gh-mcp", "-t", "***"])
    }

    @Test("JWTs: bare, after an unrelated flag, in text")
    func jwts() {
        expectArguments(["mcp-proxy", jwt], hide: [jwt], as: ["mcp-proxy", "***"])
        expectArguments(["mcp-proxy", "--session", jwt], hide: [jwt])
        expectText("token was \(jwt).", hide: [jwt], as: "token was ***.")
        #expect(SecretRedaction.redactArguments(["x", jwt]).found.first?.why == "JWT")
    }

    @Test("tokens in a URL's user part, and URL passwords")
    func urlUserPart() {
        let user = fake("gh", "p_xxxxxxxx")
        expectURL("https://\(user)@github.com/org/repo.git", hide: [user], as: "https://***@github.com/org/repo.git", password: false)
        expectURL(fake("https://gh", "p_xxx@github.com/org/repo"), hide: [fake("gh", "p_xxx")])
        expectURL("https://\(random20)@api.example.com/", hide: [random20])
        expectURL("https://user:pa55word@example.com/x", hide: ["pa55word"], as: "https://user:***@example.com/x", password: true)
        expectURL("https://x-access-token:\(ghp)@github.com/o/r", hide: [ghp], as: "https://x-access-token:***@github.com/o/r")
        expectURL(
            "postgresql://ro:s3cr3t-pw@db:5432/app?sslmode=require&token=abc123", hide: ["s3cr3t-pw", "abc123"],
            as: "postgresql://ro:***@db:5432/app?sslmode=require&token=***")
        expectURL("mongodb+srv://app:p%40ss%3Aword@cluster0.example.net/db", hide: ["p@ss:word"])
        #expect(SecretRedaction.redactURL("https://\(user)@github.com/").found.first?.why == "URL user part")
    }

    @Test("tokens in a URL's fragment")
    func urlFragment() {
        expectURL(
            "https://app.example.com/cb#access_token=Abc123XyZ789&token_type=bearer&expires_in=3600", hide: ["Abc123XyZ789"],
            as: "https://app.example.com/cb#access_token=***&token_type=bearer&expires_in=3600")
        expectURL("https://app.example.com/#\(jwt)", hide: [jwt])
    }

    @Test("secrets in a URL's path: Slack and Discord webhooks, Telegram bots, known-prefix and high-entropy segments")
    func urlPath() {
        expectURL(
            "https://hooks.slack.com/services/T000/B000/XXXXXXXX", hide: ["XXXXXXXX"],
            as: "https://hooks.slack.com/services/T000/B000/***")
        let bot = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"
        expectURL("https://api.telegram.org/bot\(bot)/getMe", hide: [bot], as: "https://api.telegram.org/bot***/getMe")
        expectURL("https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_JKL", hide: ["abcDEF-ghi_JKL"])
        expectURL("https://mcp.example.com/\(ghp)/sse", hide: [ghp], as: "https://mcp.example.com/***/sse")
        expectURL("https://mcp.zapier.com/api/mcp/s/\(random20)/sse", hide: [random20])
        expectURL("https://maker.ifttt.com/trigger/evt/with/key/dAbc1234efgh", hide: ["dAbc1234efgh"])
    }

    @Test("query parameters and connection strings")
    func queryAndConnectionStrings() {
        let google = fake("AI", "zaSyFAKEfake0123456789FAKEfake0123456")
        expectURL("https://generativelanguage.googleapis.com/v1/models?key=\(google)", hide: [google])
        expectURL("https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=abcDEF%2B123%3D", hide: ["abcDEF+123="])
        expectURL(
            "Server=tcp:db.example.com,1433;User Id=sa;Password=Pl41nText!;Encrypt=true", hide: ["Pl41nText!"],
            as: "Server=tcp:db.example.com,1433;User Id=sa;Password=***;Encrypt=true", password: true)
    }

    // MARK: The forms that already worked

    @Test("--token value, --token=value, a URL password in an argument")
    func formsThatWorked() {
        expectArguments(["x", "--token", "xyz987654"], hide: ["xyz987654"], as: ["x", "--token", "***"])
        expectArguments(["x", "--token=xyz987654"], hide: ["xyz987654"], as: ["x", "--token=***"])
        expectArguments(
            ["npx", "-y", "@modelcontextprotocol/server-postgres", "postgresql://u:pw12345@localhost/app"],
            hide: ["pw12345"], password: true)
    }

    @Test("password options of mysql, curl and sshpass")
    func programOptions() {
        expectArguments(
            ["mysql", "-uroot", "-pS3cret!", "-P3306", "--password=abc"], hide: ["S3cret!", "abc"],
            as: ["mysql", "-uroot", "-p***", "-P3306", "--password=***"], password: true)
        expectArguments(
            ["curl", "-u", "admin:Passw0rd123", "https://x"], hide: ["Passw0rd123"],
            as: ["curl", "-u", "admin:***", "https://x"])
        expectArguments(["sshpass", "-p", "pw-123", "ssh", "host"], hide: ["pw-123"])
    }

    @Test(
        "known token prefixes anywhere: arguments and text",
        arguments: [
            fake("gh", "o_FAKE0123456789abcdefFAKE"), fake("gh", "s_FAKE0123456789abcdefFAKE"), fake("gh", "u_FAKE0123456789abcdef"),
            fake("gh", "r_FAKE0123456789abcdef"), fake("github", "_pat_11FAKE0123456789_abcdefFAKEfake0123456789"),
            fake("sk-", "proj-FAKEfake0123456789_abc-DEF0123456789"), fake("sk-", "FAKEfake0123456789FAKEfake0123456789ab"),
            fake("xo", "xb-123456789012-1234567890123-FAKEfake0123"), fake("xo", "xp-1234567890-abcdef"),
            fake("gl", "pat-FAKEfake0123456789ab"), fake("AK", "IAIOSFODNN7EXAMPLE"), fake("AS", "IAIOSFODNN7EXAMPLE"),
            fake("AI", "zaSyFAKEfake0123456789FAKEfake0123456"), fake("hf", "_FAKEfake0123456789FAKEfake0123"),
            fake("sk", "_live_FAKEfake0123456789FAKE"), fake("rk", "_live_FAKEfake0123456789FAKE"),
            fake("np", "m_FAKEfake0123456789FAKEfake0123456789"), fake("py", "pi-AgEIcHlwaS5vcmcCJGFGQUtFZmFrZTAxMjM0NTY3ODk"),
        ])
    func knownPrefixes(token: String) {
        expectArguments(["server", token], hide: [token], as: ["server", "***"])
        expectText("config: value \(token), done", hide: [token])
        #expect(SecretRedaction.redactArguments(["server", token]).found.first?.why.hasPrefix("known token prefix ") == true)
    }

    @Test("free text: env lines, JSON, YAML, headers, command lines, private keys, URLs")
    func freeText() {
        expectText("export ANTHROPIC_API_KEY=\"\(skAnt)\"", hide: [skAnt])
        expectText(#"{"apiKey": "Abc123Def456Ghi789", "name": "x"}"#, hide: ["Abc123Def456Ghi789"], as: #"{"apiKey": "***", "name": "x"}"#)
        expectText("client_secret: Q1w2E3r4T5y6U7i8", hide: ["Q1w2E3r4T5y6U7i8"], as: "client_secret: ***")
        expectText("Authorization: Bearer Abc123Def456Ghi", hide: ["Abc123Def456Ghi"], as: "Authorization: Bearer ***")
        expectText(
            "node server.js --api-key Abc123Def456 --port 8080", hide: ["Abc123Def456"],
            as: "node server.js --api-key *** --port 8080")
        let body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
        expectText("-----BEGIN OPENSSH PRIVATE KEY-----\n\(body)\n-----END OPENSSH PRIVATE KEY-----", hide: [body])
        expectText("clone https://\(ghp)@github.com/o/r.git and go", hide: [ghp])
    }

    // MARK: Not secrets

    @Test("ordinary arguments are left alone: packages, paths, ports, hosts, UUIDs, switches, references")
    func notSecretArguments() {
        expectUntouched(["npx", "-y", "@modelcontextprotocol/server-github"])
        expectUntouched(["node", "/home/alice/mcp/build/index.js", "--port", "8080", "--host", "api.github.com"])
        expectUntouched(["uvx", "mcp-server-fetch", "--ignore-robots-txt"])
        expectUntouched([
            "docker", "run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "-e", "DEBUG=1",
            "ghcr.io/github/github-mcp-server",
        ])
        expectUntouched(["x", "--project-id", "123e4567-e89b-12d3-a456-426614174000"])
        expectUntouched(["x", "123e4567-e89b-12d3-a456-426614174000"])
        expectUntouched(["x", "--key-file", "/etc/ssl/private/server.key", "--key", "server.key"])
        expectUntouched(["x", "--token-file", "tokens/gh.txt", "--token-env", "GITHUB_TOKEN"])
        expectUntouched(["x", "--no-auth", "server.js", "--skip-auth", "build"])
        expectUntouched(["x", "--max-tokens", "4096", "--max_tokens=1000"])
        expectUntouched(["x", "--author", "Jane Doe", "--passthrough", "yes"])
        expectUntouched(["x", "--auth", "oauth", "--auth-type", "bearer", "--auth=none"])
        expectUntouched(["x", "ModelContextProtocol2024", "MyProjectServerName2", "server-filesystem-v2-Beta"])
        expectUntouched(["x", "--version", "1.2.3", "-n", "20", "--timeout=30000"])
        expectUntouched(["x", "sk-ssh-ed25519@openssh.com", "scikit-learn"])
        expectUntouched(["", "", "-", "--", "--token"])
    }

    @Test("references to secrets stored elsewhere are not secrets")
    func references() {
        expectUntouched([
            "x", "--token", "${env:GITHUB_TOKEN}", "--api-key", "$API_KEY", "--password", "op://vault/item/password",
            "-e", "SECRET=vault:secret/data/x", "--header", "Authorization: Bearer ${input:token}",
        ])
        expectUntouchedURL("postgres://app:${DB_PASSWORD}@db/app")
        for v in ["${env:X}", "$X", "op://a/b/c", "vault:secret/x", "", "<token>", "${input:t}"] { #expect(SecretRedaction.isReference(v)) }
        for v in ["abc", fake("gh", "p_x")] { #expect(!SecretRedaction.isReference(v)) }
    }

    @Test("ordinary URLs and text are left alone")
    func notSecretURLsAndText() {
        expectUntouchedURL("https://mcp.atlassian.com/v1/sse")
        expectUntouchedURL("https://example.com/?design=blue&page=2")
        expectUntouchedURL("https://github.com/modelcontextprotocol/servers/tree/main/src/github")
        expectUntouchedURL("https://github.com/o/r/commit/0123456789abcdef0123456789abcdef01234567")
        expectUntouchedURL("ssh://git@github.com/o/r.git")
        expectUntouchedURL("http://localhost:8080/mcp?token_type=bearer&key_id=abc")
        expectUntouchedURL("https://example.com/oauth/token/refresh")
        expectUntouchedText("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")
        expectUntouchedText(#"from="10.0.0.0/8",command="/usr/local/bin/backup" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEB"#)
        expectUntouchedText("The token expired; basic authentication is required. Use --password flag.")
        expectUntouchedText("GITHUB_TOKEN=*** Authorization: Bearer *** https://***@github.com/x")
    }

    // MARK: Names and values

    @Test("auth words in names, camelCase aware")
    func secretWords() {
        for name in [
            "GITHUB_TOKEN", "api-key", "accessToken", "apiKey", "X-API-Key", "APIKey", "clientSecret", "DB_PASSWORD",
            "AUTHORIZATION", "xapikey",
        ] {
            #expect(SecretRedaction.hasSecretWord(name), "\(name)")
        }
        for name in ["MEMORY_FILE_PATH", "author", "max_tokens", "passthrough", "keyboard", "monkey", "tokenizer", "port"] {
            #expect(!SecretRedaction.hasSecretWord(name), "\(name)")
        }
    }

    @Test("looksSecret: names and shapes, not paths, references or settings")
    func looksSecret() {
        #expect(!SecretRedaction.looksSecret(name: "MEMORY_FILE_PATH", value: "/home/bob/notes/memory.json"))
        #expect(SecretRedaction.looksSecret(name: "GITHUB_TOKEN", value: "abcdefgh12345"))
        #expect(SecretRedaction.looksSecret(name: "X", value: fake("gh", "p_0123456789abcdef")))
        #expect(!SecretRedaction.looksSecret(name: "API_KEY", value: "${env:API_KEY}"))
        #expect(!SecretRedaction.looksSecret(name: "Authorization", value: "Bearer $GITHUB_TOKEN"))
        #expect(SecretRedaction.looksSecret(name: "Authorization", value: "Bearer TGSECRET-DO-NOT-SHOW-9002"))
        #expect(SecretRedaction.looksSecret(name: "DATABASE_URL", value: "postgres://u:secretpw@h/db"))
        #expect(!SecretRedaction.looksSecret(name: "DATABASE_URL", value: "postgres://h/db"))
        #expect(!SecretRedaction.looksSecret(name: "PROJECT_ID", value: "123e4567-e89b-12d3-a456-426614174000"))
    }

    // MARK: Robustness

    @Test("odd input never crashes and stays idempotent")
    func oddInput() {
        let odd = [
            "", " ", "=", ":", "://", "https://", "https://@", "https://:@/?#&=", "%", "%zz", "https://h/%E0%A4%A?token=%ZZ",
            "é🔑\u{301}=пароль", "token=\u{301}", "Bearer ", "Bearer", "-----BEGIN RSA PRIVATE KEY-----", "eyJ.eyJ.",
            "\0\r\n\t", "***", "--token", "a=b=c=d", "ghp_", String(repeating: "é", count: 5000),
        ]
        for s in odd {
            let t = SecretRedaction.redactText(s)
            #expect(SecretRedaction.redactText(t.text).text == t.text)
            let u = SecretRedaction.redactURL(s)
            #expect(SecretRedaction.redactURL(u.url).url == u.url)
            let a = SecretRedaction.redactArguments([s, s, "--token", s])
            #expect(SecretRedaction.redactArguments(a.argv).argv == a.argv)
        }
    }

    @Test("pathological 4 KiB strings finish, and redacting the result again changes nothing")
    func pathological() {
        let inputs = [
            String(repeating: "a=", count: 2048), String(repeating: "token=", count: 682), String(repeating: "token: ", count: 585),
            String(repeating: "a://", count: 1024), String(repeating: "-----BEGIN ", count: 372), String(repeating: "--token ", count: 512),
            "https://x.com/?" + String(repeating: "token=a&", count: 512), String(repeating: "eyJabcdefghij.", count: 292),
        ]
        // Speed is the benchmark's to measure, not a test's: this checks the shapes terminate and are stable.
        for s in inputs {
            let text = SecretRedaction.redactText(s).text
            #expect(SecretRedaction.redactText(text).text == text)
            let url = SecretRedaction.redactURL(s).url
            #expect(SecretRedaction.redactURL(url).url == url)
            let argv = SecretRedaction.redactArguments(["p", s]).argv
            #expect(SecretRedaction.redactArguments(argv).argv == argv)
        }
    }
}
