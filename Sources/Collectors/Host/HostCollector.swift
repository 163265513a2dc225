import Crypto
import Foundation
import Inventory

#if canImport(Glibc)
import Glibc
#endif

/// This jump host itself: the AI agents its users configured (MCP servers of Claude Desktop, Claude Code, Cursor,
/// VS Code, Windsurf and Gemini CLI), AI provider keys in dotenv and shell rc files, SSH `authorized_keys` entries
/// without `from=`/`command=` restrictions, and local service accounts with a login shell.
///
/// A secret is never kept: a literal token becomes a credential with a SHA-256 fingerprint and where it was found.
/// References such as `${env:GITHUB_TOKEN}` or `${input:token}` are not secrets and are left alone.
public final class HostCollector: Collector {
    public let homeRoot: String
    public let includeRootHome: Bool
    public let passwd: String
    public let hostName: String
    let source: String
    /// The thread the homes are walked on: a hung NFS home holds it, never a pool thread.
    let lane = BlockingLane("trustgap-host")
    /// Called with each file's path before it is read (tests stand a read that hangs in here, and count the reads).
    let beforeRead: @Sendable (String) -> Void

    public convenience init(
        homeRoot: String = "/home", includeRootHome: Bool = true, passwd: String = "/etc/passwd", hostName: String? = nil,
        source: String = "host"
    ) {
        self.init(homeRoot: homeRoot, includeRootHome: includeRootHome, passwd: passwd, hostName: hostName, source: source) { _ in }
    }

    init(
        homeRoot: String, includeRootHome: Bool, passwd: String, hostName: String?, source: String,
        beforeRead: @escaping @Sendable (String) -> Void
    ) {
        self.homeRoot = homeRoot
        self.includeRootHome = includeRootHome
        self.passwd = passwd
        self.hostName = hostName ?? Self.localHostName()
        self.source = source
        self.beforeRead = beforeRead
    }

    static func localHostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// MCP config files per client, relative to a home, and the key holding the servers.
    static let mcpConfigs: [(tool: String, path: String, key: String)] = [
        ("claude-desktop", ".config/Claude/claude_desktop_config.json", "mcpServers"),
        ("claude-code", ".claude.json", "mcpServers"),
        ("cursor", ".cursor/mcp.json", "mcpServers"),
        ("vscode", ".config/Code/User/mcp.json", "servers"),
        ("vscode", ".vscode/mcp.json", "servers"),
        ("windsurf", ".codeium/windsurf/mcp_config.json", "mcpServers"),
        ("gemini-cli", ".gemini/settings.json", "mcpServers"),
    ]

