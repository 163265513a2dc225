import Access
import Collectors
import Foundation
import Inventory
import Yams

/// The one config file: collectors, rule thresholds, and the dashboard's settings.
public struct TrustgapConfig: Sendable {
    /// Where it was read from; nil for the built-in demo.
    public var file: String?
    public var collectors: [CollectorConfig]
    public var thresholds: RuleThresholds
    public var theme: String?
    public var store: String?
    /// For a PostgreSQL store: where this host keeps its copy of the audit key, and its own anchor of the chain.
    public var auditKey: String?
    public var auditAnchor: String?
    public var readonly: Bool
    /// Overrides every collector's interval in the dashboard.
    public var refreshSeconds: Double?
    public var policy = AccessPolicy()
    public var hooks = HookConfig()
    /// The access service: where `trustgap serve` listens, and where clients connect. With none, access works in
    /// one process on a personal store.
    public var service: ServiceConfig?

    public init(
        file: String? = nil, collectors: [CollectorConfig], thresholds: RuleThresholds = RuleThresholds(),
        theme: String? = nil, store: String? = nil, readonly: Bool = false, refreshSeconds: Double? = nil
    ) {
        self.file = file
        self.collectors = collectors
        self.thresholds = thresholds
        self.theme = theme
        self.store = store
        self.readonly = readonly
        self.refreshSeconds = refreshSeconds
    }

    /// The built-in demo: no config file at all.
    /// Its requests lapse on the demo's own clock, so the queue holds steady (see `DemoPace`).
    public static func demo(size: Int = DemoCollector.defaultSize, seed: UInt64 = 42, speed: Double = 1) -> TrustgapConfig {
        var config = TrustgapConfig(collectors: [
            CollectorConfig(
                type: "demo", name: "demo", intervalSeconds: 5, timeoutSeconds: 60, options: .demo(size: size, seed: seed, speed: speed))
        ])
        config.policy.requestLapseSeconds = DemoPace(speed: speed).requestLapseSeconds
        return config
    }
}

/// `service:` in the config.
public struct ServiceConfig: Sendable, Equatable {
    /// The Unix socket, e.g. /run/trustgap/trustgap.sock.
    public var socket: String
    /// The group whose members may connect (the socket is 0660).
    public var group: String?

    public init(socket: String, group: String? = nil) {
        self.socket = socket
        self.group = group
    }
}

/// One collector as configured.
public struct CollectorConfig: Sendable, Equatable {
    public enum Options: Sendable, Equatable {
        case demo(size: Int, seed: UInt64, speed: Double = 1)
        case file(path: String, maxBytes: Int)
        case exec(command: [String], environment: [String: String], workingDirectory: String?, maxOutputBytes: Int)
        case awsCredentialReport(path: String)
        case kubernetes(path: String?, kubectl: [String]?, cluster: String)
        case github(org: String, personalAccessTokens: String?, deployKeys: String?, installations: String?)
        case osquery(path: String, queries: [String: String], minimumOS: [String: String]?)
        case host(homeRoot: String, includeRootHome: Bool, passwd: String)
    }
    public var type: String
    public var name: String
    public var intervalSeconds: Double
    public var timeoutSeconds: Double
    public var options: Options
    /// The largest single record a file or exec collector accepts (`max_record_size`).
    public var maxRecordBytes: Int = Intake.defaultMaxRecordBytes
    /// What text fields are cut to (`max_field_size`).
    public var maxFieldBytes: Int = 4096

    public init(type: String, name: String, intervalSeconds: Double, timeoutSeconds: Double, options: Options) {
        self.type = type
        self.name = name
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.options = options
    }

