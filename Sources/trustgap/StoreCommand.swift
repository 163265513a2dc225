import Access
import ArgumentParser
import Foundation

/// `trustgap store`: moving a team's store.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Manage the access store (move a team from SQLite to PostgreSQL).", subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an SQLite store into a new PostgreSQL store, keeping every request, grant and audit entry.",
            discussion: """
                Stop the service first. The source's chain must verify; the destination must be empty. The source's \
                audit key is copied to --audit-key: give every host's service a copy (docs/access.md, "PostgreSQL").
                """)
        @Option(help: ArgumentHelp("The SQLite store to copy.", valueName: "path")) var from: String
        @Option(help: ArgumentHelp("The PostgreSQL store: postgres://USER@HOST/DB (the password from a password file).", valueName: "url"))
        var to: String
        @Option(
            help: ArgumentHelp(
                "Where this host's service keeps the audit key (default: $XDG_STATE_HOME/trustgap/postgres-audit.key).", valueName: "path"))
        var auditKey: String?
        @Option(
            help: ArgumentHelp(
                "This host's anchor of the chain (default: $XDG_STATE_HOME/trustgap/postgres-audit.anchor).", valueName: "path"))
        var auditAnchor: String?

        func run() async throws {
            try await reporting {
                let key = auditKey ?? "\(SourceOptions.stateDirectory())/postgres-audit.key"
                let anchor = auditAnchor ?? "\(SourceOptions.stateDirectory())/postgres-audit.anchor"
                let result: StoreMigration
                do { result = try AccessStore.migrate(from: from, to: to, keyPath: key, anchorPath: anchor) } catch {
                    throw CLIError.access(error)
                }
                say(
                    "copied \(result.requests) requests, \(result.approvals) approvals, \(result.grants) grants, "
                        + "\(result.extensionApprovals) extension approvals and \(result.auditEntries) audit entries "
                        + "into \((try? PostgresTarget(url: to).description) ?? "the store")")
                if let p = result.problem { throw CLIError.failed("the copy's audit chain does not verify: \(p)") }
                say("audit chain ok: \(result.auditEntries) entries verified; the audit key is at \(key)")
            }
        }
    }
}
