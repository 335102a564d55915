import GeoPackage
import Access
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

/// A server over its own copy of the sample (these tests write), with tokens of each role.
struct EditableServer {
    let state: ServerState
    let reader: String, editor: String, admin: String

    /// On a GeoPackage, a copy of the shared sample (a backup: fast); on PostGIS, a new
    /// database with the sample loaded.
    static func make(_ label: String, backend: Backend = .geoPackage, configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> EditableServer {
        let store: any LandMapStore
        switch backend {
        case .geoPackage:
            let path = try SharedData.temporaryDirectory(label).appendingPathComponent("copy.gpkg").path
            try ServerFixture.shared.get().store.backup(to: path)
            store = try GeoPackageStore(path: path)
        case .postGIS:
            store = try ServerFixture.sampleStore(.postGIS, label: label)
        }
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        configure(&configuration)
        let tokens = AccessTokens(store: store)
        return try EditableServer(state: ServerState(store: store, configuration: configuration),
                                  reader: tokens.create(name: "test-reader", role: .reader, actor: "tests").token,
                                  editor: tokens.create(name: "test-editor", role: .editor, actor: "tests").token,
                                  admin: tokens.create(name: "test-admin", role: .admin, actor: "tests").token)
    }

    func test<T>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await Application(router: LandMapServer.router(state)).test(.router, body)
    }
}

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

/// The keys of every layer of an MVT tile, read with the independent protobuf reader.
func mvtKeys(_ bytes: [UInt8]) throws -> Set<String> {
    var keys = Set<String>()
    var tile = ProtobufReader(bytes: bytes[...])
    while let (field, wire) = try tile.key() {
        guard field == 3, wire == 2 else { try tile.skip(wire); continue }
        var layer = ProtobufReader(bytes: try tile.lengthDelimited())
        while let (f, w) = try layer.key() {
            if f == 3, w == 2 { keys.insert(String(decoding: try layer.lengthDelimited(), as: UTF8.self)) } else { try layer.skip(w) }
        }
    }
    return keys
}

@Suite(.serialized) struct AccessControlTests {
    static let point = Coordinate(106.7483377, 10.734784)

