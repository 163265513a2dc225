import Access
import ArgumentParser
import Collectors
import Config
import Dashboard
import Foundation
import Inventory
import Terminal

/// Options of every access command: the inventory (for subjects), the store, read-only mode.
struct AccessOptions: ParsableArguments {
    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("The store (default: the config's `store`, else $XDG_STATE_HOME/trustgap/trustgap.db).", valueName: "path"))
    var store: String?

    @Flag(name: .long, help: "Refuse every change (also `readonly: true` in the config).")
    var readonly = false

    struct Context {
        let config: TrustgapConfig
        let store: AccessStore
        let analyst: Analyst
        let readonly: Bool
    }

    static func defaultStorePath() -> String { "\(SourceOptions.stateDirectory())/trustgap.db" }

    /// Runs a command that changes access: refused in read-only mode; errors become messages and exit codes.
    func change(_ body: (Context) async throws -> Void) async throws {
        try await withDocumentedExit {
            let ctx = try open()
            if ctx.readonly { throw CLIError.access(AccessError.readonly) }
            do { try await body(ctx) } catch { throw CLIError.access(error) }
        }
    }

    /// Runs a command that only reads the store (opened read-only, never created).
    func read(_ body: (Context) async throws -> Void) async throws {
        try await withDocumentedExit {
            let ctx = try open(reading: true)
            do { try await body(ctx) } catch { throw CLIError.access(error) }
        }
    }

    /// Opens the store; `reading` commands open it read-only and never create it.
    func open(reading: Bool = false) throws -> Context {
        source.bootstrapLogging()
        let config = try source.loadConfig()
        let ro = readonly || config.readonly
        let path = store ?? config.store ?? Self.defaultStorePath()
        do {
            let s = try AccessStore(path: path, readonly: ro || reading)
            return Context(config: config, store: s, analyst: Analyst.current(), readonly: ro)
        } catch {
            throw CLIError.access(error)
        }
    }
}

