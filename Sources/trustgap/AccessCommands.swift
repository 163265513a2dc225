import Access
import AccessService
import ArgumentParser
import Collectors
import Config
import Dashboard
import Foundation
import Inventory
import Terminal

/// Options of every access command: the inventory (for subjects), the store or the service, read-only mode.
struct AccessOptions: ParsableArguments {
    @OptionGroup var source: SourceOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The personal store (default: the config's `store`, else $XDG_STATE_HOME/trustgap/trustgap.db).", valueName: "path"))
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The access service's socket (default: the config's `service.socket`); with one, every action goes through the service.",
            valueName: "path"))
    var service: String?

    @Flag(name: .long, help: "Refuse every change (also `readonly: true` in the config).")
    var readonly = false

    /// Where actions go: the access service (who you are comes from the kernel; its policy, hooks and inventory
    /// decide), or, with none configured, the same engine in this process on your personal store.
    enum Backend {
        case service(AccessClient)
        case embedded(AccessEngine, Analyst)
    }

    struct Context {
        let config: TrustgapConfig
        let backend: Backend
        let readonly: Bool

        func call(_ request: WireRequest) async throws -> WireResult {
            switch await perform(request) {
            case .success(let r): return r
            case .failure(let e): throw CLIError.code(e.exit, e.message)
            }
        }

        /// One intent, through the service or the engine here, with the service's error as it is.
        func perform(_ request: WireRequest) async -> Result<WireResult, WireError> {
            if readonly, AccessEngine.changingOperations.contains(request.op) { return .failure(WireError(AccessError.readonly)) }
            switch backend {
            case .service(let client):
                do { return .success(try client.call(request)) } catch { return .failure(error) }
            case .embedded(let engine, let analyst):
                return await engine.perform(request, by: analyst)
            }
        }
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

    /// Runs a command that only reads (a personal store is opened read-only, never created).
    func read(_ body: (Context) async throws -> Void) async throws {
        try await withDocumentedExit {
            let ctx = try open(reading: true)
            do { try await body(ctx) } catch { throw CLIError.access(error) }
        }
    }

    /// Connects to the service, or opens the personal store; `reading` commands open it read-only and never create it.
    func open(reading: Bool = false) throws -> Context {
        source.bootstrapLogging()
        let config = try source.loadConfig()
        let ro = readonly || config.readonly
        if let socket = service ?? config.service?.socket {
            if store != nil {
                throw CLIError.badInput(
                    "--store and the access service don't mix: the service keeps the store "
                        + "(drop --store to use the service, or drop --service and service.socket to use a personal store)"
                )
            }
            do {
                return Context(
                    config: config, backend: .service(try AccessClient(socketPath: socket, sshClient: Analyst.current().sshClient)),
                    readonly: ro)
            } catch {
                throw CLIError.code(error.exit, error.message)
            }
        }
        let path = store ?? config.store ?? Self.defaultStorePath()
        do {
            let s = try AccessStore(path: path, readonly: ro || reading)
            let engine = AccessEngine(
                store: s, policy: config.policy, hooks: config.hooks, subjects: ConfigSubjects(config: config), readonly: ro)
            return Context(config: config, backend: .embedded(engine, Analyst.current()), readonly: ro)
        } catch {
            throw CLIError.access(error)
        }
    }
}

/// Subjects for a personal store: the config's collectors (or the demo), collected once when first needed.
final class ConfigSubjects: SubjectDirectory, @unchecked Sendable {
    let config: TrustgapConfig
    private var snapshot: Snapshot?

    init(config: TrustgapConfig) { self.config = config }

    func inventory() async -> Snapshot? {
        if snapshot == nil { snapshot = try? await SnapshotCommand.collectOnce(config) }
        return snapshot
    }

    func lookup(_ id: String) async -> SubjectLookup {
        if snapshot == nil { snapshot = try? await SnapshotCommand.collectOnce(config) }
        guard let snapshot else { return .missing(suggestions: []) }
        if let a = snapshot[id] { return .found(Subject(a)) }
        return .missing(suggestions: Array(snapshot.entities.lazy.map(\.id).filter { $0.contains(id) }.prefix(3)))
    }
}

