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

/// One server state over the GeoData sample for all server tests; metrics bootstrapped once.
enum ServerFixture {
    static let registry = PrometheusCollectorRegistry()
    static let shared: Result<ServerState, any Error> = Result {
        LandMapServer.bootstrapMetrics(registry)
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("server").appendingPathComponent("sample.gpkg").path)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 2
        return try ServerState(store: store, configuration: configuration, metrics: registry)
    }

    /// Runs `body` against the real router, in process.
    static func test<T>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let app = Application(router: LandMapServer.router(try shared.get()))
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
