import Foundation
import TestSupport
import Testing

/// An analyst's first minutes on a jump host: not yet allowed on the service's socket, or allowed since a login
/// that started before. Each is told exactly that, and how to fix it.
@Suite(
    "Set-up errors say what to do (the real binary, real OS users)", .enabled(if: TemporaryUser.available, "needs root to make OS users"))
struct SetupErrorTests {
    @Test("not in the socket's group: add USER to group GROUP; added since logging in: log in again; then it works")
    func socketGroup() async throws {
        let group = try TemporaryGroup()
        let svc = try await ServiceProcess(group: group.name)
        let dana = try TemporaryUser("tgd")
        svc.retained += [group, dana]
        var r = try svc.cli(["grants", "list", "--service", svc.socket], as: dana)
        #expect(r.status == 1)
        #expect(r.stderr.contains("add \(dana.name) to group \(group.name) and log in again"), "\(r.stderr)")
        #expect(r.stderr.contains("usermod -aG \(group.name) \(dana.name)"), "\(r.stderr)")
        // Added to the group, but this session's groups are those from before (as an SSH login still open).
        try dana.join(group.name)
        r = try svc.run([
            "setpriv", "--reuid=\(dana.name)", "--regid=\(dana.name)", "--clear-groups", "--", Binary.shared, "grants", "list",
            "--service", svc.socket,
        ])
        #expect(r.status == 1)
        #expect(
            r.stderr.contains("\(dana.name) is in group \(group.name), but this login session started before that: log in again"),
            "\(r.stderr)")
        // A new login picks the group up.
        r = try svc.cli(["grants", "list", "--service", svc.socket], as: dana)
        #expect(r.status == 0, "\(r.stderr)")
        svc.stop()
    }

    @Test("a shared store's folder this user can't enter names the group that can, not 'no store here yet'")
    func storeFolderGroup() throws {
        let group = try TemporaryGroup()
        let erin = try TemporaryUser("tge")
        let dir = try ScratchDirectory("tg-shared")
        chmod(TestTemporary.directory.path, 0o755)
        chmod(dir.path, 0o2770)
        chown(dir.path, 0, getgrnam(group.name).pointee.gr_gid)
        let r = try Binary.runAlone([Binary.shared, "grants", "list", "--store", dir.appending("trustgap.db").path], as: erin)
        #expect(r.status == 1)
        #expect(r.stderr.contains("add \(erin.name) to group \(group.name) and log in again"), "\(r.stderr)")
        #expect(!r.stderr.contains("no store here yet"), "\(r.stderr)")
    }
}
