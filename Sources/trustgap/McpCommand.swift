import AccessService
import AgentGateway
import ArgumentParser
import Foundation
import MCP

/// `trustgap mcp`: the agent gateway, an MCP server on stdin/stdout that an AI client launches from its MCP config.
struct McpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the agent gateway over stdio (MCP): agents ask for time-bound access, a person decides.",
        discussion: """
            Launched by an AI client, for example in Claude Code's MCP config:
              {"mcpServers": {"trustgap": {"command": "trustgap", "args": ["mcp", "--agent", "claude-code"]}}}
            Standard output carries only the protocol; logs go to the log file. Requests go through the access service
            when one is configured (--service or the config's service.socket), else through your personal store.
            """)

    @OptionGroup var options: AccessOptions

    @Option(
        help: ArgumentHelp("The agent asking: an inventory id, an agent's name, or its client (claude-code, cursor).", valueName: "name"))
    var agent: String

    func run() async throws {
        try await withDocumentedExit {
            let options = options
            let context = Connection(try options.open())
            let gateway = AgentGateway(agent: agent) { request throws(AgentGateway.GatewayError) in
                // An AI client keeps the server for hours; the service closes connections idle for 300 s and may
                // restart. A connection idle for 200 s is replaced before use; a read that finds it gone is tried
                // once more on a new one (each is a new peer-credential check). A change is never sent twice: it
                // may have been carried out before the connection dropped.
                if context.idle > 200, let fresh = try? options.open() { context.replace(fresh) }
                var outcome = await context.current.perform(request)
                if case .failure(let e) = outcome, e.code == "unavailable", !AccessEngine.changingOperations.contains(request.op),
                    let fresh = try? options.open()
                {
                    context.replace(fresh)
                    outcome = await fresh.perform(request)
                }
                context.used()
                switch outcome {
                case .success(let r): return r
                case .failure(let e): throw AgentGateway.GatewayError(code: e.rule.map { "refused:\($0)" } ?? e.code, message: e.message)
                }
            }
            try await gateway.serve(StdioTransport())
        }
    }
}

/// The gateway's connection to the service (or its engine), and when it was last used.
final class Connection: @unchecked Sendable {
    private let lock = NSLock()
    private var context: AccessOptions.Context
    private var lastUsed = Date()

    init(_ context: AccessOptions.Context) { self.context = context }

    var current: AccessOptions.Context { lock.withLock { context } }
    var idle: Double { lock.withLock { Date().timeIntervalSince(lastUsed) } }
    func used() { lock.withLock { lastUsed = Date() } }
    func replace(_ fresh: AccessOptions.Context) {
        lock.withLock {
            context = fresh
            lastUsed = Date()
        }
    }
}
