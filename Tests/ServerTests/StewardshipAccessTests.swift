import Access
import Features
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

/// The callers of the stewardship matrix (SPEC §8), each with the token it is given in
/// `StewardshipServer`, and what it may read there: parcels public (steward so-nnmt), the
/// custom layer `poi` internal, zoning restricted to its steward so-qhkt.
enum Caller: String, CaseIterable, Sendable, CustomStringConvertible {
    case anonymous
    case reader
    /// A reader with `--layers parcels`.
    case readerParcels
    /// A contributor of unit phuong-phu-thuan, `--layers parcels --wards 27484` (the sample's ward).
    case contributor
    /// A contributor limited to another ward, `--layers parcels --wards 27487`.
    case contributorOther
    case editor
    /// An editor with `--layers parcels`.
    case editorParcels
    /// A steward of unit so-qhkt: zoning's steward.
    case stewardQHKT
    /// A steward of unit so-nnmt: parcels' steward.
    case stewardNNMT
    case admin

    var description: String { rawValue }

    var role: Role? {
        switch self {
        case .anonymous: nil
        case .reader, .readerParcels: .reader
        case .contributor, .contributorOther: .contributor
        case .editor, .editorParcels: .editor
        case .stewardQHKT, .stewardNNMT: .steward
        case .admin: .admin
        }
    }

    var scope: TokenScope {
        switch self {
        case .readerParcels, .editorParcels: TokenScope(layers: ["parcels"])
        case .contributor: TokenScope(unit: "phuong-phu-thuan", layers: ["parcels"], wards: ["27484"])
        case .contributorOther: TokenScope(unit: "phuong-khac", layers: ["parcels"], wards: ["27487"])
        case .stewardQHKT: TokenScope(unit: "so-qhkt")
        case .stewardNNMT: TokenScope(unit: "so-nnmt")
        default: .unlimited
        }
    }

    /// The known answers: whether the caller reads each layer of the matrix.
    func reads(_ layer: String) -> Bool {
        switch layer {
        case "parcels", "admin": true
        case "zoning": self == .stewardQHKT || self == .admin
        case "poi": [.reader, .editor, .stewardQHKT, .stewardNNMT, .admin].contains(self)
        default: false
        }
    }

    /// Whether it sees private fields (owners) of a layer it reads: every token granted it;
    /// all the matrix's tokens are granted what they read of parcels, poi and zoning.
    func seesOwners(_ layer: String) -> Bool { self != .anonymous && reads(layer) }
}

/// One fresh sample database per backend for the whole matrix: zoning restricted to so-qhkt,
/// a custom point layer `poi` (with owners) internal, and a token for each `Caller`.
struct StewardshipServer: Sendable {
    let state: ServerState
    let tokens: [Caller: String]
    let keys: [Caller: String]
    let zoningID: String

    static let geoPackage = Result { try make(.geoPackage) }
    static let postGIS = Result { try make(.postGIS) }

    static func get(_ backend: Backend) throws -> StewardshipServer {
        switch backend {
        case .geoPackage: try geoPackage.get()
        case .postGIS: try postGIS.get()
        }
    }

    /// Three points inside ward 27484, near the parcel at `point`.
    static let poiPoints = [Coordinate(106.7483, 10.7348), Coordinate(106.7486, 10.7350), Coordinate(106.7480, 10.7345)]

    static func make(_ backend: Backend) throws -> StewardshipServer {
        let store = try ServerFixture.sampleStore(backend, label: "stewardship")
        var zoning = try required(try store.schema(of: "zoning"), "no zoning").metadata
        zoning.access = .restricted
        zoning.steward = "so-qhkt"
        try store.setMetadata(zoning, of: "zoning", actor: "tests")

        try store.createLayer(LayerSchema(name: "poi", title: "Points of interest", geometryType: "POINT",
                                          fields: [FieldDefinition("name", .text), FieldDefinition("owner", .text)]))
        _ = try store.write(BatchRequest(layer: "poi", mode: .append, source: "tests", actor: "tests")) { writer in
            for (i, c) in poiPoints.enumerated() {
                try writer.put(Feature(id: "poi-\(i + 1)", geometry: .point(c),
                                       properties: ["name": .string("Điểm \(i + 1)"), "owner": .string("Chủ \(i + 1)")]))
            }
        }
        var poi = try required(try store.schema(of: "poi"), "no poi").metadata
        poi.access = .internal
        try store.setMetadata(poi, of: "poi", actor: "tests")

        let access = AccessTokens(store: store)
        var tokens = [Caller: String](), keys = [Caller: String]()
        for caller in Caller.allCases {
            guard let role = caller.role else { continue }
            let (record, token) = try access.create(name: "matrix-\(caller)", role: role, scope: caller.scope, actor: "tests")
            tokens[caller] = token
            keys[caller] = record.key
        }
        let zoningID = try required(try store.features(layer: "zoning", matching: [:], asOf: nil, limit: 1, offset: 0).first, "no zone").id
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        return StewardshipServer(state: try ServerState(store: store, configuration: configuration), tokens: tokens, keys: keys, zoningID: zoningID)
    }

    func headers(_ caller: Caller) -> HTTPFields { tokens[caller].map(bearer) ?? [:] }

    func test<T>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await Application(router: LandMapServer.router(state)).test(.router, body)
    }
}

struct MatrixSetupError: Error, CustomStringConvertible {
    let description: String
}

func required<T>(_ value: T?, _ what: String) throws -> T {
    guard let value else { throw MatrixSetupError(description: what) }
    return value
}

