import Access
import AccessService
import ArgumentParser
import Collectors
import Config
import Foundation
import Inventory
import Logging
import ServiceLifecycle
import UnixSignals

/// `trustgap serve`: the access service, the only writer of a shared store (docs/access.md, "The access service").
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the access service: the one writer of a shared store, on a Unix socket.",
        discussion: """
            Its config is its own: policy, hooks, collectors, store and clock decide, never a client's. Clients — the \
            dashboard and every access command — connect to `service.socket`; who they are comes from the kernel. \
            SIGTERM, SIGINT or SIGHUP stops it; each decision is one transaction, so none is half made.
            """)

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("The socket (default: the config's `service.socket`).", valueName: "path"))
    var socket: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store: a file, or postgres://USER@HOST/DB (default: the config's `store`, else $XDG_STATE_HOME/trustgap/service.db).",
            valueName: "path|url"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("How often to expire grants, lapse requests and retry hooks.", valueName: "duration"))
    var sweep: String = "5s"

    func run() async throws {
        try await reporting {
            source.bootstrapLogging()
            let config = try source.loadConfig()
            guard let socketPath = socket ?? config.service?.socket else {
                throw CLIError.badInput(
                    "the service needs a socket: `service: {socket: /run/trustgap/trustgap.sock}` in its config, or --socket PATH")
            }
            guard !config.collectors.isEmpty else {
                throw CLIError.badInput(
                    "the service needs at least one collector: its inventory is every analyst's (docs/configuration.md)")
            }
            let sweepSeconds = try parseDuration(sweep, flag: "--sweep")
            guard sweepSeconds > 0 else { throw CLIError.badInput("--sweep must be longer than zero") }
            let storePath = store ?? config.store ?? "\(SourceOptions.stateDirectory())/service.db"
            let runner = CollectorRunner(specs: config.collectors.map { $0.makeSpec() }, rules: RiskRules(thresholds: config.thresholds))
            var settings = ServiceHost.Settings(
                socket: socketPath, group: config.service?.group, storePath: storePath, policy: config.policy,
                hooks: config.hooks, readonly: config.readonly, sweepSeconds: sweepSeconds)
            settings.thresholds = config.thresholds
            if AccessStore.isPostgres(storePath) {
                // Every host keeps a copy of the one audit key, and an anchor of its own.
                settings.auditKey = config.auditKey ?? "\(SourceOptions.stateDirectory())/postgres-audit.key"
                settings.auditAnchor = config.auditAnchor ?? "\(SourceOptions.stateDirectory())/postgres-audit.anchor"
            } else {
                settings.auditKey = config.auditKey
                settings.auditAnchor = config.auditAnchor
            }
            let host: ServiceHost
            do { host = try ServiceHost(settings, runner: runner, logger: Logger(label: "trustgap.service")) } catch {
                throw CLIError.access(error)
            }
            if let problem = host.verification.problem {
                Console.error("audit chain BROKEN at start: \(problem)")
            }
            do { try await host.start() } catch { throw CLIError.access(error) }
            Console.error("access service listening on \(socketPath) (store \(host.store.path))")
            // swift-service-lifecycle turns the signals into a graceful shutdown of the host.
            let group = ServiceGroup(
                services: [host], gracefulShutdownSignals: [.sigterm, .sigint, .sighup], logger: Logger(label: "trustgap.service"))
            do { try await group.run() } catch { throw CLIError.access(error) }
        }
    }
}

extension TrustgapConfig {
    /// Takes the access service's policy, rule thresholds and hook commands in place of this config's, when it
    /// answers; when it doesn't, keeps its own (the dashboard then shows the service as unreachable).
    mutating func adopt(serviceAt socket: String) {
        guard let hello = try? AccessClient(socketPath: socket).call(WireRequest(op: "hello")) else { return }
        if let p = hello.policy { policy = p }
        if let t = hello.thresholds { thresholds = t }
        if let h = hello.hookCommands { hooks = HookConfig(commands: h, timeoutSeconds: hooks.timeoutSeconds) }
    }
}
