import Foundation
import Geometry
import Store
import Tiles

/// The OpenAPI 3.0 definition of the API (`GET /api`), written from the routes' contract.
enum OpenAPIDocument {
    /// A layer as `/api` lists it: its name and the public properties `items` filters on.
    struct Layer {
        var name: String
        var properties: [LayerProperty]
    }

    /// `layers` are described each with a path of its own (`/collections/parcels/items`) whose
    /// query parameters name every property it filters on: GDAL's OAPIF driver sends a filter
    /// to the server only for properties it finds there, and filters everything on the client
    /// otherwise.
    static func make(base: String, layers: [Layer], crs: [String]) -> JSONValue {
        func param(_ name: String, _ location: String = "query", _ schema: JSONValue, _ description: String, required: Bool = false,
                   style: String? = nil, explode: Bool? = nil) -> JSONValue {
            var o: [String: JSONValue] = ["name": .string(name), "in": .string(location), "schema": schema,
                                          "description": .string(description), "required": .bool(required || location == "path")]
            if let style { o["style"] = .string(style) }
            if let explode { o["explode"] = .bool(explode) }
            return .object(o)
        }
        let string: JSONValue = ["type": "string"]
        let number: JSONValue = ["type": "number"]
        let problem: JSONValue = .object(["description": "A problem document (RFC 9457)",
                                          "content": .object(["application/problem+json": .object(["schema": ["$ref": "#/components/schemas/Problem"]])])])
        func ok(_ types: [String], _ description: String, _ schema: JSONValue?) -> JSONValue {
            var content = [String: JSONValue]()
            for t in types { content[t] = .object(["schema": t.hasPrefix("text/") ? ["type": "string"] : schema ?? ["type": "object"]]) }
            return .object(["description": .string(description), "content": .object(content)])
        }
        // SPEC §12: any request but /health and /metrics may be over the caller's rate limit.
        let limited: JSONValue = .object(["description": "Over the caller's rate limit: Retry-After says when to try again (a problem document, RFC 9457)",
                                          "headers": .object(["Retry-After": .object(["schema": ["type": "integer"], "description": "Seconds to wait"])]),
                                          "content": .object(["application/problem+json": .object(["schema": ["$ref": "#/components/schemas/Problem"]])])])
        func get(_ summary: String, _ parameters: [JSONValue], _ okType: String = "application/json", errors: [String] = ["400"],
                 schema: JSONValue? = nil, rateLimited: Bool = true, operationId: String? = nil) -> JSONValue {
            // Operations with an `f` parameter also answer HTML (f=html, or a browser's Accept).
            let types = parameters.contains { $0["name"] == "f" } ? [okType, "text/html"] : [okType]
            var responses: [String: JSONValue] = ["200": ok(types, summary, schema), "304": ["description": "Not modified (If-None-Match)"]]
            for e in errors { responses[e] = problem }
            if rateLimited { responses["429"] = limited }
            var operation: [String: JSONValue] = ["summary": .string(summary), "parameters": .array(parameters), "responses": .object(responses)]
            if let operationId { operation["operationId"] = .string(operationId) }
            return .object(["get": .object(operation)])
        }
        let collectionId = param("collectionId", "path", .object(["type": "string", "enum": .array(layers.map { .string($0.name) })]), "A collection (layer)")
        let f = param("f", "query", ["type": "string", "enum": ["json", "html"]], "Response format")
        let datetime = param("datetime", "query", string, "RFC 3339 instant (the data as it was then) or interval (its end)")
        let crsParam = param("crs", "query", .object(["type": "string", "format": "uri", "enum": .array(crs.map { .string($0) })]), "Output CRS")
        let secured: JSONValue = [["bearer": []]]
        func write(_ summary: String, _ parameters: [JSONValue], body: JSONValue?, _ success: [String: String]) -> JSONValue {
            var responses: [String: JSONValue] = [:]
            for (code, text) in success { responses[code] = .object(["description": .string(text)]) }
            for e in ["400", "401", "403", "404", "409", "412", "413", "422"] { responses[e] = problem }
            responses["429"] = limited
            var o: [String: JSONValue] = ["summary": .string(summary), "parameters": .array(parameters), "responses": .object(responses), "security": secured]
            if let body { o["requestBody"] = body }
            return .object(o)
        }
        let proposed = "Accepted as a proposal (contributor token): Location names it under /changes"
        let featureBody: JSONValue = .object(["required": .bool(true), "content": .object(["application/geo+json": .object(["schema": ["type": "object"]])])])
        let ifMatch = param("If-Match", "header", string, "The ETag of the version being replaced or deleted (412 if stale)")
        let contentCrs = param("Content-Crs", "header", string, "CRS of the body's coordinates, e.g. <http://www.opengis.net/def/crs/EPSG/0/9210>")
        let featureId = param("featureId", "path", string, "Feature id")
        let itemsParameters = [
            param("limit", "query", ["type": "integer", "minimum": 1, "maximum": 10000, "default": 100], "Features per page"),
            param("offset", "query", ["type": "integer", "minimum": 0, "default": 0], "Features to skip"),
            param("cursor", "query", ["type": "string"], "Where a page follows on from the last, as the next link writes it (not with offset)"),
            param("bbox", "query", ["type": "array", "minItems": 4, "maxItems": 6, "items": number], "minx,miny,maxx,maxy in bbox-crs", style: "form", explode: false),
            param("bbox-crs", "query", .object(["type": "string", "format": "uri", "enum": .array(crs.map { .string($0) })]), "CRS of bbox"),
            crsParam, datetime, f,
            // OGC API – Features Part 3 (see FilterParameters and Docs/CONFORMANCE.md).
            param("filter", "query", string, "A CQL2 filter on the collection's queryables (text or JSON, as filter-lang says)"),
            param("filter-lang", "query", .object(["type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"]), "The filter's encoding"),
            param("filter-crs", "query", .object(["type": "string", "format": "uri", "enum": .array(crs.map { .string($0) })]),
                  "CRS of the filter's geometries (CRS84 unless given)"),
        ]
        let layersParam = param("layers", "path", ["type": "string", "pattern": "^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*$"],
                                "One layer, or a comma list of up to 16 (e.g. parcels,zoning)")
        let tileParams = [layersParam, param("z", "path", ["type": "integer", "minimum": 0, "maximum": 22], "Zoom"),
                          param("x", "path", ["type": "integer", "minimum": 0], "Column"), param("y", "path", ["type": "integer", "minimum": 0], "Row (XYZ: 0 at the north)")]
        var paths: [String: JSONValue] = [
            "/": get("Landing page", [f]),
            "/api": get("This OpenAPI document", [], "application/vnd.oai.openapi+json;version=3.0", errors: []),
            "/conformance": get("Conformance classes", [f]),
            "/collections": get("Collections", [f]),
            "/collections/{collectionId}": get("A collection", [collectionId, f], errors: ["404"]),
            "/collections/{collectionId}/queryables": get("Queryable properties", [collectionId], "application/schema+json", errors: ["404"]),
            "/collections/{collectionId}/items": get("Features of a collection (each collection's own path lists its property filters)",
                                                     [collectionId] + itemsParameters, "application/geo+json", errors: ["400", "404"]),
            "/collections/{collectionId}/changes": get("Every change after data version `since`, in order (SPEC §9): insert, update (the feature as the change left it) and delete (id and deleted version); follow `next` while it is there",
                                                       [collectionId,
                                                        param("since", "query", ["type": "integer", "minimum": 0], "The data version the copy is at (0: everything)", required: true),
                                                        param("after", "query", string, "Resume inside the first batch after `since` past this id (from a `next` link)"),
                                                        param("limit", "query", ["type": "integer", "minimum": 1, "maximum": 10000, "default": 1000], "Changes per page"),
                                                        param("features", "query", ["type": "boolean", "default": .bool(true)], "false: ops, ids and versions without the features")],
                                                       errors: ["400", "404", "410"]),
            "/collections/{collectionId}/schema": get("The JSON Schema of a collection's features (OGC API – Features Part 5)", [collectionId],
                                                      "application/schema+json", errors: ["404"]),
            "/collections/{collectionId}/items/{featureId}": get("A feature", [collectionId, param("featureId", "path", string, "Feature id"), crsParam, datetime, f],
                                                                 "application/geo+json", errors: ["400", "404"]),
            "/parcels/at": get("The parcel at a point, the zoning shares over it, the unit valid on the day (admin) and the ward and district valid on 2025-06-30 (admin_before_reform)", [
                param("lon", "query", ["type": "number", "minimum": -180, "maximum": 180], "Longitude (WGS 84)"),
                param("lat", "query", ["type": "number", "minimum": -90, "maximum": 90], "Latitude (WGS 84)"),
                param("x", "query", number, "Easting in crs"), param("y", "query", number, "Northing in crs"),
                param("crs", "query", string, "CRS of x/y (default vn2000)"), datetime,
                param("on", "query", ["type": "string", "format": "date"], "The day whose administrative unit `admin` names (default: datetime's day, else today); codes were reused on 2025-07-01"),
            ]),
            "/search": get("Search addresses, parcel keys (27484-56-1, 'tờ 56 thửa 1'), unit names old and new and zone codes, ignoring case, tone marks and đ/d; the last word may be unfinished. Hits: layer, id, label, point (inside the feature) and bbox, from the layers the caller may read", [
                param("q", "query", ["type": "string", "maxLength": 200], "The text", required: true),
                param("layers", "query", string, "Only these layers, comma-separated (default: every layer the caller may read)"),
                param("limit", "query", ["type": "integer", "minimum": 1, "maximum": 50], "At most this many hits (default 10)"),
            ], errors: ["400", "404"]),
            "/admin/crosswalk": get("An administrative unit across the 1 July 2025 reform: an old unit's successors or a new unit's predecessors, with the shares of area computed from the geometry and the official crosswalk's word beside each", [
                param("code", "query", ["type": "string", "pattern": "^[0-9]{1,12}$"], "The unit's code (mã ĐVHC)", required: true),
                param("on", "query", ["type": "string", "format": "date"], "The day the code is read on (default today; 2025-06-30 for the old units)"),
            ], errors: ["400", "404"]),
            "/parcels": get("Parcels by cadastral key, each with label_point [lon, lat]: a point inside it where /parcels/at finds it", [
                param("ward", "query", string, "Ward code"), param("sheet", "query", ["type": "integer"], "Map sheet number"),
                param("number", "query", ["type": "integer"], "Parcel number"),
                param("limit", "query", ["type": "integer", "minimum": 1, "maximum": 10000], "At most this many"), datetime,
            ], "application/geo+json", errors: ["400", "404"]),
            "/parcels/{id}/history": get("Every version of a parcel", [param("id", "path", string, "Parcel id")], errors: ["404"]),
            "/health": get("Liveness and readiness", [], errors: ["503"], rateLimited: false),
            "/metrics": get("Prometheus metrics", [], "text/plain", errors: [], rateLimited: false),
        ]
        for layer in layers {
            let filters = [param("id", "query", string, "Feature id")] + layer.properties.map { p in
                param(p.name, "query", p.schema, "Only features whose \(p.name) equals this (\(p.title))")
            }
            // A page's features are those the collection's schema describes (properties, geometry kind).
            let page: JSONValue = .object(["type": "object", "properties": .object([
                "features": .object(["type": "array", "items": .object(["$ref": .string("\(base)/collections/\(layer.name)/schema")])]),
            ])])
            paths["/collections/\(layer.name)/items"] = get("Features of \(layer.name), filtered by any of its properties", itemsParameters + filters,
                                                             "application/geo+json", errors: ["400"], schema: page)
        }
        paths["/tiles/{layers}.json"] = get("TileJSON 3.0.0 of one or more layers: tile URL, bounds, the zooms with features, each layer's fields",
                                             [layersParam], errors: ["400", "404"])
        paths["/tiles/{layers}/{z}/{x}/{y}.mvt"] = get("A Mapbox Vector Tile 2.1 (extent 4096, buffer 64), one MVT layer per layer",
                                                       tileParams, "application/vnd.mapbox-vector-tile", errors: ["400", "404"])
        paths["/tiles/{layers}/{z}/{x}/{y}.geojson"] = get("The same tile as a GeoJSON FeatureCollection (clipped, WGS 84)",
                                                           tileParams, "application/geo+json", errors: ["400", "404"])
        // OGC API – Tiles (OGCTilesRoutes): operation ids end as the standard's Table 5 names them.
        let tileMatrix = param("tileMatrix", "path", .object(["type": "string", "enum": .array((0...22).map { .string(String($0)) })]),
                               "Tile matrix (zoom) of WebMercatorQuad, 0…22")
        let tileRow = param("tileRow", "path", ["type": "integer", "minimum": 0], "Row of the tile in its tile matrix (0 at the north; XYZ's y)")
        let tileCol = param("tileCol", "path", ["type": "integer", "minimum": 0], "Column of the tile in its tile matrix (XYZ's x)")
        let binary: JSONValue = ["type": "string", "format": "binary"]
        let tileErrors = ["400", "404"]
        paths["/tileMatrixSets"] = get("Tile matrix sets (tiling schemes): WebMercatorQuad", [f], operationId: "getTileMatrixSetsList")
        paths["/tileMatrixSets/{tileMatrixSetId}"] = get("A tile matrix set's definition (OGC 2D Tile Matrix Set 2.0)", [
            param("tileMatrixSetId", "path", ["type": "string", "enum": ["WebMercatorQuad"]], "Tile matrix set"), f,
        ], errors: ["404"], operationId: "getTileMatrixSet")
        paths["/tiles"] = get("Tilesets of every layer the caller may read (vector, WebMercatorQuad)", [f],
                              operationId: "tiles.dataset.vector.getTileSetsList")
        paths["/tiles/WebMercatorQuad"] = get("The tileset of every layer the caller may read: tile template, tileMatrixSetLimits, layers and their fields",
                                              [f], errors: ["404"], operationId: "tiles.dataset.vector.getTileSet")
        paths["/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"] = get(
            "A Mapbox Vector Tile of every layer the caller may read: the same bytes as /tiles/{layers}/{z}/{x}/{y}.mvt with z = tileMatrix, y = tileRow, x = tileCol; 404 outside tileMatrixSetLimits",
            [tileMatrix, tileRow, tileCol], OGCTilesRoutes.mvt, errors: tileErrors, schema: binary, operationId: "tiles.dataset.vector.getTile")
        paths["/collections/{collectionId}/tiles"] = get("Tilesets of a collection (vector, WebMercatorQuad)", [collectionId, f], errors: ["404"],
                                                         operationId: "tiles.collection.vector.getTileSetsList")
        paths["/collections/{collectionId}/tiles/WebMercatorQuad"] = get("A collection's tileset: tile template, tileMatrixSetLimits, its layers and their fields",
                                                                         [collectionId, f], errors: ["404"], operationId: "tiles.collection.vector.getTileSet")
        paths["/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"] = get(
            "A Mapbox Vector Tile of a collection: the same bytes as /tiles/{collectionId}/{z}/{x}/{y}.mvt with z = tileMatrix, y = tileRow, x = tileCol; 404 outside tileMatrixSetLimits",
            [collectionId, tileMatrix, tileRow, tileCol], OGCTilesRoutes.mvt, errors: tileErrors, schema: binary, operationId: "tiles.collection.vector.getTile")
        paths["/styles/{name}.json"] = get("A MapLibre style (e.g. landmap) with its URLs pointed at this server",
                                           [param("name", "path", ["type": "string", "pattern": "^[A-Za-z0-9_-]+$"], "Style name, e.g. landmap")],
                                           errors: ["404"])
        // SPEC §9: the DCAT-AP 3.0 catalogue of the layers the caller may read, in three formats.
        let catalogFormat = param("f", "query", ["type": "string", "enum": ["jsonld", "ttl", "html"]],
                                  "Response format (else Accept: application/ld+json, text/turtle or text/html; JSON-LD by default)")
        func catalogGet(_ summary: String, _ parameters: [JSONValue], errors: [String]) -> JSONValue {
            var responses: [String: JSONValue] = ["200": ok(["application/ld+json", "text/turtle", "text/html"], summary, nil)]
            for e in errors { responses[e] = problem }
            responses["429"] = limited
            return .object(["get": .object(["summary": .string(summary), "parameters": .array(parameters), "responses": .object(responses)])])
        }
        paths["/catalog"] = catalogGet("The open-data catalogue (DCAT-AP 3.0) of the layers the caller may read; Hydra paging past page_size datasets", [
            catalogFormat,
            param("page", "query", ["type": "integer", "minimum": 1, "default": 1], "Page of datasets"),
            param("page_size", "query", ["type": "integer", "minimum": 1, "maximum": 100, "default": 100], "Datasets per page"),
        ], errors: ["400"])
        paths["/catalog/datasets/{datasetId}"] = catalogGet("One dataset of the catalogue (its DCAT-AP URI)",
                                                             [param("datasetId", "path", string, "A dataset (layer)"), catalogFormat], errors: ["400", "404"])
        paths["/catalog/units/{unitId}"] = catalogGet("A steward unit (a dataset's publisher) with the datasets it publishes that the caller may read",
                                                       [param("unitId", "path", string, "A unit (e.g. so-nnmt)"), catalogFormat], errors: ["400", "404"])
        func adding(_ path: String, _ method: String, _ operation: JSONValue) {
            var o = paths[path]?.objectValue ?? [:]
            o[method] = operation
            paths[path] = .object(o)
        }
        adding("/collections/{collectionId}/items", "post", write("Create a feature (OGC API – Features Part 4; editor token; a contributor's is a proposal)", [collectionId, contentCrs],
                                                                  body: featureBody, ["201": "Created: Location and ETag name it", "202": proposed]))
        adding("/collections/{collectionId}/items/{featureId}", "put", write("Replace a feature (editor token; a contributor's is a proposal; If-Match makes it conditional)",
                                                                             [collectionId, featureId, ifMatch, contentCrs], body: featureBody, ["200": "Replaced", "202": proposed]))
        adding("/collections/{collectionId}/items/{featureId}", "delete", write("Delete a feature (editor token; a contributor's is a proposal; its versions are kept)",
                                                                                [collectionId, featureId, ifMatch], body: nil, ["204": "Deleted", "202": proposed]))
        adding("/imports", "post", write("Import a file (or a .zip) with the quality report; all or nothing (editor token; a contributor's is a proposal)", [
            param("layer", "query", string, "Layer to import into", required: true),
            param("crs", "query", string, "CRS of the file when it declares none (e.g. vn2000)"),
            param("mode", "query", ["type": "string", "enum": ["append", "upsert", "replace"]], "How existing features are treated"),
            param("fix", "query", ["type": "boolean"], "Repair invalid geometry with make-valid"),
            param("skip_invalid", "query", ["type": "boolean"], "Import the valid features, report the rest"),
            param("dry_run", "query", ["type": "boolean"], "Check and report, write nothing"),
            param("filename", "query", string, "The file's name (its extension tells the format)"),
            param("encoding", "query", ["type": "string", "enum": ["auto", "utf8", "tcvn3", "vni", "cp1258"]], "Text encoding of the attributes (auto guesses)"),
            param("shapes", "query", string, "CAD sheets (DGN, DXF): the level or layer whose closed shapes are the features"),
            .object(["name": "label", "in": "query", "description": "With shapes: FIELD=LEVEL, the texts on LEVEL fill FIELD of the shape that holds them (repeatable)",
                     "schema": ["type": "array", "items": ["type": "string"]], "style": "form", "explode": .bool(true)]),
            .object(["name": "set", "in": "query", "description": "FIELD=VALUE given to every feature of the file (repeatable)",
                     "schema": ["type": "array", "items": ["type": "string"]], "style": "form", "explode": .bool(true)]),
        ], body: .object(["required": .bool(true), "content": .object([
            "application/octet-stream": .object(["schema": ["type": "string", "format": "binary"]]),
            "multipart/form-data": .object(["schema": .object(["type": "object", "properties": .object(["file": ["type": "string", "format": "binary"]])])]),
        ])]), ["200": "Dry run: the report", "201": "Imported: the report", "202": proposed]))
        // Proposals (SPEC §8): token holders see theirs and those they may review.
        let changeId = param("changeId", "path", ["type": "integer"], "A proposal")
        func tokenGet(_ summary: String, _ parameters: [JSONValue]) -> JSONValue {
            guard case .object(var o) = get(summary, parameters, errors: ["400", "401", "404"]), case .object(var op)? = o["get"] else { return .null }
            op["security"] = secured
            o["get"] = .object(op)
            return .object(o)
        }
        paths["/changes"] = tokenGet("Proposals the caller made or may review, newest first", [
            param("layer", "query", string, "Only this layer"),
            param("status", "query", ["type": "string", "enum": ["pending", "approved", "rejected"]], "Only this status"),
            param("limit", "query", ["type": "integer", "minimum": 1, "maximum": 1000], "At most this many"),
        ])
        paths["/changes/{changeId}"] = tokenGet("A proposal: each feature before and after, what changed since, its QA report", [changeId])
        adding("/changes/{changeId}/approve", "post", write("Approve a proposal: one batch naming proposer and approver (a steward of the layer, or an admin); 409 when its features changed since",
                                                             [changeId], body: nil, ["200": "Approved: the batch written"]))
        adding("/changes/{changeId}/reject", "post", write("Reject a proposal with a reason ({\"reason\": …}); the layer is not touched",
                                                            [changeId], body: .object(["required": .bool(true), "content": .object(["application/json": .object(["schema": .object([
                                                                "type": "object", "required": ["reason"], "properties": .object(["reason": string])])])])]),
                                                            ["200": "Rejected"]))
        // SPEC §9's bulk downloads: the same bytes as `landmap export`, one range at a time if asked.
        paths["/downloads/{layer}.{format}"] = .object(["get": .object([
            "summary": "The whole layer as the caller may see it (private fields only to token holders granted it), the same bytes as landmap export",
            "parameters": .array([
                param("layer", "path", .object(["type": "string", "enum": .array(layers.map { .string($0.name) })]), "A layer"),
                param("format", "path", ["type": "string", "enum": ["geojson", "gpkg", "csv"]], "File format"),
                param("Range", "header", string, "One byte range, e.g. bytes=0-1048575 (206; 416 when outside the file)"),
            ]),
            "responses": .object([
                "200": .object(["description": "The file (Content-Disposition: attachment)", "content": .object([
                    "application/geo+json": .object(["schema": binary]), "application/geopackage+sqlite3": .object(["schema": binary]),
                    "text/csv; charset=utf-8": .object(["schema": binary])])]),
                "206": ["description": "The requested range (Content-Range)"],
                "304": ["description": "Not modified (If-None-Match)"],
                "404": problem, "416": problem, "429": limited,
            ]),
        ])])
        paths["/fonts/{fontstack}/{range}.pbf"] = get("SDF glyphs for map labels (MapLibre glyph PBF)", [
            param("fontstack", "path", string, "Comma list of font stacks, e.g. Noto Sans Regular"),
            param("range", "path", ["type": "string", "pattern": "^[0-9]+-[0-9]+$"], "256 code points, e.g. 0-255"),
        ], "application/x-protobuf", errors: ["400", "404"])
        return .object([
            "openapi": "3.0.3",
            "info": .object(["title": "LandMap API", "version": "0.1.0",
                             "description": "OGC API – Features (Parts 1 and 2), OGC API – Tiles and parcel lookup for Ho Chi Minh City's land data."]),
            "servers": .array([.object(["url": .string(base)])]),
            "paths": .object(paths),
            "components": .object([
                "securitySchemes": .object(["bearer": .object(["type": "http", "scheme": "bearer",
                                                               "description": "A LandMap API token (landmap token create): reader, contributor, editor, steward or admin, maybe limited to a unit, layers and wards"])]),
                "schemas": .object([
                "Problem": .object(["type": "object", "required": ["type", "title", "status"], "properties": .object([
                    "type": string, "title": string, "status": ["type": "integer"], "detail": string, "instance": string,
                ])]),
            ])]),
        ])
    }