/// SPEC §8 "Must show": for each caller × access level (public parcels, internal `poi`,
/// restricted zoning) × route family, who sees what, on both backends.
@Suite(.serialized) struct StewardshipAccessTests {
    /// Inside parcel 27484-56-1 and a zoning zone.
    static let point = Coordinate(106.7483377, 10.734784)
    static let items: [String: String] = ["parcels": "27484-56-1", "poi": "poi-1"]

    /// A 20 m square parcel of `ward` with a number no sample parcel has.
    static func parcel(_ id: String? = nil, ward: String = "27484", sheet: Int, number: Int, landUse: String = "ODT", dx: Double = 0) -> String {
        let (x, y, d) = (106.7600 + dx + Double(number) * 0.0003, 10.7200 + Double(sheet % 50) * 0.0003, 0.00018)
        let ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]].map { "[\($0[0]),\($0[1])]" }.joined(separator: ",")
        let idMember = id.map { "\"id\":\"\($0)\"," } ?? ""
        return """
            {"type":"Feature",\(idMember)"geometry":{"type":"Polygon","coordinates":[[\(ring)]]},
             "properties":{"ward_code":"\(ward)","sheet":\(sheet),"number":\(number),"land_use":"\(landUse)","declared_area_m2":390,"owner":"Nguyễn Văn A"}}
            """
    }

    static func collection(_ features: [String]) -> String {
        #"{"type":"FeatureCollection","features":["# + features.joined(separator: ",") + "]}"
    }

    // MARK: Items

    @Test(arguments: Backend.allCases)
    func itemsAnswerPerCallerAndAccessLevel(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let ids = Self.items.merging(["zoning": server.zoningID]) { a, _ in a }
        try await server.test { client in
            for caller in Caller.allCases {
                let h = server.headers(caller)
                let listed = try await client.execute(uri: "/collections", method: .get, headers: h) { r in
                    #expect(r.status == .ok)
                    return Set(r.json.value?["collections"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
                }
                let api = try await client.execute(uri: "/api", method: .get, headers: h) { r in
                    Set((r.json.value?["paths"]?.objectValue ?? [:]).keys)
                }
                #expect(listed.contains("parcels") && listed.contains("admin"), "\(caller) \(backend)")
                for layer in ["parcels", "poi", "zoning"] {
                    let reads = caller.reads(layer)
                    let expected: HTTPResponse.Status = reads ? .ok : .notFound
                    #expect(listed.contains(layer) == reads, "\(caller) \(backend): /collections lists \(layer): \(listed.contains(layer))")
                    #expect(api.contains("/collections/\(layer)/items") == reads, "\(caller) \(backend): /api names \(layer)")
                    let id = try #require(ids[layer])
                    for path in ["", "/items?limit=5", "/items/\(id)", "/queryables", "/schema"] {
                        let uri = "/collections/\(layer)\(path)"
                        try await client.execute(uri: uri, method: .get, headers: h) { r in
                            #expect(r.status == expected, "\(caller) \(backend) \(uri): \(r.status)")
                            if !reads { #expect(r.headers[.contentType] == "application/problem+json") }
                        }
                    }
                    guard reads, layer != "zoning" else { continue }
                    // Owners: only for a token granted the layer.
                    let owners = caller.seesOwners(layer)
                    try await client.execute(uri: "/collections/\(layer)/items/\(id)", method: .get, headers: h) { r in
                        let p = r.json.value?["properties"]
                        #expect((p?["owner"] != nil) == owners, "\(caller) \(backend) \(layer) item owner")
                        if layer == "parcels" { #expect((p?["owner_id"] != nil) == owners, "\(caller) \(backend) owner_id") }
                    }
                    try await client.execute(uri: "/collections/\(layer)/items?limit=5", method: .get, headers: h) { r in
                        let features = r.json.value?["features"]?.arrayValue ?? []
                        #expect(!features.isEmpty)
                        #expect(features.allSatisfy { ($0["properties"]?["owner"] != nil) == owners }, "\(caller) \(backend) \(layer) items owner")
                    }
                    // The queryables and the schema list the public properties only, to everyone
                    // (one answer, one ETag for all audiences): owners are not filters.
                    for path in ["queryables", "schema"] {
                        try await client.execute(uri: "/collections/\(layer)/\(path)", method: .get, headers: h) { r in
                            let listed = r.json.value?["properties"]?.objectValue ?? [:]
                            #expect(!listed.isEmpty && listed["owner"] == nil && listed["owner_id"] == nil, "\(caller) \(backend) \(layer) \(path) lists owners")
                        }
                    }
                }
            }
            // A layer that does not exist and one the caller may not read: the same answer.
            let missing = try await client.execute(uri: "/collections/roads", method: .get) { $0.status }
            let hidden = try await client.execute(uri: "/collections/zoning", method: .get) { $0.status }
            #expect(missing == .notFound && hidden == .notFound)
        }
    }

    /// `/health` names the layers with their data versions: only those the caller may read.
    @Test(arguments: Backend.allCases)
    func healthNamesOnlyTheLayersTheCallerMayRead(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        try await server.test { client in
            for caller in Caller.allCases {
                try await client.execute(uri: "/health", method: .get, headers: server.headers(caller)) { r in
                    #expect(r.status == .ok)
                    let layers = Set((r.json.value?["layers"]?.objectValue ?? [:]).keys)
                    #expect(layers == Set(["parcels", "admin", "poi", "zoning"].filter(caller.reads)), "\(caller) \(backend) /health layers \(layers.sorted())")
                }
            }
        }
    }

    /// Nothing a caller may read names a layer it may not: no link, title, steward, credit or id.
    @Test(arguments: Backend.allCases)
    func noAnswerNamesALayerTheCallerMayNotRead(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let tile = try #require(TileID.containing(Self.point, zoom: 16))
        let traces: [String: [String]] = [
            "zoning": ["/collections/zoning", "Quy hoạch", "Zoning plan zones", "so-qhkt", "City Science Lab", server.zoningID],
            "poi": ["/collections/poi", "Points of interest", "poi-1", "Điểm 1"],
        ]
        try await server.test { client in
            for caller in [Caller.anonymous, .reader, .readerParcels, .contributor, .stewardNNMT] {
                for uri in ["/", "/collections", "/collections/parcels", "/collections/admin", "/conformance", "/api", "/health",
                            "/parcels/at?lon=\(Self.point.x)&lat=\(Self.point.y)", "/parcels?ward=27484&sheet=56&number=1",
                            "/parcels/27484-56-1/history", "/styles/landmap.json", "/tiles/admin,zoning,poi,parcels.json",
                            "/tiles/admin,zoning,poi,parcels/\(tile.z)/\(tile.x)/\(tile.y).geojson", "/changes"] {
                    try await client.execute(uri: uri, method: .get, headers: server.headers(caller)) { r in
                        guard r.status == .ok else {
                            #expect(uri == "/changes" && caller == .anonymous, "\(caller) \(backend) \(uri): \(r.status)")
                            return
                        }
                        for (layer, marks) in traces where !caller.reads(layer) {
                            for mark in marks where r.text.contains(mark) {
                                Issue.record("\(caller) \(backend) \(uri) names \(layer): '\(mark)'")
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Tiles

    @Test(arguments: Backend.allCases)
    func tilesLeaveOutWhatTheCallerMayNotRead(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let tile = try #require(TileID.containing(Coordinate(106.7483, 10.7348), zoom: 16))
        let xyz = "\(tile.z)/\(tile.x)/\(tile.y)"
        let composite = "/tiles/admin,zoning,parcels/\(xyz).mvt"
        try await server.test { client in
            var etags = [Caller: String]()
            var layerSets = [Caller: Set<String>]()
            for caller in Caller.allCases {
                let h = server.headers(caller)
                for layer in ["parcels", "poi", "zoning"] {
                    let expected: HTTPResponse.Status = caller.reads(layer) ? .ok : .notFound
                    // GeoJSON tiles are rendered for each request (not cached): for a few callers.
                    let geojson = [Caller.anonymous, .readerParcels, .stewardQHKT].contains(caller) ? ["/tiles/\(layer)/\(xyz).geojson"] : []
                    for uri in ["/tiles/\(layer)/\(xyz).mvt", "/tiles/\(layer).json"] + geojson {
                        try await client.execute(uri: uri, method: .get, headers: h) { r in
                            #expect(r.status == expected, "\(caller) \(backend) \(uri): \(r.status)")
                        }
                    }
                }
                // The composite: zoning left out, never an error.
                let (etag, names) = try await client.execute(uri: composite, method: .get, headers: h) { r in
                    #expect(r.status == .ok, "\(caller) \(backend) composite: \(r.status)")
                    return (r.headers[.eTag], Set(try mvtFeatures(Array(r.body.readableBytesView)).keys))
                }
                #expect(names.contains("parcels") && names.contains("admin"), "\(caller) \(backend): \(names.sorted())")
                #expect(names.contains { $0.hasPrefix("zoning") } == caller.reads("zoning"), "\(caller) \(backend) composite layers \(names.sorted())")
                etags[caller] = etag
                layerSets[caller] = names
                try await client.execute(uri: "/tiles/admin,zoning,parcels.json", method: .get, headers: h) { r in
                    #expect(r.status == .ok)
                    let ids = r.json.value?["vector_layers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                    #expect(ids.contains("parcels") && ids.contains { $0.hasPrefix("zoning") } == caller.reads("zoning"),
                            "\(caller) \(backend) TileJSON layers \(ids)")
                    #expect(r.json.value?["tiles"]?.arrayValue?.first?.stringValue?.contains("zoning") == caller.reads("zoning"),
                            "\(caller) \(backend) TileJSON tile URL")
                }
            }
            // Different content, different ETags: anonymous (no owners, no zoning), a reader
            // (owners, no zoning), zoning's steward (owners and zoning).
            let distinct = [etags[.anonymous], etags[.reader], etags[.stewardQHKT]].compactMap { $0 }
            #expect(distinct.count == 3 && Set(distinct).count == 3, "\(backend) ETags \(distinct)")
            // The same audience, the same ETag: zoning's steward and an admin.
            #expect(etags[.stewardQHKT] != nil && etags[.stewardQHKT] == etags[.admin], "\(backend)")
            // One audience's ETag does not revalidate another's tile.
            try await client.execute(uri: composite, method: .get, headers: [.ifNoneMatch: etags[.stewardQHKT] ?? "x"]) { r in
                let names = try mvtFeatures(Array(r.body.readableBytesView)).keys
                #expect(r.status == .ok && !names.contains { $0.hasPrefix("zoning") }, "\(backend) \(names.sorted())")
            }

            // Token holders' tiles are private to them; every answer varies by token.
            for caller in [Caller.anonymous, .reader, .stewardQHKT] {
                for uri in [composite, "/tiles/admin,zoning,parcels/\(xyz).geojson", "/tiles/admin,zoning,parcels.json"] {
                    try await client.execute(uri: uri, method: .get, headers: server.headers(caller)) { r in
                        // A shared cache stores no answer to a request with a token unless told
                        // `public` (RFC 9111 §3.5): token holders' answers never say it.
                        let cache = r.headers[.cacheControl] ?? ""
                        #expect(caller == .anonymous ? !cache.contains("private") : !cache.contains("public"), "\(caller) \(backend) \(uri): \(cache)")
                        if uri.hasSuffix(".mvt") || uri.hasSuffix(".geojson") {
                            #expect(cache.contains("private") == (caller != .anonymous), "\(caller) \(backend) \(uri): \(cache)")
                        }
                        #expect(r.headers[.vary]?.contains("Authorization") == true, "\(caller) \(backend) \(uri)")
                    }
                }
            }
            // The GeoJSON form of the composite leaves zoning out alike.
            for caller in [Caller.anonymous, .reader, .stewardNNMT, .stewardQHKT] {
                try await client.execute(uri: "/tiles/admin,zoning,parcels/\(xyz).geojson", method: .get, headers: server.headers(caller)) { r in
                    let features = r.json.value?["features"]?.arrayValue ?? []
                    let layers = Set(features.compactMap { $0["properties"]?["layer"]?.stringValue })
                    #expect(r.status == .ok && !features.isEmpty, "\(caller) \(backend)")
                    #expect(layers.contains("parcels") && layers.contains("zoning") == caller.reads("zoning"), "\(caller) \(backend) geojson layers \(layers.sorted())")
                }
            }
            // Only layers the caller may not read: the same 404 as layers that do not exist.
            for uri in ["/tiles/zoning,poi/\(xyz).mvt", "/tiles/zoning,roads/\(xyz).mvt", "/tiles/zoning,poi.json", "/tiles/roads,trees.json"] {
                try await client.execute(uri: uri, method: .get) { r in #expect(r.status == .notFound, "\(backend) \(uri): \(r.status)") }
            }

            // A tile no one asked for yet, first as zoning's steward, then anonymously: the cached
            // tile is not served to the other audience.
            let fresh = try #require(TileID.containing(Coordinate(106.7483, 10.7348), zoom: 15))
            let uri = "/tiles/admin,zoning,parcels/\(fresh.z)/\(fresh.x)/\(fresh.y).mvt"
            let steward = try await client.execute(uri: uri, method: .get, headers: server.headers(.stewardQHKT)) { r in
                Set(try mvtFeatures(Array(r.body.readableBytesView)).keys)
            }
            #expect(steward.contains("zoning"), "\(backend) \(steward.sorted())")
            for caller in [Caller.anonymous, .reader, .editorParcels] {
                try await client.execute(uri: uri, method: .get, headers: server.headers(caller)) { r in
                    let keys = try mvtKeys(Array(r.body.readableBytesView))
                    let names = Set(try mvtFeatures(Array(r.body.readableBytesView)).keys)
                    #expect(r.status == .ok && !names.contains { $0.hasPrefix("zoning") }, "\(caller) \(backend) after the steward: \(names.sorted())")
                    #expect(keys.contains("owner") == caller.seesOwners("parcels"), "\(caller) \(backend) owners in the tile")
                }
            }
        }
    }

    /// A steward's change of access level holds at once, for answers cached before it too:
    /// `poi` made public, then internal again.
    @Test(arguments: Backend.allCases)
    func aChangedAccessLevelHoldsAtOnce(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let store = server.state.store
        let tile = try #require(TileID.containing(StewardshipServer.poiPoints[0], zoom: 17))
        let composite = "/tiles/parcels,poi/\(tile.z)/\(tile.x)/\(tile.y).mvt"
        @Sendable func setAccess(_ level: AccessLevel) throws {
            var metadata = try #require(try store.schema(of: "poi")).metadata
            metadata.access = level
            try store.setMetadata(metadata, of: "poi", actor: "tests")
        }
        try await server.test { client in
            func anonymous() async throws -> (items: HTTPResponse.Status, tile: Set<String>, listed: Bool) {
                let items = try await client.execute(uri: "/collections/poi/items", method: .get) { $0.status }
                let names = try await client.execute(uri: composite, method: .get) { Set(try mvtFeatures(Array($0.body.readableBytesView)).keys) }
                let listed = try await client.execute(uri: "/collections", method: .get) { $0.text.contains("/collections/poi") }
                return (items, names, listed)
            }
            let before = try await anonymous()
            #expect(before.items == .notFound && !before.tile.contains("poi") && !before.listed, "\(backend)")
            try setAccess(.public)
            let opened = try await anonymous()
            #expect(opened.items == .ok && opened.tile.contains("poi") && opened.listed, "\(backend)")
            try await client.execute(uri: "/collections/poi/items/poi-1", method: .get) { r in
                #expect(r.status == .ok && r.json.value?["properties"]?["owner"] == nil && r.json.value?["properties"]?["name"] != nil, "\(backend)")
            }
            try setAccess(.internal)
            let closed = try await anonymous()
            #expect(closed.items == .notFound && !closed.tile.contains("poi") && !closed.listed, "\(backend): \(closed)")
            try await client.execute(uri: composite, method: .get, headers: server.headers(.reader)) { r in
                let names = try mvtFeatures(Array(r.body.readableBytesView)).keys
                #expect(names.contains("poi"), "\(backend)")
            }
        }
    }

    // MARK: Lookups and styles

    @Test(arguments: Backend.allCases)
    func lookupsAndStylesLeaveOutWhatTheCallerMayNotRead(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        try await server.test { client in
            for caller in Caller.allCases {
                let h = server.headers(caller)
                let owners = caller.seesOwners("parcels")
                try await client.execute(uri: "/parcels/at?lon=\(Self.point.x)&lat=\(Self.point.y)", method: .get, headers: h) { r in
                    #expect(r.status == .ok)
                    let body = r.json.value
                    #expect(body?["parcel"]?["id"] == "27484-56-1", "\(caller) \(backend)")
                    #expect((body?["parcel"]?["properties"]?["owner"] != nil) == owners, "\(caller) \(backend) lookup owner")
                    let zones = body?["zoning"]?.arrayValue ?? []
                    #expect(zones.isEmpty != caller.reads("zoning"), "\(caller) \(backend): \(zones.count) zones")
                }
                try await client.execute(uri: "/parcels?ward=27484&sheet=56&number=1", method: .get, headers: h) { r in
                    let first = r.json.value?["features"]?.arrayValue?.first
                    #expect(r.status == .ok && first?["id"] == "27484-56-1", "\(caller) \(backend)")
                    #expect((first?["properties"]?["owner"] != nil) == owners, "\(caller) \(backend) search owner")
                }
                try await client.execute(uri: "/parcels/27484-56-1/history", method: .get, headers: h) { r in
                    let versions = r.json.value?["versions"]?.arrayValue ?? []
                    #expect(r.status == .ok && !versions.isEmpty, "\(caller) \(backend)")
                    #expect(versions.allSatisfy { ($0["feature"]?["properties"]?["owner"] != nil) == owners }, "\(caller) \(backend) history owner")
                }
                try await client.execute(uri: "/styles/landmap.json", method: .get, headers: h) { r in
                    #expect(r.status == .ok)
                    let style = r.json.value
                    let drawn = Set(style?["layers"]?.arrayValue?.compactMap { $0["source-layer"]?.stringValue } ?? [])
                    #expect(drawn.contains("parcels"), "\(caller) \(backend) \(drawn.sorted())")
                    #expect(drawn.contains { $0.hasPrefix("zoning") } == caller.reads("zoning"), "\(caller) \(backend) style draws \(drawn.sorted())")
                    let sources = (style?["sources"]?.objectValue ?? [:]).values.compactMap { $0["url"]?.stringValue }
                    #expect(sources.contains { $0.contains("zoning") } == caller.reads("zoning"), "\(caller) \(backend) style sources \(sources)")
                }
            }
        }
    }

    /// Answers whose content depends on what the caller may read carry ETags that depend on it
    /// too: one audience's ETag never revalidates (304) another audience's answer.
    @Test(arguments: Backend.allCases)
    func etagsDependOnTheAudience(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        try await server.test { client in
            for uri in ["/collections", "/api", "/styles/landmap.json", "/tiles/admin,zoning,parcels.json", "/collections/parcels/items/27484-56-1",
                        "/parcels/at?lon=\(Self.point.x)&lat=\(Self.point.y)", "/parcels?ward=27484&sheet=56&number=1"] {
                let steward = try await client.execute(uri: uri, method: .get, headers: server.headers(.stewardQHKT)) { r in
                    #expect(r.status == .ok, "\(backend) \(uri)")
                    return (r.headers[.eTag], r.text)
                }
                let anonymous = try await client.execute(uri: uri, method: .get) { r in (r.headers[.eTag], r.text) }
                #expect(steward.1 != anonymous.1, "\(backend) \(uri): the same answer for both")
                if let tag = steward.0 {
                    #expect(tag != anonymous.0, "\(backend) \(uri): the same ETag \(tag) for different answers")
                    try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: tag]) { r in
                        #expect(r.status == .ok, "\(backend) \(uri): the steward's ETag revalidated an anonymous request")
                    }
                }
            }
        }
    }

    // MARK: Writes

    @Test(arguments: Backend.allCases)
    func writesPerRole(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let store = server.state.store
        try await server.test { client in
            // POST a new parcel: who writes, who proposes, who is refused.
            let expected: [Caller: HTTPResponse.Status] = [
                .anonymous: .unauthorized, .reader: .forbidden, .readerParcels: .forbidden, .contributor: .accepted,
                .editor: .created, .editorParcels: .created, .stewardQHKT: .created, .stewardNNMT: .created, .admin: .created,
            ]
            for (n, caller) in Caller.allCases.enumerated() where caller != .contributorOther {
                let body = Self.parcel(sheet: 901, number: n + 1)
                try await client.execute(uri: "/collections/parcels/items", method: .post, headers: server.headers(caller), body: ByteBuffer(string: body)) { r in
                    #expect(r.status == expected[caller], "\(caller) \(backend) POST parcels: \(r.status) \(r.text)")
                    if r.status == .accepted { #expect(r.headers[.location]?.contains("/changes/") == true) }
                    if r.status == .created { #expect(r.headers[.location]?.hasSuffix("/collections/parcels/items/27484-901-\(n + 1)") == true) }
                }
                let written = try store.feature(layer: "parcels", id: "27484-901-\(n + 1)", asOf: nil) != nil
                #expect(written == (expected[caller] == .created), "\(caller) \(backend): written \(written)")
            }

            // An editor replaces and deletes; a contributor's replace and delete are proposals.
            let id = "27484-901-\(Caller.allCases.firstIndex(of: .editor)! + 1)"
            try await client.execute(uri: "/collections/parcels/items/\(id)", method: .put, headers: server.headers(.editor),
                                     body: ByteBuffer(string: Self.parcel(id, sheet: 901, number: Caller.allCases.firstIndex(of: .editor)! + 1, landUse: "TMD"))) { r in
                #expect(r.status == .ok, "\(backend) editor PUT: \(r.text)")
            }
            try await client.execute(uri: "/collections/parcels/items/\(id)", method: .put, headers: server.headers(.contributor),
                                     body: ByteBuffer(string: Self.parcel(id, sheet: 901, number: Caller.allCases.firstIndex(of: .editor)! + 1, landUse: "SKC"))) { r in
                #expect(r.status == .accepted && r.headers[.location]?.contains("/changes/") == true, "\(backend) contributor PUT: \(r.text)")
            }
            try await client.execute(uri: "/collections/parcels/items/\(id)", method: .delete, headers: server.headers(.contributor)) { r in
                #expect(r.status == .accepted && r.headers[.location]?.contains("/changes/") == true, "\(backend) contributor DELETE: \(r.text)")
            }
            #expect(try store.feature(layer: "parcels", id: id, asOf: nil)?.properties["land_use"] == .string("TMD"))
            for caller in [Caller.anonymous, .reader] {
                try await client.execute(uri: "/collections/parcels/items/\(id)", method: .delete, headers: server.headers(caller)) { r in
                    #expect(r.status == (caller == .anonymous ? .unauthorized : .forbidden), "\(caller) \(backend) DELETE")
                }
            }
            try await client.execute(uri: "/collections/parcels/items/\(id)", method: .delete, headers: server.headers(.editor)) { r in
                #expect(r.status == .noContent, "\(backend) editor DELETE: \(r.text)")
            }
            #expect(try store.feature(layer: "parcels", id: id, asOf: nil) == nil)

            // Layers the caller may not read: 404, as for a read; the internal layer by role.
            let poi = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[106.7484,10.7349]},"properties":{"name":"Mới"}}"#
            let zone = try await client.execute(uri: "/collections/zoning/items/\(server.zoningID)", method: .get, headers: server.headers(.admin)) { $0.text }
            let layerWrites: [(Caller, String, String, HTTPResponse.Status)] = [
                (.editorParcels, "zoning", zone, .notFound), (.editorParcels, "poi", poi, .notFound),
                (.editor, "zoning", zone, .notFound), (.contributor, "zoning", zone, .notFound), (.contributor, "poi", poi, .notFound),
                (.stewardNNMT, "zoning", zone, .notFound), (.anonymous, "zoning", zone, .unauthorized), (.anonymous, "poi", poi, .unauthorized),
                (.reader, "poi", poi, .forbidden), (.readerParcels, "poi", poi, .forbidden), (.editor, "poi", poi, .created),
            ]
            for (caller, layer, body, status) in layerWrites {
                let version = try store.dataVersions()[layer]
                try await client.execute(uri: "/collections/\(layer)/items", method: .post, headers: server.headers(caller), body: ByteBuffer(string: body)) { r in
                    #expect(r.status == status, "\(caller) \(backend) POST \(layer): \(r.status) \(r.text)")
                }
                if status != .created { #expect(try store.dataVersions()[layer] == version, "\(caller) \(backend) \(layer) changed") }
            }
            for (caller, status) in [(Caller.editorParcels, HTTPResponse.Status.notFound), (.contributor, .notFound), (.reader, .forbidden)] {
                try await client.execute(uri: "/collections/zoning/items/\(server.zoningID)", method: .delete, headers: server.headers(caller)) { r in
                    #expect(r.status == status, "\(caller) \(backend) DELETE zoning: \(r.status)")
                }
            }
            #expect(try store.feature(layer: "zoning", id: server.zoningID, asOf: nil) != nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func writesOutsideTheTokensWardsAreRefusedWhole(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let store = server.state.store
        let key = try #require(server.keys[.contributorOther])
        try await server.test { client in
            let id = "27484-56-1"
            let before = try #require(try store.feature(layer: "parcels", id: id, asOf: nil))
            let version = try store.dataVersions()["parcels"]
            let changes = try store.changes(layer: nil, status: nil, limit: 1000).count
            // Replacing (or deleting) a parcel of 27484 with a token of 27487.
            try await client.execute(uri: "/collections/parcels/items/\(id)", method: .put, headers: server.headers(.contributorOther),
                                     body: ByteBuffer(string: Self.parcel(id, ward: "27487", sheet: 56, number: 1))) { r in
                #expect(r.status == .forbidden, "\(backend): \(r.status) \(r.text)")
                #expect(r.text.contains(key) && r.text.contains(id), "\(backend): \(r.text)")
            }
            try await client.execute(uri: "/collections/parcels/items/\(id)", method: .delete, headers: server.headers(.contributorOther)) { r in
                #expect(r.status == .forbidden && r.text.contains(key) && r.text.contains(id), "\(backend): \(r.text)")
            }
            // Creating a parcel whose ward_code is outside.
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: server.headers(.contributorOther),
                                     body: ByteBuffer(string: Self.parcel(sheet: 902, number: 1))) { r in
                #expect(r.status == .forbidden && r.text.contains(key) && r.text.contains("27484-902-1"), "\(backend): \(r.status) \(r.text)")
            }
            // And the other way round: the 27484 contributor writing a parcel of 27487.
            let inside = try #require(server.keys[.contributor])
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: server.headers(.contributor),
                                     body: ByteBuffer(string: Self.parcel(ward: "27487", sheet: 902, number: 2))) { r in
                #expect(r.status == .forbidden && r.text.contains(inside) && r.text.contains("27487-902-2"), "\(backend): \(r.status) \(r.text)")
            }
            #expect(try store.feature(layer: "parcels", id: id, asOf: nil) == before)
            #expect(try store.feature(layer: "parcels", id: "27484-902-1", asOf: nil) == nil)
            #expect(try store.dataVersions()["parcels"] == version)
            #expect(try store.changes(layer: nil, status: nil, limit: 1000).count == changes, "\(backend): a refused write left a proposal")
        }
    }

    // MARK: Uploads

    @Test(arguments: Backend.allCases)
    func uploadsPerRole(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let store = server.state.store
        try await server.test { client in
            let expected: [(Caller, HTTPResponse.Status)] = [
                (.anonymous, .unauthorized), (.reader, .forbidden), (.readerParcels, .forbidden), (.contributor, .accepted),
                (.editor, .created), (.editorParcels, .created), (.stewardQHKT, .created), (.stewardNNMT, .created), (.admin, .created),
            ]
            for (n, (caller, status)) in expected.enumerated() {
                let sheet = 910 + n
                let file = Self.collection([Self.parcel(sheet: sheet, number: 1), Self.parcel(sheet: sheet, number: 2)])
                let changes = try store.changes(layer: "parcels", status: nil, limit: 1000).count
                try await client.execute(uri: "/imports?layer=parcels&filename=two.geojson", method: .post, headers: server.headers(caller),
                                         body: ByteBuffer(string: file)) { r in
                    #expect(r.status == status, "\(caller) \(backend) upload: \(r.status) \(r.text)")
                    if status == .accepted { #expect(r.headers[.location]?.contains("/changes/") == true) }
                }
                let written = try store.feature(layer: "parcels", id: "27484-\(sheet)-2", asOf: nil) != nil
                #expect(written == (status == .created), "\(caller) \(backend) upload written: \(written)")
                let proposed = try store.changes(layer: "parcels", status: nil, limit: 1000).count - changes
                #expect(proposed == (status == .accepted ? 1 : 0), "\(caller) \(backend): \(proposed) proposals")
            }
            // Into layers the caller may not read: 404.
            let zoneFile = Self.collection([Self.parcel(sheet: 930, number: 1)])
            for caller in [Caller.editorParcels, .contributor, .stewardNNMT] {
                try await client.execute(uri: "/imports?layer=zoning&filename=z.geojson", method: .post, headers: server.headers(caller),
                                         body: ByteBuffer(string: zoneFile)) { r in
                    #expect(r.status == .notFound, "\(caller) \(backend) upload to zoning: \(r.status)")
                }
            }

            // A ward-limited contributor's file with one parcel outside its ward: refused whole.
            let version = try store.dataVersions()["parcels"]
            let changes = try store.changes(layer: nil, status: nil, limit: 1000).count
            let mixed = Self.collection([Self.parcel(ward: "27487", sheet: 940, number: 1), Self.parcel(sheet: 940, number: 2)])
            try await client.execute(uri: "/imports?layer=parcels&filename=mixed.geojson", method: .post, headers: server.headers(.contributorOther),
                                     body: ByteBuffer(string: mixed)) { r in
                #expect(r.status == .forbidden, "\(backend): \(r.status) \(r.text)")
                #expect(r.text.contains(server.keys[.contributorOther] ?? "?") && r.text.contains("27484-940-2"), "\(backend): \(r.text)")
            }
            // A proposal may not replace a layer.
            try await client.execute(uri: "/imports?layer=parcels&mode=replace&filename=two.geojson", method: .post, headers: server.headers(.contributor),
                                     body: ByteBuffer(string: Self.collection([Self.parcel(sheet: 941, number: 1)]))) { r in
                #expect(r.status == .forbidden, "\(backend) replace by a contributor: \(r.status) \(r.text)")
            }
            #expect(try store.dataVersions()["parcels"] == version)
            #expect(try store.feature(layer: "parcels", id: "27487-940-1", asOf: nil) == nil)
            #expect(try store.changes(layer: nil, status: nil, limit: 1000).count == changes, "\(backend): a refused upload left a proposal")
            try await client.execute(uri: "/changes", method: .get, headers: server.headers(.admin)) { r in
                #expect(r.json.value?["changes"]?.arrayValue?.count == changes)
            }
        }
    }

    /// Proposals to the restricted and the internal layer: seen and decided by the layer's
    /// steward (by unit, or by a steward token whose `--layers` name it) and admins only.
    @Test(arguments: Backend.allCases)
    func proposalsToOtherLayersGoToTheirStewards(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let store = server.state.store
        let tokens = AccessTokens(store: store)
        let zoningContributor = try tokens.create(name: "matrix-zoning-contributor", role: .contributor, scope: TokenScope(layers: ["zoning"]), actor: "tests").token
        let poiContributor = try tokens.create(name: "matrix-contributor", role: .contributor, actor: "tests").token
        let zoningSteward = try tokens.create(name: "matrix-zoning-steward", role: .steward, scope: TokenScope(layers: ["zoning"]), actor: "tests").token
        try await server.test { client in
            func change(_ location: String?) throws -> String { try #require(location?.split(separator: "/").last.map(String.init)) }
            // A zone replaced as it is, by a contributor granted zoning by its --layers.
            let zone = try await client.execute(uri: "/collections/zoning/items/\(server.zoningID)", method: .get, headers: server.headers(.admin)) { r in
                var feature = try #require(r.json.value?.objectValue)
                feature["links"] = nil
                return JSONValue.object(feature).jsonText
            }
            let zoning = try await client.execute(uri: "/collections/zoning/items/\(server.zoningID)", method: .put, headers: bearer(zoningContributor),
                                                  body: ByteBuffer(string: zone)) { r in
                #expect(r.status == .accepted, "\(backend): \(r.status) \(r.text)")
                return try change(r.headers[.location])
            }
            let point = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[106.7484,10.7349]},"properties":{"name":"Đề xuất"}}"#
            let poi = try await client.execute(uri: "/collections/poi/items", method: .post, headers: bearer(poiContributor), body: ByteBuffer(string: point)) { r in
                #expect(r.status == .accepted, "\(backend): \(r.status) \(r.text)")
                return try change(r.headers[.location])
            }
            // Who sees each (and may review it), by token.
            let zoningSees: [(String, String, Bool?)] = [
                ("zoning's contributor", zoningContributor, false), ("zoning's steward by --layers", zoningSteward, true),
                ("so-qhkt steward", server.tokens[.stewardQHKT]!, true), ("so-nnmt steward", server.tokens[.stewardNNMT]!, nil),
                ("editor", server.tokens[.editor]!, nil), ("poi's contributor", poiContributor, nil), ("admin", server.tokens[.admin]!, true),
            ]
            let poiSees: [(String, String, Bool?)] = [
                ("poi's contributor", poiContributor, false), ("so-qhkt steward", server.tokens[.stewardQHKT]!, nil),
                ("so-nnmt steward", server.tokens[.stewardNNMT]!, nil), ("editor", server.tokens[.editor]!, nil),
                ("reader", server.tokens[.reader]!, nil), ("admin", server.tokens[.admin]!, true),
            ]
            for (id, table) in [(zoning, zoningSees), (poi, poiSees)] {
                for (who, token, review) in table {
                    try await client.execute(uri: "/changes/\(id)", method: .get, headers: bearer(token)) { r in
                        #expect(r.status == (review == nil ? .notFound : .ok), "\(backend) \(who) GET change \(id): \(r.status)")
                        if let review { #expect(r.json.value?["may_review"] == .bool(review), "\(backend) \(who) may_review") }
                    }
                    if review != true {
                        try await client.execute(uri: "/changes/\(id)/approve", method: .post, headers: bearer(token)) { r in
                            #expect(r.status == (review == nil ? .notFound : .forbidden), "\(backend) \(who) approve \(id): \(r.status)")
                        }
                    }
                }
            }
            #expect(try store.change(id: Int64(zoning)!)?.status == .pending && store.change(id: Int64(poi)!)?.status == .pending)
            // Zoning's steward by --layers rejects; an admin approves the point.
            try await client.execute(uri: "/changes/\(zoning)/reject?reason=unchanged", method: .post, headers: bearer(zoningSteward)) { r in
                #expect(r.status == .ok && r.json.value?["status"] == "rejected", "\(backend): \(r.text)")
            }
            try await client.execute(uri: "/changes/\(poi)/approve", method: .post, headers: server.headers(.admin)) { r in
                #expect(r.status == .ok && r.json.value?["status"] == "approved", "\(backend): \(r.text)")
            }
        }
    }

    // MARK: Changes

    @Test(arguments: Backend.allCases)
    func proposalsAreSeenAndDecidedOnlyByTheProposerAndTheLayersStewards(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        let store = server.state.store
        try await server.test { client in
            let id = "27484-56-3"
            let before = try #require(try store.feature(layer: "parcels", id: id, asOf: nil))
            let body = try await client.execute(uri: "/collections/parcels/items/\(id)", method: .get, headers: server.headers(.admin)) { r in
                var feature = try #require(r.json.value?.objectValue)
                var properties = try #require(feature["properties"]?.objectValue)
                properties["land_use"] = "TMD"
                properties["area_m2"] = nil
                feature["properties"] = .object(properties)
                feature["links"] = nil
                return JSONValue.object(feature).jsonText
            }
            let location = try await client.execute(uri: "/collections/parcels/items/\(id)", method: .put, headers: server.headers(.contributor),
                                                    body: ByteBuffer(string: body)) { r in
                #expect(r.status == .accepted, "\(backend): \(r.status) \(r.text)")
                return r.headers[.location]
            }
            let change = try #require(location.flatMap { $0.split(separator: "/").last.map(String.init) })
            let uri = "/changes/\(change)"

            try await client.execute(uri: "/changes", method: .get) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: uri, method: .get) { r in #expect(r.status == .unauthorized) }
            let sees: [Caller: Bool] = [.contributor: true, .stewardNNMT: true, .admin: true]
            for caller in Caller.allCases where caller != .anonymous {
                let visible = sees[caller] ?? false
                try await client.execute(uri: uri, method: .get, headers: server.headers(caller)) { r in
                    #expect(r.status == (visible ? .ok : .notFound), "\(caller) \(backend) GET \(uri): \(r.status)")
                    if visible {
                        #expect(r.json.value?["may_review"] == .bool(caller != .contributor), "\(caller) \(backend) may_review")
                    }
                }
                try await client.execute(uri: "/changes?layer=parcels&status=pending", method: .get, headers: server.headers(caller)) { r in
                    let ids = r.json.value?["changes"]?.arrayValue?.compactMap { $0["id"].map { "\($0.jsonText)" } } ?? []
                    #expect(r.status == .ok && ids.contains(change) == visible, "\(caller) \(backend) /changes: \(ids)")
                }
            }
            // Deciding: the proposer may not (403), those who cannot see it get 404; it stays pending.
            let refusals: [(Caller, HTTPResponse.Status)] = [
                (.contributor, .forbidden), (.contributorOther, .notFound), (.stewardQHKT, .notFound), (.reader, .notFound), (.editor, .notFound),
            ]
            for (caller, status) in refusals {
                try await client.execute(uri: "\(uri)/approve", method: .post, headers: server.headers(caller)) { r in
                    #expect(r.status == status, "\(caller) \(backend) approve: \(r.status)")
                }
                try await client.execute(uri: "\(uri)/reject?reason=no", method: .post, headers: server.headers(caller)) { r in
                    #expect(r.status == status, "\(caller) \(backend) reject: \(r.status)")
                }
            }
            try await client.execute(uri: "\(uri)/approve", method: .post) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: uri, method: .get, headers: server.headers(.admin)) { r in
                #expect(r.json.value?["status"] == "pending", "\(backend): \(r.text)")
            }
            #expect(try store.feature(layer: "parcels", id: id, asOf: nil) == before)

            // Parcels' steward approves: the change is written.
            try await client.execute(uri: "\(uri)/approve", method: .post, headers: server.headers(.stewardNNMT)) { r in
                #expect(r.status == .ok && r.json.value?["status"] == "approved", "\(backend): \(r.status) \(r.text)")
            }
            #expect(try store.feature(layer: "parcels", id: id, asOf: nil)?.properties["land_use"] == .string("TMD"))
        }
    }
}
