import Foundation
import TestSupport
import Testing

/// The binary as an administrator installs it: copied on its own to a folder (as /usr/local/bin), no repository,
/// no theme folder beside it.
@Suite("An installed binary (copied alone, away from the repository)")
struct InstalledBinaryTests {
    func run(_ binary: String, _ arguments: [String], home: String) throws -> Binary.Result {
        let scratch = try ScratchDirectory("tg-installed-out")
        let out = scratch.appending("out").path
        let pid = try Spawn.start(
            [binary] + arguments, stdout: out,
            environment: ["HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"], inheritEnvironment: false)
        let status = Spawn.exitCode(Spawn.wait(pid))
        return Binary.Result(
            status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")
    }

    @Test("it lists and loads every bundled theme, and answers --version")
    func themesAndVersion() throws {
        let bin = try ScratchDirectory("tg-installed-bin")
        let home = try ScratchDirectory("tg-installed-home")
        let copy = bin.appending("trustgap").path
        // By `cp`, not in this process: a descriptor open for writing here would be inherited by children other tests
        // fork meanwhile, and running the copy would fail with "text file busy".
        #expect(try Spawn.run(["cp", Binary.path, copy], stdout: bin.appending("cp.out").path) == 0)
        let themes = try run(copy, ["themes"], home: home.path)
        #expect(themes.status == 0, "\(themes.stderr)")
        for name in ["colorblind", "default", "high-contrast", "light", "mono"] {
            #expect(themes.stdout.contains(name) && themes.stdout.contains("(built in)"), "\(name) missing: \(themes.stdout)")
        }
        let version = try run(copy, ["--version"], home: home.path)
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("trustgap "), "\(version.stdout)")
    }
}