    /// OGC API – Features Part 5's JSON Schema of a layer's features: the id, the primary
    /// geometry with its true kind, and every property a caller may see, with its type.
    ///
    /// Part 5 lists the properties flat, as `properties`; GDAL (3.6, whose OAPIF driver QGIS
    /// also uses) reads only the GeoJSON shape, `properties.properties`, and follows `allOf`
    /// when there is one. So the GeoJSON shape is given under `allOf` as well: both describe the
    /// same feature, and an instance of either form satisfies the whole schema.
    static func featureSchema(_ info: LayerInfo, _ properties: [LayerProperty], id: String) -> JSONValue {
        var members = [String: JSONValue]()
        for p in properties { members[p.name] = p.schema }
        let idMember = JSONValue.object(["type": "string", "title": "Feature id", "x-ogc-role": "id"])
        let geometry = JSONValue.object(["format": .string(GeometryKind.schemaFormat(info.declaredGeometryType)), "x-ogc-role": "primary-geometry",
                                         "title": .string(GeometryKind.words(info.geometryTypes))])
        let geoJSON = JSONValue.object([
            "type": "object",
            "properties": .object([
                "type": .object(["type": "string", "enum": ["Feature"]]),
                "id": idMember,
                "geometry": geometry,
                "properties": .object(["type": "object", "properties": .object(members)]),
            ]),
        ])
        members["id"] = idMember
        members["geometry"] = geometry
        return .object([
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": .string(id),
            "type": "object",
            "title": .string(info.schema.title),
            "properties": .object(members),
            "allOf": .array([geoJSON]),
        ])
    }
}