    /// Builds the collector it describes. With a `stateDirectory`, a demo keeps its life there
    /// (`demo-SEED-SIZE.life`), so every process of this user that runs it knows the same entities.
    public func makeSpec(stateDirectory: String? = nil) -> CollectorSpec {
        let collector: any Collector
        switch options {
        case .demo(let size, let seed, let speed):
            collector = DemoCollector(
                seed: seed, size: size, pace: DemoPace(speed: speed),
                lifeFile: stateDirectory.map { "\($0)/demo-\(seed)-\(size).life" }, parts: true)
        case .file(let path, let max):
            collector = FileCollector(
                path: path, source: name, maxBytes: max, maxRecordBytes: maxRecordBytes,
                limits: Intake.Limits(maxStringBytes: maxFieldBytes))
        case .awsCredentialReport(let path): collector = AWSCredentialReportCollector(path: path, source: name)
        case .osquery(let path, let queries, let minimum):
            collector =
                minimum.map { OsqueryCollector(path: path, queries: queries, minimumOS: $0, source: name) }
                ?? OsqueryCollector(path: path, queries: queries, source: name)
        case .host(let homeRoot, let root, let passwd):
            collector = HostCollector(homeRoot: homeRoot, includeRootHome: root, passwd: passwd, source: name)
        case .github(let org, let pats, let keys, let installs):
            collector = GitHubCollector(org: org, personalAccessTokens: pats, deployKeys: keys, installations: installs, source: name)
        case .kubernetes(let path, let kubectl, let cluster):
            collector = KubernetesCollector(
                input: path.map { .file($0) } ?? .kubectl(kubectl ?? []), cluster: cluster, source: name,
                timeoutSeconds: timeoutSeconds)
        case .exec(let command, let env, let dir, let cap):
            collector = ExecCollector(
                command: command, environment: env, workingDirectory: dir, timeoutSeconds: timeoutSeconds,
                maxOutputBytes: cap, maxRecordBytes: maxRecordBytes, name: name)
        }
        var spec = CollectorSpec(
            name: name, type: type, intervalSeconds: intervalSeconds, timeoutSeconds: timeoutSeconds, collector: collector)
        spec.limits = Intake.Limits(maxStringBytes: maxFieldBytes)
        return spec
    }
}

public enum ConfigLoader {
    /// More collectors than this and a config is refused: each runs on its own timer, and the snapshot waits for all.
    public static let maxCollectors = 64

    /// The options each collector type takes, besides type, name, interval and timeout.
    static let collectorOptions: [String: Set<String>] = [
        "demo": ["size", "seed", "speed"],
        "file": ["path", "max_size", "max_record_size", "max_field_size"],
        "exec": ["command", "env", "working_directory", "max_output", "max_record_size", "max_field_size"],
        "aws-credential-report": ["path"],
        "kubernetes": ["path", "kubectl", "cluster"],
        "github": ["org", "personal_access_tokens", "deploy_keys", "installations"],
        "osquery": ["path", "queries", "minimum_os"],
        "host": ["home_root", "passwd"],
    ]

    public static let collectorTypes = ["demo", "file", "exec", "aws-credential-report", "kubernetes", "github", "osquery", "host"]

