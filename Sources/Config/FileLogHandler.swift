import Foundation
import Logging
import Synchronization
import TextSafety

/// A swift-log handler that appends to a file, so nothing is written to the terminal while curses owns it.
/// Values go through the one sanitiser, so a log viewed with `cat` can't drive the terminal or hide text either.
public struct FileLogHandler: LogHandler {
    final class Sink: Sendable {
        let handle: Mutex<FileHandle?>
        init(path: String) {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            let h = FileHandle(forWritingAtPath: path)
            _ = try? h?.seekToEnd()
            handle = Mutex(h)
        }
        func write(_ line: String) {
            handle.withLock { h in try? h?.write(contentsOf: Data(line.utf8)) }
        }
    }

    let label: String
    let sink: Sink
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Makes a factory for `LoggingSystem.bootstrap` that writes every logger to `path`.
    public static func factory(path: String, level: Logger.Level = .info) -> @Sendable (String) -> any LogHandler {
        let sink = Sink(path: path)
        return { label in
            var h = FileLogHandler(label: label, sink: sink)
            h.logLevel = level
            return h
        }
    }

    /// One line per event, through the same list of unsafe characters as the screen and the CLI.
    static func clean(_ s: String) -> String { UnsafeCharacters.clean(s) }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let meta =
            all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.clean("\($0.value)"))" }.joined(separator: " ")
        let stamp = Date().formatted(.iso8601)
        sink.write("\(stamp) \(event.level) \(label): \(Self.clean("\(event.message)"))\(meta)\n")
    }
}
