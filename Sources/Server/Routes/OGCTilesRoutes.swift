import Access
import Features
import Foundation
import Geometry
import Hummingbird
import Store
import Tiles

/// OGC API – Tiles 1.0 (SPEC §11) over the tiles of `TileRoutes`: the WebMercatorQuad tile
/// matrix set (`/tileMatrixSets`), a tileset of every layer the caller may read (`/tiles`) and one
/// per collection (`/collections/{layer}/tiles`), each with its metadata at `…/WebMercatorQuad`
/// and its tiles at `…/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}` — row before column.
///
/// A tile here is `TileRoutes.answer` for the same layers, caller and tile: the bytes, cache
/// entry, ETag and privacy of `/tiles/{layers}/{z}/{x}/{y}.mvt`. One thing differs, as the
/// standard's /req/core/tc-error asks: a tile outside the tileset's `tileMatrixSetLimits` (below
/// the zoom its layers are first drawn at, or away from their data) is a 404, where the XYZ route
/// draws an empty tile.
struct OGCTilesRoutes {
    let state: ServerState
    let tiles: TileRoutes

    /// The classes implemented: tiles and their metadata for the dataset and each collection, in
    /// MVT, with every path in `/api` (OpenAPI 3.0) under the operation ids the standard names.
    static let conformance = ["core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt", "oas30"]
        .map { "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/\($0)" }

    static let tilesetsVector = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
    static let tilingSchemes = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
    static let tilingScheme = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
    static let mvt = "application/vnd.mapbox-vector-tile"

    /// Whose tileset: every layer the caller may read, or one collection.
    enum Scope {
        case dataset
        case collection(String)
    }

    func add(to router: Router<LandMapContext>) {
        router.get("/tileMatrixSets") { request, _ in self.tileMatrixSets(request) }
        router.get("/tileMatrixSets/:tileMatrixSetId") { request, context in
            try self.tileMatrixSet(request, context.parameters.require("tileMatrixSetId"))
        }
        router.get("/tiles") { request, context in try self.tilesets(request, .dataset, context.identity) }
        router.get("/tiles/WebMercatorQuad") { request, context in try self.tileset(request, .dataset, context.identity) }
        router.get("/tiles/WebMercatorQuad/:tileMatrix/:tileRow/:tileCol") { request, context in
            try await self.tile(request, .dataset, matrix: context.parameters.require("tileMatrix"), row: context.parameters.require("tileRow"),
                                column: context.parameters.require("tileCol"), identity: context.identity)
        }
        router.get("/collections/:layer/tiles") { request, context in
            try self.tilesets(request, .collection(context.parameters.require("layer")), context.identity)
        }
        router.get("/collections/:layer/tiles/WebMercatorQuad") { request, context in
            try self.tileset(request, .collection(context.parameters.require("layer")), context.identity)
        }
        router.get("/collections/:layer/tiles/WebMercatorQuad/:tileMatrix/:tileRow/:tileCol") { request, context in
            try await self.tile(request, .collection(context.parameters.require("layer")), matrix: context.parameters.require("tileMatrix"),
                                row: context.parameters.require("tileRow"), column: context.parameters.require("tileCol"), identity: context.identity)
        }
    }

    // MARK: Tile matrix sets

    func tileMatrixSets(_ request: Request) -> Response {
        let base = request.baseURL
        let body = JSONValue.object([
            "links": .array([link("\(base)/tileMatrixSets", "self", "application/json", "Tile matrix sets")]),
            "tileMatrixSets": .array([.object([
                "id": .string(WebMercatorQuad.id), "title": .string(WebMercatorQuad.title),
                "uri": .string(WebMercatorQuad.uri), "crs": .string(WebMercatorQuad.crs),
                "links": .array([link("\(base)/tileMatrixSets/\(WebMercatorQuad.id)", "self", "application/json", WebMercatorQuad.title)]),
            ])]),
        ])
        return respond(request, body, title: "Tile matrix sets", cache: "public, max-age=3600", versions: [], key: "tileMatrixSets")
    }

    func tileMatrixSet(_ request: Request, _ id: String) throws -> Response {
        guard id == WebMercatorQuad.id, case .object(var body) = WebMercatorQuad.definition else {
            throw Problem.notFound("no tile matrix set '\(id)': LandMap tiles in \(WebMercatorQuad.id) only")
        }
        let base = request.baseURL
        body["links"] = .array([link("\(base)/tileMatrixSets/\(id)", "self", "application/json", WebMercatorQuad.title)])
        return respond(request, .object(body), title: WebMercatorQuad.title, cache: "public, max-age=3600", versions: [], key: "tileMatrixSet")
    }

