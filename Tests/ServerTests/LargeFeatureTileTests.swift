import GeoPackage
import Features
import Foundation
import Geometry
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport

/// Tiles over a feature at SPEC §5's vertex limit render off the event loops and the
/// cooperative pool: `/health` answers while three of them are still being drawn. (Drawn on
/// the pool, three such tiles held both its threads and `/health` waited 11 s.)
@Suite struct LargeFeatureTileTests {
    /// A circle of radius 0.02° around District 1 with a fine jitter, `vertices` points, closed.
    static func ring(_ vertices: Int) -> [Coordinate] {
        let n = vertices - 1
        var seed: UInt64 = 42
        var out = (0..<n).map { i -> Coordinate in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let a = Double(i) / Double(n) * 2 * .pi
            let r = 0.02 * (1 + 0.02 * sin(37 * a)) + (Double(seed >> 11) / Double(1 << 53) - 0.5) * 4e-6
            return Coordinate(106.70 + r * cos(a), 10.78 + r * sin(a))
        }
        out.append(out[0])
        return out
    }

    @Test func healthAnswersWhileTilesOverAMillionVerticesRender() async throws {
        let path = try SharedData.temporaryDirectory("large-tiles").appendingPathComponent("t.gpkg").path
        let store = try GeoPackageStore(path: path)
        _ = try store.write(BatchRequest(layer: "zoning", mode: .append, source: "test", actor: "tests")) { w in
            try w.put(Feature(id: "big", geometry: .polygon([Self.ring(1_000_000)]), properties: ["zone_code": "R1"]))
        }
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        let state = try ServerState(store: store, configuration: configuration)
        let tiles = ["13/6524/3848", "13/6523/3849", "13/6524/3849"]
        let order = try await Application(router: LandMapServer.router(state)).test(.router) { client in
            try await withThrowingTaskGroup(of: String.self) { group in
                for t in tiles {
                    group.addTask {
                        try await client.execute(uri: "/tiles/zoning/\(t).mvt", method: .get) { r in #expect(r.status == .ok && r.body.readableBytes > 0) }
                        return "tile"
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(300))
                    try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
                    return "health"
                }
                var order = [String]()
                for try await done in group { order.append(done) }
                return order
            }
        }
        // /health is not held up by the renders: it answers while tiles are still being drawn
        // (not necessarily before the first: on a loaded machine one tile may finish early).
        #expect(order.last != "health", "\(order)")
    }
}