extension CLIError {
    static func access(_ e: any Error) -> CLIError {
        if let c = e as? CLIError { return c }
        if let a = e as? AccessError { return .code(a.exitCode, a.description) }
        return .failed("\(e)")
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

func printJSON(_ value: some Encodable) throws {
    let e = JSONEncoder()
    e.dateEncodingStrategy = .iso8601
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(SafeText.terminalSafeJSON(try e.encode(value)) + Data("\n".utf8))
}

func say(_ text: String) { FileHandle.standardOutput.write(Data((SafeText.sanitize(text) + "\n").utf8)) }

/// Looks a subject up in the inventory (the config's collectors, or the demo).
func findSubject(_ id: String, config: TrustgapConfig) async throws -> Subject {
    let snapshot = try await SnapshotCommand.collectOnce(config)
    guard let e = snapshot[id]?.entity else {
        let near = snapshot.entities.lazy.map(\.id).filter { $0.contains(id) }.prefix(3)
        throw CLIError.code(5, "no entity \(id) in the inventory" + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?"))
    }
    return Subject(id: e.id, name: e.name, population: e.population)
}

func parseDuration(_ text: String, flag: String) throws -> Double {
    do { return try DurationText.seconds(text) } catch { throw CLIError.badInput("\(flag): \(error.description)") }
}

/// Runs the hooks a decision owes, now, and reports what they did.
func settleHooks(_ ctx: AccessOptions.Context) async {
    for (g, r) in await HookRunner.settle(ctx.store, config: ctx.config.hooks, by: ctx.analyst, now: Date()) {
        let msg = "hook \(g.actuationEvent ?? "") for \(g.id): \(r.succeeded ? "ok" : "FAILED") (\(r.detail))"
        if r.succeeded { say(msg) } else { FileHandle.standardError.write(Data(("trustgap: " + SafeText.sanitize(msg) + "; the sweeper will retry\n").utf8)) }
    }
}

struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "request", abstract: "Ask for time-bound access for an entity.")
    @OptionGroup var options: AccessOptions
    @Option(help: "The entity's id.") var subject: String
    @Option(help: "What it may do, like repo:acme/api:write.") var scope: String
    @Option(help: "For how long: 15m, 1h, 8h, 2d.") var ttl: String
    @Option(help: "Why.") var reason: String
    @Option(help: "A ticket reference.") var ticket: String?
    @Option(help: "Output: table or json.") var format: OutputFormat = .table

    func run() async throws {
        try await reporting {
            let ctx = try options.open()
            if ctx.readonly { throw CLIError.access(AccessError.readonly) }
            let seconds = try parseDuration(ttl, flag: "--ttl")
            let s = try await findSubject(subject, config: ctx.config)
            do {
                let r = try ctx.store.file(subject: s, scope: scope, ttlSeconds: seconds, reason: reason, ticket: ticket,
                                           by: ctx.analyst, policy: ctx.config.policy, now: Date())
                if format == .json { try printJSON(r) } else { say("\(r.id) pending: \(s.name) \(r.scope) for \(DurationText.format(seconds))") }
            } catch { throw CLIError.access(error) }
        }
    }
}

struct GrantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants", abstract: "List and decide access requests and grants.",
        subcommands: [List.self, Approve.self, Deny.self, Cancel.self, Extend.self, Revoke.self, Direct.self],
        defaultSubcommand: List.self)

    struct Listing: Encodable {
        let requests: [AccessRequest]
        let grants: [Grant]
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List requests and grants (pending requests and active grants by default).")
        @OptionGroup var options: AccessOptions
        @Option(help: "Only this state: pending approved denied cancelled lapsed (requests), active expired revoked actuation_failed (grants), or all.")
        var state: String?
        @Option(help: "Output: table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await options.read { ctx in
                let requests = try ctx.store.requests(), grants = try ctx.store.grants()
                let r: [AccessRequest], g: [Grant]
                switch state {
                case nil:
                    (r, g) = (requests.filter { $0.state == .pending }, grants.filter { $0.state == .active })
                case "all"?: (r, g) = (requests, grants)
                case "actuation_failed"?: (r, g) = ([], grants.filter { $0.actuation == .failed })
                case let s?:
                    if let rs = RequestState(rawValue: s) { (r, g) = (requests.filter { $0.state == rs }, []) }
                    else if let gs = GrantState(rawValue: s) { (r, g) = ([], grants.filter { $0.state == gs }) }
                    else { throw CLIError.badInput("--state \(s): use pending, approved, denied, cancelled, lapsed, active, expired, revoked, actuation_failed or all") }
                }
                if format == .json { return try printJSON(Listing(requests: r, grants: g)) }
                let now = Date()
                if !r.isEmpty {
                    say("REQUEST          STATE      SUBJECT                        SCOPE                      TTL     REQUESTER       REASON")
                    for x in r {
                        say([x.id.padded(16), x.state.rawValue.padded(10), x.subjectName.padded(30), x.scope.padded(26),
                             DurationText.format(x.ttlSeconds).padded(7), x.requester.padded(15), x.reason].joined(separator: " "))
                    }
                }
                if !g.isEmpty {
                    if !r.isEmpty { say("") }
                    say("GRANT            STATE      SUBJECT                        SCOPE                      LEFT    ACTUATION         APPROVERS")
                    for x in g {
                        say([x.id.padded(16), x.state.rawValue.padded(10), x.subjectName.padded(30), x.scope.padded(26),
                             (x.state == .active ? DurationText.format(x.remaining(at: now)) : "-").padded(7),
                             x.actuation.rawValue.padded(17), x.approvers.joined(separator: ",")].joined(separator: " "))
                    }
                }
                if r.isEmpty, g.isEmpty { say("nothing \(state.map { "in state \($0)" } ?? "pending or active")") }
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a pending request (a second analyst completes a two-person rule).")
        @OptionGroup var options: AccessOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "Grant for this long instead of the requested TTL.") var ttl: String?
        @Option(help: "Why.") var reason: String
        @Option(help: "Output: table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await options.change { ctx in
                let seconds = try ttl.map { try parseDuration($0, flag: "--ttl") }
                let outcome = try ctx.store.approve(id, ttlSeconds: seconds, reason: reason, by: ctx.analyst, policy: ctx.config.policy,
                                                    hooks: ctx.config.hooks.events, now: Date())
                switch outcome {
                case .granted(let g):
                    if format == .json { try printJSON(g) } else { say("\(id) approved: grant \(g.id), \(g.subjectName) \(g.scope) until \(AccessStore.when(g.expiresAt))") }
                    await settleHooks(ctx)
                case .recorded(let left):
                    if format == .json { try printJSON(PartialApproval(request: id, approvalsLeft: left)) } else { say("\(id): approval recorded; \(left) more needed from another analyst") }
                }
            }
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a pending request.")
        @OptionGroup var options: AccessOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "Why.") var reason: String
        func run() async throws {
            try await options.change { ctx in
                let r = try ctx.store.deny(id, reason: reason, by: ctx.analyst, policy: ctx.config.policy, now: Date())
                say("\(id) denied")
                if let h = await HookRunner.denied(r, store: ctx.store, config: ctx.config.hooks, by: ctx.analyst, now: Date()) {
                    say("hook deny for \(id): \(h.succeeded ? "ok" : "FAILED") (\(h.detail))")
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw your own pending request.")
        @OptionGroup var options: AccessOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "Why.") var reason: String
        func run() async throws {
            try await options.change { ctx in
                _ = try ctx.store.cancel(id, reason: reason, by: ctx.analyst, policy: ctx.config.policy, now: Date())
                say("\(id) cancelled")
            }
        }
    }

    struct Extend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Extend an active grant: it then expires TTL from now.")
        @OptionGroup var options: AccessOptions
        @Argument(help: "The grant id.") var id: String
        @Option(help: "New time left, from now.") var ttl: String
        @Option(help: "Why.") var reason: String
        @Option(help: "Output: table or json.") var format: OutputFormat = .table
        func run() async throws {
            try await options.change { ctx in
                let seconds = try parseDuration(ttl, flag: "--ttl")
                let g = try ctx.store.extend(id, ttlSeconds: seconds, reason: reason, by: ctx.analyst, policy: ctx.config.policy,
                                             hooks: ctx.config.hooks.events, now: Date())
                if format == .json { try printJSON(g) } else { say("\(id) extended until \(AccessStore.when(g.expiresAt))") }
                await settleHooks(ctx)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an active grant now.")
        @OptionGroup var options: AccessOptions
        @Argument(help: "The grant id.") var id: String
        @Option(help: "Why.") var reason: String
        func run() async throws {
            try await options.change { ctx in
                _ = try ctx.store.revoke(id, reason: reason, by: ctx.analyst, policy: ctx.config.policy, hooks: ctx.config.hooks.events, now: Date())
                say("\(id) revoked")
                await settleHooks(ctx)
            }
        }
    }

    struct Direct: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant", abstract: "Grant time-bound access directly, without a request.")
        @OptionGroup var options: AccessOptions
        @Option(help: "The entity's id.") var subject: String
        @Option(help: "What it may do.") var scope: String
        @Option(help: "For how long.") var ttl: String
        @Option(help: "Why.") var reason: String
        @Option(help: "Output: table or json.") var format: OutputFormat = .table
        func run() async throws {
            try await options.change { ctx in
                let seconds = try parseDuration(ttl, flag: "--ttl")
                let s = try await findSubject(subject, config: ctx.config)
                let g = try ctx.store.directGrant(subject: s, scope: scope, ttlSeconds: seconds, reason: reason, by: ctx.analyst,
                                                  policy: ctx.config.policy, hooks: ctx.config.hooks.events, now: Date())
                if format == .json { try printJSON(g) } else { say("grant \(g.id): \(s.name) \(scope) until \(AccessStore.when(g.expiresAt))") }
                await settleHooks(ctx)
            }
        }
    }
}

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Expire grants whose time is up, lapse undecided requests, retry failed hooks.",
        discussion: "Safe from cron or a systemd timer while dashboards are open.")
    @OptionGroup var options: AccessOptions
    func run() async throws {
        try await reporting {
            let ctx = try options.open()
            if ctx.readonly { throw CLIError.access(AccessError.readonly) }
            do {
                let r = try ctx.store.sweep(by: ctx.analyst, hooks: ctx.config.hooks.events, now: Date())
                say("expired \(r.expired.count) grant(s), lapsed \(r.lapsed.count) request(s)")
                await settleHooks(ctx)
            } catch { throw CLIError.access(error) }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Print the hash-chained audit log.", subcommands: [Show.self, Verify.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the log, oldest first.")
        @OptionGroup var options: AccessOptions
        @Option(help: "Output: table or json.") var format: OutputFormat = .table
        func run() async throws {
            try await options.read { ctx in
                let entries = try ctx.store.audit()
                if format == .json { return try printJSON(entries) }
                for e in entries {
                    say("\(String(e.seq).padded(6)) \(AccessStore.when(e.at)) \((e.analyst + (e.sshClient.map { "@\($0)" } ?? "")).padded(22)) \(e.action.padded(8)) \(e.target.padded(30)) \(e.subject) \(e.scope) \(e.ttlSeconds.map { DurationText.format($0) } ?? "") \(e.result) \"\(e.reason)\"\(e.detail.isEmpty ? "" : " (\(e.detail))")")
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the chain; exits 1 and names the first bad entry if any was altered, removed or reordered.")
        @OptionGroup var options: AccessOptions
        func run() async throws {
            try await options.read { ctx in
                let v = try ctx.store.verifyAudit()
                if let p = v.problem { throw CLIError.failed("audit chain BROKEN: \(p)") }
                say("audit chain ok: \(v.entries) entries verified")
            }
        }
    }
}

struct PartialApproval: Encodable {
    let request: String
    let approvalsLeft: Int
    enum CodingKeys: String, CodingKey { case request, approvalsLeft = "approvals_left" }
}

extension String {
    func padded(_ n: Int) -> String { SafeText.fit(SafeText.sanitize(self), to: n) }
}
