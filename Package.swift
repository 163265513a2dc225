// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "trustgap",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trustgap", targets: ["trustgap"]),
        .executable(name: "trustgap-bench", targets: ["trustgap-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The one C boundary: only `Terminal` imports it.
        .systemLibrary(
            name: "CNCurses",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"])]
        ),
        // The one list of characters never printed as themselves: screen, CLI, JSON and log use it.
        .target(name: "TextSafety"),
        .target(name: "Inventory", dependencies: ["TextSafety"]),
        .target(
            name: "Collectors",
            dependencies: [
                "Inventory", "ChildProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Child processes by argv, never a shell: the actuator hooks and the exec collector.
        .target(
            name: "ChildProcess",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "Access",
            dependencies: [
                "Inventory", "TextSafety", "ChildProcess",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // `trustgap serve`: the one writer of a shared store, its socket protocol, and the client everything else uses.
        .target(
            name: "AccessService",
            dependencies: [
                "Access", "Inventory", "Collectors",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .target(name: "Terminal", dependencies: ["CNCurses", "TextSafety"]),
        .target(
            name: "Dashboard",
            dependencies: [
                "Inventory", "Access", "AccessService", "Collectors", "Terminal",
                .product(name: "Yams", package: "Yams"),
            ]),
        .target(
            name: "Config",
            dependencies: [
                "Inventory", "Collectors", "Access", "TextSafety",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The agent gateway: an MCP server (stdio) through which agents ask for time-bound access.
        .target(
            name: "AgentGateway",
            dependencies: [
                "Access", "AccessService", "Inventory", "TextSafety",
                .product(name: "MCP", package: "swift-sdk"),
            ]),
        .executableTarget(
            name: "trustgap",
            dependencies: [
                "Inventory", "Collectors", "Access", "AccessService", "Terminal", "Dashboard", "Config", "AgentGateway",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Measures the performance targets (docs/performance.md): swift run -c release trustgap-bench
        .executableTarget(
            name: "trustgap-bench",
            dependencies: [
                "Inventory", "Collectors", "Terminal", "Dashboard", "Access", "AccessService",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "ChildProcessTests", dependencies: ["ChildProcess", "TestSupport"]),
        .testTarget(name: "InventoryTests", dependencies: ["Inventory", "TestSupport"]),
        .testTarget(name: "CollectorsTests", dependencies: ["Collectors", "Inventory", "Access", "TestSupport"]),
        .testTarget(
            name: "AgentGatewayTests",
            dependencies: [
                "AgentGateway", "Access", "AccessService", "Inventory", "Collectors", "TestSupport",
                .product(name: "MCP", package: "swift-sdk"),
            ]),
        .testTarget(
            name: "AccessTests",
            dependencies: ["Access", "Inventory", "ChildProcess", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal", "TextSafety", "Inventory", "TestSupport"]),
        .testTarget(
            name: "DashboardTests",
            dependencies: ["Dashboard", "Terminal", "Inventory", "Collectors", "Access", "AccessService", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Collectors", "Inventory", "TestSupport"]),
        // Helpers every test target shares: spawning and stopping processes, tmux sessions, scratch folders.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // Drives the built `trustgap` binary (headless commands; tmux for the dashboard).
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "trustgap", "Inventory", "Access", "AccessService", "Collectors", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
    ]
)

// Strict settings for every target, in one place.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
