import Foundation
import Subprocess
import SystemPackage

/// Runs a program by argv — never through a shell — with its stdin from bytes and its output into files, a
/// timeout that stops its whole process group, and a cap on how much output it may write.
///
/// Files rather than pipes: a stopped program can't leave a pipe half-read, and one that never reads its input
/// can't block us. Used by the actuator hooks and the `exec` collector.
public enum ChildProcess {
    public struct Outcome: Sendable, Equatable {
        public enum Ending: Sendable, Equatable {
            case exited(Int32)
            case signaled(Int32)
            case timedOut
            /// It wrote more than the cap, to standard output or standard error, and was stopped.
            case outputCapped
        }
        public var ending: Ending
        /// Standard output, at most the cap.
        public var stdout: Data
        /// The last few KiB of standard error.
        public var stderrTail: String

        public var succeeded: Bool { ending == .exited(0) }
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
    }

    /// How long a child may run so that, with the 1.2 s it may take to stop, it is gone within `budget`.
    public static func timeout(within budget: Double) -> Double { max(0.1, min(budget * 0.9, budget - 1.5)) }

    public static func run(
        _ argv: [String], input: Data = Data(), environment: [String: String] = [:], inheritEnvironment: Bool = true,
        workingDirectory: String? = nil,
        timeoutSeconds: Double, maxOutputBytes: Int = 64 << 20, stderrTailBytes: Int = 4096
    ) async throws(LaunchError) -> Outcome {
        // A program that exits without reading its stdin must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        guard let program = argv.first, !program.isEmpty else { throw LaunchError(description: "no program given") }
        // A bare name is looked up on the PATH the child gets (the minimal one, for a hook), not on ours.
        let executable: Executable =
            program.contains("/")
            ? .path(FilePath(program))
            : (!inheritEnvironment ? Self.lookUp(program, in: environment["PATH"] ?? "/usr/bin:/bin").map { .path(FilePath($0)) } : nil)
                ?? .name(program)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("trustgap-child-\(UUID().uuidString)").path
        let inPath = scratch + ".in"
        let outPath = scratch + ".out"
        let errPath = scratch + ".err"
        defer { for p in [inPath, outPath, errPath] { try? FileManager.default.removeItem(atPath: p) } }
        // Every descendant inherits this mark unless it scrubs its environment, so one that left the process group
        // (setsid, a daemon's double fork) is still found and ended when the run is over.
        let mark = "trustgap-\(UUID().uuidString)"
        var childEnv = environment
        childEnv[Self.markVariable] = mark
        let pairs = Dictionary(uniqueKeysWithValues: childEnv.map { (Environment.Key(stringLiteral: $0.key), $0.value) })
        let env: Environment =
            inheritEnvironment
            ? .inherit.updating(pairs.mapValues { Optional($0) })
            : .custom(pairs)
        let leader = PIDBox()
        defer { Self.endDescendants(group: leader.value, mark: mark) }
        let config = Configuration(
            executable: executable, arguments: Arguments(Array(argv.dropFirst())), environment: env,
            workingDirectory: workingDirectory.map { FilePath($0) },
            platformOptions: {
                var o = PlatformOptions()
                o.processGroupID = 0 // its own group: a stop reaches everything it started
                o.teardownSequence = [
                    .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(1)),
                    .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .milliseconds(200)),
                ]
                return o
            }())
        enum Finish: Sendable { case status(TerminationStatus), timedOut, capped }
        var finish: Finish? = nil
        // A program written a moment ago can be briefly "busy" (ETXTBSY) while another thread's fork still holds
        // the writer's descriptor: try the launch again a few times before calling it a failure.
        guard FileManager.default.createFile(atPath: inPath, contents: input, attributes: [.posixPermissions: 0o600]) else {
            throw LaunchError(description: "can't write the program's input to \(inPath)")
        }
        for attempt in 0..<5 where finish == nil {
            let fdIn: FileDescriptor
            let fdOut: FileDescriptor
            let fdErr: FileDescriptor
            do {
                fdIn = try FileDescriptor.open(FilePath(inPath), .readOnly)
                fdOut = try FileDescriptor.open(
                    FilePath(outPath), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
                fdErr = try FileDescriptor.open(
                    FilePath(errPath), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
            } catch {
                throw LaunchError(description: "can't prepare the program's input and output: \(error)")
            }
            do {
                finish = try await withThrowingTaskGroup(of: Finish?.self) { group in
                    group.addTask {
                        let r = try await Subprocess.run(
                            config, input: .fileDescriptor(fdIn, closeAfterSpawningProcess: true),
                            output: .fileDescriptor(fdOut, closeAfterSpawningProcess: true),
                            error: .fileDescriptor(fdErr, closeAfterSpawningProcess: true)
                        ) { execution in
                            leader.set(execution.processIdentifier.value)
                        }
                        return .status(r.terminationStatus)
                    }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(Int64(timeoutSeconds * 1000)))
                        return .timedOut
                    }
                    group.addTask {
                        // Watches the output's size, and standard error's: past the cap the program is stopped.
                        while !Task.isCancelled {
                            try await Task.sleep(for: .milliseconds(50))
                            let size = (try? FileManager.default.attributesOfItem(atPath: outPath)[.size] as? Int) ?? 0
                            let errors = (try? FileManager.default.attributesOfItem(atPath: errPath)[.size] as? Int) ?? 0
                            if size > maxOutputBytes || errors > maxOutputBytes { return .capped }
                        }
                        return nil
                    }
                    var first: Finish? = nil
                    while first == nil, let next = try await group.next() { first = next }
                    group.cancelAll()
                    while (try? await group.next()) != nil {}
                    return first!
                }
            } catch {
                if "\(error)".contains("Text file busy"), attempt < 4 {
                    try? await Task.sleep(for: .milliseconds(50 * (attempt + 1)))
                    continue
                }
                throw LaunchError(description: "could not run \(program): \(error)")
            }
        }
        guard let finish else { throw LaunchError(description: "could not run \(program)") }
        let out: Data
        if let h = FileHandle(forReadingAtPath: outPath) {
            out = (try? h.read(upToCount: maxOutputBytes)) ?? Data()
            try? h.close()
        } else {
            out = Data()
        }
        var tail = ""
        if let h = FileHandle(forReadingAtPath: errPath) {
            let size = (try? h.seekToEnd()) ?? 0
            try? h.seek(toOffset: size > UInt64(stderrTailBytes) ? size - UInt64(stderrTailBytes) : 0)
            tail = String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
            try? h.close()
        }
        let ending: Outcome.Ending
        switch finish {
        case .timedOut: ending = .timedOut
        case .capped: ending = .outputCapped
        case .status(.exited(let c)): ending = .exited(c)
        case .status(.signaled(let s)): ending = .signaled(s)
        }
        return Outcome(ending: ending, stdout: out, stderrTail: tail)
    }

    static func lookUp(_ name: String, in path: String) -> String? {
        path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The environment variable that marks every process a run started.
    public static let markVariable = "TRUSTGAP_CHILD_RUN"

    /// Ends whatever a finished run left behind: its process group (a background child that outlived the program),
    /// then any process still carrying the run's mark (one that called setsid or double-forked out of the group).
    static func endDescendants(group: pid_t?, mark: String) {
        if let group, group > 0 { kill(-group, SIGKILL) }
        let needle = Array("\(markVariable)=\(mark)".utf8)
        let me = getpid()
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap({ pid_t($0) }) ?? [] where pid != me {
            // Only our own user's processes can be read here, and only those could have come from us.
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            for entry in environ.split(separator: 0, omittingEmptySubsequences: true) where entry.elementsEqual(needle) {
                kill(pid, SIGKILL)
                break
            }
        }
    }
}

/// The pid of a run's program, written by the task that launched it and read when the run is over.
final class PIDBox: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t?
    func set(_ p: pid_t) {
        lock.lock()
        pid = p
        lock.unlock()
    }
    var value: pid_t? {
        lock.lock()
        defer { lock.unlock() }
        return pid
    }
}