    // MARK: Tilesets

    /// The layers a tileset draws for this caller, in the order its tiles hold them.
    func layers(_ scope: Scope, _ identity: Identity?) throws -> [TileRoutes.TileLayer] {
        switch scope {
        case .collection(let name):
            return try tiles.readable([name], identity, asked: name)
        case .dataset:
            let names = try datasetLayers(identity)
            guard !names.isEmpty else { throw Problem.notFound("no layer may be read without a token") }
            return try tiles.readable(names, identity, asked: names.joined(separator: ","))
        }
    }

    /// Every layer the caller may read, in the web map's drawing order (admin under zoning under
    /// parcels, as the style's source `/tiles/admin,zoning,parcels.json` has them), custom layers
    /// after by name: for the public layers of the sample, the dataset's tiles are the web map's.
    func datasetLayers(_ identity: Identity?) throws -> [String] {
        let readable = Set(try state.readableLayers(for: identity).keys)
        let builtIn = ["admin", "zoning", "parcels"]
        return builtIn.filter(readable.contains) + readable.subtracting(builtIn).sorted()
    }

    /// `…/tiles` of the dataset or of a collection.
    func home(_ scope: Scope, _ base: String) -> String {
        switch scope {
        case .dataset: "\(base)/tiles"
        case .collection(let name): "\(base)/collections/\(name)/tiles"
        }
    }

    /// The tilesets list: one tileset, in WebMercatorQuad, of vector tiles. A collection the
    /// caller may not read is the same 404 as none; the dataset's list is empty while no layer
    /// may be read.
    func tilesets(_ request: Request, _ scope: Scope, _ identity: Identity?) throws -> Response {
        let layers: [TileRoutes.TileLayer]
        if case .dataset = scope, try datasetLayers(identity).isEmpty {
            layers = []
        } else {
            layers = try self.layers(scope, identity)
        }
        let base = request.baseURL
        let home = home(scope, base)
        let names = layers.map(\.name).joined(separator: ",")
        let tilesets: [JSONValue] = layers.isEmpty ? [] : [.object([
            "title": .string(title(scope, layers)),
            "dataType": "vector",
            "crs": .string(WebMercatorQuad.crs),
            "tileMatrixSetURI": .string(WebMercatorQuad.uri),
            "links": .array([
                link("\(home)/\(WebMercatorQuad.id)", "self", "application/json", "The tileset's metadata"),
                link("\(base)/tileMatrixSets/\(WebMercatorQuad.id)", Self.tilingScheme, "application/json", WebMercatorQuad.title),
            ]),
        ])]
        let body = JSONValue.object([
            "links": .array([link(home, "self", "application/json", "Tilesets")]),
            "tilesets": .array(tilesets),
        ])
        return respond(request, body, title: "Tilesets", versions: layers.map(\.version), key: "tilesets \(names)")
    }

    func title(_ scope: Scope, _ layers: [TileRoutes.TileLayer]) -> String {
        switch scope {
        case .dataset: "LandMap: \(layers.map(\.name).joined(separator: ", "))"
        case .collection: "\(layers.first?.schema.title ?? ""): vector tiles"
        }
    }

