import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport

/// SPEC §5's checks on what `POST /imports` and Part 4 writes receive: the vertex limit as the
/// server is configured (`serve --max-vertices`).
@Suite(.serialized) struct InputChecksRoutesTests {
    /// A closed ring of `vertices` points on a 10 m circle near the sample's parcels.
    static func polygon(_ vertices: Int) -> String {
        let (x, y, n) = (106.7600, 10.7200, vertices - 1)
        var points = (0..<n).map { i -> String in
            let a = Double(i) / Double(n) * 2 * .pi
            return "[\(x + 0.0001 * cos(a)),\(y + 0.0001 * sin(a))]"
        }
        points.append(points[0])
        return #"{"type":"Polygon","coordinates":[[\#(points.joined(separator: ","))]]}"#
    }

    static func feature(_ vertices: Int, number: Int) -> String {
        #"{"type":"Feature","geometry":\#(polygon(vertices)),"properties":{"ward_code":"27484","sheet":998,"number":\#(number)}}"#
    }

    @Test func theConfiguredVertexLimitRefusesUploadsAndEdits() async throws {
        #expect(ServerConfiguration().maxVertices == 1_000_000)
        let server = try EditableServer.make("vertex-limit") { $0.maxVertices = 200 }
        try await server.test { client in
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: Self.feature(201, number: 1))) { r in
                #expect(r.status == .unprocessableContent)
                #expect(r.text.contains("201 vertices, more than the limit of 200"), "\(r.text)")
            }
            try await client.execute(uri: "/collections/parcels/items/27484-998-1", method: .put, headers: bearer(server.editor),
                                     body: ByteBuffer(string: Self.feature(201, number: 1))) { r in
                #expect(r.status == .unprocessableContent || r.status == .notFound)
            }
            let upload = #"{"type":"FeatureCollection","features":[\#(Self.feature(5, number: 2)),\#(Self.feature(201, number: 3))]}"#
            try await client.execute(uri: "/imports?layer=parcels&filename=big.geojson", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: upload)) { r in
                #expect(r.status == .unprocessableContent)
                let finding = r.json.value?["report"]?["findings"]?.arrayValue?.first
                #expect(finding?["kind"] == "too_many_vertices" && finding?["feature"] == .integer(2), "\(r.text)")
            }
            // At the limit: accepted.
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: Self.feature(200, number: 4))) { r in
                #expect(r.status == .created, "\(r.text)")
            }
        }
        #expect(try server.state.store.feature(layer: "parcels", id: "27484-998-2", asOf: nil) == nil)
    }
}
