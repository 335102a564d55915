import CompressNIO
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing
import TestSupport
import Tiles

@Suite struct TileRoutesTests {
    @Test(arguments: Backend.allCases)
    func tilesTileJSONAndCache(_ backend: Backend) async throws {
        let tile = try #require(TileID.containing(Coordinate(106.7483, 10.7348), zoom: 16))
        try await ServerFixture.test(backend) { client in
            try await client.execute(uri: "/tiles/parcels,zoning.json", method: .get) { r in
                let doc = r.json.value
                #expect(doc?["tilejson"] == "3.0.0")
                #expect(doc?["tiles"]?.arrayValue?.first?.stringValue?.hasSuffix("/tiles/parcels,zoning/{z}/{x}/{y}.mvt") == true)
                let layers = doc?["vector_layers"]?.arrayValue ?? []
                // Each polygon layer with its label points (one per feature: TileLabelTests).
                #expect(layers.compactMap { $0["id"]?.stringValue } == ["parcels", "parcels-label", "zoning", "zoning-label"])
                #expect(layers.first?["fields"]?["land_use"] == "String" && layers.first?["fields"]?["owner"] == nil)
                #expect(layers.dropFirst().first?["fields"]?.objectValue?.keys.sorted() == ["id", "number", "sheet"])
            }
            let uri = "/tiles/parcels,zoning,admin/\(tile.z)/\(tile.x)/\(tile.y).mvt"
            let etag = try await client.execute(uri: uri, method: .get) { r in
                #expect(r.status == .ok && r.headers[.contentType] == "application/vnd.mapbox-vector-tile")
                #expect(r.body.readableBytes > 10_000)
                return r.headers[.eTag]
            }
            try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: etag ?? ""]) { r in #expect(r.status == .notModified) }
            try await client.execute(uri: "/tiles/parcels/\(tile.z)/\(tile.x)/\(tile.y).geojson", method: .get) { r in
                let features = r.json.value?["features"]?.arrayValue ?? []
                #expect(!features.isEmpty && features.allSatisfy { $0["properties"]?["owner"] == nil })
            }
            for bad in ["/tiles/parcels/23/0/0.mvt", "/tiles/parcels/2/4/0.mvt", "/tiles/parcels/x/0/0.mvt", "/tiles/parcels/2/0/0.png", "/tiles/roads/2/0/0.mvt"] {
                try await client.execute(uri: bad, method: .get) { r in
                    #expect([.badRequest, .notFound].contains(r.status), "\(bad)")
                    #expect(r.headers[.contentType] == "application/problem+json", "\(bad)")
                }
            }
        }
        #expect(try ServerFixture.state(backend).tiles.statistics.bytes > 0)
    }

    /// The same tiles from the same sample on both backends: decoded, the same features (layers,
    /// properties, geometry commands), in any order.
    @Test func aTileIsTheSameOnBothBackends() async throws {
        let point = Coordinate(106.7483, 10.7348)
        for zoom in [13, 16] {
            let tile = try #require(TileID.containing(point, zoom: zoom))
            let uri = "/tiles/parcels,zoning,admin/\(tile.z)/\(tile.x)/\(tile.y).mvt"
            var decoded = [[String: [String]]]()
            for backend in Backend.allCases {
                let bytes = try await ServerFixture.test(backend) { client in
                    try await client.execute(uri: uri, method: .get) { r in
                        #expect(r.status == .ok, "\(backend) \(uri): \(r.status)")
                        return Array(r.body.readableBytesView)
                    }
                }
                decoded.append(try mvtFeatures(bytes))
            }
            #expect(decoded.count == 2)
            #expect(decoded.first?["parcels"]?.isEmpty == false, "\(uri): no parcels")
            #expect(decoded.first?.keys.sorted() == decoded.last?.keys.sorted(), "\(uri)")
            for layer in decoded.first?.keys.sorted() ?? [] {
                #expect(decoded.first?[layer] == decoded.last?[layer], "\(uri) layer \(layer): \(decoded.first?[layer]?.count ?? 0) features on GeoPackage, \(decoded.last?[layer]?.count ?? 0) on PostGIS")
            }
        }
    }

    /// A browser's request for a tile gets the gzip form made once at render time, and it is
    /// the same tile: decompressed, byte for byte what a client without gzip gets.
    @Test func tilesAreServedGzippedFromTheCacheToClientsThatTakeIt() async throws {
        let tile = try #require(TileID.containing(Coordinate(106.7483, 10.7348), zoom: 15))
        let uri = "/tiles/parcels,zoning,admin/\(tile.z)/\(tile.x)/\(tile.y).mvt"
        try await ServerFixture.test { client in
            let raw = try await client.execute(uri: uri, method: .get) { r in
                #expect(r.headers[.contentEncoding] == nil)
                return r.body
            }
            #expect(raw.readableBytes > 10_000)
            for _ in 0..<2 {  // the render that made the cache entry, then a hit
                try await client.execute(uri: uri, method: .get, headers: [.acceptEncoding: "gzip, deflate, br"]) { r in
                    #expect(r.status == .ok && r.headers[.contentEncoding] == "gzip")
                    #expect(r.headers[.vary]?.contains("Accept-Encoding") == true && r.headers[.vary]?.contains("Authorization") == true)
                    var body = r.body
                    #expect(body.readableBytes < raw.readableBytes)
                    let inflated = try body.decompress(with: .gzip())
                    #expect(inflated == raw)
                }
            }
        }
    }

    @Test func stylesAndViewerAssets() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/styles/landmap.json", method: .get) { r in
                #expect(r.status == .ok)
                let url = r.json.value?["sources"]?["landmap"]?["url"]?.stringValue
                #expect(url?.hasSuffix("/tiles/admin,zoning,parcels.json") == true && url?.contains("{base}") == false)
                // Text is drawn from the label points, never placed on polygons cut at tile edges.
                let symbols = (r.json.value?["layers"]?.arrayValue ?? []).filter { $0["type"] == "symbol" }
                #expect(symbols.count == 3 && symbols.allSatisfy { $0["source-layer"]?.stringValue?.hasSuffix("-label") == true })
            }
            try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html,application/xhtml+xml"]) { r in
                #expect(r.text.contains("/assets/vendor/maplibre-gl.js") && r.text.contains("/assets/app.js"))
            }
            try await client.execute(uri: "/assets/app.js", method: .get) { r in #expect(r.status == .ok && r.text.contains("/parcels/at")) }
            for bad in ["/assets/..%2FPackage.swift", "/assets/.hidden.js", "/styles/..%2Fpackage.json", "/styles/nope.json"] {
                try await client.execute(uri: bad, method: .get) { r in #expect(r.status == .notFound, "\(bad)") }
            }
        }
    }

    /// MapLibre GL JS is installed at set-up from the PyPI package; CI runs the set-up.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: SharedData.packageRoot.appendingPathComponent("Styles/viewer/vendor/maplibre-gl.js").path),
                   Comment(rawValue: "skipped: MapLibre GL JS not installed (run Tools/setup.sh)")))
    func mapLibreIsServedLocally() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/assets/vendor/maplibre-gl.js", method: .get) { r in
                #expect(r.status == .ok && r.text.hasPrefix("/**\n * MapLibre GL JS"))
            }
        }
    }
}

