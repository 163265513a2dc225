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
            let ctx = try options.open()
            let gateway = AgentGateway(agent: agent) { request throws(AgentGateway.GatewayError) in
                switch await ctx.perform(request) {
                case .success(let r): return r
                case .failure(let e): throw AgentGateway.GatewayError(code: e.rule.map { "refused:\($0)" } ?? e.code, message: e.message)
                }
            }
            try await gateway.serve(StdioTransport())
        }
    }
}
