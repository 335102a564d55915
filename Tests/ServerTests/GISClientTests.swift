import GeoPackage
import Foundation
import Geometry
import Hummingbird
import HummingbirdTesting
import Import
@testable import Server
import Store
import Testing
import TestSupport
import Tiles

/// A custom layer as OSM shops are: polygons first, then points, with a property
/// (`opening_hours`) that only the last ten features carry, and typed source fields.
enum ShopsFixture {
    /// 30 polygons (`shop`, `levels` 1…3), then 30 points (`amenity`: every third a cafe).
    static func geoJSON() -> String {
        var features = [String]()
        for i in 0..<30 {
            let x = 106.70 + Double(i) * 0.001, y = 10.73
            let ring = [[x, y], [x + 0.0005, y], [x + 0.0005, y + 0.0005], [x, y + 0.0005], [x, y]].map { "[\($0[0]),\($0[1])]" }.joined(separator: ",")
            features.append(#"{"type":"Feature","properties":{"osm_id":"w\#(i)","shop":"\#(i % 2 == 0 ? "convenience" : "supermarket")","name":"Shop \#(i)","levels":\#(i % 3 + 1)},"geometry":{"type":"Polygon","coordinates":[[\#(ring)]]}}"#)
        }
        for i in 0..<30 {
            let hours = i >= 20 ? #","opening_hours":"07:00-22:00""# : ""
            features.append(#"{"type":"Feature","properties":{"osm_id":"n\#(i)","amenity":"\#(i % 3 == 0 ? "cafe" : "restaurant")","name":"Cafe \#(i)"\#(hours)},"geometry":{"type":"Point","coordinates":[\#(106.70 + Double(i) * 0.001),10.74]}}"#)
        }
        return #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#
    }

    /// A server over a fresh store holding `shops` (mixed) and `stops` (points only).
    static let shared: Result<ServerState, any Error> = Result {
        // The files apart from the database: an import refuses a file beside the live database.
        let dir = try SharedData.temporaryDirectory("shops")
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("shops-db").appendingPathComponent("shops.gpkg").path)
        let shops = dir.appendingPathComponent("shops.geojson")
        try Data(geoJSON().utf8).write(to: shops)
        _ = try Importer(store: store).run([shops.path], ImportOptions(layer: "shops"))
        let stops = dir.appendingPathComponent("stops.geojson")
        try Data(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"route":"19","owner":"Nguyễn Văn A","HoTen":"Trần Thị B"},"geometry":{"type":"Point","coordinates":[106.7,10.75]}}]}"#.utf8).write(to: stops)
        _ = try Importer(store: store).run([stops.path], ImportOptions(layer: "stops"))
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        return try ServerState(store: store, configuration: configuration, metrics: ServerFixture.registry)
    }

    static func test<T>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        _ = try ServerFixture.shared.get()  // metrics bootstrapped once
        let app = Application(router: LandMapServer.router(try shared.get()))
        return try await app.test(.router, body)
    }
}