    /// The tileset's metadata (2D Tile Matrix Set 2.0's tileset): the tile template, the tile
    /// matrix set, where the tiles have data (`tileMatrixSetLimits`, from each layer's first
    /// zoom as TileJSON's `minzoom`), and each MVT layer of the tiles — label layers included —
    /// with the fields the caller may see (`TileRoutes.tileFields`, as TileJSON lists them).
    func tileset(_ request: Request, _ scope: Scope, _ identity: Identity?) throws -> Response {
        let layers = try layers(scope, identity)
        // The full figures (extents, geometry kinds, fields), once per document, as TileJSON reads them.
        let infos = try layers.map { entry -> LayerInfo in
            guard let info = try state.store.layer(entry.name) else { throw Problem.notFound("no layer named '\(entry.name)'") }
            state.tileExtents.remember(info)
            return info
        }
        let base = request.baseURL
        let me = "\(home(scope, base))/\(WebMercatorQuad.id)"
        let names = infos.map(\.schema.name)
        var box: BoundingBox?
        for info in infos { if let e = info.extent { if box == nil { box = e } else { box?.expand(toInclude: e) } } }
        let b = box ?? BoundingBox(minX: -180, minY: -WebMercator.maxLatitude, maxX: 180, maxY: WebMercator.maxLatitude)
        let coverage = TileCoverage(infos.compactMap(TileCoverage.Extent.init))
        let firstZooms = infos.map { TileRenderer.firstZoom($0) }
        let minZoom = firstZooms.min() ?? 0

        var links: [JSONValue] = [
            link(me, "self", "application/json", "This tileset"),
            link("\(base)/tileMatrixSets/\(WebMercatorQuad.id)", Self.tilingScheme, "application/json", WebMercatorQuad.title),
            .object(["href": .string("\(me)/{tileMatrix}/{tileRow}/{tileCol}"), "rel": "item", "type": .string(Self.mvt), "templated": .bool(true),
                     "title": "A Mapbox Vector Tile 2.1 (extent 4096, buffer 64): tile matrix = zoom, row = y, column = x"]),
        ]
        // TileJSON takes up to sixteen layers; its tile URL answers these same bytes.
        if names.count <= 16 {
            links.append(link("\(base)/tiles/\(names.joined(separator: ",")).json", "alternate", "application/json", "The same tiles described as TileJSON 3.0.0"))
        }
        switch scope {
        case .dataset: links.append(link("\(base)/", "http://www.opengis.net/def/rel/ogc/1.0/dataset", "application/json", "The dataset (landing page)"))
        case .collection(let name): links.append(link("\(base)/collections/\(name)", "http://www.opengis.net/def/rel/ogc/1.0/geodata", "application/json", "The collection"))
        }

        var body: [String: JSONValue] = [
            "title": .string(title(scope, layers)),
            "description": .string("Vector tiles (MVT) of \(names.joined(separator: ", ")) in \(WebMercatorQuad.id); tile matrices \(minZoom)…\(TileID.maxZoom) hold data."),
            "dataType": "vector",
            "crs": .string(WebMercatorQuad.crs),
            "tileMatrixSetURI": .string(WebMercatorQuad.uri),
            "mediaTypes": .array([.string(Self.mvt)]),
            "attribution": .string(TileRoutes.attribution(infos.map(\.schema))),
            "boundingBox": Self.boundingBox(b),
            "centerPoint": .object(["coordinates": .array([.number((b.minX + b.maxX) / 2), .number((b.minY + b.maxY) / 2)]),
                                    "crs": .string(CRSCatalog.crs84), "tileMatrix": .string(String(max(14, minZoom)))]),
            "layers": .array(zip(infos, firstZooms).flatMap { layerJSON($0, firstZoom: $1, base: base, identity) }),
            "links": .array(links),
        ]
        // None while every layer is empty: then every tile is in range, and empty.
        if coverage.isLimited {
            body["tileMatrixSetLimits"] = .array(coverage.zooms.compactMap { z in
                coverage.limits(zoom: z).map { l in
                    .object(["tileMatrix": .string(String(z)),
                             "minTileRow": .integer(Int64(l.rows.lowerBound)), "maxTileRow": .integer(Int64(l.rows.upperBound)),
                             "minTileCol": .integer(Int64(l.columns.lowerBound)), "maxTileCol": .integer(Int64(l.columns.upperBound))])
                }
            })
        }
        let audience = layers.map(\.access.audience).joined(separator: ",")
        return respond(request, .object(body), title: title(scope, layers), versions: infos.map(\.dataVersion),
                       key: "tileset \(names.joined(separator: ",")) \(audience)")
    }

