import Access
import Foundation
import TestSupport

@testable import Collectors
@testable import Dashboard
@testable import Inventory
@testable import Terminal

let now = Date(timeIntervalSince1970: 1_800_000_000)

func demoSnapshot(size: Int = 300, seed: UInt64 = 11, version: Int = 1) async throws -> Snapshot {
    let report = try await DemoCollector(seed: seed, size: size).collect(CollectContext(now: now, run: 0))
    let health = CollectorHealth(
        name: "demo", type: "demo", state: .ok, lastRun: now, lastSuccess: now, duration: 0.01, entityCount: report.entities.count,
        intervalSeconds: 5)
    return Snapshot.build(
        version: version, now: now, slices: [.init(source: "demo", entities: report.entities)], collectors: [health],
        requests: report.requests)
}

/// An app on an in-memory terminal, with the repository's themes.
func makeApp(_ snapshot: Snapshot, width: Int = 80, height: Int = 24, unicode: Bool = true) -> (App, MemoryTerminal) {
    let terminal = MemoryTerminal(width: width, height: height, unicode: unicode)
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let app = App(
        size: terminal.size, themes: ThemeLibrary(directories: [root.appendingPathComponent("themes").path]),
        workingDirectory: TestTemporary.directory.path)
    app.configure(
        theme: .builtinDefault, colorDepth: .indexed256, unicode: unicode, readonly: false,
        analyst: .init(user: "alice", sshClient: "203.0.113.9"))
    app.tick(now: now)
    app.receive(snapshot)
    terminal.draw(app.render())
    return (app, terminal)
}

extension App {
    /// Presses keys and redraws, as the loop does.
    func press(_ keys: Key..., on terminal: MemoryTerminal) {
        for k in keys { handle(k) }
        terminal.draw(render())
    }

    func type(_ text: String, on terminal: MemoryTerminal) {
        for ch in text { handle(.character(ch)) }
        terminal.draw(render())
    }
}

func entity(_ id: String, name: String, population: Population = .agent) -> Entity {
    Entity(
        id: id, population: population, kind: "mcp_server", name: name, owner: Owner(name: "bob"), coverage: [],
        privileges: [Privilege(scope: "repo:x", level: .read, used: true)], lastSeen: now, lastUsedAt: now)
}

extension App {
    /// Waits for the decisions this dashboard sent to come back, applies them and redraws, as the UI loop would.
    func settleAccess(on t: MemoryTerminal) async {
        guard let access else { return }
        for _ in 0..<1000 where access.busy { try? await Task.sleep(for: .milliseconds(5)) }
        receiveOutcomes()
        t.draw(render())
    }
}

/// The demo's snapshot with its observed requests filed in a fresh personal store, and a dashboard on it acting as
/// `analyst`, as a dashboard on a personal store starts. `prepare` runs on the store before the first view is read.
func demoDesk(
    width: Int = 80, height: Int = 24, unicode: Bool = true, readonly: Bool = false, hooks: HookConfig = HookConfig(),
    analyst: Analyst = Analyst(user: "alice"), prepare: (Snapshot, AccessStore) throws -> Void = { _, _ in }
) async throws -> (App, MemoryTerminal, AccessStore) {
    let snap = try await demoSnapshot()
    let dir = TestTemporary.directory.appendingPathComponent("tg-desk-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try AccessStore(path: dir.appendingPathComponent("t.db").path)
    _ = try store.ingest(snap.requests, subjects: { id in snap[id].map { Subject($0) } }, by: analyst, policy: AccessPolicy(), now: now)
    try prepare(snap, store)
    let (app, t) = makeApp(snap, width: width, height: height, unicode: unicode)
    app.configure(theme: .builtinDefault, colorDepth: .indexed256, unicode: unicode, readonly: readonly, analyst: analyst)
    let controller = AccessController(store: store, policy: AccessPolicy(), hooks: hooks, analyst: analyst, clock: { now })
    app.configureAccess(controller, policy: AccessPolicy(), hooks: hooks)
    app.receive(await controller.view())
    t.draw(app.render())
    return (app, t, store)
}
