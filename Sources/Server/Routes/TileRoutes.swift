import Access
import CMalloc
import Features
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Metrics
import Store
import Tiles

/// Vector tiles (MVT 2.1), the same tiles as GeoJSON, and TileJSON 3.0.0 descriptions.
struct TileRoutes {
    let state: ServerState
    static let cacheHits = Counter(label: "landmap_tile_cache_hits_total")
    static let cacheMisses = Counter(label: "landmap_tile_cache_misses_total")

    func add(to router: Router<LandMapContext>) {
        router.get("/tiles/:layers/:z/:x/:file") { request, context in
            try await self.tile(request, layers: context.parameters.require("layers"), z: context.parameters.require("z"),
                          x: context.parameters.require("x"), file: context.parameters.require("file"), identity: context.identity)
        }
        // One parameter name per position: the router refuses two at the same place.
        router.get("/tiles/:layers") { request, context in try self.tileJSON(request, context.parameters.require("layers"), identity: context.identity) }
    }

    /// A layer a tile draws: its data version, what the caller may see of it, its schema.
    typealias TileLayer = (name: String, version: Int64, access: LayerAccess, schema: LayerSchema)

    /// The layers of a `layers` path segment (`parcels` or `parcels,zoning`) the caller may
    /// read: see `readable`. At most sixteen may be asked.
    func layers(_ text: String, _ identity: Identity?) throws -> [TileLayer] {
        let names = text.split(separator: ",").map(String.init)
        guard !names.isEmpty, names.count <= 16 else { throw Problem.badRequest("give one to sixteen layers, separated by commas") }
        return try readable(names, identity, asked: text)
    }

    /// The named layers the caller may read, each with its data version and what the caller's
    /// tiles of it depend on: cheap enough for every tile request (no feature counting). A layer
    /// that does not exist or that the caller may not read is left out, so a composite tile never
    /// tells one from the other; 404 only when none is left. The OGC API – Tiles routes ask it
    /// too, so every tile of either path is drawn for the same layers and audience.
    func readable(_ names: [String], _ identity: Identity?, asked text: String) throws -> [TileLayer] {
        let known = try state.store.schemas(of: names)
        var seen = Set<String>()
        let found = names.compactMap { name -> TileLayer? in
            guard seen.insert(name).inserted, let v = known.versions[name], let schema = known.schemas[name] else { return nil }
            let access = state.access(schema, for: identity)
            return access.canRead ? (name, v, access, schema) : nil
        }
        guard !found.isEmpty else { throw Problem.notFound(names.count == 1 ? "no layer named '\(text)'" : "none of the layers '\(text)' exists") }
        return found
    }

    func tile(_ request: Request, layers text: String, z: String, x: String, file: String, identity: Identity?) async throws -> Response {
        let parts = file.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let format = ["mvt", "pbf", "geojson"].first(where: { $0 == parts[1] }) else {
            throw Problem.notFound("tiles end in .mvt or .geojson")
        }
        guard let zi = Int(z), let xi = Int(x), let yi = Int(parts[0]) else { throw Problem.badRequest("z, x and y must be whole numbers") }
        guard let tile = TileID(z: zi, x: xi, y: yi) else {
            throw Problem.badRequest("no tile \(z)/\(x)/\(parts[0]): zoom must be 0…\(TileID.maxZoom), and x and y 0…2^zoom − 1")
        }
        return try await answer(request, tile: tile, format: format, layers: try layers(text, identity), identity: identity)
    }