extension CLIError {
    static func access(_ e: any Error) -> CLIError {
        if let c = e as? CLIError { return c }
        if let a = e as? AccessError { return .code(a.exitCode, a.description) }
        if let w = e as? WireError { return .code(w.exit, w.message) }
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
    Console.json(try e.encode(value))
}

func say(_ text: String) { Console.out(text) }

func parseDuration(_ text: String, flag: String) throws -> Double {
    do { return try DurationText.seconds(text) } catch { throw CLIError.badInput("\(flag): \(error.description)") }
}

/// Reports the hooks a decision ran.
func report(_ hooks: [WireHook]?) {
    for h in hooks ?? [] {
        let msg = "hook \(h.event) for \(h.target): \(h.succeeded ? "ok" : "FAILED") (\(h.detail))"
        if h.succeeded || h.event == "deny" { say(msg) } else { Console.error(msg + "; the sweeper will retry") }
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
        try await options.change { ctx in
            let seconds = try parseDuration(ttl, flag: "--ttl")
            let r = try await ctx.call(
                WireRequest(op: "request", subject: subject, scope: scope, ttlSeconds: seconds, reason: reason, ticket: ticket))
            guard let req = r.request else { throw CLIError.failed("the service sent no request back") }
            if format == .json {
                try printJSON(req)
            } else {
                say("\(req.id) pending: \(req.subjectName) \(req.scope) for \(DurationText.format(seconds))")
            }
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
        static let configuration = CommandConfiguration(
            abstract: "List requests and grants (pending requests and active grants by default).")
        @OptionGroup var options: AccessOptions
        @Option(
            help:
                """
                Only this state: pending approved denied cancelled lapsed (requests), \
                active expired revoked actuation_failed (grants), or all.
                """
        )
        var state: String?
        @Option(help: "Output: table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await options.read { ctx in
                let all = try await ctx.call(WireRequest(op: "list"))
                let requests = all.requests ?? []
                let grants = all.grants ?? []
                let r: [AccessRequest]
                let g: [Grant]
                switch state {
                case nil:
                    (r, g) = (requests.filter { $0.state == .pending }, grants.filter { $0.state == .active })
                case "all"?: (r, g) = (requests, grants)
                case "actuation_failed"?: (r, g) = ([], grants.filter { $0.actuation == .failed })
                case let s?:
                    if let rs = RequestState(rawValue: s) {
                        (r, g) = (requests.filter { $0.state == rs }, [])
                    } else if let gs = GrantState(rawValue: s) {
                        (r, g) = ([], grants.filter { $0.state == gs })
                    } else {
                        throw CLIError.badInput(
                            "--state \(s): use pending, approved, denied, cancelled, lapsed, "
                                + "active, expired, revoked, actuation_failed or all"
                        )
                    }
                }
                if format == .json { return try printJSON(Listing(requests: r, grants: g)) }
                let now = Date()
                if !r.isEmpty {
                    say(
                        "REQUEST          STATE      SUBJECT                        SCOPE                      "
                            + "TTL     REQUESTER       REASON"
                    )
                    for x in r {
                        say(
                            [
                                x.id.padded(16), x.state.rawValue.padded(10), x.subjectName.padded(30), x.scope.padded(26),
                                DurationText.format(x.ttlSeconds).padded(7),
                                (x.askedByAgent ? "agent/" + x.requester : x.requester).padded(15),
                                (x.flags.filter { !$0.hasPrefix("risk ") }.isEmpty
                                    ? "" : "[\(x.flags.filter { !$0.hasPrefix("risk ") }.joined(separator: ", "))] ")
                                    + x.reason,
                            ].joined(separator: " "))
                    }
                }
                if !g.isEmpty {
                    if !r.isEmpty { say("") }
                    say(
                        "GRANT            STATE      SUBJECT                        SCOPE                      "
                            + "LEFT    ACTUATION         APPROVERS"
                    )
                    for x in g {
                        say(
                            [
                                x.id.padded(16), x.state.rawValue.padded(10), x.subjectName.padded(30), x.scope.padded(26),
                                (x.state == .active ? DurationText.format(x.remaining(at: now)) : "-").padded(7),
                                x.actuation.rawValue.padded(17), x.approvers.joined(separator: ","),
                            ].joined(separator: " "))
                    }
                }
                if r.isEmpty, g.isEmpty { say("nothing \(state.map { "in state \($0)" } ?? "pending or active")") }
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a pending request (a second analyst completes a two-person rule).")
        @OptionGroup var options: AccessOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "Grant for this long instead of the requested TTL.") var ttl: String?
        @Option(help: "Why.") var reason: String
        @Option(help: "Output: table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await options.change { ctx in
                let seconds = try ttl.map { try parseDuration($0, flag: "--ttl") }
                let r = try await ctx.call(WireRequest(op: "approve", ttlSeconds: seconds, reason: reason, target: id))
                if let g = r.grant {
                    if format == .json {
                        try printJSON(g)
                    } else {
                        say("\(id) approved: grant \(g.id), \(g.subjectName) \(g.scope) until \(AccessStore.when(g.expiresAt))")
                    }
                    report(r.hooks)
                } else {
                    let left = r.approvalsLeft ?? 0
                    if format == .json {
                        try printJSON(PartialApproval(request: id, approvalsLeft: left))
                    } else {
                        say("\(id): approval recorded; \(left) more needed from another analyst")
                    }
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
                let r = try await ctx.call(WireRequest(op: "deny", reason: reason, target: id))
                say("\(id) denied")
                report(r.hooks)
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
                _ = try await ctx.call(WireRequest(op: "cancel", reason: reason, target: id))
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
                let r = try await ctx.call(WireRequest(op: "extend", ttlSeconds: seconds, reason: reason, target: id))
                if let left = r.approvalsLeft {
                    if format == .json {
                        try printJSON(PartialExtension(grant: id, approvalsLeft: left))
                    } else {
                        say("\(id): extension approval recorded; \(left) more needed from another analyst")
                    }
                    return
                }
                guard let g = r.grant else { throw CLIError.failed("the service sent no grant back") }
                if format == .json { try printJSON(g) } else { say("\(id) extended until \(AccessStore.when(g.expiresAt))") }
                report(r.hooks)
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
                let r = try await ctx.call(WireRequest(op: "revoke", reason: reason, target: id))
                say("\(id) revoked")
                report(r.hooks)
            }
        }
    }

    struct Direct: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant", abstract: "Grant time-bound access directly, without a request.")
        @OptionGroup var options: AccessOptions
        @Option(help: "The entity's id.") var subject: String
        @Option(help: "What it may do.") var scope: String
        @Option(help: "For how long.") var ttl: String
        @Option(help: "Why.") var reason: String
        @Option(help: "Output: table or json.") var format: OutputFormat = .table
        func run() async throws {
            try await options.change { ctx in
                let seconds = try parseDuration(ttl, flag: "--ttl")
                let r = try await ctx.call(WireRequest(op: "grant", subject: subject, scope: scope, ttlSeconds: seconds, reason: reason))
                guard let g = r.grant else { throw CLIError.failed("the service sent no grant back") }
                if format == .json {
                    try printJSON(g)
                } else {
                    say("grant \(g.id): \(g.subjectName) \(scope) until \(AccessStore.when(g.expiresAt))")
                }
                report(r.hooks)
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
        try await options.change { ctx in
            let r = try await ctx.call(WireRequest(op: "sweep"))
            say("expired \(r.expired?.count ?? 0) grant(s), lapsed \(r.lapsed?.count ?? 0) request(s)")
            report(r.hooks)
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Print the hash-chained audit log.", subcommands: [Show.self, Verify.self],
        defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the log, oldest first.")
        @OptionGroup var options: AccessOptions
        @Option(help: "Output: table or json.") var format: OutputFormat = .table
        func run() async throws {
            try await options.read { ctx in
                let entries = try await ctx.call(WireRequest(op: "audit")).audit ?? []
                if format == .json { return try printJSON(entries) }
                // Every field whole (ids and names are never cut), each sanitised on its own so none can end the line.
                for e in entries {
                    let who = e.analyst + (e.sshClient.map { "@\($0)" } ?? "")
                    say(
                        "\(String(e.seq).whole(6)) \(AccessStore.when(e.at)) \(who.whole(30)) \(e.action.whole(8)) "
                            + "\(e.target.whole(32)) \(e.subject.whole(0)) \(e.scope.whole(0)) "
                            + "\(e.ttlSeconds.map { DurationText.format($0) } ?? "") \(e.result.whole(0)) "
                            + "\"\(e.reason.whole(0))\"\(e.detail.isEmpty ? "" : " (\(e.detail.whole(0)))")"
                    )
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the chain; exits 1 and names the first bad entry if any was altered, removed or reordered.")
        @OptionGroup var options: AccessOptions
        func run() async throws {
            try await options.read { ctx in
                let v =
                    try await ctx.call(WireRequest(op: "verify")).verification
                    ?? WireVerification(AuditVerification(entries: 0, problem: "no answer"))
                if let p = v.problem { throw CLIError.failed("audit chain BROKEN: \(p)") }
                say("audit chain ok: \(v.entries) entries verified")
            }
        }
    }
}

struct PartialExtension: Encodable {
    let grant: String
    let approvalsLeft: Int
    enum CodingKeys: String, CodingKey { case grant, approvalsLeft = "approvals_left" }
}

struct PartialApproval: Encodable {
    let request: String
    let approvalsLeft: Int
    enum CodingKeys: String, CodingKey { case request, approvalsLeft = "approvals_left" }
}

extension String {
    func padded(_ n: Int) -> String { SafeText.fit(SafeText.sanitize(self), to: n) }
    /// Sanitised and padded to at least `n` columns, never cut: for ids and names a reader must see whole.
    func whole(_ n: Int) -> String {
        let t = SafeText.sanitize(self)
        return t + String(repeating: " ", count: max(0, n - SafeText.width(t)))
    }
}