    @Test func ownersAreSeenOnlyWithAToken() async throws {
        let server = try EditableServer.make("access-private")
        let tile = try #require(TileID.containing(Self.point, zoom: 17))
        try await server.test { client in
            // What each output says about owners, for no token and for a reader's token.
            func outputs(_ headers: HTTPFields) async throws -> [String: Bool] {
                var seen = [String: Bool]()
                let items = try await client.execute(uri: "/collections/parcels/items?limit=50", method: .get, headers: headers) { $0.json.value }
                let features = items?["features"]?.arrayValue ?? []
                #expect(features.count == 50)
                seen["items"] = features.contains { $0["properties"]?["owner"] != nil }
                let id = try #require(features.first?["id"]?.stringValue)
                seen["item"] = try await client.execute(uri: "/collections/parcels/items/\(id)", method: .get, headers: headers) {
                    $0.json.value?["properties"]?["owner_id"] != nil
                }
                seen["lookup"] = try await client.execute(uri: "/parcels/at?lon=\(Self.point.x)&lat=\(Self.point.y)", method: .get, headers: headers) {
                    $0.json.value?["parcel"]?["properties"]?["owner"] != nil
                }
                seen["search"] = try await client.execute(uri: "/parcels?ward=27484&sheet=56&number=1", method: .get, headers: headers) {
                    $0.json.value?["features"]?.arrayValue?.first?["properties"]?["owner"] != nil
                }
                seen["history"] = try await client.execute(uri: "/parcels/\(id)/history", method: .get, headers: headers) {
                    $0.json.value?["versions"]?.arrayValue?.first?["feature"]?["properties"]?["owner"] != nil
                }
                seen["mvt"] = try await client.execute(uri: "/tiles/parcels/\(tile.z)/\(tile.x)/\(tile.y).mvt", method: .get, headers: headers) { r in
                    let keys = try mvtKeys(Array(r.body.readableBytesView))
                    #expect(keys.contains("land_use"))
                    return keys.contains("owner")
                }
                seen["geojson-tile"] = try await client.execute(uri: "/tiles/parcels/\(tile.z)/\(tile.x)/\(tile.y).geojson", method: .get, headers: headers) {
                    ($0.json.value?["features"]?.arrayValue ?? []).contains { $0["properties"]?["owner"] != nil }
                }
                seen["tilejson"] = try await client.execute(uri: "/tiles/parcels.json", method: .get, headers: headers) {
                    $0.json.value?["vector_layers"]?.arrayValue?.first?["fields"]?["owner"] != nil
                }
                return seen
            }
            let anonymous = try await outputs([:])
            #expect(anonymous.count == 8 && anonymous.values.allSatisfy { !$0 }, "anonymous saw owners in \(anonymous.filter(\.value).keys.sorted())")
            let reader = try await outputs(bearer(server.reader))
            #expect(reader.count == 8 && reader.values.allSatisfy { $0 }, "a reader missed owners in \(reader.filter { !$0.value }.keys.sorted())")

            // A token holder's answers are private to them, and every answer varies by token.
            try await client.execute(uri: "/collections/parcels/items?limit=1", method: .get, headers: bearer(server.reader)) { r in
                #expect(r.headers[.cacheControl]?.contains("private") == true && r.headers[.vary]?.contains("Authorization") == true)
            }
            try await client.execute(uri: "/collections/parcels/items?limit=1", method: .get) { r in
                #expect(r.headers[.cacheControl]?.contains("private") == false && r.headers[.vary]?.contains("Authorization") == true)
            }
        }
        // The two audiences' tiles are cached apart: both rendered, neither served to the other.
        #expect(server.state.tiles.statistics.misses == 2 && server.state.tiles.statistics.hits == 0)
    }

    @Test func badAndRevokedTokensAreRefused() async throws {
        let server = try EditableServer.make("access-refused")
        let tokens = AccessTokens(store: server.state.store)
        let (record, token) = try tokens.create(name: "soon-revoked", role: .reader, actor: "tests")
        try await server.test { client in
            let uri = "/collections/parcels/items?limit=1"
            try await client.execute(uri: uri, method: .get, headers: bearer(token)) { r in #expect(r.status == .ok) }
            _ = try server.state.store.revokeToken(record.key, actor: "tests")
            try await client.execute(uri: uri, method: .get, headers: bearer(token)) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
                #expect(r.headers[.contentType] == "application/problem+json" && r.text.contains("revoked"))
            }
            for header in ["Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer", "Bearer " + String(server.reader.dropLast()) + "x"] {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: header]) { r in #expect(r.status == .unauthorized, "\(header)") }
            }
            // Writing: 401 without a token, 403 for a reader.
            let body = ByteBuffer(string: #"{"type":"Feature","geometry":null,"properties":{}}"#)
            try await client.execute(uri: "/collections/parcels/items", method: .post, body: body) { r in
                #expect(r.status == .unauthorized && r.headers[.wwwAuthenticate] != nil)
            }
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.reader), body: body) { r in
                #expect(r.status == .forbidden && r.text.contains("editor"))
            }
            try await client.execute(uri: "/imports?layer=parcels", method: .post, headers: bearer(server.reader), body: body) { r in #expect(r.status == .forbidden) }
            try await client.execute(uri: "/collections/parcels/items/x", method: .delete) { r in #expect(r.status == .unauthorized) }
        }
        server.state.audit.flush()
        let log = try server.state.store.auditLog(limit: 100, actor: nil, action: nil)
        #expect(log.contains { $0.action == "token.revoke" && $0.target == record.key })
        #expect(log.contains { $0.action == "token.use" && $0.actor == "token:soon-revoked" })
        #expect(log.contains { $0.action == "auth.refused" && $0.detail.contains("revoked") })
    }
}
