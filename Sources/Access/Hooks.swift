import ChildProcess
import Crypto
import Foundation
import Inventory

/// Actuator hooks: the programs that make a decision real (Vault, Teleport, cloud IAM…). Each event has an argv,
/// run without a shell, with the grant as JSON on standard input and a timeout.
public struct HookConfig: Sendable, Equatable {
    public static let events = ["approve", "deny", "extend", "revoke", "expire"]
    public var commands: [String: [String]]
    public var timeoutSeconds: Double
    /// Variables a hook gets beyond PATH, LANG and TZ (`hooks.env`): never the environment of whoever runs trustgap.
    public var environment: [String: String]

    public init(commands: [String: [String]] = [:], timeoutSeconds: Double = 30, environment: [String: String] = [:]) {
        self.commands = commands.filter { !$0.value.isEmpty }
        self.timeoutSeconds = timeoutSeconds
        self.environment = environment
    }

    /// What a hook runs with: a fixed PATH, the locale and time zone, and what the config lists. An analyst's
    /// SSH agent, tokens and the rest of their environment stay out.
    public var minimalEnvironment: [String: String] {
        let own = ProcessInfo.processInfo.environment
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": own["LANG"] ?? "C.UTF-8"]
        if let tz = own["TZ"] { env["TZ"] = tz }
        for (k, v) in environment { env[k] = v }
        return env
    }

    public var events: HookEvents { HookEvents(Set(commands.keys)) }

    /// Why a hook's files can't be trusted, or nil: sshd's StrictModes rule. The program (looked up on the hook's
    /// PATH when bare) and every file its arguments name, and every directory above each, must be owned by root or
    /// by the user trustgap runs as, and writable by nobody else. A root-owned sticky directory (`/tmp`) is allowed
    /// above them, since nobody else can rename or replace what is in it.
    public func unsafePath(_ argv: [String]) -> String? {
        guard let program = argv.first else { return nil }
        var paths: [String] = []
        if program.contains("/") {
            var st = stat()
            guard stat(program, &st) == 0 else { return nil } // a missing program fails as it runs, saying so
            paths.append(program)
        } else {
            let dirs = (minimalEnvironment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
            let candidates = dirs.map { "\($0)/\(program)" }
            guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else { return nil }
            paths.append(found)
        }
        for arg in argv.dropFirst() where arg.hasPrefix("/") {
            var st = stat()
            if stat(arg, &st) == 0, st.st_mode & S_IFMT == S_IFREG { paths.append(arg) }
        }
        for path in paths {
            if let problem = Self.unsafe(path) { return problem }
        }
        return nil
    }

    static func unsafe(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return "\(path): \(String(cString: strerror(errno)))" }
        let resolved = String(cString: real)
        free(real)
        let me = geteuid()
        var components = resolved.split(separator: "/").map(String.init)
        var current = resolved
        while true {
            var st = stat()
            guard lstat(current, &st) == 0 else { return "\(current): \(String(cString: strerror(errno)))" }
            let mode = String(st.st_mode & 0o7777, radix: 8)
            let isDir = st.st_mode & S_IFMT == S_IFDIR
            let what = current == resolved ? (path == resolved ? path : "\(path) (\(resolved))") : current
            if st.st_uid != 0, st.st_uid != me {
                return "\(what) is owned by uid \(st.st_uid), not root or the user trustgap runs as (uid \(me)): refused to run the hook"
            }
            let sticky = isDir && st.st_mode & S_ISVTX != 0 && st.st_uid == 0 && current != resolved
            if st.st_mode & (S_IWGRP | S_IWOTH) != 0, !sticky {
                let who = st.st_mode & S_IWOTH != 0 ? "everyone" : "its group"
                return "\(what) is writable by \(who) (mode \(mode)): refused to run the hook; chmod go-w it"
            }
            if components.isEmpty { break }
            components.removeLast()
            current = "/" + components.joined(separator: "/")
        }
        return nil
    }

    /// The exact command a confirmation shows before it runs.
    public func preview(_ event: String) -> String? {
        commands[event].map { argv in argv.map(Self.quote).joined(separator: " ") + "  < grant.json" }
    }

