import AccessService
import ArgumentParser
import Foundation

@main
struct Trustgap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trustgap",
        abstract: "See and close the access-trust gap: apps, devices, service accounts and AI agents outside SSO and PAM.",
        discussion: """
            With no command, opens the dashboard. With no config file, shows the built-in demo organisation.

            Exit codes: 0 success; 1 a runtime failure (every collector failed, a store error, a broken audit chain); \
            2 bad input (a config error, a bad flag); 3 refused by policy or read-only mode; 4 someone else decided \
            first; 5 no such request, grant or entity.
            """,
        version: Trustgap.version,
        subcommands: [
            DashboardCommand.self, TourCommand.self, SnapshotCommand.self, ThemesCommand.self, CollectorsCommand.self, RequestCommand.self,
            GrantsCommand.self, SweepCommand.self, AuditCommand.self, ServeCommand.self, McpCommand.self, StoreCommand.self,
        ],
        defaultSubcommand: DashboardCommand.self
    )

    /// What `trustgap --version` prints.
    static let version = "trustgap 0.6.0 (access service protocol \(Wire.version))"

    /// Like ArgumentParser's own, but a bad flag exits 2 (bad input), as the documented exit codes say.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // ArgumentParser's messages quote what was typed; they reach the terminal through the sanitiser too.
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == .success { Console.out(message) } else { Console.errorVerbatim(message) }
            }
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
