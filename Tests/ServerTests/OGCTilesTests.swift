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

/// OGC API – Tiles (SPEC §11): the tile matrix set, tilesets lists and metadata of the dataset and
/// of each collection, and tiles at `…/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}` that are
/// the XYZ route's tiles byte for byte, for each caller.
@Suite struct OGCTilesTests {
    static let point = Coordinate(106.7483, 10.7348)

    @Test func tileMatrixSetsListAndDefine() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/tileMatrixSets", method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "application/json")
                let sets = r.json.value?["tileMatrixSets"]?.arrayValue ?? []
                #expect(sets.count == 1 && sets.first?["id"] == "WebMercatorQuad")
                #expect(sets.first?["uri"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad")
                let selfLink = sets.first?["links"]?.arrayValue?.first { $0["rel"] == "self" }
                #expect(selfLink?["href"]?.stringValue?.hasSuffix("/tileMatrixSets/WebMercatorQuad") == true)
            }
            try await client.execute(uri: "/tileMatrixSets/WebMercatorQuad", method: .get) { r in
                let doc = r.json.value
                #expect(doc?["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857" && doc?["orderedAxes"] == ["X", "Y"])
                let matrices = doc?["tileMatrices"]?.arrayValue ?? []
                #expect(matrices.compactMap { $0["id"]?.stringValue } == (0...22).map(String.init))
                #expect(matrices.dropFirst(16).first?["matrixWidth"] == .integer(65536))
                #expect(matrices.first?["scaleDenominator"]?.doubleValue == 559082264.0287178)
                #expect(matrices.first?["cellSize"]?.doubleValue == 156543.03392804097)
            }
            try await client.execute(uri: "/tileMatrixSets/WorldCRS84Quad", method: .get) { r in
                #expect(r.status == .notFound && r.headers[.contentType] == "application/problem+json")
                #expect(r.json.value?["detail"]?.stringValue?.contains("WebMercatorQuad") == true)
            }
        }
    }

    /// What a client starts from: the landing page links the dataset's tilesets and the tiling
    /// schemes, /conformance declares the classes, each collection links its tilesets.
    @Test func landingPageConformanceAndCollectionsLinkTheTiles() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/?f=json", method: .get) { r in
                let links = r.json.value?["links"]?.arrayValue ?? []
                let tilesets = links.first { $0["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector" }
                #expect(tilesets?["href"]?.stringValue?.hasSuffix("/tiles") == true && tilesets?["type"] == "application/json")
                let schemes = links.first { $0["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes" }
                #expect(schemes?["href"]?.stringValue?.hasSuffix("/tileMatrixSets") == true)
            }
            try await client.execute(uri: "/conformance", method: .get) { r in
                let classes = Set(r.json.value?["conformsTo"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                for c in ["core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt", "oas30"] {
                    #expect(classes.contains("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/\(c)"), "\(c)")
                }
                // Not implemented, so not declared.
                #expect(!classes.contains("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geojson"))
            }
            try await client.execute(uri: "/collections", method: .get) { r in
                let collections = r.json.value?["collections"]?.arrayValue ?? []
                #expect(collections.count == 3)
                for c in collections {
                    let id = c["id"]?.stringValue ?? ""
                    let link = c["links"]?.arrayValue?.first { $0["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector" }
                    #expect(link?["href"]?.stringValue?.hasSuffix("/collections/\(id)/tiles") == true && link?["type"] == "application/json", "\(id)")
                }
            }
        }
    }

    @Test func tilesetsListsNameTheirTileset() async throws {
        try await ServerFixture.test { client in
            for (home, layers) in [("/tiles", "admin,zoning,parcels"), ("/collections/parcels/tiles", "parcels")] {
                try await client.execute(uri: home, method: .get) { r in
                    #expect(r.status == .ok, "\(home)")
                    let tilesets = r.json.value?["tilesets"]?.arrayValue ?? []
                    #expect(tilesets.count == 1, "\(home)")
                    let t = tilesets.first
                    #expect(t?["dataType"] == "vector" && t?["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857")
                    #expect(t?["tileMatrixSetURI"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad")
                    let links = t?["links"]?.arrayValue ?? []
                    #expect(links.first { $0["rel"] == "self" }?["href"]?.stringValue?.hasSuffix("\(home)/WebMercatorQuad") == true, "\(home)")
                    #expect(links.first { $0["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme" }?["href"]?.stringValue?
                        .hasSuffix("/tileMatrixSets/WebMercatorQuad") == true)
                }
                // The metadata's TileJSON alternate names the layers the tiles hold, in their order.
                try await client.execute(uri: "\(home)/WebMercatorQuad", method: .get) { r in
                    let alternate = r.json.value?["links"]?.arrayValue?.first { $0["rel"] == "alternate" }?["href"]?.stringValue
                    #expect(alternate?.hasSuffix("/tiles/\(layers).json") == true, "\(home): \(alternate ?? "none")")
                }
            }
            for missing in ["/collections/roads/tiles", "/collections/roads/tiles/WebMercatorQuad"] {
                try await client.execute(uri: missing, method: .get) { r in
                    #expect(r.status == .notFound && r.headers[.contentType] == "application/problem+json", "\(missing)")
                }
            }
        }
    }

    /// The collection's tileset against what the store and TileJSON say: the tile template, the
    /// layers with their public fields, zooms from TileJSON's minzoom, limits from the extent.
    @Test(arguments: Backend.allCases)
    func tilesetMetadataAgreesWithTheDataAndTileJSON(_ backend: Backend) async throws {
        let state = try ServerFixture.state(backend)
        let info = try #require(try state.store.layer("parcels"))
        let extent = try #require(info.extent)
        try await ServerFixture.test(backend) { client in
            let tileJSON = try await client.execute(uri: "/tiles/parcels.json", method: .get) { $0.json.value }
            let minZoom = try #require(tileJSON?["minzoom"]?.doubleValue.map(Int.init))
            try await client.execute(uri: "/collections/parcels/tiles/WebMercatorQuad", method: .get) { r in
                #expect(r.status == .ok && r.headers[.eTag] != nil)
                let doc = try #require(r.json.value)
                #expect(doc["dataType"] == "vector" && doc["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857")
                #expect(doc["tileMatrixSetURI"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad")
                let links = doc["links"]?.arrayValue ?? []
                let item = try #require(links.first { $0["rel"] == "item" })
                #expect(item["href"]?.stringValue?.hasSuffix("/collections/parcels/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}") == true)
                #expect(item["templated"] == .bool(true) && item["type"] == "application/vnd.mapbox-vector-tile")
                #expect(links.first { $0["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme" }?["type"] == "application/json")
                #expect(links.first { $0["rel"] == "self" }?["href"]?.stringValue?.hasSuffix("/collections/parcels/tiles/WebMercatorQuad") == true)

                // The layers of the tiles, as TileJSON's vector_layers, with the same public fields.
                let layers = doc["layers"]?.arrayValue ?? []
                #expect(layers.compactMap { $0["id"]?.stringValue } == ["parcels", "parcels-label"])
                let fields = layers.first?["propertiesSchema"]?["properties"]
                #expect(fields?["land_use"]?["type"] == "string" && fields?["area_m2"]?["type"] == "number" && fields?["sheet"]?["type"] == "integer")
                #expect(fields?["owner"] == nil && fields?["owner_id"] == nil)
                let vectorFields = tileJSON?["vector_layers"]?.arrayValue?.first { $0["id"] == "parcels" }?["fields"]?.objectValue?.keys.sorted()
                #expect(fields?.objectValue?.keys.sorted() == vectorFields)
                #expect(layers.first?["geometryDimension"] == .integer(2) && layers.last?["geometryDimension"] == .integer(0))
                #expect(layers.first?["minTileMatrix"] == .string(String(minZoom)) && layers.first?["maxTileMatrix"] == "22")

                // Limits: every zoom from TileJSON's minzoom to 22, each the tiles the extent touches.
                let limits = doc["tileMatrixSetLimits"]?.arrayValue ?? []
                #expect(limits.compactMap { $0["tileMatrix"]?.stringValue } == (minZoom...22).map(String.init))
                for limit in limits {
                    let z = try #require(limit["tileMatrix"]?.stringValue.flatMap(Int.init))
                    let range = try #require(TileID.range(covering: extent, zoom: z))
                    #expect(limit["minTileCol"] == .integer(Int64(range.columns.lowerBound)) && limit["maxTileCol"] == .integer(Int64(range.columns.upperBound)), "z\(z)")
                    #expect(limit["minTileRow"] == .integer(Int64(range.rows.lowerBound)) && limit["maxTileRow"] == .integer(Int64(range.rows.upperBound)), "z\(z)")
                }
                // The point the other tests tile is inside the limits at z16.
                let z16 = try #require(TileID.containing(Self.point, zoom: 16))
                let l16 = try #require(limits.first { $0["tileMatrix"] == "16" })
                #expect(l16["minTileCol"]?.doubleValue ?? .infinity <= Double(z16.x) && Double(z16.x) <= l16["maxTileCol"]?.doubleValue ?? -1)
                #expect(l16["minTileRow"]?.doubleValue ?? .infinity <= Double(z16.y) && Double(z16.y) <= l16["maxTileRow"]?.doubleValue ?? -1)
                let bounds = tileJSON?["bounds"]?.arrayValue?.compactMap(\.doubleValue)
                #expect(((doc["boundingBox"]?["lowerLeft"]?.arrayValue ?? []) + (doc["boundingBox"]?["upperRight"]?.arrayValue ?? [])).compactMap(\.doubleValue) == bounds)
            }
        }
    }

    /// A tile through the OGC paths is the XYZ tile: the same bytes and ETag (one cache entry),
    /// row before column. The dataset's tiles are those of every public layer in the web map's order.
    @Test(arguments: Backend.allCases)
    func ogcTilesAreTheXYZTilesByteForByte(_ backend: Backend) async throws {
        try await ServerFixture.test(backend) { client in
            // Parcels are first drawn past z13 (TileJSON's minzoom); zoning and the wards from lower.
            for (zoom, layers) in [(12, ["zoning"]), (16, ["parcels", "zoning"]), (18, ["parcels", "zoning"])] {
                let t = try #require(TileID.containing(Self.point, zoom: zoom))
                #expect(t.x != t.y)
                let pairs = layers.map { ("/collections/\($0)/tiles/WebMercatorQuad/\(t.z)/\(t.y)/\(t.x)", "/tiles/\($0)/\(t.z)/\(t.x)/\(t.y).mvt") }
                    + [("/tiles/WebMercatorQuad/\(t.z)/\(t.y)/\(t.x)", "/tiles/admin,zoning,parcels/\(t.z)/\(t.x)/\(t.y).mvt")]
                for (ogc, xyz) in pairs {
                    let (bytes, etag) = try await client.execute(uri: ogc, method: .get) { r in
                        #expect(r.status == .ok && r.headers[.contentType] == "application/vnd.mapbox-vector-tile", "\(ogc): \(r.status)")
                        return (Array(r.body.readableBytesView), r.headers[.eTag])
                    }
                    try await client.execute(uri: xyz, method: .get) { r in
                        #expect(Array(r.body.readableBytesView) == bytes, "\(ogc) differs from \(xyz)")
                        #expect(r.headers[.eTag] == etag && etag != nil, "\(ogc)")
                    }
                    #expect(bytes.count > 100, "\(ogc): \(bytes.count) bytes")
                    try await client.execute(uri: ogc, method: .get, headers: [.ifNoneMatch: etag ?? ""]) { r in #expect(r.status == .notModified) }
                }
            }
            // Column before row is another tile: here, one outside the data.
            let t = try #require(TileID.containing(Self.point, zoom: 16))
            try await client.execute(uri: "/collections/parcels/tiles/WebMercatorQuad/16/\(t.x)/\(t.y)", method: .get) { r in #expect(r.status == .notFound) }
        }
    }

    /// The same caller gets the same bytes through either path, owners included for an editor;
    /// an anonymous caller gets none of them through either, even after an editor's tile is cached.
    @Test func eachCallerGetsTheSameTileThroughEitherPathAndAnonymousNoOwners() async throws {
        let server = try EditableServer.make("ogc-tiles-access")
        let t = try #require(TileID.containing(Self.point, zoom: 18))
        let ogc = "/collections/parcels/tiles/WebMercatorQuad/\(t.z)/\(t.y)/\(t.x)"
        let xyz = "/tiles/parcels/\(t.z)/\(t.x)/\(t.y).mvt"
        let dataset = "/tiles/WebMercatorQuad/\(t.z)/\(t.y)/\(t.x)"
        try await server.test { client in
            func get(_ uri: String, _ headers: HTTPFields) async throws -> [UInt8] {
                try await client.execute(uri: uri, method: .get, headers: headers) { r in
                    #expect(r.status == .ok, "\(uri): \(r.status)")
                    return Array(r.body.readableBytesView)
                }
            }
            // The editor first: a tile cached for a token holder must reach no one else.
            let editor = bearer(server.editor)
            let editorOGC = try await get(ogc, editor)
            let editorXYZ = try await get(xyz, editor)
            let editorDataset = try await get(dataset, editor)
            #expect(editorOGC == editorXYZ)
            #expect(try mvtKeys(editorOGC).isSuperset(of: ["owner", "owner_id"]))
            #expect(try mvtKeys(editorDataset).contains("owner"))
            let anonymousOGC = try await get(ogc, [:])
            let anonymousXYZ = try await get(xyz, [:])
            let anonymousDataset = try await get(dataset, [:])
            #expect(anonymousOGC == anonymousXYZ)
            #expect(anonymousOGC != editorOGC)
            for bytes in [anonymousOGC, anonymousDataset] {
                let keys = try mvtKeys(bytes)
                #expect(keys.contains("land_use") && !keys.contains("owner") && !keys.contains("owner_id"), "\(keys)")
            }
            // Nor does the tileset name the private fields to them; an editor's lists them.
            try await client.execute(uri: "/collections/parcels/tiles/WebMercatorQuad", method: .get) { r in
                #expect(!r.text.contains("\"owner") && r.text.contains("land_use"))
            }
            try await client.execute(uri: "/collections/parcels/tiles/WebMercatorQuad", method: .get, headers: editor) { r in
                #expect(r.json.value?["layers"]?.arrayValue?.first?["propertiesSchema"]?["properties"]?["owner"] != nil)
            }
        }
    }

    /// /req/core/tc-error: out of range answers 404 (400 for text where a number belongs), as a
    /// problem naming the range; a tile in range with no feature is an empty 200.
    @Test func outOfRangeTilesAnswerProblems() async throws {
        let state = try ServerFixture.shared.get()
        let parcels = try #require(try state.store.layer("parcels"))
        let first = TileRenderer.firstZoom(parcels)
        #expect(first > 8)
        let t = try #require(TileID.containing(Self.point, zoom: 16))
        let extent = try #require(parcels.extent)
        let range = try #require(TileID.range(covering: extent, zoom: 16))
        try await ServerFixture.test { client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("/collections/parcels/tiles/WebMercatorQuad/23/0/0", .notFound, "tile matrices are 0…22"),
                ("/collections/parcels/tiles/WebMercatorQuad/07/0/0", .notFound, "no tile matrix '07'"),
                ("/collections/parcels/tiles/WebMercatorQuad/2/4/0", .notFound, "rows and columns are 0…3"),
                ("/collections/parcels/tiles/WebMercatorQuad/2/0/-1", .notFound, "rows and columns are 0…3"),
                ("/collections/parcels/tiles/WebMercatorQuad/16/a/0", .badRequest, "whole numbers"),
                ("/collections/parcels/tiles/WebMercatorQuad/\(first - 1)/0/0", .notFound, "no data in tile matrix \(first - 1)"),
                ("/collections/parcels/tiles/WebMercatorQuad/16/\(range.rows.upperBound + 1)/\(t.x)", .notFound,
                 "rows \(range.rows.lowerBound)…\(range.rows.upperBound), columns \(range.columns.lowerBound)…\(range.columns.upperBound)"),
                ("/collections/roads/tiles/WebMercatorQuad/16/\(t.y)/\(t.x)", .notFound, "roads"),
                ("/tiles/WebMercatorQuad/16/0/0", .notFound, "no data at row 0, column 0"),
            ]
            for (uri, status, detail) in cases {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == status, "\(uri): \(r.status)")
                    #expect(r.headers[.contentType] == "application/problem+json", "\(uri)")
                    #expect(r.json.value?["detail"]?.stringValue?.contains(detail) == true, "\(uri): \(r.text)")
                }
            }
            // In range (the limits are a rectangle around the data): 200, with a feature or none.
            let r22 = try #require(TileID.range(covering: extent, zoom: 22))
            try await client.execute(uri: "/collections/parcels/tiles/WebMercatorQuad/22/\(r22.rows.lowerBound)/\(r22.columns.upperBound)", method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "application/vnd.mapbox-vector-tile")
            }
        }
    }

    /// The limits are the data's as it is now: a write that adds a feature elsewhere opens its
    /// tiles at once (the kept extents are keyed by data version), in the metadata and the tiles.
    @Test func limitsFollowEveryWrite() async throws {
        let server = try EditableServer.make("ogc-tiles-limits")
        let store = server.state.store
        let here = Self.point, there = Coordinate(106.70, 10.78)  // District 7, and Bến Thành
        @Sendable func kiosk(_ id: String, _ c: Coordinate) throws {
            _ = try store.write(BatchRequest(layer: "kiosks", mode: .append, source: "test", actor: "tests")) { w in
                try w.put(Feature(id: id, geometry: .point(c), properties: ["kind": "news"]))
            }
        }
        try kiosk("k1", here)
        let far = try #require(TileID.containing(there, zoom: 16))
        let uri = "/collections/kiosks/tiles/WebMercatorQuad/16/\(far.y)/\(far.x)"
        try await server.test { client in
            try await client.execute(uri: uri, method: .get) { r in #expect(r.status == .notFound, "\(r.status)") }
            // Points are drawn from zoom 0: the limits start there.
            try await client.execute(uri: "/collections/kiosks/tiles/WebMercatorQuad", method: .get) { r in
                #expect(r.json.value?["tileMatrixSetLimits"]?.arrayValue?.first?["tileMatrix"] == "0")
                #expect(r.json.value?["layers"]?.arrayValue?.first?["geometryDimension"] == .integer(0))
            }
            try kiosk("k2", there)
            let bytes = try await client.execute(uri: uri, method: .get) { r in
                #expect(r.status == .ok, "\(r.status)")
                return Array(r.body.readableBytesView)
            }
            #expect(try mvtKeys(bytes).contains("kind"))
            try await client.execute(uri: "/collections/kiosks/tiles/WebMercatorQuad", method: .get) { r in
                let l16 = r.json.value?["tileMatrixSetLimits"]?.arrayValue?.first { $0["tileMatrix"] == "16" }
                #expect(l16?["minTileCol"] == .integer(Int64(far.x)) && l16?["minTileRow"] == .integer(Int64(far.y)), "\(l16 ?? .null)")
            }
        }
    }

    /// SPEC §11: HEAD wherever GET, and 405 with Allow for the other methods, on the new paths.
    @Test func headAndMethodsOnTheOGCTilePaths() async throws {
        let t = try #require(TileID.containing(Self.point, zoom: 16))
        let paths = ["/tileMatrixSets", "/tileMatrixSets/WebMercatorQuad", "/tiles", "/tiles/WebMercatorQuad", "/tiles/WebMercatorQuad/16/\(t.y)/\(t.x)",
                     "/collections/parcels/tiles", "/collections/parcels/tiles/WebMercatorQuad", "/collections/parcels/tiles/WebMercatorQuad/16/\(t.y)/\(t.x)"]
        try await ServerFixture.test { client in
            for uri in paths {
                let get = try await client.execute(uri: uri, method: .get) { $0 }
                let head = try await client.execute(uri: uri, method: .head) { $0 }
                #expect(get.status == .ok && head.status == .ok, "\(uri): GET \(get.status), HEAD \(head.status)")
                #expect(head.body.readableBytes == 0 && head.headers[.eTag] == get.headers[.eTag], "\(uri)")
                #expect(head.headers[.contentType] == get.headers[.contentType] && head.headers[.contentLength] == get.headers[.contentLength], "\(uri)")
                for method in [HTTPRequest.Method.post, .put, .delete] {
                    try await client.execute(uri: uri, method: method) { r in
                        #expect(r.status == .methodNotAllowed && r.headers[.allow] == "GET, HEAD", "\(method) \(uri): \(r.status) \(r.headers[.allow] ?? "")")
                    }
                }
            }
        }
    }

    /// /req/oas30: every tiles path in /api, with the operation ids the standard's table names.
    @Test func openAPIDescribesTheTilePaths() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/api", method: .get) { r in
                let paths = r.json.value?["paths"]
                let expected = [
                    ("/tileMatrixSets", "getTileMatrixSetsList"), ("/tileMatrixSets/{tileMatrixSetId}", "getTileMatrixSet"),
                    ("/tiles", ".dataset.vector.getTileSetsList"), ("/tiles/WebMercatorQuad", ".dataset.vector.getTileSet"),
                    ("/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}", ".dataset.vector.getTile"),
                    ("/collections/{collectionId}/tiles", ".collection.vector.getTileSetsList"),
                    ("/collections/{collectionId}/tiles/WebMercatorQuad", ".collection.vector.getTileSet"),
                    ("/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}", ".collection.vector.getTile"),
                ]
                for (path, suffix) in expected {
                    let operation = paths?[path]?["get"]
                    #expect(operation?["operationId"]?.stringValue?.hasSuffix(suffix) == true, "\(path)")
                    if path.hasSuffix("{tileCol}") {
                        let names = operation?["parameters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                        #expect(names.suffix(3) == ["tileMatrix", "tileRow", "tileCol"], "\(path): \(names)")
                        #expect(operation?["responses"]?["200"]?["content"]?["application/vnd.mapbox-vector-tile"] != nil)
                    }
                }
            }
        }
    }
}
