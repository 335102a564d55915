import Backends
import GeoPackage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Import
import Prometheus
@testable import Server
import Store
import TestSupport

/// One server state over the GeoData sample per backend for all server tests (made on first
/// use); metrics bootstrapped once.
enum ServerFixture {
    static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped: Void = LandMapServer.bootstrapMetrics(registry)

    static let geoPackage: Result<ServerState, any Error> = Result { try state(sampleStore(.geoPackage, label: "server")) }
    static let postGIS: Result<ServerState, any Error> = Result { try state(sampleStore(.postGIS, label: "server")) }

    /// The GeoPackage one, for the tests that run on it alone.
    static var shared: Result<ServerState, any Error> { geoPackage }

    static func state(_ backend: Backend) throws -> ServerState {
        switch backend {
        case .geoPackage: try geoPackage.get()
        case .postGIS: try postGIS.get()
        }
    }

    private static func state(_ store: any LandMapStore) throws -> ServerState {
        _ = bootstrapped
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 2
        return try ServerState(store: store, configuration: configuration, metrics: registry)
    }

    /// A new database of `backend` with the sample of GeoData/ loaded, as `landmap serve` loads it.
    static func sampleStore(_ backend: Backend, label: String) throws -> any LandMapStore {
        let store = try StoreLocation(try backend.freshLocation(label)).open(create: true)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        return store
    }

    /// A database of its own with the sample, for a test that writes: a backup of the shared
    /// GeoPackage, or a fresh PostgreSQL database loaded as `serve` loads it. Returns its `--db`.
    static func sampleCopy(_ label: String, _ backend: Backend) throws -> (db: String, store: any LandMapStore) {
        switch backend {
        case .geoPackage:
            let db = try SharedData.temporaryDirectory(label).appendingPathComponent("copy.gpkg").path
            try shared.get().store.backup(to: db)
            return (db, try GeoPackageStore(path: db))
        case .postGIS:
            let db = try backend.freshLocation(label)
            return (db, try sampleStore(db))
        }
    }

    private static func sampleStore(_ location: String) throws -> any LandMapStore {
        let store = try StoreLocation(location).open(create: true)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        return store
    }

    /// Runs `body` against the real router, in process, over the sample on `backend`.
    static func test<T>(_ backend: Backend = .geoPackage, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let app = Application(router: LandMapServer.router(try state(backend)))
        return try await app.test(.router, body)
    }
}

extension TestResponse {
    var json: JSONValueBox { JSONValueBox(body: body) }
    var text: String { String(buffer: body) }
}

import Geometry

/// Parses a response body as JSON (nil when it is not).
struct JSONValueBox {
    let value: JSONValue?
    init(body: ByteBuffer) {
        value = try? JSONValue.parse(Data(String(buffer: body).utf8))
    }
}