/// Each layer of an MVT tile with its features, each feature as one line (type, resolved
/// properties, geometry commands), sorted: what two tiles share when they draw the same thing.
func mvtFeatures(_ bytes: [UInt8]) throws -> [String: [String]] {
    var layers = [String: [String]]()
    var tile = ProtobufReader(bytes: bytes[...])
    while let (field, wire) = try tile.key() {
        guard field == 3, wire == 2 else { try tile.skip(wire); continue }
        var layer = ProtobufReader(bytes: try tile.lengthDelimited())
        var name = "", keys = [String](), values = [String](), features = [ArraySlice<UInt8>]()
        while let (f, w) = try layer.key() {
            switch (f, w) {
            case (1, 2): name = String(decoding: try layer.lengthDelimited(), as: UTF8.self)
            case (2, 2): features.append(try layer.lengthDelimited())
            case (3, 2): keys.append(String(decoding: try layer.lengthDelimited(), as: UTF8.self))
            case (4, 2): values.append(try layer.lengthDelimited().map { String($0, radix: 16) }.joined(separator: " "))
            default: try layer.skip(w)
            }
        }
        func packed(_ bytes: ArraySlice<UInt8>) throws -> [UInt64] {
            var r = ProtobufReader(bytes: bytes), out = [UInt64]()
            while !r.bytes.isEmpty { out.append(try r.varint()) }
            return out
        }
        layers[name] = try features.map { bytes in
            var feature = ProtobufReader(bytes: bytes)
            var type: UInt64 = 0, tags = [String](), geometry = [UInt64]()
            while let (f, w) = try feature.key() {
                switch (f, w) {
                case (2, 2):
                    let t = try packed(try feature.lengthDelimited())
                    tags = stride(from: 0, to: t.count - 1, by: 2).map { i in
                        let k = Int(t[i]), v = Int(t[i + 1])
                        return "\(k < keys.count ? keys[k] : "?")=\(v < values.count ? values[v] : "?")"
                    }.sorted()
                case (3, 0): type = try feature.varint()
                case (4, 2): geometry = try packed(try feature.lengthDelimited())
                default: try feature.skip(w)
                }
            }
            return "\(type) \(tags.joined(separator: ",")) \(geometry.map(String.init).joined(separator: " "))"
        }.sorted()
    }
    return layers
}
