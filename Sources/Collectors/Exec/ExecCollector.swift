import ChildProcess
import Foundation
import Inventory

/// The universal plug-in: runs a program (argv, never a shell) and reads entities in the normalized schema from
/// its standard output, as JSON Lines (or a JSON array). A bad line is skipped and reported; the rest are kept.
///
/// The program is stopped at the collector's timeout (its whole process group); what it writes past the cap is
/// cut and said so. A non-zero exit fails the run (the last good slice is kept) with its status and stderr tail.
public final class ExecCollector: Collector {
    public let command: [String]
    public let environment: [String: String]
    public let workingDirectory: String?
    public let timeoutSeconds: Double
    public let maxOutputBytes: Int
    /// A single record larger than this is skipped with a warning (`max_record_size`).
    public let maxRecordBytes: Int
    let name: String
    let lane = BlockingLane("trustgap-exec")

    public init(
        command: [String], environment: [String: String] = [:], workingDirectory: String? = nil,
        timeoutSeconds: Double = 30, maxOutputBytes: Int = 64 << 20, maxRecordBytes: Int = Intake.defaultMaxRecordBytes,
        name: String = "exec"
    ) {
        self.maxRecordBytes = maxRecordBytes
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeoutSeconds = timeoutSeconds
        self.maxOutputBytes = maxOutputBytes
        self.name = name
    }

    public func collect(_ context: CollectContext) async throws -> CollectorReport {
        try Task.checkCancellation()
        let outcome: ChildProcess.Outcome
        do {
            // The runner's timeout also applies; this one stops the program itself, a little earlier.
            outcome = try await ChildProcess.run(
                command, environment: environment, workingDirectory: workingDirectory,
                timeoutSeconds: ChildProcess.timeout(within: timeoutSeconds), maxOutputBytes: maxOutputBytes)
        } catch {
            throw CollectorError.failed(error.description)
        }
        try Task.checkCancellation()
        let tail = Self.tail(outcome.stderrTail)
        switch outcome.ending {
        case .exited(0), .outputCapped:
            break
        case .exited(let code):
            throw CollectorError.failed("\(command[0]) exited with status \(code)" + (tail.isEmpty ? "" : "; stderr: \(tail)"))
        case .signaled(let sig):
            throw CollectorError.failed("\(command[0]) was killed by signal \(sig)" + (tail.isEmpty ? "" : "; stderr: \(tail)"))
        case .timedOut:
            throw CollectorError.failed("\(command[0]) ran past its timeout and was stopped" + (tail.isEmpty ? "" : "; stderr: \(tail)"))
        }
        var data = [UInt8](outcome.stdout)
        var warnings: [String] = []
        if outcome.ending == .outputCapped {
            // Keep whole lines only.
            if let lastNewline = data.lastIndex(of: 0x0A) { data = Array(data[...lastNewline]) }
            let cap = maxOutputBytes >= 1 << 20 ? "\(maxOutputBytes >> 20) MiB" : "\(maxOutputBytes) bytes"
            warnings.append("\(command[0]): output cut at \(cap); the program was stopped and the rest ignored")
        }
        let (output, origin, source, maxRecordBytes) = (data, "\(command[0]) stdout", name, maxRecordBytes)
        // Parsed on a thread of its own (64 MiB of output is seconds of work), stopping at the next record on a timeout.
        var report = try await lane.run("parsing \(origin)") { stop in
            try FileCollector.parse(output, path: origin, source: source, maxRecordBytes: maxRecordBytes, stop: stop)
        }
        report.warnings = warnings + report.warnings
        if !tail.isEmpty { report.warnings.append("\(command[0]) stderr: \(tail)") }
        return report
    }

    /// The last lines of stderr, one line, short.
    static func tail(_ s: String) -> String {
        let lines = s.split(separator: "\n", omittingEmptySubsequences: true).suffix(3).joined(separator: " | ")
        return String(lines.suffix(500))
    }
}
