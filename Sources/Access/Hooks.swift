import Foundation
import Inventory
import Subprocess
import SystemPackage

/// Actuator hooks: the programs that make a decision real (Vault, Teleport, cloud IAM…). Each event has an argv,
/// run without a shell, with the grant as JSON on standard input and a timeout.
public struct HookConfig: Sendable, Equatable {
    public static let events = ["approve", "deny", "extend", "revoke", "expire"]
    public var commands: [String: [String]]
    public var timeoutSeconds: Double

    public init(commands: [String: [String]] = [:], timeoutSeconds: Double = 30) {
        self.commands = commands.filter { !$0.value.isEmpty }
        self.timeoutSeconds = timeoutSeconds
    }

    public var events: HookEvents { HookEvents(Set(commands.keys)) }

    /// The exact command a confirmation shows before it runs.
    public func preview(_ event: String) -> String? {
        commands[event].map { argv in argv.map(Self.quote).joined(separator: " ") + "  < grant.json" }
    }

    static func quote(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:@+,".contains($0) }) && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// What a hook run did.
public struct HookResult: Sendable, Equatable {
    public var succeeded: Bool
    /// Exit status and the first lines of output, for the grant and the audit log.
    public var detail: String
}

public enum HookRunner {
    /// Runs the hook for `event` with `payload` on stdin. Never throws: failures are results.
    public static func run(_ config: HookConfig, event: String, payload: Data) async -> HookResult {
        // A hook that exits without reading its stdin must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        guard let argv = config.commands[event], let program = argv.first else {
            return HookResult(succeeded: true, detail: "no \(event) hook configured")
        }
        let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
        let arguments = Arguments(Array(argv.dropFirst()))
        let input = String(decoding: payload, as: UTF8.self)
        let timeout = config.timeoutSeconds
        do {
            let outcome = try await withThrowingTaskGroup(of: HookResult?.self) { group in
                group.addTask {
                    var options = PlatformOptions()
                    options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
                    let r = try await Subprocess.run(executable, arguments: arguments, platformOptions: options,
                                                     input: .string(input), output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
                    let out = r.standardOutput + r.standardError
                    let lines = out.split(separator: "\n", omittingEmptySubsequences: true).prefix(5).joined(separator: " | ")
                    let excerpt = String(lines.prefix(400))
                    switch r.terminationStatus {
                    case .exited(0): return HookResult(succeeded: true, detail: "exit 0" + (excerpt.isEmpty ? "" : ": \(excerpt)"))
                    case .exited(let code): return HookResult(succeeded: false, detail: "exit \(code)" + (excerpt.isEmpty ? "" : ": \(excerpt)"))
                    case .signaled(let sig): return HookResult(succeeded: false, detail: "killed by signal \(sig)")
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                return first ?? HookResult(succeeded: false, detail: "timed out after \(DurationText.format(timeout)) and was stopped")
            }
            return outcome
        } catch {
            return HookResult(succeeded: false, detail: "could not run \(program): \(error)")
        }
    }

    /// Runs every owed actuation (pending, or failed and due a retry) and records each result.
    @discardableResult
    public static func settle(_ store: AccessStore, config: HookConfig, by analyst: Analyst, now: Date) async -> [(Grant, HookResult)] {
        guard let owed = try? store.owedActuations(now: now) else { return [] }
        var done: [(Grant, HookResult)] = []
        for g in owed {
            guard let event = g.actuationEvent else { continue }
            let payload = (try? payloadEncoder.encode(HookPayload(event: event, grant: g))) ?? Data()
            let result = await run(config, event: event, payload: payload)
            try? store.recordActuation(g.id, event: event, succeeded: result.succeeded, detail: result.detail, by: analyst, now: now)
            done.append((g, result))
        }
        return done
    }

    static var payloadEncoder: JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }
}

/// What a hook reads on stdin.
public struct HookPayload: Codable, Sendable {
    public var event: String
    public var grant: Grant
}
