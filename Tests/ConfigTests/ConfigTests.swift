import Foundation
import TestSupport
import Testing

@testable import Collectors
@testable import Config
@testable import Inventory

@Suite("Config")
struct ConfigTests {
    @Test("a full config parses, with relative paths resolved against the config file's folder")
    func parses() throws {
        let config = try ConfigLoader.parse(
            """
            collectors:
              - type: file
                name: exports
                path: ./entities.jsonl
                interval: 30s
                timeout: 10s
              - type: demo
                size: 2000
                seed: 7
            rules:
              key_max_age: 30d
              stale_after: 60d
            theme: light
            readonly: true
            refresh: 2s
            """, file: "/etc/trustgap/config.yaml")
        #expect(config.collectors.count == 2)
        #expect(
            config.collectors[0]
                == CollectorConfig(
                    type: "file", name: "exports", intervalSeconds: 30, timeoutSeconds: 10,
                    options: .file(path: "/etc/trustgap/entities.jsonl", maxBytes: 256 << 20)))
        #expect(config.collectors[1].options == .demo(size: 2000, seed: 7))
        #expect(config.collectors[1].name == "demo")
        #expect(config.thresholds.keyMaxAgeDays == 30)
        #expect(config.thresholds.staleAfterDays == 60)
        #expect(config.theme == "light")
        #expect(config.readonly)
        #expect(config.refreshSeconds == 2)
    }

    @Test("a demo's speed is read from the config, and one out of range is refused where it is written")
    func demoSpeed() throws {
        let config = try ConfigLoader.parse("collectors:\n  - type: demo\n    speed: 4\n", file: "cfg.yaml")
        #expect(config.collectors[0].options == .demo(size: DemoCollector.defaultSize, seed: 42, speed: 4))
        #expect(error("collectors:\n  - type: demo\n    speed: 50\n").contains("cfg.yaml:3"))
    }

    func error(_ yaml: String) -> String {
        do {
            _ = try ConfigLoader.parse(yaml, file: "cfg.yaml")
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test("errors name the file, the line and the key")
    func errors() {
        #expect(
            error(
                """
                collectors:
                  - type: file
                    path: x.jsonl
                    intervall: 5s
                """)
                == "cfg.yaml:4: collectors[0].intervall: unknown key (did you mean 'interval'?); "
                + "allowed here: cluster, command, deploy_keys, env, home_root, installations, interval, "
                + "kubectl, max_field_size, max_output, max_record_size, max_size, minimum_os, name, org, passwd, path, "
                + "personal_access_tokens, queries, seed, size, speed, timeout, type, working_directory"
        )
        #expect(
            error(
                """
                collectors:
                  - type: file
                    path: x.jsonl
                    interval: fast
                """) == "cfg.yaml:4: collectors[0].interval: invalid duration 'fast': use a number and a unit, like 30s, 15m, 1h, 2d or 1w")
        #expect(
            error(
                """
                collectors:
                  - type: ldap
                """)
                == "cfg.yaml:2: collectors[0].type: unknown collector type 'ldap'; "
                + "known types: demo, file, exec, aws-credential-report, kubernetes, github, osquery, host"
        )
        #expect(
            error(
                """
                collectors:
                  - type: file
                    name: x
                """) == "cfg.yaml:2: collectors[0]: the file collector needs 'path'")
        #expect(
            error(
                """
                collectors:
                  - type: demo
                    size: lots
                """) == "cfg.yaml:3: collectors[0].size: expected a whole number from 8 to 5000000, got 'lots'")
        #expect(
            error(
                """
                collectors:
                  - type: demo
                readonly: maybe
                """) == "cfg.yaml:3: readonly: expected true or false")
        #expect(
            error(
                """
                collectors:
                  - type: demo
                  - type: demo
                """) == "cfg.yaml:3: collectors[1]: two collectors are named 'demo'; give each a unique name")
        #expect(
            error(
                """
                collectors:
                  - type: demo
                theme: light
                theme: dark
                """) == "cfg.yaml:3: theme: given twice")
        #expect(
            error("collectors:\n  - type: demo\n    path: x.jsonl\n")
                == "cfg.yaml:3: collectors[0].path: not an option of the demo collector (its options: seed, size, speed)")
        #expect(
            error("collectors:\n  - type: osquery\n    path: r.log\n    queries: {pack_x: processes}\n").contains(
                "'processes' is not a table trustgap reads"))
        #expect(error("theme: dark\n").hasPrefix("cfg.yaml:1: collectors: at least one collector is needed"))
        #expect(error("") == "cfg.yaml: the file is empty; see docs/configuration.md")
    }

    @Test("an exec collector: argv, env, working directory relative to the config")
    func exec() throws {
        let c = try ConfigLoader.parse(
            """
            collectors:
              - type: exec
                name: vault
                command: ["./bin/vault-export", "--format", "jsonl"]
                env: {VAULT_ADDR: "https://vault.internal:8200"}
                working_directory: ./work
                timeout: 20s
            """, file: "/etc/trustgap/config.yaml")
        #expect(
            c.collectors[0].options
                == .exec(
                    command: ["/etc/trustgap/bin/vault-export", "--format", "jsonl"],
                    environment: ["VAULT_ADDR": "https://vault.internal:8200"],
                    workingDirectory: "/etc/trustgap/work", maxOutputBytes: 64 << 20))
        #expect(
            error("collectors:\n  - type: exec\n")
                == "cfg.yaml:2: collectors[0]: the exec collector needs 'command', "
                + "a program and its arguments: [\"/opt/export.sh\", \"--json\"]"
        )
        #expect(error("collectors:\n  - type: exec\n    command: sh -c 'curl x'\n") == "cfg.yaml:3: collectors[0].command: expected a list")
    }

    @Test("invalid YAML is reported with line and column")
    func invalidYAML() {
        let message = error("collectors:\n  - type: demo\n   bad: [\n")
        #expect(message.hasPrefix("cfg.yaml:"))
        #expect(message.contains("invalid YAML"))
    }

    @Test("a missing file says so")
    func missingFile() {
        #expect(throws: ConfigError(file: "/nonexistent/x.yaml", message: "no such file")) {
            try ConfigLoader.load(path: "/nonexistent/x.yaml")
        }
    }

    @Test("locate: the flag, else XDG_CONFIG_HOME when the file exists, else the demo")
    func locate() throws {
        #expect(ConfigLoader.locate(explicit: "/x.yaml", environment: [:]) == "/x.yaml")
        let dir = TestTemporary.directory.appendingPathComponent("tg-xdg-\(UUID())")
        #expect(ConfigLoader.locate(explicit: nil, environment: ["XDG_CONFIG_HOME": dir.path]) == nil)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("trustgap"), withIntermediateDirectories: true)
        try "collectors: [{type: demo}]".write(to: dir.appendingPathComponent("trustgap/config.yaml"), atomically: true, encoding: .utf8)
        #expect(ConfigLoader.locate(explicit: nil, environment: ["XDG_CONFIG_HOME": dir.path]) == dir.path + "/trustgap/config.yaml")
    }
}

