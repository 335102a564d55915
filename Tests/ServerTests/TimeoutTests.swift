import Foundation
import Geometry
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport
import Tiles

/// SPEC §5: a request that runs past the time limit is stopped and answered 503.
@Suite struct TimeoutTests {
    func server(timeout: Duration) throws -> Application<RouterResponder<LandMapContext>> {
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        configuration.requestTimeout = timeout
        return Application(router: LandMapServer.router(try ServerState(store: try ServerFixture.shared.get().store, configuration: configuration)))
    }

    @Test func workPastTheLimitIsStoppedAndAnswered503() async throws {
        // A District 7 tile full of parcels. With no time at all, every loop over features
        // stops at its first feature.
        let t = try #require(TileID.containing(Coordinate(106.7483, 10.7348), zoom: 16))
        try await server(timeout: .zero).test(.router) { client in
            for uri in ["/tiles/parcels,zoning,admin/\(t.z)/\(t.x)/\(t.y).mvt", "/tiles/parcels/\(t.z)/\(t.x)/\(t.y).geojson"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .serviceUnavailable, "\(uri)")
                    #expect(r.headers[.contentType] == "application/problem+json")
                    #expect(r.headers[.retryAfter] == "5")
                    #expect(r.json.value?["detail"]?.stringValue?.contains("limit of 0 s") == true)
                }
            }
            // Work with no long loop (a page of items, a health check) is answered as usual.
            try await client.execute(uri: "/collections/parcels/items?limit=10", method: .get) { r in #expect(r.status == .ok) }
            try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
        }
        // The same tile within the default limit.
        try await server(timeout: .seconds(30)).test(.router) { client in
            try await client.execute(uri: "/tiles/parcels,zoning,admin/\(t.z)/\(t.x)/\(t.y).mvt", method: .get) { r in #expect(r.status == .ok) }
        }
    }

    @Test func deadlineIsOnlyEverSetAroundARequest() throws {
        try Deadline.check()  // no deadline outside a request: the CLI and exports never stop
        #expect(throws: DeadlinePassed.self) {
            try Deadline.$current.withValue(.now - .seconds(1)) { try Deadline.check() }
        }
    }
}
