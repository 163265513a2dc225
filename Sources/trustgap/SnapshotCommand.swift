import AccessService
import ArgumentParser
import Collectors
import Config
import Dashboard
import Foundation
import Inventory
import Terminal

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Collect once and print the inventory, its risks and the gap.",
        discussion: "Formats: table (for people), json (docs/snapshot.md), csv (one row per entity)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv
    }

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "Output format: table, json or csv.")
    var format: Format = .table

    func run() async throws {
        try await reporting {
            source.bootstrapLogging()
            let config = try source.loadConfig()
            let snapshot = try await Self.collectOnce(config)
            let out: String
            switch format {
            case .table:
                let ascii = !Locale.current.identifier.lowercased().contains("utf") && !Self.utf8Locale()
                out = SnapshotText(snapshot: snapshot, width: 110, ascii: ascii).render()
            case .json:
                let data = SafeText.terminalSafeJSON(try SnapshotDocument.encoder().encode(SnapshotDocument(snapshot)))
                out = String(decoding: data, as: UTF8.self) + "\n" // already escaped; sanitising leaves it as it is
            case .csv:
                out = CSVExport.entities(snapshot.entities)
            }
            Console.write(out)
            let failed = snapshot.collectors.filter { $0.state == .failed }
            for c in snapshot.collectors where c.state != .ok {
                Console.error("collector \(c.name) \(c.state == .stale ? "stale" : "failed"): \(c.lastError ?? "unknown error")")
            }
            if !failed.isEmpty, failed.count == snapshot.collectors.count {
                throw CLIError.failed("every collector failed")
            }
        }
    }

    static func utf8Locale(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let value =
            env["LC_ALL"].flatMap { $0.isEmpty ? nil : $0 } ?? env["LC_CTYPE"].flatMap { $0.isEmpty ? nil : $0 } ?? env["LANG"] ?? ""
        return value.uppercased().contains("UTF-8") || value.uppercased().contains("UTF8")
    }

    /// Runs every collector once and returns the snapshot.
    static func collectOnce(_ config: TrustgapConfig) async throws -> Snapshot {
        var config = config
        if let socket = config.service?.socket { config.adopt(serviceAt: socket) }
        // With an access service, its inventory: the same entities every analyst's dashboard shows.
        let specs =
            config.service.map {
                [
                    CollectorSpec(
                        name: "service", type: "service", intervalSeconds: 5, timeoutSeconds: 60,
                        collector: ServiceInventoryCollector(socket: $0.socket))
                ]
            }
            ?? config.collectors.map { $0.makeSpec(stateDirectory: SourceOptions.stateDirectory()) }
        let runner = CollectorRunner(specs: specs, rules: RiskRules(thresholds: config.thresholds))
        await runner.runAllOnce()
        return await runner.snapshot
    }
}