    /// A tile of these layers as the caller may see it: GeoJSON drawn for each request, MVT from
    /// the cache or drawn into it. Every tile route ends here (`/tiles/{layers}/{z}/{x}/{y}` and
    /// OGC API – Tiles' `…/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`): one cache key,
    /// ETag and privacy rule for the same tile, whichever path asked it.
    func answer(_ request: Request, tile: TileID, format: String, layers requested: [TileLayer], identity: Identity?) async throws -> Response {
        let names = requested.map(\.name)
        // The bytes depend on which layers are drawn and, for each, whether private fields are:
        // that is the cache key, so callers who may see different things never share a tile.
        let audience = requested.map(\.access.audience).joined(separator: ",")
        let etag = Reply.etag(versions: requested.map(\.version), names.joined(separator: ","), "\(tile)", format, audience)
        if format == "geojson" {
            let features = try await Blocking.run { [state] in
                try TileRenderer(store: state.store).geoJSON(layers: names, tile: tile, hidden: { state.hiddenFields($0, for: identity) })
            }
            state.served.add(features.count, to: identity)
            let body = JSONValue.object(["type": "FeatureCollection", "features": .array(features.map { $0.geoJSON() })])
            return Reply.json(body, contentType: "application/geo+json", cache: "public, max-age=300", etag: etag)
        }
        let key = etag
        let cached: CachedTile
        if let hit = state.tiles.get(key) {
            Self.cacheHits.increment()
            cached = hit
        } else {
            Self.cacheMisses.increment()
            // Off the event loops and the cooperative pool: a cold tile over a large feature or a
            // dense district takes a core for a while, and held up every other request there.
            let rendered = try await Blocking.run { [state] in
                try TileRenderer(store: state.store).mvt(layers: names, tile: tile, hidden: { state.hiddenFields($0, for: identity) })
            }
            Self.releaseFreedMemory(after: rendered)
            let raw = ByteBuffer(bytes: rendered.mvt)
            cached = CachedTile(raw: raw, gzip: try GzipMiddleware<LandMapContext>.gzip(raw), features: rendered.featureCounts.values.reduce(0, +))
            state.tiles.put(key, cached)
        }
        state.served.add(cached.features, to: identity)
        var headers = HTTPFields()
        headers[.contentType] = "application/vnd.mapbox-vector-tile"
        headers[.cacheControl] = "public, max-age=300"
        headers[.eTag] = etag
        headers[.vary] = "Accept-Encoding"
        if let gzip = cached.gzip, GzipMiddleware<LandMapContext>.accepted(by: request) {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: gzip))
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: cached.raw))
    }

    /// A low-zoom tile walks a hundred thousand features; glibc keeps what they used in its
    /// arenas, so two such renders at once left the server at 1.3 GB (Tools/bench, 1 M parcels).
    /// Handing it back after big renders keeps the resident size near what is in use.
    static func releaseFreedMemory(after tile: RenderedTile) {
        if tile.featureCounts.values.reduce(0, +) > 2_000 || tile.mvt.count > 200_000 { _ = malloc_trim(0) }
    }

    func tileJSON(_ request: Request, _ file: String, identity: Identity?) throws -> Response {
        guard file.hasSuffix(".json") else { throw Problem.notFound("TileJSON documents end in .json") }
        // TileJSON wants extents and field lists: the full layer figures, once per document.
        let infos = try layers(String(file.dropLast(5)), identity).map { entry -> LayerInfo in
            guard let info = try state.store.layer(entry.name) else { throw Problem.notFound("no layer named '\(entry.name)'") }
            return info
        }
        let names = infos.map(\.schema.name).joined(separator: ",")
        var box: BoundingBox?
        for info in infos { if let e = info.extent { if box == nil { box = e } else { box?.expand(toInclude: e) } } }
        let b = box ?? BoundingBox(minX: -180, minY: -85.0511, maxX: 180, maxY: 85.0511)
        // Each layer from the zoom its largest polygon is first drawn at (points: 0), so that a
        // client asks no tiles that must be empty; the document from the first of them.
        let firstZooms = infos.map { TileRenderer.firstZoom($0) }
        let minZoom = firstZooms.min() ?? 0
        let body = JSONValue.object([
            "tilejson": "3.0.0",
            "name": .string("LandMap: \(names)"),
            "attribution": .string(Self.attribution(infos.map(\.schema))),
            "scheme": "xyz",
            "tiles": .array([.string("\(request.baseURL)/tiles/\(names)/{z}/{x}/{y}.mvt")]),
            "minzoom": .integer(Int64(minZoom)), "maxzoom": .integer(Int64(TileID.maxZoom)),
            "bounds": .array([.number(b.minX), .number(b.minY), .number(b.maxX), .number(b.maxY)]),
            "center": .array([.number((b.minX + b.maxX) / 2), .number((b.minY + b.maxY) / 2), .integer(Int64(max(14, minZoom)))]),
            "vector_layers": .array(zip(infos, firstZooms).flatMap { info, firstZoom -> [JSONValue] in
                var fields: [String: JSONValue] = ["id": "String"]
                for (name, type) in tileFields(info, identity) {
                    fields[name] = .string(type == "integer" || type == "number" ? "Number" : type == "boolean" ? "Boolean" : "String")
                }
                let layer = JSONValue.object(["id": .string(info.schema.name), "description": .string(info.schema.title), "fields": .object(fields),
                                              "geometry_type": .string(info.declaredGeometryType),
                                              "minzoom": .integer(Int64(firstZoom)), "maxzoom": .integer(Int64(TileID.maxZoom))])
                guard info.hasLabelLayer else { return [layer] }
                // Its label points: one per feature, in the one tile that holds it (TileRenderer).
                let labelFields = TileRenderer.labelFields(of: info.schema.name)
                return [layer, .object(["id": .string(TileRenderer.labelLayer(of: info.schema.name)),
                                        "description": .string("\(info.schema.title): one label point per feature"),
                                        "fields": .object(fields.filter { $0.key == "id" || labelFields.contains($0.key) }),
                                        "geometry_type": "POINT",
                                        "minzoom": .integer(Int64(firstZoom)), "maxzoom": .integer(Int64(TileID.maxZoom))])]
            }),
        ])
        let audience = infos.map { state.access($0.schema, for: identity).audience }.joined(separator: ",")
        return Reply.json(body, etag: Reply.etag(versions: infos.map(\.dataVersion), "tilejson", names, request.baseURL, audience))
    }

    /// The properties a layer's tiles carry that the caller may see (the feature `id` aside),
    /// each with its JSON Schema type (`string`, `integer`, `number`, `boolean`): TileJSON's
    /// `vector_layers` and OGC API – Tiles' `propertiesSchema` both list these.
    func tileFields(_ info: LayerInfo, _ identity: Identity?) -> [(name: String, type: String)] {
        let hidden = state.hiddenFields(info.schema, for: identity)
        var out = info.schema.fields.filter { !hidden.contains($0.name) }.map { f in
            (f.name, f.type == .integer ? "integer" : f.type == .real ? "number" : "string")
        }
        // Custom layers' tiles carry their source fields (see `TileRenderer.properties`).
        if info.schema.fields.isEmpty {
            out += state.publicProperties(info.schema, sourceFields: info.sourceFields).map { ($0.name, $0.type) }
        }
        return out
    }

    /// The credit a map of these layers shows: each layer's attribution (SPEC §8), once each.
    static func attribution(_ schemas: [LayerSchema]) -> String {
        var seen = Set<String>()
        let credits = schemas.compactMap { s -> String? in
            guard let a = s.metadata.attribution, !a.isEmpty, seen.insert(a).inserted else { return nil }
            return a
        }
        return (["LandMap"] + credits).joined(separator: "; ")
    }
}
