import Foundation
import TestSupport
import Testing

/// Issue 10, item 7, as an analyst meets it: a full disk, another user's private store.
@Suite("Store errors say what is wrong (the real binary)")
struct StoreHardeningTests {
    @Test("with the disk full, reads and writes say the disk is full, not 'disk I/O error'; nothing stored is lost")
    func diskFull() throws {
        let dir = try ScratchDirectory("tg-full")
        let mount = dir.appending("mnt").path
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        // A private mount namespace: a 1 MiB tmpfs only this script sees, filled after the store is made.
        let script = dir.appending("full.sh").path
        try """
        set -u
        mount -t tmpfs -o size=1m tmpfs "$1" || exit 97
        "$2" sweep --store "$1/s.db" > "$3/create.out" 2>&1 || exit 98
        dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
        "$2" grants --store "$1/s.db" > "$3/read.out" 2>&1; echo $? > "$3/read.rc"
        "$2" sweep --store "$1/s.db" > "$3/write.out" 2>&1; echo $? > "$3/write.rc"
        rm -f "$1/fill"
        "$2" audit verify --store "$1/s.db" > "$3/verify.out" 2>&1; echo $? > "$3/verify.rc"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let out = dir.appending("run").path
        let status = Spawn.exitCode(
            Spawn.wait(
                try Spawn.start(
                    ["unshare", "-m", "sh", script, mount, Binary.path, dir.path], stdout: out,
                    environment: ["XDG_STATE_HOME": dir.appending("state").path])))
        try #require(
            status == 0, "the namespace and tmpfs could be made: \((try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")")
        func read(_ name: String) -> String {
            ((try? String(contentsOfFile: dir.appending(name).path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(read("read.rc") == "1")
        #expect(read("read.out").contains("the disk is full"), "\(read("read.out"))")
        #expect(!read("read.out").contains("disk I/O error"))
        #expect(read("write.rc") == "1")
        #expect(read("write.out").contains("the disk is full"), "\(read("write.out"))")
        #expect(read("verify.rc") == "0", "once there is room, the store is whole: \(read("verify.out"))")
    }

    @Test("a --store that is another user's private file says permission denied, not 'no store here yet'")
    func otherUsersStore() throws {
        let owner = try TemporaryUser()
        let other = try TemporaryUser()
        let dir = try ScratchDirectory("tg-priv")
        chmod(dir.path, 0o755)
        let home = dir.appending(owner.name).path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let path = home + "/trustgap.db"
        let made = try Binary.run(["sweep", "--store", path])
        try #require(made.status == 0, "\(made.stderr)")
        // The owner's private folder, as a home is.
        #expect(chown(home, owner.uid, owner.uid) == 0 && chmod(home, 0o700) == 0)
        for file in ["", ".key", ".anchor"] { _ = chown(path + file, owner.uid, owner.uid) }
        let out = dir.appending("out").path
        chmod(dir.path, 0o777)
        let pid = try Spawn.start(
            other.run([Binary.shared, "grants", "--store", path]), stdout: out,
            environment: ["XDG_STATE_HOME": dir.appending("xdg-\(other.name)").path, "PATH": "/usr/bin:/bin"])
        let code = Spawn.exitCode(Spawn.wait(pid))
        let err = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
        #expect(code == 1)
        #expect(err.contains("permission denied"), "\(err)")
        #expect(!err.contains("no store here yet"), "\(err)")
    }
}
