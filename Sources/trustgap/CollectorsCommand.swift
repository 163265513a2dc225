import ArgumentParser
import Collectors
import Config
import Foundation
import Inventory
import Terminal

struct CollectorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collectors", abstract: "List the configured collectors, or test one.",
        subcommands: [List.self, Test.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the collectors of the config (or the demo).")
        @OptionGroup var source: SourceOptions
        func run() async throws {
            try await reporting {
                source.bootstrapLogging()
                let config = try source.loadConfig()
                Console.out("config: \(config.file ?? "(none: the built-in demo)")")
                for c in config.collectors {
                    let what: String =
                        switch c.options {
                        case .demo(let size, let seed, let speed): "\(size) entities, seed \(seed)" + (speed == 1 ? "" : ", speed \(speed)")
                        case .file(let path, _), .awsCredentialReport(let path), .osquery(let path, _, _): path
                        case .host(let home, let root, let passwd): "homes in \(home)\(root ? " and /root" : ""), accounts from \(passwd)"
                        case .github(let org, let a, let b, let c): "org \(org): " + [a, b, c].compactMap { $0 }.joined(separator: ", ")
                        case .kubernetes(let path, let kubectl, let cluster):
                            "cluster \(cluster): " + (path ?? (kubectl ?? []).joined(separator: " "))
                        case .exec(let argv, _, let dir, _): argv.joined(separator: " ") + (dir.map { " (in \($0))" } ?? "")
                        }
                    Console.out(
                        "\(c.name.padding(toLength: 16, withPad: " ", startingAt: 0)) "
                            + "\(c.type.padding(toLength: 22, withPad: " ", startingAt: 0)) "
                            + "every \(DurationText.format(c.intervalSeconds)), "
                            + "timeout \(DurationText.format(c.timeoutSeconds))  \(what)"
                    )
                }
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one collector once and print what it found, or exactly why it failed (exit 1).")
        @OptionGroup var source: SourceOptions
        @Argument(help: "The collector's name.") var name: String
        @Option(help: "Output: table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await reporting {
                source.bootstrapLogging()
                let config = try source.loadConfig()
                guard let c = config.collectors.first(where: { $0.name == name }) else {
                    throw CLIError.badInput(
                        "no collector named \(name); the config has \(config.collectors.map(\.name).joined(separator: ", "))")
                }
                let runner = CollectorRunner(specs: [c.makeSpec()], rules: RiskRules(thresholds: config.thresholds))
                await runner.runAllOnce()
                let snapshot = await runner.snapshot
                let health = snapshot.collectors[0]
                if format == .json {
                    let e = SnapshotDocument.encoder()
                    Console.json(try e.encode(SnapshotDocument(snapshot)))
                } else {
                    Console.out(
                        "\(health.name): \(health.state.rawValue), \(health.entityCount) entities "
                            + "in \(String(format: "%.2f", health.duration ?? 0))s"
                    )
                    var byPopulation: [Population: Int] = [:]
                    for a in snapshot.entities { byPopulation[a.entity.population, default: 0] += 1 }
                    for p in Population.allCases where byPopulation[p] != nil { Console.out("  \(p.title): \(byPopulation[p]!)") }
                    for w in health.warnings { Console.out(SafeText.sanitize("  warning: \(w)")) }
                }
                if let e = health.lastError { throw CLIError.failed("collector \(name) failed: \(e)") }
            }
        }
    }
}