/// What GDAL, QGIS and OWSLib read to build a layer: filters they may send to the server,
/// every field with its type, the true geometry kind, and the zooms that hold features.
@Suite struct GISClientTests {
    /// GDAL's OAPIF driver sends `property=value` to the server only for the query parameters
    /// it finds on the collection's own items path in `/api`.
    @Test func apiListsEachCollectionsFiltersTilesAndStyles() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/api", method: .get) { r in
                let paths = r.json.value?["paths"]?.objectValue ?? [:]
                let parameters = paths["/collections/parcels/items"]?["get"]?["parameters"]?.arrayValue ?? []
                let names = Set(parameters.compactMap { $0["name"]?.stringValue })
                #expect(names.isSuperset(of: ["land_use", "ward_code", "sheet", "number", "address", "id", "limit", "bbox",
                                              "filter", "filter-lang", "filter-crs"]), "\(names)")
                #expect(!names.contains("owner") && !names.contains("owner_id"), "private fields must not be advertised")
                #expect(parameters.first { $0["name"] == "sheet" }?["schema"]?["type"] == "integer")
                #expect(paths["/collections/zoning/items"]?["get"]?["parameters"]?.arrayValue?.contains { $0["name"] == "zone_code" } == true)
                for p in ["/tiles/{layers}.json", "/tiles/{layers}/{z}/{x}/{y}.mvt", "/tiles/{layers}/{z}/{x}/{y}.geojson",
                          "/styles/{name}.json", "/collections/{collectionId}/schema"] {
                    #expect(paths[p]?["get"] != nil, "\(p)")
                }
            }
        }
        try await ShopsFixture.test { client in
            try await client.execute(uri: "/api", method: .get) { r in
                let parameters = r.json.value?["paths"]?["/collections/shops/items"]?["get"]?["parameters"]?.arrayValue ?? []
                #expect(parameters.first { $0["name"] == "amenity" }?["schema"]?["type"] == "string")
                #expect(parameters.first { $0["name"] == "levels" }?["schema"]?["type"] == "integer")
            }
        }
    }

    /// Custom layers' source fields are queryables and filter in the store (SQL and box paths).
    @Test func customLayersFilterOnTheirSourceFields() async throws {
        try await ShopsFixture.test { client in
            try await client.execute(uri: "/collections/shops/queryables", method: .get) { r in
                let properties = r.json.value?["properties"]?.objectValue ?? [:]
                // The geometry too, as `geom`: what CQL2's spatial predicates name (Part 3).
                #expect(Set(properties.keys) == ["id", "geom", "osm_id", "shop", "name", "levels", "amenity", "opening_hours"])
                #expect(properties["levels"]?["type"] == "integer" && properties["amenity"]?["type"] == "string")
            }
            for (query, expected) in [("amenity=cafe", 10), ("levels=2", 10), ("levels=2&shop=supermarket", 5), ("opening_hours=07:00-22:00", 10),
                                      ("amenity=cafe&bbox=106.6,10.6,106.8,10.8", 10), ("levels=3&bbox=106.6,10.6,106.8,10.8", 10)] {
                try await client.execute(uri: "/collections/shops/items?\(query)&limit=100", method: .get) { r in
                    #expect(r.status == .ok, "\(query): \(r.text)")
                    let features = r.json.value?["features"]?.arrayValue ?? []
                    #expect(r.json.value?["numberMatched"] == .integer(Int64(expected)) && features.count == expected, "\(query)")
                }
            }
            try await client.execute(uri: "/collections/shops/items?amenity=cafe&limit=100", method: .get) { r in
                #expect(r.json.value?["features"]?.arrayValue?.allSatisfy { $0["properties"]?["amenity"] == "cafe" } == true)
            }
            try await client.execute(uri: "/collections/shops/items?colour=red", method: .get) { r in
                #expect(r.status == .badRequest && r.text.contains("amenity"))
            }
        }
    }

    /// A property that only later features carry is in the schema that clients build fields from.
    @Test func schemaDescribesEveryPropertyAndTheGeometryKind() async throws {
        try await ShopsFixture.test { client in
            try await client.execute(uri: "/collections/shops", method: .get) { r in
                let links = r.json.value?["links"]?.arrayValue ?? []
                let described = links.first { $0["rel"] == "describedby" }
                #expect(described?["type"] == "application/schema+json" && described?["href"]?.stringValue?.hasSuffix("/collections/shops/schema") == true)
                let description = r.json.value?["description"]?.stringValue ?? ""
                #expect(description.contains("60 features") && description.contains("points and polygons") && description.contains("opening_hours"), "\(description)")
            }
            try await client.execute(uri: "/collections/shops/schema", method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "application/schema+json")
                let properties = r.json.value?["properties"]?.objectValue ?? [:]
                #expect(properties["opening_hours"]?["type"] == "string" && properties["levels"]?["type"] == "integer")
                #expect(properties["geometry"]?["format"] == "geometry-any" && properties["geometry"]?["x-ogc-role"] == "primary-geometry")
                // The GeoJSON shape GDAL reads carries the same properties.
                let geoJSON = r.json.value?["allOf"]?.arrayValue?.first?["properties"]?["properties"]?["properties"]?.objectValue ?? [:]
                #expect(geoJSON["opening_hours"] != nil && geoJSON["amenity"] != nil)
            }
            try await client.execute(uri: "/collections/stops/schema", method: .get) { r in
                #expect(r.json.value?["properties"]?["geometry"]?["format"] == "geometry-point")
            }
            try await client.execute(uri: "/collections/nowhere/schema", method: .get) { r in #expect(r.status == .notFound) }
            // Owner-like source fields of a custom layer are named nowhere an anonymous caller looks.
            for uri in ["/collections/stops/schema", "/collections/stops/queryables", "/collections/stops", "/api", "/tiles/stops.json"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .ok && r.text.contains("route") == (uri != "/api" || r.text.contains("/collections/stops/items")), "\(uri)")
                    #expect(!r.text.contains("owner") && !r.text.contains("HoTen"), "\(uri) names a private field")
                }
            }
        }
        try await ServerFixture.test { client in
            try await client.execute(uri: "/collections/parcels/schema", method: .get) { r in
                let properties = r.json.value?["properties"]?.objectValue ?? [:]
                #expect(properties["land_use"]?["type"] == "string" && properties["sheet"]?["type"] == "integer")
                #expect(properties["geometry"]?["format"] == "geometry-multipolygon")
                #expect(properties["owner"] == nil && properties["owner_id"] == nil && !r.text.contains("owner"), "private fields must not be described")
            }
            try await client.execute(uri: "/collections/parcels", method: .get) { r in
                #expect(r.json.value?["description"]?.stringValue?.contains("owner") == false)
            }
        }
    }

    /// Mixed points and polygons are declared GEOMETRY where GDAL and QGIS read a type; one kind is
    /// declared as itself.
    @Test func mixedLayersAreDeclaredGeometry() async throws {
        let state = try ShopsFixture.shared.get()
        #expect(try state.store.layer("shops")?.declaredGeometryType == "GEOMETRY")
        #expect(try state.store.layer("stops")?.declaredGeometryType == "POINT")
        #expect(try state.store.layer("shops")?.largestArea.map { $0 > 0 } == true)
        try await ShopsFixture.test { client in
            try await client.execute(uri: "/tiles/shops,stops.json", method: .get) { r in
                let layers = r.json.value?["vector_layers"]?.arrayValue ?? []
                func type(_ id: String) -> JSONValue? { layers.first { $0["id"] == .string(id) }?["geometry_type"] }
                #expect(type("shops") == "GEOMETRY" && type("stops") == "POINT")
                #expect(layers.first?["fields"]?["amenity"] == "String" && layers.first?["fields"]?["levels"] == "Number")
                #expect(r.json.value?["minzoom"] == 0, "points are drawn at every zoom")
            }
        }
    }

    /// TileJSON's minzoom is the first zoom whose tiles hold a feature of the layer.
    @Test func tileJSONStartsWhereTheLayerIsDrawn() async throws {
        let state = try ServerFixture.shared.get()
        let info = try #require(try state.store.layer("parcels"))
        let extent = try #require(info.extent)
        let minZoom = try await ServerFixture.test { client in
            try await client.execute(uri: "/tiles/parcels,admin.json", method: .get) { r in
                let layers = r.json.value?["vector_layers"]?.arrayValue ?? []
                let parcels = layers.first { $0["id"] == "parcels" }?["minzoom"]
                let admin = layers.first { $0["id"] == "admin" }?["minzoom"]
                if case .integer(let p)? = parcels, case .integer(let a)? = admin {
                    #expect(r.json.value?["minzoom"] == .integer(min(p, a)))
                    return Int(p)
                }
                Issue.record("no minzoom in \(r.text)")
                return 0
            }
        }
        #expect(minZoom > 8, "the sample's parcels are a few hundred m²: nothing is drawn at low zooms")
        let renderer = try TileRenderer(store: state.store)
        func drawn(_ z: Int) throws -> Int {
            try TileID.covering(extent, zoom: z).reduce(0) { $0 + (try renderer.mvt(layers: ["parcels"], tile: $1, hidden: { _ in .nothing }).featureCounts["parcels"] ?? 0) }
        }
        #expect(try drawn(minZoom - 1) == 0, "zoom \(minZoom - 1) must hold no parcel")
        #expect(try drawn(minZoom) > 0, "zoom \(minZoom) must hold a parcel")
    }
}