    static func quote(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:@+,".contains($0) }) && !s.isEmpty
            ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// What a hook run did.
public struct HookResult: Sendable, Equatable {
    public var succeeded: Bool
    /// Exit status and the first lines of output, for the grant and the audit log.
    public var detail: String
    /// What the hook left for the agent that asked (a `TRUSTGAP-FOR-AGENT:` line): a credential reference or a
    /// short-lived credential. Never in `detail`, the store, the log or the audit: only its fingerprint is.
    public var forAgent: String? = nil
}

extension HookRunner {
    /// `SHA256:` and the unpadded base64 of the digest: what is recorded of a secret.
    public static func fingerprint(_ secret: String) -> String {
        "SHA256:" + Data(SHA256.hash(data: Data(secret.utf8))).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// The line prefix a hook writes what is for the agent after.
    public static let forAgentPrefix = "TRUSTGAP-FOR-AGENT:"

    /// Splits what is for the agent out of a hook's standard output.
    static func splitForAgent(_ stdout: String) -> (rest: String, forAgent: String?) {
        var rest: [Substring] = []
        var found: String?
        for line in stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(forAgentPrefix), found == nil {
                let value = line.dropFirst(forAgentPrefix.count).trimmingCharacters(in: .whitespaces)
                if !value.isEmpty, value.utf8.count <= 4096 { found = value }
            } else {
                rest.append(line)
            }
        }
        return (rest.joined(separator: "\n"), found)
    }
}

public enum HookRunner {
    /// Runs the hook for `event` with `payload` on stdin. Never throws: failures are results.
    public static func run(_ config: HookConfig, event: String, payload: Data) async -> HookResult {
        guard let argv = config.commands[event], !argv.isEmpty else {
            return HookResult(succeeded: true, detail: "no \(event) hook configured")
        }
        if let problem = config.unsafePath(argv) { return HookResult(succeeded: false, detail: problem) }
        let outcome: ChildProcess.Outcome
        do {
            outcome = try await ChildProcess.run(
                argv, input: payload, environment: config.minimalEnvironment, inheritEnvironment: false,
                timeoutSeconds: config.timeoutSeconds, maxOutputBytes: 1 << 20)
        } catch {
            return HookResult(succeeded: false, detail: error.description)
        }
        let (stdout, forAgent) = splitForAgent(String(decoding: outcome.stdout, as: UTF8.self))
        let text = stdout + outcome.stderrTail
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(5).joined(separator: " | ")
        let excerpt = String(lines.prefix(400))
        var suffix = excerpt.isEmpty ? "" : ": \(excerpt)"
        if let forAgent {
            suffix += "; left the agent a credential (\(String(fingerprint(forAgent).prefix(19))))"
        }
        switch outcome.ending {
        case .exited(0): return HookResult(succeeded: true, detail: "exit 0" + suffix, forAgent: forAgent)
        case .exited(let code): return HookResult(succeeded: false, detail: "exit \(code)" + suffix)
        case .signaled(let sig): return HookResult(succeeded: false, detail: "killed by signal \(sig)")
        case .timedOut:
            return HookResult(succeeded: false, detail: "timed out after \(DurationText.format(config.timeoutSeconds)) and was stopped")
        case .outputCapped: return HookResult(succeeded: false, detail: "wrote more than 1 MiB of output and was stopped")
        }
    }

    /// Runs every owed actuation (pending, or failed and due a retry), or only those of the grants in `only`, and
    /// records each result.
    @discardableResult
    public static func settle(
        _ store: AccessStore, config: HookConfig, by analyst: Analyst, now: Date,
        only: Set<String>? = nil
    ) async -> [(Grant, HookResult)] {
        guard let owed = try? store.owedActuations(now: now) else { return [] }
        var done: [(Grant, HookResult)] = []
        for g in owed where only?.contains(g.id) ?? true {
            guard let event = g.actuationEvent else { continue }
            // Claim it first, so another dashboard or a cron sweep doesn't run the same hook at the same time.
            guard (try? store.claimActuation(g.id, until: now.addingTimeInterval(config.timeoutSeconds + 60), now: now)) == true else {
                continue
            }
            let payload = (try? payloadEncoder.encode(HookPayload(event: event, grant: g))) ?? Data()
            let result = await run(config, event: event, payload: payload)
            try? store.recordActuation(g.id, event: event, succeeded: result.succeeded, detail: result.detail, by: analyst, now: now)
            done.append((g, result))
        }
        return done
    }

    /// Runs the deny hook for a request (there is no grant to mark, so a failure is audited, not retried).
    @discardableResult
    public static func denied(_ request: AccessRequest, store: AccessStore, config: HookConfig, by analyst: Analyst, now: Date) async
        -> HookResult?
    {
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
