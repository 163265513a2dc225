import ArgumentParser
import Collectors
import Config
import Foundation
import Logging
import Synchronization
import Terminal

/// Options every command shares: where the inventory comes from.
struct SourceOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("Config file (default: $XDG_CONFIG_HOME/trustgap/config.yaml, else the built-in demo).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Entities in the demo organisation (8 to 5,000,000).", valueName: "n"))
    var demoSize: Int?

    @Option(name: .long, help: ArgumentHelp("Seed of the demo organisation; the same seed gives the same organisation.", valueName: "n"))
    var seed: UInt64?

    @Option(
        name: .long,
        help: ArgumentHelp("How fast the demo organisation lives: 2 is twice as busy, 0.5 calmer (0.1 to 20; default 1).", valueName: "x"))
    var demoSpeed: Double?

    @Option(name: .long, help: ArgumentHelp("Log file (default: $XDG_STATE_HOME/trustgap/trustgap.log).", valueName: "file"))
    var logFile: String?

    func validate() throws {
        if let n = demoSize, !(8...5_000_000).contains(n) {
            throw ValidationError("--demo-size must be from 8 to 5000000, got \(n)")
        }
        if let x = demoSpeed, !(0.1...20).contains(x) {
            throw ValidationError("--demo-speed must be from 0.1 to 20, got \(x)")
        }
    }

    /// Loads the config, or the demo when there is none, with the demo flags applied.
    func loadConfig() throws -> TrustgapConfig {
        guard let path = ConfigLoader.locate(explicit: config) else {
            return .demo(size: demoSize ?? DemoCollector.defaultSize, seed: seed ?? 42, speed: demoSpeed ?? 1)
        }
        var cfg: TrustgapConfig
        do {
            cfg = try ConfigLoader.load(path: path)
        } catch {
            throw CLIError.badInput("config error: \(error.description)")
        }
        if demoSize != nil || seed != nil || demoSpeed != nil {
            for i in cfg.collectors.indices {
                if case .demo(let size, let s, let x) = cfg.collectors[i].options {
                    cfg.collectors[i].options = .demo(size: demoSize ?? size, seed: seed ?? s, speed: demoSpeed ?? x)
                }
            }
        }
        return cfg
    }

    static func stateDirectory(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let x = env["XDG_STATE_HOME"], !x.isEmpty { return "\(x)/trustgap" }
        return "\(env["HOME"] ?? NSTemporaryDirectory())/.local/state/trustgap"
    }

    /// Sends every log line to the log file, never to the terminal.
    /// Sends logs to the log file; only the first call in a process does anything (swift-log allows one bootstrap,
    /// and the agent gateway opens its connection again after the service restarts).
    func bootstrapLogging() {
        let path = logFile ?? "\(Self.stateDirectory())/trustgap.log"
        let first = loggingBootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first { LoggingSystem.bootstrap(FileLogHandler.factory(path: path)) }
    }
}

/// Errors the CLI reports with a documented exit code.
enum CLIError: Error, CustomStringConvertible {
    /// Bad input: exit 2.
    case badInput(String)
    /// A runtime failure: exit 1.
    case failed(String)
    /// Any other documented code (3 refused, 4 conflict, 5 not found).
    case code(Int32, String)

    var description: String {
        switch self {
        case .badInput(let m), .failed(let m), .code(_, let m): m
        }
    }

    var exitCode: Int32 {
        switch self {
        case .badInput: 2
        case .failed: 1
        case .code(let c, _): c
        }
    }
}

/// Runs `body`, turning a CLIError into a message on stderr and its documented exit code.
func withDocumentedExit(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as CLIError {
        // Messages carry other people's text (reasons, collector data): each line through the one sanitiser.
        Console.error(e.description)
        throw ExitCode(e.exitCode)
    }
}

extension AsyncParsableCommand {
    func reporting(_ body: () async throws -> Void) async throws { try await withDocumentedExit(body) }
}

private let loggingBootstrapped = Mutex(false)