@Suite("Config hardening (issue 10)")
struct ConfigHardeningTests {
    func error(_ yaml: String) -> String { ConfigTests().error(yaml) }

    @Test("a forbidden_scopes pattern outside the scope grammar is refused, naming the character, its position and the line")
    func forbiddenScopesGrammar() {
        let e = error(
            """
            collectors:
              - type: demo
            policy:
              agent:
                forbidden_scopes: ["*admin", "iam:ad\\u200bmin"]
            """)
        #expect(
            e.hasPrefix(
                "cfg.yaml:5: policy.agent.forbidden_scopes[1]: scope 'iam:ad\\u{200B}min': "
                    + "U+200B ZERO WIDTH SPACE at character 7 is not allowed"
            ), "\(e)")
        #expect(
            error(
                """
                collectors:
                  - type: demo
                policy:
                  agent:
                    forbidden_scopes: ["prod:[a"]
                """
            ).contains("never closed"))
    }

    @Test("100,000 collectors are refused with a clear message, not run")
    func tooManyCollectors() {
        let yaml = "collectors:\n" + (0..<100_000).map { "  - {type: demo, name: d\($0)}" }.joined(separator: "\n")
        let e = error(yaml)
        #expect(e.contains("100000 collectors are configured; at most 64 run at once"), "\(e.prefix(300))")
    }

    @Test("the log file goes through the one sanitiser: bidi overrides and tags don't pass")
    func logClean() {
        let line = FileLogHandler.clean("user \u{202E}gnp.exe \u{E0041}\u{E0042} \u{1B}[2J")
        #expect(
            !line.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x1B || (0xE0000...0xE007F).contains($0.value) },
            "\(line.debugDescription)")
        #expect(line.contains("gnp.exe"))
    }

    @Test("a collector name is ASCII and at most 64 characters")
    func collectorNames() {
        #expect(error("collectors:\n  - {type: demo, name: d\u{0435}mo}").contains("1 to 64 ASCII"))
        #expect(error("collectors:\n  - {type: demo, name: \(String(repeating: "x", count: 65))}").contains("1 to 64 ASCII"))
    }
}
