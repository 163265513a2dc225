import Access
import AccessService
import AgentGateway
import ArgumentParser
import Collectors
import Config
import Dashboard
import Foundation
import Inventory
import Terminal

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Open the live dashboard (the default command). Press ? in it for the keys."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Theme name or file (trustgap themes list).", valueName: "name|path"))
    var theme: String?

    @Option(
        name: .long, help: ArgumentHelp("Refresh every collector at this interval instead of its own (e.g. 2s).", valueName: "duration"))
    var refresh: String?

    @Flag(name: .long, help: "Hide and refuse every action that changes access.")
    var readonly = false

    @Flag(name: .long, help: "Start on the guided tour (as `trustgap tour`).")
    var tour = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The access store (default: the config's `store`, else $XDG_STATE_HOME/trustgap/trustgap.db).", valueName: "path"))
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Attach to the access service at this socket (default: the config's `service.socket`): its inventory and access state.",
            valueName: "path"))
    var service: String?

    func run() async throws {
        try await reporting {
            source.bootstrapLogging()
            var config = try source.loadConfig()
            if let refresh {
                do {
                    let seconds = try DurationText.seconds(refresh)
                    guard seconds > 0 else { throw CLIError.badInput("--refresh must be longer than zero") }
                    config.refreshSeconds = seconds
                } catch let e as DurationText.ParseError {
                    throw CLIError.badInput("--refresh: \(e.description)")
                }
            }
            let library = ThemeLibrary.standard()
            let selectedTheme: Theme
            do {
                selectedTheme = try library.load(theme ?? config.theme ?? "default")
            } catch {
                throw CLIError.badInput("theme: \(error)")
            }
            guard isatty(0) == 1, isatty(1) == 1 else {
                throw CLIError.badInput("the dashboard needs a terminal; for scripts use `trustgap snapshot`")
            }
            let readonlyMode = readonly || config.readonly
            let analyst = Analyst.current()
            if let socket = service ?? config.service?.socket {
                // Attached: the service's policy, rules and hooks, so what this screen shows is what the service decides.
                config.adopt(serviceAt: socket)
            }
            let specs: [CollectorSpec]
            let controller: AccessController?
            if let socket = service ?? config.service?.socket {
                // Attached: the service's inventory and access state, the same on every analyst's screen.
                if store != nil { throw CLIError.badInput("--store and the access service don't mix: the service keeps the store") }
                specs = [
                    CollectorSpec(
                        name: "service", type: "service", intervalSeconds: config.refreshSeconds ?? 5, timeoutSeconds: 60,
                        collector: ServiceInventoryCollector(socket: socket))
                ]
                controller = AccessController(service: socket, policy: config.policy, hooks: config.hooks, analyst: analyst)
            } else {
                specs = config.collectors.map { c in
                    // The demo's life is kept in the state folder, so the CLI knows the entities this dashboard shows.
                    var spec = c.makeSpec(stateDirectory: SourceOptions.stateDirectory())
                    if let r = config.refreshSeconds { spec.intervalSeconds = r }
                    return spec
                }
                let storePath = store ?? config.store ?? AccessOptions.defaultStorePath()
                var accessStore: AccessStore?
                if readonlyMode, !FileManager.default.fileExists(atPath: storePath) {
                    accessStore = nil // read-only never creates a store; the Access panel says there is none
                } else {
                    do { accessStore = try AccessStore(path: storePath, readonly: readonlyMode) } catch { throw CLIError.access(error) }
                }
                controller = accessStore.map { AccessController(store: $0, policy: config.policy, hooks: config.hooks, analyst: analyst) }
            }
            let session = DashboardSession(specs: specs, rules: RiskRules(thresholds: config.thresholds), access: controller)
            let mailbox = session.mailbox
            await session.start()
            // The built-in demo's agents ask for access themselves, through the gateway, as a real agent would.
            var demoAgents: Task<Void, Never>?
            if config.file == nil, !readonlyMode, let controller, case .embedded(let engine, _) = controller.backend {
                let speed = config.collectors.lazy.compactMap { if case .demo(_, _, let x) = $0.options { x } else { nil } }.first ?? 1
                demoAgents = Task.detached { await DemoAgent(engine: engine, timing: .init(speed: speed)).run() }
            }
            let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
            let policy = config.policy
            let hooks = config.hooks
            let startTour = tour
            let result: Result<Void, any Error> = await withCheckedContinuation { done in
                let thread = Thread {
                    do {
                        let terminal = try CursesTerminal(noColor: noColor)
                        let app = App(size: terminal.size, themes: library)
                        app.configure(
                            theme: selectedTheme, colorDepth: terminal.colorDepth, unicode: terminal.unicode,
                            readonly: readonlyMode, analyst: analyst)
                        app.configureAccess(controller, policy: policy, hooks: hooks)
                        if startTour { app.startTour() }
                        DashboardLoop(app: app, terminal: terminal, mailbox: mailbox).run()
                        done.resume(returning: .success(()))
                    } catch {
                        done.resume(returning: .failure(error))
                    }
                }
                thread.name = "trustgap-ui"
                thread.start()
            }
            demoAgents?.cancel()
            await session.stop()
            if case .failure(let error) = result {
                throw CLIError.badInput("\(error)")
            }
            let signal = mailbox.stopSignal
            if signal > 0 { throw ExitCode(128 + signal) }
        }
    }
}

/// `trustgap tour`: the dashboard, on the guided tour of the gap. Esc leaves the tour; the dashboard stays.
struct TourCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tour",
        abstract: "Open the dashboard on its guided tour: the story of the gap, step by step on the live panels.",
        usage: "trustgap tour [<dashboard options>]",
        discussion: "Space or Right moves on, Left goes back, Esc leaves the tour. Takes the dashboard's options.")

    @OptionGroup var dashboard: DashboardCommand

    func run() async throws {
        var command = dashboard
        command.tour = true
        try await command.run()
    }
}
