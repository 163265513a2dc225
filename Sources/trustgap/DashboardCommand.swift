import ArgumentParser
import Config
import Dashboard
import Foundation

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Open the live dashboard (the default command)."
    )

    @OptionGroup var source: SourceOptions

    func run() async throws {
        try await reporting {
            source.bootstrapLogging()
            let config = try source.loadConfig()
            let snapshot = try await SnapshotCommand.collectOnce(config)
            let text = SnapshotText(snapshot: snapshot, width: 110, ascii: !SnapshotCommand.utf8Locale()).render()
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