    /// The config file to use: `--config`, else `$XDG_CONFIG_HOME/trustgap/config.yaml` (or `~/.config/…`) when it
    /// exists, else nil for the built-in demo.
    public static func locate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let explicit { return explicit }
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].map { "\($0)/.config" }
        guard let base else { return nil }
        let path = "\(base)/trustgap/config.yaml"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Reads and checks a config file.
    public static func load(path: String) throws(ConfigError) -> TrustgapConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ConfigError(file: path, message: exists ? "cannot read the file (permission denied?)" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, message: "not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Parses config text. Relative paths inside are relative to the file's folder.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> TrustgapConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw ConfigError(file: file, message: "\(error)")
        }
        guard let root else { throw ConfigError(file: file, message: "the file is empty; see docs/configuration.md") }
        let baseDir = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let top = YAMLValue(node: root, path: "", file: file)
        var config = TrustgapConfig(file: file, collectors: [])
        var sawCollectors = false
        for (key, value) in try top.mapping(allowed: [
            "collectors", "rules", "theme", "store", "audit_key", "audit_anchor", "readonly", "refresh", "policy", "hooks", "service",
        ]) {
            switch key {
            case "collectors":
                sawCollectors = true
                var names = Set<String>()
                let items = try value.sequence()
                guard items.count <= Self.maxCollectors else {
                    throw value.error(
                        "\(items.count) collectors are configured; at most \(Self.maxCollectors) run at once. "
                            + "Merge sources into one file or exec collector, or run a second trustgap")
                }
                for item in items {
                    let c = try collector(item, baseDir: baseDir)
                    guard names.insert(c.name).inserted else {
                        throw item.error("two collectors are named '\(c.name)'; give each a unique name")
                    }
                    config.collectors.append(c)
                }
            case "rules": config.thresholds = try thresholds(value)
            case "theme":
                let t = try value.string()
                config.theme = t.contains("/") || t.hasSuffix(".yaml") || t.hasSuffix(".yml") ? resolve(t, baseDir: baseDir) : t
            case "store":
                let text = try value.string()
                if AccessStore.isPostgres(text) {
                    do { _ = try PostgresTarget(url: text) } catch { throw value.error(error.description) }
                    config.store = text
                } else {
                    config.store = resolve(text, baseDir: baseDir)
                }
            case "audit_key": config.auditKey = resolve(try value.string(), baseDir: baseDir)
            case "audit_anchor": config.auditAnchor = resolve(try value.string(), baseDir: baseDir)
            case "readonly": config.readonly = try value.bool()
            case "refresh": config.refreshSeconds = try duration(value)
            case "policy": config.policy = try policy(value)
            case "hooks": config.hooks = try hooks(value, baseDir: baseDir)
            case "service":
                var socket: String?
                var group: String?
                for (k, v) in try value.mapping(allowed: ["socket", "group"]) {
                    if k == "socket" {
                        let text = try v.string()
                        guard !text.isEmpty else { throw v.error("the socket path is empty") }
                        socket = resolve(text, baseDir: baseDir)
                    } else {
                        group = try v.string()
                    }
                }
                guard let socket else {
                    throw value.error("service needs a socket, for example: service: {socket: /run/trustgap/trustgap.sock}")
                }
                config.service = ServiceConfig(socket: socket, group: group)
            default: break
            }
        }
        // A client's config may name only the service: the inventory is the service's.
        if !sawCollectors || config.collectors.isEmpty, config.service == nil {
            throw ConfigError(
                file: file, line: root.mark?.line, key: "collectors",
                message:
                    "at least one collector is needed, for example:\n  collectors:\n"
                    + "    - type: file\n      name: exports\n      path: ./entities.jsonl"
            )
        }
        return config
    }

    static func yamlError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(
                file: file, line: context.mark.line, key: duplicates.sorted().joined(separator: ", "), message: "given twice")
        default:
            return ConfigError(file: file, message: "invalid YAML: \(error)")
        }
    }

    static func resolve(_ path: String, baseDir: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] { return home + path.dropFirst(1) }
        return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: baseDir, isDirectory: true)).standardizedFileURL.path
    }

    /// The demo's `speed`: a number from 0.1 to 20.
    static func demoSpeed(_ value: YAMLValue) throws(ConfigError) -> Double {
        let text = try value.string()
        guard let x = Double(text), (0.1...20).contains(x) else { throw value.error("expected a number from 0.1 to 20, got '\(text)'") }
        return x
    }

    static func duration(_ value: YAMLValue) throws(ConfigError) -> Double {
        let text = try value.string()
        do {
            let s = try DurationText.seconds(text)
            guard s > 0 else { throw value.error("must be longer than zero") }
            return s
        } catch let e as DurationText.ParseError {
            throw value.error(e.description)
        } catch {
            throw error as! ConfigError
        }
    }

    static func collector(_ item: YAMLValue, baseDir: String) throws(ConfigError) -> CollectorConfig {
        let entries = try item.mapping(allowed: [
            "type", "name", "interval", "timeout", "path", "size", "seed", "speed", "command", "env", "working_directory", "max_output",
            "kubectl",
            "cluster", "org", "personal_access_tokens", "deploy_keys", "installations", "home_root", "passwd", "queries", "minimum_os",
            "max_size", "max_record_size", "max_field_size",
        ])
        let dict = Dictionary(uniqueKeysWithValues: entries)
        guard let typeValue = dict["type"] else {
            throw item.error("missing 'type' (one of \(collectorTypes.joined(separator: ", ")))")
        }
        let type = try typeValue.string()
        guard collectorTypes.contains(type) else {
            throw typeValue.error("unknown collector type '\(type)'; known types: \(collectorTypes.joined(separator: ", "))")
        }
        let name = try dict["name"]?.string() ?? type
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw (dict["name"] ?? item).error("a collector name is 1 to 64 ASCII letters, digits, '-', '_' and '.'")
        }
        let interval = try dict["interval"].map { v throws(ConfigError) in try duration(v) } ?? (type == "demo" ? 5 : 30)
        let timeout = try dict["timeout"].map { v throws(ConfigError) in try duration(v) } ?? (type == "demo" ? 60 : 10)
        // Each type takes its own options; any other is a mistake worth naming.
        let own = Self.collectorOptions[type] ?? []
        for (key, value) in entries where !["type", "name", "interval", "timeout"].contains(key) && !own.contains(key) {
            throw value.error("not an option of the \(type) collector (its options: \(own.sorted().joined(separator: ", ")))")
        }
        let options: CollectorConfig.Options
        switch type {
        case "demo":
            let size = try dict["size"]?.int(8...5_000_000) ?? DemoCollector.defaultSize
            let seed = try dict["seed"]?.int(0...Int.max) ?? 42
            let speed = try dict["speed"].map { v throws(ConfigError) in try Self.demoSpeed(v) } ?? 1
            options = .demo(size: size, seed: UInt64(seed), speed: speed)
        case "host":
            let homeRoot = try dict["home_root"].map { v throws(ConfigError) in resolve(try v.string(), baseDir: baseDir) }
            let passwd = try dict["passwd"].map { v throws(ConfigError) in resolve(try v.string(), baseDir: baseDir) } ?? "/etc/passwd"
            options = .host(homeRoot: homeRoot ?? "/home", includeRootHome: homeRoot == nil, passwd: passwd)
        case "github":
            guard let org = try dict["org"]?.string(), !org.isEmpty else { throw item.error("the github collector needs 'org'") }
            func p(_ k: String) throws(ConfigError) -> String? {
                try dict[k].map { v throws(ConfigError) in resolve(try v.string(), baseDir: baseDir) }
            }
            let pats = try p("personal_access_tokens")
            let keys = try p("deploy_keys")
            let installs = try p("installations")
            guard pats != nil || keys != nil || installs != nil else {
                throw item.error("the github collector needs at least one of personal_access_tokens, deploy_keys, installations")
            }
            options = .github(org: org, personalAccessTokens: pats, deployKeys: keys, installations: installs)
        case "kubernetes":
            let path = try dict["path"].map { v throws(ConfigError) in resolve(try v.string(), baseDir: baseDir) }
            let kubectl = try dict["kubectl"]?.strings()
            guard (path == nil) != (kubectl == nil) else {
                throw item.error(
                    "the kubernetes collector needs either 'path' "
                        + "(a saved `kubectl get serviceaccounts,rolebindings,clusterrolebindings -A -o json`) "
                        + "or 'kubectl' (the argv to run), not both"
                )
            }
            if let k = kubectl, k.isEmpty { throw dict["kubectl"]!.error("the kubectl command is empty") }
            options = .kubernetes(path: path, kubectl: kubectl, cluster: try dict["cluster"]?.string() ?? "default")
        case "exec":
            guard let c = dict["command"] else {
                throw item.error("the exec collector needs 'command', a program and its arguments: [\"/opt/export.sh\", \"--json\"]")
            }
            var argv = try c.strings()
            guard let program = argv.first, !program.isEmpty else { throw c.error("the command is empty") }
            if program.contains("/") { argv[0] = resolve(program, baseDir: baseDir) }
            var env: [String: String] = [:]
            if let e = dict["env"] {
                for (k, v) in try e.mapping(allowed: nil) { env[k] = try v.string() }
            }
            let dir = try dict["working_directory"].map { v throws(ConfigError) in resolve(try v.string(), baseDir: baseDir) }
            let cap = try dict["max_output"]?.int(1...(1 << 40)) ?? (64 << 20)
            options = .exec(command: argv, environment: env, workingDirectory: dir, maxOutputBytes: cap)
        default:
            guard let p = dict["path"] else { throw item.error("the \(type) collector needs 'path'") }
            let path = try p.string()
            guard !path.isEmpty else { throw p.error("empty path") }
            let resolved = resolve(path, baseDir: baseDir)
            if type == "osquery" {
                var queries: [String: String] = [:]
                for (k, v) in try dict["queries"]?.mapping(allowed: nil) ?? [] {
                    let table = try v.string()
                    guard ["system_info", "os_version", "disk_encryption", "screenlock", "mdm"].contains(table) else {
                        throw v.error("'\(table)' is not a table trustgap reads: system_info, os_version, disk_encryption, screenlock, mdm")
                    }
                    queries[k] = table
                }
                var minimum: [String: String]? = nil
                if let m = dict["minimum_os"] {
                    minimum = [:]
                    for (k, v) in try m.mapping(allowed: nil) { minimum![k] = try v.string() }
                }
                options = .osquery(path: resolved, queries: queries, minimumOS: minimum)
            } else {
                let max = try dict["max_size"]?.int(1...(1 << 40)) ?? (256 << 20)
                options = type == "file" ? .file(path: resolved, maxBytes: max) : .awsCredentialReport(path: resolved)
            }
        }
        var config = CollectorConfig(type: type, name: name, intervalSeconds: interval, timeoutSeconds: timeout, options: options)
        if let v = dict["max_record_size"] { config.maxRecordBytes = try v.int(1024...(1 << 30)) }
        if let v = dict["max_field_size"] { config.maxFieldBytes = try v.int(256...(1 << 20)) }
        return config
    }

    static func policy(_ value: YAMLValue) throws(ConfigError) -> AccessPolicy {
        var policy = AccessPolicy()
        let keys: Set<String> = Set(Population.allCases.map(\.rawValue)).union(["request_lapse"])
        for (key, v) in try value.mapping(allowed: keys) {
            if key == "request_lapse" {
                policy.requestLapseSeconds = try duration(v)
                continue
            }
            let population = Population(rawValue: key)!
            var p = PopulationPolicy.defaults(for: population)
            let keys: Set<String> = ["max_ttl", "require_reason", "approvals", "admin_approvals", "forbidden_scopes", "unapproved"]
            for (k, item) in try v.mapping(allowed: keys) {
                switch k {
                case "max_ttl": p.maxTTLSeconds = try duration(item)
                case "require_reason": p.requireReason = try item.bool()
                case "approvals": p.approvals = try item.int(1...5)
                case "admin_approvals": p.adminApprovals = try item.int(1...5)
                case "forbidden_scopes":
                    // Each pattern fits the scope grammar, or the config is refused naming it: no silent folding.
                    var patterns: [String] = []
                    for v in try item.sequence() {
                        let text = try v.string()
                        do { patterns.append(try ScopeGrammar.check(text, as: .pattern)) } catch { throw v.error(error.message) }
                    }
                    p.forbiddenScopes = patterns
                case "unapproved":
                    let text = try item.string()
                    guard let rule = PopulationPolicy.UnapprovedRule(rawValue: text) else {
                        throw item.error("expected flag or refuse, got '\(text)'")
                    }
                    p.unapproved = rule
                default: break
                }
            }
            policy.populations[population] = p
        }
        return policy
    }

    static func hooks(_ value: YAMLValue, baseDir: String) throws(ConfigError) -> HookConfig {
        var commands: [String: [String]] = [:]
        var timeout = 30.0
        var environment: [String: String] = [:]
        for (key, v) in try value.mapping(allowed: Set(HookConfig.events).union(["timeout", "env"])) {
            if key == "timeout" {
                timeout = try duration(v)
                continue
            }
            if key == "env" {
                for (name, item) in try v.mapping(allowed: nil) {
                    guard !name.isEmpty,
                        name.utf8.allSatisfy({
                            $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0)
                                || (0x61...0x7A).contains($0)
                        }),
                        !(0x30...0x39).contains(name.utf8.first!)
                    else {
                        throw item.error("'\(name)' is not an environment variable name (letters, digits and _, not starting with a digit)")
                    }
                    environment[name] = try item.string()
                }
                continue
            }
            let argv = try v.strings()
            guard let program = argv.first, !program.isEmpty else {
                throw v.error("a hook is a program and its arguments, like [\"/opt/trustgap/hooks/grant.sh\", \"--mode\", \"approve\"]")
            }
            // A program given with a path is resolved against the config file's folder; a bare name is found on PATH.
            commands[key] = [program.contains("/") ? resolve(program, baseDir: baseDir) : program] + argv.dropFirst()
        }
        return HookConfig(commands: commands, timeoutSeconds: timeout, environment: environment)
    }

    static func thresholds(_ value: YAMLValue) throws(ConfigError) -> RuleThresholds {
        var t = RuleThresholds()
        for (key, v) in try value.mapping(allowed: [
            "key_max_age", "stale_after", "os_patch_max_age", "broad_oauth_scopes", "production_environments",
        ]) {
            switch key {
            case "key_max_age": t.keyMaxAgeDays = try duration(v) / 86_400
            case "stale_after": t.staleAfterDays = try duration(v) / 86_400
            case "os_patch_max_age": t.osPatchMaxAgeDays = try duration(v) / 86_400
            case "broad_oauth_scopes": t.broadOAuthScopes = Set(try v.strings().map { $0.lowercased() })
            case "production_environments": t.productionEnvironments = Set(try v.strings().map { $0.lowercased() })
            default: break
            }
        }
        return t
    }
}