    /// A layer of the tiles as the tileset describes it, and its label layer when it has one.
    func layerJSON(_ info: LayerInfo, firstZoom: Int, base: String, _ identity: Identity?) -> [JSONValue] {
        var properties: [String: JSONValue] = ["id": .object(["type": "string"])]
        for (name, type) in tiles.tileFields(info, identity) { properties[name] = .object(["type": .string(type)]) }
        let name = info.schema.name
        func layer(_ id: String, _ title: String, dimension: Int?, _ properties: [String: JSONValue]) -> JSONValue {
            var o: [String: JSONValue] = [
                "id": .string(id), "title": .string(title), "dataType": "vector",
                "minTileMatrix": .string(String(firstZoom)), "maxTileMatrix": .string(String(TileID.maxZoom)),
                "propertiesSchema": .object(["type": "object", "properties": .object(properties)]),
                "links": .array([link("\(base)/collections/\(name)", "http://www.opengis.net/def/rel/ogc/1.0/geodata", "application/json", info.schema.title)]),
            ]
            if let dimension { o["geometryDimension"] = .integer(Int64(dimension)) }
            if let e = info.extent { o["boundingBox"] = Self.boundingBox(e) }
            return .object(o)
        }
        let drawn = layer(name, info.schema.title, dimension: Self.dimension(info), properties)
        guard info.hasLabelLayer else { return [drawn] }
        // Its label points: one per feature, in the one tile that holds it (TileRenderer).
        let labelFields = TileRenderer.labelFields(of: name)
        return [drawn, layer(TileRenderer.labelLayer(of: name), "\(info.schema.title): one label point per feature", dimension: 0,
                             properties.filter { $0.key == "id" || labelFields.contains($0.key) })]
    }

    /// 0 for points, 1 for lines, 2 for polygons; nil when the layer mixes them.
    static func dimension(_ info: LayerInfo) -> Int? {
        let types = info.geometryTypes.isEmpty ? [info.declaredGeometryType] : info.geometryTypes
        let dimensions = Set(types.compactMap { t -> Int? in
            let t = t.uppercased()
            return t.hasSuffix("POINT") ? 0 : t.hasSuffix("LINESTRING") ? 1 : t.hasSuffix("POLYGON") ? 2 : nil
        })
        return dimensions.count == 1 ? dimensions.first : nil
    }

    static func boundingBox(_ b: BoundingBox) -> JSONValue {
        .object(["lowerLeft": .array([.number(b.minX), .number(b.minY)]), "upperRight": .array([.number(b.maxX), .number(b.maxY)]),
                 "crs": .string(CRSCatalog.crs84)])
    }

    // MARK: Tiles

    /// A tile: tile matrix `z`, row `y`, column `x` of the tileset's layers, through
    /// `TileRoutes.answer`. Out of range — no such tile matrix, a row or column past its
    /// matrix, or outside the tileset's limits — is a 404 naming the range; text where a
    /// number belongs is a 400.
    func tile(_ request: Request, _ scope: Scope, matrix: String, row: String, column: String, identity: Identity?) async throws -> Response {
        guard let z = WebMercatorQuad.zoom(matrix) else {
            throw Problem.notFound("\(WebMercatorQuad.id) has no tile matrix '\(matrix)': its tile matrices are 0…\(TileID.maxZoom)")
        }
        guard let y = Int(row), let x = Int(column) else {
            throw Problem.badRequest("tileRow and tileCol must be whole numbers, not '\(row)' and '\(column)'")
        }
        guard let tile = TileID(z: z, x: x, y: y) else {
            throw Problem.notFound("tile matrix \(z) has no row \(y), column \(x): its rows and columns are 0…\((1 << z) - 1)")
        }
        let layers = try layers(scope, identity)
        let coverage = try await state.tileExtents.coverage(layers.map { ($0.name, $0.version) }, store: state.store)
        guard coverage.contains(tile) else {
            guard let l = coverage.limits(zoom: z) else {
                let zooms = coverage.zooms
                throw Problem.notFound("this tileset has no data in tile matrix \(z): its tileMatrixSetLimits are tile matrices \(zooms.first ?? 0)…\(zooms.last ?? TileID.maxZoom)")
            }
            throw Problem.notFound("this tileset has no data at row \(y), column \(x) of tile matrix \(z): its tileMatrixSetLimits there are rows "
                                   + "\(l.rows.lowerBound)…\(l.rows.upperBound), columns \(l.columns.lowerBound)…\(l.columns.upperBound)")
        }
        return try await tiles.answer(request, tile: tile, format: "mvt", layers: layers, identity: identity)
    }

    // MARK: Helpers

    /// JSON, or the same as a page of links for a browser (as the Features routes answer), with
    /// an ETag from the data versions, what else shapes the body (`key`), the base URL its links
    /// name and the format.
    func respond(_ request: Request, _ body: JSONValue, title: String, cache: String = "no-cache", versions: [Int64], key: String) -> Response {
        let html = request.wantsHTML
        let etag = Reply.etag(versions: versions, key, request.baseURL, html ? "html" : "json")
        if html { return Reply.text(htmlPage(title: title, json: body), contentType: "text/html; charset=utf-8", cache: cache, etag: etag) }
        return Reply.json(body, cache: cache, etag: etag)
    }
}
