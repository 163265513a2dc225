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
        let timeout = config.timeoutSeconds
        // Stdin and the output go through files, not pipes: nothing to drain when a hung hook is stopped, and a
        // hook that never reads its input can't block us.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("trustgap-hook-\(UUID().uuidString)")
        let inPath = scratch.path + ".in", outPath = scratch.path + ".out"
        defer {
            try? FileManager.default.removeItem(atPath: inPath)
            try? FileManager.default.removeItem(atPath: outPath)
        }
        let input: FileDescriptor, output: FileDescriptor, errors: FileDescriptor
        do {
            guard FileManager.default.createFile(atPath: inPath, contents: payload, attributes: [.posixPermissions: 0o600]) else {
                return HookResult(succeeded: false, detail: "could not write the hook's input to \(inPath)")
            }
            input = try FileDescriptor.open(FilePath(inPath), .readOnly)
            output = try FileDescriptor.open(FilePath(outPath), .writeOnly, options: [.create, .truncate, .append], permissions: [.ownerReadWrite])
            errors = try FileDescriptor.open(FilePath(outPath), .writeOnly, options: [.append])
        } catch {
            return HookResult(succeeded: false, detail: "could not prepare the hook's input and output: \(error)")
        }
        do {
            let status = try await withThrowingTaskGroup(of: TerminationStatus?.self) { group in
                group.addTask {
                    var options = PlatformOptions()
                    // Its own process group, so a timeout stops the hook and everything it started.
                    options.processGroupID = 0
                    options.teardownSequence = [
                        .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2)),
                        .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .milliseconds(200)),
                    ]
                    let r = try await Subprocess.run(executable, arguments: arguments, platformOptions: options,
                                                     input: .fileDescriptor(input, closeAfterSpawningProcess: true),
                                                     output: .fileDescriptor(output, closeAfterSpawningProcess: true),
                                                     error: .fileDescriptor(errors, closeAfterSpawningProcess: true))
                    return r.terminationStatus
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                while let _ = try? await group.next() {}
                return first
            }
            let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(5).joined(separator: " | ")
            let excerpt = String(lines.prefix(400))
            switch status {
            case nil: return HookResult(succeeded: false, detail: "timed out after \(DurationText.format(timeout)) and was stopped")
            case .exited(0)?: return HookResult(succeeded: true, detail: "exit 0" + (excerpt.isEmpty ? "" : ": \(excerpt)"))
            case .exited(let code)?: return HookResult(succeeded: false, detail: "exit \(code)" + (excerpt.isEmpty ? "" : ": \(excerpt)"))
            case .signaled(let sig)?: return HookResult(succeeded: false, detail: "killed by signal \(sig)")
            }
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
            // Claim it first, so another dashboard or a cron sweep doesn't run the same hook at the same time.
            guard (try? store.claimActuation(g.id, until: now.addingTimeInterval(config.timeoutSeconds + 60), now: now)) == true else { continue }
            let payload = (try? payloadEncoder.encode(HookPayload(event: event, grant: g))) ?? Data()
            let result = await run(config, event: event, payload: payload)
            try? store.recordActuation(g.id, event: event, succeeded: result.succeeded, detail: result.detail, by: analyst, now: now)
            done.append((g, result))
        }
        return done
    }

    /// Runs the deny hook for a request (there is no grant to mark, so a failure is audited, not retried).
    @discardableResult
    public static func denied(_ request: AccessRequest, store: AccessStore, config: HookConfig, by analyst: Analyst, now: Date) async -> HookResult? {
        guard config.commands["deny"] != nil else { return nil }
        let payload = (try? payloadEncoder.encode(DenyPayload(event: "deny", request: request))) ?? Data()
        let result = await run(config, event: "deny", payload: payload)
        try? store.recordRequestActuation(request, succeeded: result.succeeded, detail: result.detail, by: analyst, now: now)
        return result
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

/// What the deny hook reads on stdin.
public struct DenyPayload: Codable, Sendable {
    public var event: String
    public var request: AccessRequest
}
