// swift-tools-version:6.1
import PackageDescription

/// One strict setting list shared by every Swift target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .library(name: "SluiceJSON", targets: ["SluiceJSON"]),
        .library(name: "SluicePlan", targets: ["SluicePlan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Traces: only the OTLP/HTTP (protobuf) exporter; the default OTLPGRPC trait would pull in
        // grpc-swift and add minutes to every clean build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // Already in the graph (Hummingbird, swift-otel); named here because SluiceTracing uses them.
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        // System libraries: no C type leaks past the module that imports them.
        .systemLibrary(
            name: "CYajl",
            pkgConfig: "yajl",
            providers: [.apt(["libyajl-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "SluiceJSON",
            dependencies: ["CYajl"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluicePlan",
            dependencies: [
                "SluiceJSON",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceProviders",
            dependencies: ["SluiceJSON", "CCurl", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // What the engine and the store share: a run's events, step checkpoints, usage totals and
        // resume state. Below both, so the store does not depend on the engine.
        .target(
            name: "SluiceRunLog",
            dependencies: ["SluiceJSON"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceEngine",
            dependencies: ["SluiceJSON", "SluiceRunLog", "SluicePlan", "SluiceProviders"],
            swiftSettings: swiftSettings
        ),
        // Fakes shared by the tests of every layer (STYLE 1: ship the testing layer).
        .target(
            name: "SluiceTesting",
            dependencies: ["SluiceJSON", "SluiceRunLog", "SluiceProviders", "SluiceEngine"],
            swiftSettings: swiftSettings
        ),
        // Loopback fakes of the real services (OpenAI, Anthropic, search APIs, web pages) for tests
        // and benchmarks: a small HTTP/1.1 server on POSIX sockets, so libcurl is really exercised.
        .target(
            name: "SluiceFakeServices",
            dependencies: ["SluiceJSON", "SluiceProviders"],
            swiftSettings: swiftSettings
        ),
        // MCP (stdio and streamable HTTP), REST + SSE over Hummingbird.
        .target(
            name: "SluiceServer",
            dependencies: [
                "SluiceJSON",
                "SluicePlan",
                "SluiceRunLog",
                "SluiceEngine",
                "SluiceProviders",
                "SluiceStore",
                "SluiceDurable",
                "SluiceTracing",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            // The web pages' scripts and styles: embedded by scripts/embed-web.sh (`make web`).
            exclude: ["Web/Assets"],
            swiftSettings: swiftSettings
        ),
        // The durable run store, event log, checkpoints and response cache (SQLite through GRDB).
        .target(
            name: "SluiceStore",
            dependencies: [
                "SluiceJSON",
                "SluiceRunLog",
                "SluiceProviders",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API for what GRDB does not wrap (the write-ahead log kept at exit).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL run store (postgres-nio), for several servers on one database. Its own
        // module so SluiceStore, the server and the benchmarks build without SwiftNIO's Postgres
        // stack; only the CLI (which opens `--store postgres://…`) and the store tests link it.
        .target(
            name: "SluiceStorePostgres",
            dependencies: [
                "SluiceJSON",
                "SluiceRunLog",
                "SluiceStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // One way to compose a run recorded in a store (run id, cached and ledgered providers,
        // store-first sink, resume, cancel requests), for the CLI and the server alike: the
        // engine-touching half of durability, above both the engine and the store.
        .target(
            name: "SluiceDurable",
            dependencies: ["SluiceJSON", "SluicePlan", "SluiceRunLog", "SluiceEngine", "SluiceStore"],
            swiftSettings: swiftSettings
        ),
        // OpenTelemetry GenAI spans built from the run's events, exported through swift-otel.
        .target(
            name: "SluiceTracing",
            dependencies: [
                "SluiceJSON",
                "SluiceRunLog",
                "SluiceEngine",
                "SluiceProviders",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceCLI",
            dependencies: [
                "SluiceJSON",
                "SluicePlan",
                "SluiceRunLog",
                "SluiceEngine",
                "SluiceProviders",
                "SluiceServer",
                "SluiceStore",
                "SluiceStorePostgres",
                "SluiceDurable",
                "SluiceTracing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sluice",
            dependencies: ["SluiceCLI"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SluiceBenchmarks",
            // SluiceStorePostgres and SluiceTesting (its PostgresCluster) for `make bench-store`.
            dependencies: [
                "SluiceJSON", "SluicePlan", "SluiceRunLog", "SluiceEngine", "SluiceProviders", "SluiceFakeServices", "SluiceStore", "SluiceServer",
                "SluiceStorePostgres", "SluiceTesting",
            ],
            path: "Benchmarks/SluiceBenchmarks",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceJSONTests",
            dependencies: ["SluiceJSON", "SluiceTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluicePlanTests",
            dependencies: ["SluicePlan", "SluiceJSON", "SluiceRunLog", "SluiceTesting"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceProvidersTests",
            dependencies: ["SluiceProviders", "SluiceJSON", "SluiceTesting", "SluiceFakeServices", "SluiceRunLog", "SluiceEngine", "SluicePlan"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceEngineTests",
            dependencies: ["SluiceEngine", "SluiceRunLog", "SluicePlan", "SluiceProviders", "SluiceJSON", "SluiceTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceServerTests",
            // The stdio tests run `sluice serve --stdio`, so the executable must be built first.
            dependencies: ["SluiceServer", "SluicePlan", "SluiceJSON", "SluiceRunLog", "SluiceEngine", "SluiceProviders", "SluiceStore", "SluiceTesting", "SluiceFakeServices", "sluice"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceStoreTests",
            dependencies: [
                "SluiceStore", "SluiceStorePostgres", "SluiceDurable", "SluiceRunLog", "SluiceEngine", "SluicePlan", "SluiceProviders", "SluiceJSON", "SluiceTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceTracingTests",
            dependencies: [
                "SluiceTracing", "SluiceRunLog", "SluiceEngine", "SluicePlan", "SluiceProviders", "SluiceJSON", "SluiceTesting", "SluiceFakeServices",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceCLITests",
            // The tests run the `sluice` executable itself, so it must be built first.
            dependencies: ["SluiceCLI", "SluicePlan", "SluiceJSON", "SluiceRunLog", "SluiceTesting", "SluiceFakeServices", "sluice"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
