import Foundation
import TestSupport

@testable import Access
@testable import Inventory

let t0 = Date(timeIntervalSince1970: 1_800_000_000)
let alice = Analyst(user: "alice", sshClient: "203.0.113.5")
let bob = Analyst(user: "bob")
let carol = Analyst(user: "carol")
let policy = AccessPolicy()

let agent = Subject(id: "host:agent/cursor/github/x", name: "cursor-mcp-github-x", population: .agent)
let deployer = Subject(id: "aws:iam:user/ci-deployer-prod", name: "ci-deployer-prod", population: .serviceAccount)
let laptop = Subject(id: "mdm:device/1", name: "MBP-1", population: .device)

func tempStore(readonly: Bool = false) throws -> AccessStore {
    let dir = TestTemporary.directory.appendingPathComponent("tg-store-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return try AccessStore(path: dir.appendingPathComponent("trustgap.db").path, readonly: readonly)
}

extension Date {
    func plus(_ seconds: Double) -> Date { addingTimeInterval(seconds) }
}