    static let aiKeyNames: Set<String> = [
        "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "PINECONE_API_KEY", "VOYAGE_API_KEY",
        "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
        "MISTRAL_API_KEY", "COHERE_API_KEY", "GROQ_API_KEY", "OPENROUTER_API_KEY", "AZURE_OPENAI_API_KEY",
        "PERPLEXITY_API_KEY", "DEEPSEEK_API_KEY", "XAI_API_KEY", "TOGETHER_API_KEY", "REPLICATE_API_TOKEN",
    ]
    static let rcFiles = [
        ".env", ".env.local", ".bashrc", ".bash_profile", ".profile", ".zshrc", ".zprofile", ".zshenv", ".config/fish/config.fish",
    ]

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        return try await lane.run("walking the homes in \(homeRoot)") { stop in try self.walk(now: context.now, stop: stop) }
    }

    /// Every home, file by file, stopping at the next file once the run is over.
    func walk(now: Date, stop: BlockingStop) throws -> CollectorReport {
        let fm = FileManager.default
        var homes: [(user: String, path: String)] = []
        if let users = try? fm.contentsOfDirectory(atPath: homeRoot) {
            for u in users.sorted() where !u.hasPrefix(".") {
                try stop.check()
                var dir: ObjCBool = false
                if fm.fileExists(atPath: "\(homeRoot)/\(u)", isDirectory: &dir), dir.boolValue { homes.append((u, "\(homeRoot)/\(u)")) }
            }
        } else if !fm.fileExists(atPath: homeRoot) {
            throw CollectorError.failed("\(homeRoot): no such folder (home_root)")
        }
        if includeRootHome, fm.fileExists(atPath: "/root") { homes.append(("root", "/root")) }
        var entities: [Entity] = []
        var warnings: [String] = []
        for home in homes {
            entities += try mcpServers(home.user, home.path, now: now, warnings: &warnings, stop: stop)
            entities += try aiKeys(home.user, home.path, now: now, warnings: &warnings, stop: stop)
            entities += try sshKeys(home.user, home.path, now: now, warnings: &warnings, stop: stop)
        }
        entities += try localAccounts(now: now, warnings: &warnings, stop: stop)
        return CollectorReport(entities: entities, warnings: warnings)
    }

    /// `read`, after a check that the run is still on.
    func readFile(_ path: String, max: Int = maxFileBytes, warnings: inout [String], stop: BlockingStop) throws -> Data? {
        try stop.check()
        beforeRead(path)
        return Self.read(path, max: max, warnings: &warnings)
    }

    /// The most read of any one file in a home: a user's 3 GB `.bashrc` costs only that file's entries.
    public static let maxFileBytes = 4 << 20

    /// A file's bytes, at most `max`; nil (with a warning naming it) when it is larger or not a regular file (a FIFO
    /// would hang the read, a device never end). Missing files are nil without a warning.
    static func read(_ path: String, max: Int = maxFileBytes, warnings: inout [String]) -> Data? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno != ENOENT, errno != ENOTDIR {
                warnings.append("\(path): can't read it (\(String(cString: strerror(errno)))); skipped")
            }
            return nil
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            warnings.append("\(path): not a regular file; skipped")
            return nil
        }
        guard Int(st.st_size) <= max else {
            warnings.append("\(path): \(Int(st.st_size) >> 20) MiB, over the \(max >> 20) MiB read for one file; its entries are skipped")
            return nil
        }
        var out = Data(count: Int(st.st_size))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        return out.prefix(done)
    }

    // MARK: Secrets

    /// `SHA256:` and the unpadded base64 of the digest, as ssh-keygen prints fingerprints.
    static func fingerprint(_ bytes: some DataProtocol) -> String {
        "SHA256:" + Data(SHA256.hash(data: bytes)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// A value that is a reference to a secret stored elsewhere, not a secret.
    static func isReference(_ v: String) -> Bool { SecretRedaction.isReference(v) }

    // MARK: MCP servers

    func mcpServers(_ user: String, _ home: String, now: Date, warnings: inout [String], stop: BlockingStop) throws -> [Entity] {
        var out: [Entity] = []
        var seenProjects = Set<String>()
        for config in Self.mcpConfigs {
            let path = "\(home)/\(config.path)"
            guard let data = try readFile(path, warnings: &warnings, stop: stop) else { continue }
            guard let obj = try? JSONSerialization.jsonObject(with: Self.stripComments(data)) as? [String: Any] else {
                warnings.append("\(path): not valid JSON; its MCP servers are not listed")
                continue
            }
            let display = "~\(user)/\(config.path)"
            out += servers(obj[config.key], tool: config.tool, user: user, configPath: display, project: nil, now: now)
            if config.tool == "claude-code", let projects = obj["projects"] as? [String: Any] {
                for (projectPath, value) in projects.sorted(by: { $0.key < $1.key }) {
                    let p = value as? [String: Any]
                    out += servers(
                        p?["mcpServers"], tool: config.tool, user: user, configPath: "\(display) (project \(projectPath))",
                        project: projectPath, now: now)
                    // A project's own .mcp.json, when the project is on this host.
                    let mcp = "\(projectPath)/.mcp.json"
                    if seenProjects.insert(mcp).inserted, let d = try readFile(mcp, warnings: &warnings, stop: stop),
                        let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any]
                    {
                        out += servers(o["mcpServers"], tool: "claude-code", user: user, configPath: mcp, project: projectPath, now: now)
                    }
                }
            }
        }
        return out
    }

    func servers(_ value: Any?, tool: String, user: String, configPath: String, project: String?, now: Date) -> [Entity] {
        guard let servers = value as? [String: Any] else { return [] }
        return servers.sorted(by: { $0.key < $1.key }).compactMap { name, raw in
            guard let s = raw as? [String: Any] else { return nil }
            // URLs and arguments carry secrets too (a password in a connection string, `-e TOKEN=…`, a bare `sk-ant-…`):
            // the one redaction, by flag name and by value shape, keeps only their fingerprints.
            var found: [(where: String, secret: SecretRedaction.Found)] = []
            let rawURL = (s["url"] as? String) ?? (s["serverUrl"] as? String) ?? (s["httpUrl"] as? String)
            let url = rawURL.map { u -> String in
                let r = SecretRedaction.redactURL(u)
                found += r.found.map { ("url", $0) }
                return r.url
            }
            let rawArgv: [String] = [s["command"] as? String].compactMap { $0 } + ((s["args"] as? [Any])?.map { "\($0)" } ?? [])
            let redacted = SecretRedaction.redactArguments(rawArgv)
            found += redacted.found.map { ("args", $0) }
            let command = redacted.argv.joined(separator: " ")
            let transport = (s["type"] as? String) ?? (s["transport"] as? String) ?? (url != nil ? "http" : "stdio")
            var credentials: [Credential] = []
            for (kindLabel, dict) in [("env", s["env"]), ("header", s["headers"])] {
                for (k, v) in ((dict as? [String: Any]) ?? [:]).sorted(by: { $0.key < $1.key }) {
                    guard let value = v as? String, SecretRedaction.looksSecret(name: k, value: value) else { continue }
                    credentials.append(
                        Credential(
                            id: "\(kindLabel):\(k)", kind: .token, fingerprint: Self.fingerprint(Data(value.utf8)),
                            exposures: ["plaintext in \(configPath)"]))
                }
            }
            for (n, f) in found.enumerated() {
                credentials.append(
                    Credential(
                        id: "\(f.where)-secret-\(n + 1)", kind: f.secret.isPassword ? .password : .token,
                        fingerprint: Self.fingerprint(Data(f.secret.secret.utf8)),
                        exposures: ["plaintext in \(configPath) (\(f.where): \(f.secret.why))"]))
            }
            var attributes = ["tool": tool, "config": configPath, "transport": transport, "host": hostName]
            if let url { attributes["url"] = url }
            if !command.isEmpty { attributes["command"] = String(command.prefix(300)) }
            if let project { attributes["project"] = project }
            let projectTag = project.map { "/" + Self.fingerprint(Data($0.utf8)).suffix(6) } ?? ""
            return Entity(
                id: "host:\(hostName)/mcp/\(tool)/\(user)\(projectTag)/\(name)", population: .agent, kind: "mcp_server",
                name: "\(tool)-mcp-\(name)-\(user)", owner: Owner(name: user, status: .active), environment: nil,
                coverage: [], credentials: credentials, lastSeen: now, sources: [source],
                signals: Signals(sanctioned: nil), attributes: attributes)
        }
    }

    /// VS Code and others accept JSON with comments (JSONC): drops `//` and `/* */` comments outside strings.
    static func stripComments(_ data: Data) -> Data {
        let b = [UInt8](data)
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        var inString = false
        while i < b.count {
            let c = b[i]
            if inString {
                out.append(c)
                if c == 0x5C, i + 1 < b.count {
                    out.append(b[i + 1])
                    i += 2
                    continue
                }
                if c == 0x22 { inString = false }
                i += 1
            } else if c == 0x22 {
                inString = true
                out.append(c)
                i += 1
            } else if c == 0x2F, i + 1 < b.count, b[i + 1] == 0x2F {
                while i < b.count, b[i] != 0x0A { i += 1 }
            } else if c == 0x2F, i + 1 < b.count, b[i + 1] == 0x2A {
                i += 2
                while i + 1 < b.count, !(b[i] == 0x2A && b[i + 1] == 0x2F) { i += 1 }
                i += 2
            } else {
                out.append(c)
                i += 1
            }
        }
        return Data(out)
    }

    // MARK: AI provider keys

    func aiKeys(_ user: String, _ home: String, now: Date, warnings: inout [String], stop: BlockingStop) throws -> [Entity] {
        var out: [Entity] = []
        for file in Self.rcFiles {
            let path = "\(home)/\(file)"
            guard let data = try readFile(path, warnings: &warnings, stop: stop) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                var line = raw.trimmingCharacters(in: .whitespaces)
                var commented = false
                if line.hasPrefix("#") {
                    // A commented-out key is still a key on disk.
                    line = line.drop { $0 == "#" || $0 == " " }.description
                    commented = true
                }
                for prefix in ["export ", "set -gx ", "set -x "] where line.hasPrefix(prefix) {
                    line = String(line.dropFirst(prefix.count))
                }
                let sep: Character = line.contains("=") ? "=" : " "
                let parts = line.split(separator: sep, maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, Self.aiKeyNames.contains(parts[0]) else { continue }
                let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                guard !Self.isReference(value), value.count >= 8 else { continue }
                out.append(
                    Entity(
                        id: "host:\(hostName)/ai-key/\(user)/\(file)/\(parts[0])", population: .agent, kind: "ai_api_key",
                        name: "\(parts[0]) (\(user))", owner: Owner(name: user, status: .active), coverage: [],
                        credentials: [
                            Credential(
                                id: parts[0], kind: .apiKey, fingerprint: Self.fingerprint(Data(value.utf8)),
                                exposures: ["plaintext in ~\(user)/\(file) line \(n + 1)" + (commented ? " (commented out)" : "")])
                        ],
                        lastSeen: now, sources: [source], attributes: ["file": "~\(user)/\(file)", "host": hostName]))
            }
        }
        return out
    }

    // MARK: SSH

    func sshKeys(_ user: String, _ home: String, now: Date, warnings: inout [String], stop: BlockingStop) throws -> [Entity] {
        let path = "\(home)/.ssh/authorized_keys"
        guard let data = try readFile(path, warnings: &warnings, stop: stop) else { return [] }
        var out: [Entity] = []
        for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let fields = Self.splitKeyLine(line)
            guard let typeIndex = fields.firstIndex(where: { $0.hasPrefix("ssh-") || $0.hasPrefix("ecdsa-") || $0.hasPrefix("sk-") }),
                typeIndex + 1 < fields.count
            else {
                warnings.append("~\(user)/.ssh/authorized_keys:\(n + 1): not an SSH public key line")
                continue
            }
            let encoded = fields[typeIndex + 1]
            let padded = encoded + String(repeating: "=", count: (4 - encoded.count % 4) % 4)
            let blob = Data(base64Encoded: padded) ?? Data(encoded.utf8)
            let options = typeIndex > 0 ? fields[0] : ""
            let restricted = options.contains("from=") || options.contains("command=")
            let comment = fields.dropFirst(typeIndex + 2).joined(separator: " ")
            let fp = Self.fingerprint(blob)
            out.append(
                Entity(
                    id: "host:\(hostName)/ssh/\(user)/\(fp)", population: .serviceAccount, kind: "ssh_authorized_key",
                    name: "\(comment.isEmpty ? fields[typeIndex] : comment) → \(user)", owner: Owner(name: user, status: .active),
                    credentials: [Credential(id: String(fp.prefix(19)), kind: .sshKey, fingerprint: fp)],
                    lastSeen: now, sources: [source],
                    attributes: [
                        "file": "~\(user)/.ssh/authorized_keys", "line": "\(n + 1)", "restricted": restricted ? "true" : "false",
                        "options": options.isEmpty ? "-" : String(options.prefix(200)), "host": hostName,
                    ]))
        }
        return out
    }

    /// Splits an authorized_keys line on spaces outside double quotes (options may quote spaces).
    static func splitKeyLine(_ line: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var quoted = false
        for ch in line {
            if ch == "\"" { quoted.toggle() }
            if ch == " ", !quoted {
                if !cur.isEmpty {
                    out.append(cur)
                    cur = ""
                }
            } else {
                cur.append(ch)
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    // MARK: Local accounts

    static let noLogin: Set<String> = [
        "/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", "/bin/sync", "/sbin/shutdown", "/sbin/halt", "",
    ]

    func localAccounts(now: Date, warnings: inout [String], stop: BlockingStop) throws -> [Entity] {
        guard let data = try readFile(passwd, max: 16 << 20, warnings: &warnings, stop: stop) else { return [] }
        var out: [Entity] = []
        for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            let f = raw.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 7, let uid = Int(f[2]) else {
                warnings.append("\(passwd):\(n + 1): not a passwd line")
                continue
            }
            let (name, home, shell) = (f[0], f[5], f[6])
            guard uid != 0, !Self.noLogin.contains(shell) else { continue }
            // People have uid >= 1000 and a home under /home; a login shell outside that is a service account.
            let serviceLike = [
                "deploy", "ansible", "git", "gitlab-runner", "jenkins", "backup", "ci", "runner", "svc", "bot", "automation", "terraform",
            ]
            .contains {
                name == $0 || name.hasPrefix($0 + "-") || name.hasPrefix($0 + "_") || name.hasSuffix("-" + $0) || name.hasSuffix("_" + $0)
            }
            let person = uid >= 1000 && home.hasPrefix("/home/") && !serviceLike
            guard !person else { continue }
            out.append(
                Entity(
                    id: "host:\(hostName)/user/\(name)", population: .serviceAccount, kind: "local_account", name: name,
                    coverage: [], lastSeen: now, sources: [source],
                    attributes: ["uid": "\(uid)", "shell": shell, "home": home, "gecos": f[4], "host": hostName]))
        }
        return out
    }
}
