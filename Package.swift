// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "LandMap",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "landmap", targets: ["landmap"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // gzip for responses: hummingbird-compression is not among this machine's packages.
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        // EmbeddedChannel for the fuzz targets, which call the router in process.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // SHA-256 for stored API tokens: a vetted implementation, not one of ours.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // PostgreSQL's wire protocol (SCRAM auth, binary rows, LISTEN/NOTIFY) for the PostGIS
        // store: a maintained client beats a protocol implementation of our own.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C libraries: a module map over a one-line shim each, found by pkg-config.
        .systemLibrary(name: "CGEOS", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        .systemLibrary(name: "CPROJ", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        .systemLibrary(name: "CGDAL", pkgConfig: "gdal", providers: [.apt(["libgdal-dev"])]),
        // glibc's malloc_trim, which Swift's Glibc module leaves out (the tile routes use it).
        .systemLibrary(name: "CMalloc"),

        // Safe Swift over the C libraries.
        .target(name: "Geometry", dependencies: ["CGEOS"]),
        .target(name: "Projection", dependencies: ["CPROJ", "Geometry"]),

        // Reading the formats GIS staff have (OGR) and legacy Vietnamese text.
        .target(name: "Formats", dependencies: ["CGDAL", "Geometry", "Features"]),

        // The data model shared by readers, the store and the use cases.
        .target(name: "Features", dependencies: ["Geometry"]),

        // Storage protocols every backend implements, and the types they share.
        // (SHA-256 for the per-layer fingerprint that `landmap copy` is checked by.)
        .target(name: "Store", dependencies: [
            "Geometry", "Features", "CQL2",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // The embedded store: one GeoPackage file (SQLite through GRDB).
        .target(name: "GeoPackage", dependencies: [
            "Geometry", "Features", "Store", "CQL2",
            .product(name: "GRDB", package: "GRDB.swift"),
            // SQLite's C API, for the few hot loops that step a statement themselves (`RawRows`).
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),

        // Storage on PostgreSQL + PostGIS (SPEC §7): the same protocols over postgres-nio.
        .target(name: "PostGIS", dependencies: [
            "Geometry", "Features", "Store", "CQL2",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Picks the backend a `--db` names (a GeoPackage path or a PostgreSQL URL) and opens it:
        // the one place above the stores that knows them by name.
        .target(name: "Backends", dependencies: ["Store", "GeoPackage", "PostGIS"]),

        // Who may do what: API tokens (made, hashed, checked in constant time), roles, the audit log.
        .target(name: "Access", dependencies: [
            "Store", "Features", "Geometry",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // Proposals and their review: a contributor's change kept apart until a steward approves it.
        .target(name: "Review", dependencies: ["Import", "Store", "Features", "Geometry"]),

        // Use cases: import with its quality report.
        .target(name: "Import", dependencies: ["Formats", "Projection", "Geometry", "Features", "Store"]),

        // CQL2 filters (OGC API – Features Part 3): text and JSON into one tree, and back.
        .target(name: "CQL2", dependencies: ["Geometry"]),

        // Use cases: parcel lookup (what is here, what may be built), by key, by box.
        .target(name: "Query", dependencies: ["Geometry", "Projection", "Features", "Store", "CQL2"]),

        // Vector tiles: tile math, the MVT encoder, rendering (clip, simplify, snap), the cache.
        .target(name: "Tiles", dependencies: [
            "Geometry", "Features", "Store",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "CompressNIO", package: "compress-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),

        // A layer written out as a file: `landmap export` and `GET /downloads/…` both call it.
        .target(name: "Export", dependencies: ["Formats", "Projection", "Geometry", "Features", "Store"]),

        // The HTTP service: routes and middleware; no geometry code of its own.
        .target(name: "Server", dependencies: [
            "Geometry", "Projection", "Features", "Store", "CQL2", "Formats", "Query", "Import", "Review", "Tiles", "Access", "Export", "CMalloc",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "CompressNIO", package: "compress-nio"),
        ]),

        // The command-line interface.
        .executableTarget(name: "landmap", dependencies: [
            "Geometry", "Projection", "Features", "Store", "Backends", "Formats", "Import", "Query", "Review", "Server", "Tiles", "Access", "Export",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // Tools: the deterministic sample and benchmark parcel generator.
        .target(name: "SeededRandom"),
        .executableTarget(name: "generate-parcels", dependencies: ["Geometry", "Projection", "Features", "SeededRandom"], path: "Tools/GenerateParcels"),

        // Benchmarks (run them on a release build; see Docs/BENCHMARKS.md).
        .executableTarget(name: "bench-lookup", dependencies: ["Geometry", "Query", "Store", "Backends", "SeededRandom"], path: "Tools/BenchLookup"),
        .executableTarget(name: "bench-search", dependencies: ["Geometry", "Query", "Store", "Backends", "SeededRandom"], path: "Tools/BenchSearch"),

        // Fuzz targets (Tools/fuzz.sh builds them with libFuzzer; a normal build replays saved inputs).
        .target(name: "CFuzzer", path: "Tools/Fuzz/CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["Geometry", "CFuzzer"], path: "Tools/Fuzz/Support"),
        .target(name: "FuzzHTTP", dependencies: [
            "Server", "Store", "Backends", "Import", "Access",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tools/Fuzz/HTTP"),
        .executableTarget(name: "fuzz-geojson", dependencies: ["FuzzSupport", "Geometry", "Formats"], path: "Tools/Fuzz/GeoJSON"),
        .executableTarget(name: "fuzz-wkb", dependencies: ["FuzzSupport", "Geometry", "GeoPackage"], path: "Tools/Fuzz/WKB"),
        .executableTarget(name: "fuzz-cql2", dependencies: ["FuzzSupport", "CQL2", "Geometry", "Features", "Store", "GeoPackage"], path: "Tools/Fuzz/CQL2"),
        .executableTarget(name: "fuzz-query", dependencies: ["FuzzSupport", "FuzzHTTP", .product(name: "HTTPTypes", package: "swift-http-types")], path: "Tools/Fuzz/Query"),
        .executableTarget(name: "fuzz-upload", dependencies: ["FuzzSupport", "FuzzHTTP", .product(name: "HTTPTypes", package: "swift-http-types")], path: "Tools/Fuzz/Upload"),

        // Tests mirror the modules; TestSupport finds ../shared/data and temporary folders.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "GeometryTests", dependencies: ["Geometry", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ProjectionTests", dependencies: ["Projection", "Geometry", "TestSupport"]),
        .testTarget(name: "CQL2Tests", dependencies: ["CQL2", "Geometry", "TestSupport"]),
        .testTarget(name: "FeaturesTests", dependencies: ["Features", "Geometry"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Geometry", "Features", "TestSupport"]),
        .testTarget(name: "ImportTests", dependencies: ["GeoPackage", "Import", "Store", "Backends", "Formats", "Projection", "Geometry", "Features", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "QueryTests", dependencies: ["GeoPackage", "Query", "Import", "Store", "Backends", "Projection", "Geometry", "Features", "TestSupport", "SeededRandom"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Store", "GeoPackage", "Backends", "Import", "Geometry", "Features", "TestSupport", "Access", "Tiles",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "CompressNIO", package: "compress-nio"),
        ]),
        .testTarget(name: "TilesTests", dependencies: [
            "Tiles", "Geometry", "Features", "Store", "GeoPackage", "Backends", "Import", "TestSupport", "SeededRandom",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "CompressNIO", package: "compress-nio"),
        ]),
        .testTarget(name: "AccessTests", dependencies: ["GeoPackage", "Access", "Store", "Backends", "Features", "Geometry", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "GeoPackage", "PostGIS", "Backends", "Features", "Geometry", "TestSupport", "Import", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "PostGISTests", dependencies: [
            "PostGIS", "GeoPackage", "Store", "Features", "Geometry", "TestSupport",
            // ReadRoutingTests makes connection pools that never connect.
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
