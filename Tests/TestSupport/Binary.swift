import Foundation

/// The built `trustgap` binary, beside the test bundle.
public enum Binary {
    public static var path: String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("trustgap").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/trustgap").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The package's folder (where `.ci/` is).
    public static let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// A copy of the binary that every user can run (the build folder may not be), made once per test process.
    public static let shared: String = {
        let dir = TestTemporary.directory.appendingPathComponent("bin")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for d in [TestTemporary.directory, dir] { chmod(d.path, 0o755) }
        let copy = dir.appendingPathComponent("trustgap").path
        if !FileManager.default.fileExists(atPath: copy) {
            // Copied by `cp`, not in this process: a descriptor open for writing here would be inherited by children
            // other tests fork meanwhile, and running the copy would fail with "text file busy".
            _ = try? Spawn.run(["cp", path, copy], stdout: dir.appendingPathComponent("cp.out").path)
            chmod(copy, 0o755)
        }
        return copy
    }()

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// Runs the binary headless and waits for it. Uses posix_spawn and waitpid on its own pid (not Foundation's
    /// Process, whose reaping depends on a SIGCHLD handler another library in the test process may replace).
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tg-e2e-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var env = ["XDG_STATE_HOME": scratch.path + "/state", "XDG_CONFIG_HOME": scratch.path + "/config"]
        for (k, v) in environment { env[k] = v }
        let out = scratch.appendingPathComponent("out").path
        let pid = try Spawn.start([path] + arguments, stdout: out, environment: env)
        let status = Spawn.wait(pid)
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(
            status: code, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")
    }

    public static func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tg-e2e-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
