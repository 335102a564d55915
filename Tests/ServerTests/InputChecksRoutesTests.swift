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
            // At the limit: accepted.
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: Self.feature(200, number: 4))) { r in
                #expect(r.status == .created, "\(r.text)")
            }
        }
    }

    @Test func aBodyInLonLatSaidToBeVN2000IsRefused() async throws {
        let server = try EditableServer.make("wrong-crs")
        try await server.test { client in
            try await client.execute(uri: "/collections/parcels/items", method: .post,
                                     headers: bearer(server.editor) + [.contentCrs: "<http://www.opengis.net/def/crs/EPSG/0/9210>"],
                                     body: ByteBuffer(string: Self.feature(5, number: 6))) { r in
                #expect(r.status == .unprocessableContent)
                #expect(r.text.contains("outside its area of use"), "\(r.text)")
            }
        }
        #expect(try server.state.store.feature(layer: "parcels", id: "27484-998-5", asOf: nil) == nil)
    }
}

/// The same checks on `POST /imports`, in the upload suite: it is serialized, and counts the
/// upload folders this process leaves.
extension ImportRoutesTests {
    @Test func uploadsOverTheVertexLimitOrInTheWrongCRSAreRefused() async throws {
        let server = try EditableServer.make("upload-checks") { $0.maxVertices = 200 }
        let big = #"{"type":"FeatureCollection","features":[\#(InputChecksRoutesTests.feature(5, number: 2)),\#(InputChecksRoutesTests.feature(201, number: 3))]}"#
        let lonLat = #"{"type":"FeatureCollection","features":[\#(InputChecksRoutesTests.feature(5, number: 5))]}"#
        try await server.test { client in
            try await client.execute(uri: "/imports?layer=parcels&filename=big.geojson", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: big)) { r in
                #expect(r.status == .unprocessableContent)
                let finding = r.json.value?["report"]?["findings"]?.arrayValue?.first
                #expect(finding?["kind"] == "too_many_vertices" && finding?["feature"] == .integer(2), "\(r.text)")
            }
            try await client.execute(uri: "/imports?layer=parcels&crs=vn2000&filename=lonlat.geojson", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: lonLat)) { r in
                #expect(r.status == .unprocessableContent)
                let finding = r.json.value?["report"]?["findings"]?.arrayValue?.first
                #expect(finding?["kind"] == "wrong_crs" && finding?["feature"] == .integer(1), "\(r.text)")
                #expect(finding?["message"]?.stringValue?.hasSuffix("try --crs wgs84") == true)
            }
        }
        for id in ["27484-998-2", "27484-998-5"] { #expect(try server.state.store.feature(layer: "parcels", id: id, asOf: nil) == nil) }
        #expect(await Self.uploadsLeft().isEmpty)
    }
}
