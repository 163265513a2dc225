import Foundation
import TestSupport
import Testing

/// The binary as an administrator installs it: copied on its own to a folder (as /usr/local/bin), no repository,
/// no theme folder beside it.
@Suite("An installed binary (copied alone, away from the repository)")
struct InstalledBinaryTests {
    @Test("it lists and loads every bundled theme, and answers --version")
    func themesAndVersion() throws {
        let bin = try ScratchDirectory("tg-installed-bin")
        let copy = bin.appending("trustgap").path
        // By `cp`, not in this process: a descriptor open for writing here would be inherited by children other tests
        // fork meanwhile, and running the copy would fail with "text file busy".
        #expect(try Spawn.run(["cp", Binary.path, copy], stdout: bin.appending("cp.out").path) == 0)
        let themes = try Binary.runAlone([copy, "themes"])
        #expect(themes.status == 0, "\(themes.stderr)")
        for name in ["colorblind", "default", "high-contrast", "light", "mono"] {
            #expect(themes.stdout.contains(name) && themes.stdout.contains("(built in)"), "\(name) missing: \(themes.stdout)")
        }
        let version = try Binary.runAlone([copy, "--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("trustgap "), "\(version.stdout)")
    }
}
