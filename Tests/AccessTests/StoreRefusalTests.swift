import Foundation
import GRDB
import TestSupport
import Testing

@testable import Access

/// Issue 10, item 7: a store path that isn't a trustgap store, or has been tampered with, is refused clearly, and
/// nothing already there is changed.
@Suite("The store refuses what isn't a trustgap store")
struct StoreRefusalTests {
    func dir() throws -> String {
        let d = TestTemporary.directory.appendingPathComponent("tg-refuse-\(UUID())").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test("another application's SQLite file is refused; its tables and journal mode stay as they were")
    func foreignSQLite() throws {
        let path = try dir() + "/app.db"
        let q = try DatabaseQueue(path: path)
        try q.write { db in
            try db.execute(sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (42)")
        }
        try q.close()
        do {
            _ = try AccessStore(path: path)
            Issue.record("opened another application's database")
        } catch {
            #expect(error.description.contains("another application's SQLite database (tables: invoices)"), "\(error)")
        }
        let check = try DatabaseQueue(
            path: path,
            configuration: {
                var c = Configuration()
                c.readonly = true
                return c
            }())
        let tables = try check.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        let mode = try check.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(tables == ["invoices"], "no trustgap tables were added")
        #expect(mode == "delete", "still in its own journal mode, not switched to WAL")
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test("a planted -wal or -shm symlink is refused by name, and the store behind it is untouched", arguments: ["-wal", "-shm"])
    func plantedSymlink(_ suffix: String) throws {
        let d = try dir()
        let path = d + "/trustgap.db"
        do {
            let store = try AccessStore(path: path)
            _ = try store.sweep(by: Analyst(user: "alice"), now: Date())
        } // closed: its own -wal and -shm are gone or idle before the link is planted
        let target = d + "/elsewhere"
        try "x".write(toFile: target, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: path + suffix)
        #expect(symlink(target, path + suffix) == 0)
        do {
            _ = try AccessStore(path: path)
            Issue.record("opened through a planted link")
        } catch {
            #expect(
                error.description
                    == "\(path + suffix) is a symbolic link; trustgap refuses to open a store through one "
                    + "(it could redirect the store's writes). Remove the link, and check who made it"
            )
        }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "x", "nothing was written through it")
        unlink(path + suffix)
        #expect(throws: Never.self) { _ = try AccessStore(path: path) }
    }
}
