import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport
import Tiles

/// OGC API – Features Part 4 writes: versions, conditional writes, the tile cache following.
@Suite(.serialized) struct FeatureEditTests {
    /// A 20 m × 20 m square parcel near the sample's, in WGS 84.
    static func parcel(_ id: String?, landUse: String, owner: String, dx: Double = 0) -> String {
        let (x, y, d) = (106.7600 + dx, 10.7200, 0.00018)
        let ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]].map { "[\($0[0]),\($0[1])]" }.joined(separator: ",")
        let idMember = id.map { "\"id\":\"\($0)\"," } ?? ""
        return """
            {"type":"Feature",\(idMember)"geometry":{"type":"Polygon","coordinates":[[\(ring)]]},
             "properties":{"ward_code":"27484","sheet":999,"number":1,"land_use":"\(landUse)","declared_area_m2":390,"owner":"\(owner)"}}
            """
    }

    @Test(arguments: Backend.allCases)
    func createReplaceDeleteAreVersionedAndConditional(_ backend: Backend) async throws {
        let server = try EditableServer.make("edit-cycle", backend: backend)
        let tile = try #require(TileID.containing(Coordinate(106.7601, 10.7201), zoom: 16))
        let tileURI = "/tiles/parcels/\(tile.z)/\(tile.x)/\(tile.y).mvt"
        try await server.test { client in
            let tileTagBefore = try await client.execute(uri: tileURI, method: .get) { $0.headers[.eTag] }
            // Create: 201, Location, ETag; the id is the cadastral key; area computed by the server.
            let (location, created) = try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.editor),
                                                              body: ByteBuffer(string: Self.parcel(nil, landUse: "ODT", owner: "Nguyễn Văn A"))) { r in
                #expect(r.status == .created, "\(r.text)")
                let area = r.json.value?["properties"]?["area_m2"]?.doubleValue ?? 0
                #expect((380...420).contains(area), "area \(area)")
                return (r.headers[.location], r.headers[.eTag])
            }
            #expect(location?.hasSuffix("/collections/parcels/items/27484-999-1") == true)
            let etag = try #require(created)
            // The same id again: 409.
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: Self.parcel(nil, landUse: "ODT", owner: "x"))) { r in #expect(r.status == .conflict) }
            // GET gives the same revision as the write did.
            let readTag = try await client.execute(uri: "/collections/parcels/items/27484-999-1", method: .get, headers: bearer(server.reader)) { r in
                #expect(r.json.value?["properties"]?["owner"] == "Nguyễn Văn A")
                return r.headers[.eTag]
            }
            // "lm-item-v1.<start>-<shape>": the revision parts agree, the shape (audience, query) may not.
            func revision(_ tag: String?) -> String? { tag.map { $0.split(separator: "-").prefix(3).joined(separator: "-") } }
            #expect(revision(readTag) == revision(etag) && revision(etag)?.hasPrefix("\"lm-item-v1.") == true)

            // Replace with the ETag: a new version. With the old ETag afterwards: 412, nothing written.
            let replaced = try await client.execute(uri: "/collections/parcels/items/27484-999-1", method: .put,
                                                    headers: bearer(server.editor) + [.ifMatch: etag],
                                                    body: ByteBuffer(string: Self.parcel("27484-999-1", landUse: "TMD", owner: "Nguyễn Văn B"))) { r in
                #expect(r.status == .ok, "\(r.text)")
                return r.headers[.eTag]
            }
            #expect(replaced != nil && replaced != etag)
            try await client.execute(uri: "/collections/parcels/items/27484-999-1", method: .put, headers: bearer(server.editor) + [.ifMatch: etag],
                                     body: ByteBuffer(string: Self.parcel("27484-999-1", landUse: "SKC", owner: "C"))) { r in
                #expect(r.status == .preconditionFailed && r.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/collections/parcels/items/27484-999-1", method: .get) { r in
                #expect(r.json.value?["properties"]?["land_use"] == "TMD" && r.json.value?["properties"]?["owner"] == nil)
            }
            // The tile changed at once (new ETag, the new land use in it).
            let tileTagAfter = try await client.execute(uri: tileURI, method: .get) { $0.headers[.eTag] }
            #expect(tileTagAfter != tileTagBefore)

            // Bad bodies: 400/422 with the reason, nothing written.
            let bad: [(String, HTTPResponse.Status)] = [
                ("not json", .badRequest),
                (#"{"type":"FeatureCollection","features":[]}"#, .badRequest),
                (Self.parcel("x", landUse: "ODT", owner: "x").replacingOccurrences(of: "10.72", with: "95.72"), .unprocessableContent),
                (#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[106.76,10.72],[106.7602,10.7202],[106.7602,10.72],[106.76,10.7202],[106.76,10.72]]]},"properties":{}}"#, .unprocessableContent),
                (#"{"type":"Feature","geometry":{"type":"Point","coordinates":[106.76,10.72]},"properties":{}}"#, .unprocessableContent),
            ]
            for (body, status) in bad {
                try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.editor), body: ByteBuffer(string: body)) { r in
                    #expect(r.status == status, "\(body.prefix(60)): \(r.status) \(r.text)")
                }
            }
            // A body in VN-2000 (Content-Crs) lands where the same parcel in WGS 84 would.
            try await client.execute(uri: "/collections/parcels/items", method: .post,
                                     headers: bearer(server.editor) + [.contentCrs: "<http://www.opengis.net/def/crs/EPSG/0/9210>"],
                                     body: ByteBuffer(string: #"{"type":"Feature","id":"vn2000-1","geometry":{"type":"Polygon","coordinates":[[[605000,1185000],[605020,1185000],[605020,1185020],[605000,1185020],[605000,1185000]]]},"properties":{"land_use":"ODT"}}"#)) { r in
                #expect(r.status == .created, "\(r.text)")
                let area = r.json.value?["properties"]?["area_m2"]?.doubleValue ?? 0
                #expect(abs(area - 400) < 0.5, "area \(area)")
                let x = r.json.value?["geometry"]?["coordinates"]?.arrayValue?.first?.arrayValue?.first?.arrayValue?.first?.doubleValue ?? 0
                #expect((106.5...107).contains(x))
            }

            // Delete with a stale ETag: 412; with the present one: 204, then 404.
            try await client.execute(uri: "/collections/parcels/items/27484-999-1", method: .delete, headers: bearer(server.editor) + [.ifMatch: etag]) { r in
                #expect(r.status == .preconditionFailed)
            }
            try await client.execute(uri: "/collections/parcels/items/27484-999-1", method: .delete, headers: bearer(server.editor) + [.ifMatch: replaced ?? ""]) { r in
                #expect(r.status == .noContent)
            }
            try await client.execute(uri: "/collections/parcels/items/27484-999-1", method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/collections/parcels/items/27484-999-1", method: .delete, headers: bearer(server.editor)) { r in #expect(r.status == .notFound) }
        }
        // Every version kept, each with its actor.
        let history = try server.state.store.history(layer: "parcels", id: "27484-999-1")
        #expect(history.map(\.version) == [1, 2] && history.last?.endedByDeletion == true)
        #expect(history.map { $0.feature.properties["land_use"] } == ["ODT", "TMD"])
        let writes = try server.state.store.auditLog(limit: 20, actor: "token:test-editor", action: "write")
        #expect(writes.count == 4)  // create, replace, create (VN-2000), delete
    }

    /// A ward, sheet and number name one parcel: a PUT or a POST that would give a parcel's key
    /// to a second one is a conflict naming the parcel that has it, and nothing is written.
    @Test func aCadastralKeyAnotherParcelHasIsAConflict() async throws {
        let server = try EditableServer.make("edit-key")
        try await server.test { client in
            let item = try await client.execute(uri: "/collections/parcels/items/27484-1-1", method: .get, headers: bearer(server.editor)) { $0.json.value }
            guard case .object(var body)? = item, case .object(var properties)? = body["properties"] else {
                Issue.record("no parcel 27484-1-1 in the sample")
                return
            }
            properties["number"] = .integer(2)
            body["properties"] = .object(properties)
            body["id"] = .string("27484-1-1")
            try await client.execute(uri: "/collections/parcels/items/27484-1-1", method: .put, headers: bearer(server.editor),
                                     body: ByteBuffer(string: JSONValue.object(body).jsonText)) { r in
                #expect(r.status == .conflict && r.headers[.contentType] == "application/problem+json", "\(r.text)")
                #expect(r.json.value?["conflicting_id"] == "27484-1-2", "\(r.text)")
                #expect(r.json.value?["detail"]?.stringValue?.contains("ward_code 27484, sheet 1, number 2") == true, "\(r.text)")
            }
            let created = Self.parcel("new-1", landUse: "ODT", owner: "x").replacingOccurrences(of: "\"sheet\":999", with: "\"sheet\":1")
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.editor), body: ByteBuffer(string: created)) { r in
                #expect(r.status == .conflict && r.json.value?["conflicting_id"] == "27484-1-1", "\(r.text)")
            }
            for number in [1, 2] {
                try await client.execute(uri: "/parcels?ward=27484&sheet=1&number=\(number)", method: .get) { r in
                    let found = r.json.value?["features"]?.arrayValue ?? []
                    #expect(r.status == .ok && found.count == 1, "\(r.text)")
                }
            }
            try await client.execute(uri: "/collections/parcels/items/new-1", method: .get) { r in #expect(r.status == .notFound) }
        }
    }
}

func + (a: HTTPFields, b: HTTPFields) -> HTTPFields {
    var out = a
    for field in b { out.append(field) }
    return out
}
