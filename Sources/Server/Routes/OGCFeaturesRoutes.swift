import Access
import Features
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Projection
import Query
import Store

/// OGC API – Features Part 1 (core, GeoJSON, OpenAPI 3.0) and Part 2 (CRS by reference).
struct OGCFeaturesRoutes {
    let state: ServerState

    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    ]

    func add(to router: Router<LandMapContext>) {
        router.get("/conformance") { request, _ in try self.conformance(request) }
        router.get("/collections") { request, context in try self.collections(request, context.identity) }
        router.get("/collections/:layer") { request, context in try self.collection(request, context.parameters.require("layer"), context.identity) }
        router.get("/collections/:layer/items") { request, context in try await self.items(request, context.parameters.require("layer"), context.identity) }
        router.get("/collections/:layer/items/:id") { request, context in
            try self.item(request, context.parameters.require("layer"), context.parameters.require("id"), context.identity)
        }
        router.get("/collections/:layer/queryables") { request, context in try self.queryables(request, context.parameters.require("layer"), context.identity) }
        router.get("/collections/:layer/schema") { request, context in try self.schema(request, context.parameters.require("layer"), context.identity) }
    }

    func landingJSON(_ request: Request) -> JSONValue {
        let base = request.baseURL
        return .object([
            "title": "LandMap — Ho Chi Minh City land data",
            "description": "Cadastral parcels (thửa đất), zoning plans (quy hoạch) and administrative units of Ho Chi Minh City.",
            "links": .array([
                link("\(base)/?f=json", "self", "application/json", "This document"),
                link("\(base)/?f=html", "alternate", "text/html", "This document as HTML"),
                link("\(base)/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition (OpenAPI 3.0)"),
                link("\(base)/api.html", "service-doc", "text/html", "The API documentation"),
                link("\(base)/conformance", "conformance", "application/json", "Conformance classes"),
                link("\(base)/collections", "data", "application/json", "Collections"),
                link("\(base)/tiles", OGCTilesRoutes.tilesetsVector, "application/json", "Vector tiles of every layer (OGC API – Tiles)"),
                link("\(base)/tileMatrixSets", OGCTilesRoutes.tilingSchemes, "application/json", "Tile matrix sets (tiling schemes)"),
                link("\(base)/catalog", "http://www.w3.org/ns/dcat#catalog", "application/ld+json", "The open-data catalogue (DCAT-AP 3.0, JSON-LD)"),
                link("\(base)/catalog?f=ttl", "http://www.w3.org/ns/dcat#catalog", "text/turtle", "The open-data catalogue (DCAT-AP 3.0, Turtle)"),
                link("\(base)/catalog?f=html", "http://www.w3.org/ns/dcat#catalog", "text/html", "The open-data page"),
            ]),
        ])
    }

    func conformance(_ request: Request) throws -> Response {
        let body = JSONValue.object(["conformsTo": .array((Self.conformance + FeatureEditRoutes.conformance + FilterParameters.conformance + OGCTilesRoutes.conformance).map { .string($0) })])
        return respond(request, body, title: "Conformance", cache: "public, max-age=3600")
    }

    /// The layers the caller may read; the others are not there.
    func collections(_ request: Request, _ identity: Identity?) throws -> Response {
        let layers = try state.store.layers().filter { state.access($0.schema, for: identity).canRead }
        let base = request.baseURL
        let body = JSONValue.object([
            "links": .array([link("\(base)/collections", "self", "application/json", "Collections")]),
            "collections": .array(layers.map { collectionJSON($0, base) }),
            "crs": .array(state.crs.uris.map { .string($0) }),
        ])
        return respond(request, body, title: "Collections",
                       etag: Reply.etag(versions: layers.map(\.dataVersion), "collections", base, layers.map(\.schema.name).joined(separator: ",")))
    }

    func collection(_ request: Request, _ name: String, _ identity: Identity?) throws -> Response {
        let info = try readableInfo(name, identity)
        let base = request.baseURL
        return respond(request, collectionJSON(info, base), title: info.schema.title, etag: Reply.etag(versions: [info.dataVersion], "collection", base))
    }

    /// A layer's full figures, when the caller may read it (else the same 404 as no layer).
    func readableInfo(_ name: String, _ identity: Identity?) throws -> LayerInfo {
        guard let info = try state.store.layer(name), state.access(info.schema, for: identity).canRead else {
            throw Problem.notFound("no collection named '\(name)'")
        }
        return info
    }

    func collectionJSON(_ info: LayerInfo, _ base: String) -> JSONValue {
        let name = info.schema.name
        let bbox: JSONValue = info.extent.map { .array([.array([.number($0.minX), .number($0.minY), .number($0.maxX), .number($0.maxY)])]) }
            ?? .array([.array([-180, 180, -90, 90].map { .number(Double($0)) })])
        let properties = state.publicProperties(info.schema, sourceFields: info.sourceFields)
        let schemaLink = "\(base)/collections/\(name)/schema"
        let m = info.schema.metadata
        var extra = [JSONValue]()
        // SPDX publishes its listed licences; a `LicenseRef-` id is the data owner's own, with no page there.
        if let licence = m.licence, !licence.isEmpty, !licence.hasPrefix("LicenseRef-") {
            extra.append(link(Self.licenceURL(licence), "license", "text/html", "Licence: \(licence)"))
        }
        return .object([
            "id": .string(name),
            "title": .string(Self.nonEmpty(m.title) ?? info.schema.title),
            "description": .string(Self.describe(info, properties)),
            "metadata": Self.metadataJSON(m),
            "itemType": "feature",
            "extent": .object(["spatial": .object(["bbox": bbox, "crs": .string(CRSCatalog.crs84)])]),
            "crs": .array(state.crs.uris.map { .string($0) }),
            "storageCrs": .string(CRSCatalog.crs84),
            "links": .array([
                link("\(base)/collections/\(name)", "self", "application/json", info.schema.title),
                link("\(base)/collections/\(name)/items", "items", "application/geo+json", "Items"),
                link("\(base)/collections/\(name)/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json", "Queryables"),
                link(schemaLink, "describedby", "application/schema+json", "The schema of the features (every property with its type)"),
                // The same relation (RFC 8288 compares them case-insensitively); GDAL 3.6 looks for this spelling only.
                link(schemaLink, "describedBy", "application/schema+json", "The schema of the features (every property with its type)"),
                link(schemaLink, "http://www.opengis.net/def/rel/ogc/1.0/schema", "application/schema+json", "The schema of the features"),
                link("\(base)/collections/\(name)/tiles", OGCTilesRoutes.tilesetsVector, "application/json", "Vector tiles (OGC API – Tiles)"),
            ] + extra),
        ])
    }

    /// The steward's metadata as a collection shows it (SPEC §8): both languages, who is
    /// responsible, who may read it, under which licence, how often it changes, whom to ask.
    /// Private fields are not listed: their names are the caller's business only if it sees them.
    static func metadataJSON(_ m: LayerMetadata) -> JSONValue {
        func text(_ s: String?) -> JSONValue { nonEmpty(s).map { .string($0) } ?? .null }
        return .object([
            "title": text(m.title), "title_en": text(m.titleEn), "description": text(m.description), "description_en": text(m.descriptionEn),
            "steward": text(m.steward), "access": .string(m.access.rawValue), "licence": text(m.licence), "attribution": text(m.attribution),
            "keywords": .array(m.keywords.map { .string($0) }), "update_frequency": text(m.updateFrequency?.rawValue), "contact": text(m.contact),
        ])
    }

    static func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }

    /// Where an SPDX id's text is: spdx.org for listed licences, nothing better for a `LicenseRef-`.
    static func licenceURL(_ id: String) -> String {
        "https://spdx.org/licenses/\(encodeQuery(id)).html"
    }

    /// What a collection holds, in a sentence or three: what the layer is, how many features
    /// of which geometry, and the properties a caller may filter on.
    static func describe(_ info: LayerInfo, _ properties: [LayerProperty]) -> String {
        if let d = nonEmpty(info.schema.metadata.descriptionEn) ?? nonEmpty(info.schema.metadata.description), !["parcels", "zoning", "admin"].contains(info.schema.name) {
            let count = info.featureCount == 1 ? "1 feature" : "\(info.featureCount) features"
            return "\(d) \(count), \(GeometryKind.words(info.geometryTypes)) (\(info.declaredGeometryType))."
                + (properties.isEmpty ? "" : " Properties: \(properties.map(\.name).joined(separator: ", ")).")
        }
        let what = switch info.schema.name {
        case "parcels": "Cadastral parcels (thửa đất) of Ho Chi Minh City, keyed by ward, map sheet and parcel number."
        case "zoning": "Zoning plan zones (quy hoạch): planned land use, building limits and the decision that approved them."
        case "admin": "Administrative units (đơn vị hành chính): the province, its wards and communes, with their official codes."
        default: "A custom layer, '\(info.schema.title)', imported into LandMap."
        }
        let count = info.featureCount == 1 ? "1 feature" : "\(info.featureCount) features"
        var text = "\(what) \(count), \(GeometryKind.words(info.geometryTypes)) (\(info.declaredGeometryType))."
        if !properties.isEmpty { text += " Properties: \(properties.map(\.name).joined(separator: ", "))." }
        return text
    }

    func items(_ request: Request, _ name: String, _ identity: Identity?) async throws -> Response {
        let (schema, version) = try state.readableVersioned(name, for: identity)
        let output = try outputCRS(request)
        var r = ItemsRequest(layer: name)
        r.limit = try request.int("limit", default: 100, range: 1...10_000)
        r.offset = try request.int("offset", default: 0, range: 0...Int(Int32.max))
        if let cursor = request.query("cursor") {
            guard request.query("offset") == nil else { throw Problem.badRequest("give offset or cursor, not both") }
            (r.offset, r.after) = try Self.cursor(cursor)
        }
        r.asOf = try request.asOf()
        if let text = request.query("bbox") {
            let boxCRS = try request.query("bbox-crs").map { uri -> CRSCatalog.Entry in
                guard let e = state.crs.entry(uri) else { throw Problem.badRequest("bbox-crs '\(uri)' is not offered; use one of \(state.crs.uris.joined(separator: ", "))") }
                return e
            } ?? state.crs.entries[0]
            r.box = try Self.bbox(text, swap: boxCRS.swapAxes)
            r.boxCRS = boxCRS.crs
        }
        let reserved = Set<String>(["f", "limit", "offset", "cursor", "bbox", "bbox-crs", "crs", "datetime"]).union(FilterParameters.names)
        // Read from the store only when the request filters on a property.
        var known: [LayerProperty]?
        for (key, value) in request.uri.queryParameters where !reserved.contains(String(key)) {
            if key == "id" {
                r.filters["id"] = .string(String(value))
                continue
            }
            let queryable = try known ?? state.publicProperties(schema, sourceFields: state.store.sourceFields(of: name))
            known = queryable
            guard let property = queryable.first(where: { $0.name == String(key) }) else {
                throw Problem.badRequest("'\(key)' is not a query parameter of this collection; queryables: \((["id"] + queryable.map(\.name)).joined(separator: ", "))")
            }
            r.filters[String(key)] = property.filterValue(String(value))
        }
        if request.query("filter") != nil {
            // The public properties, for every caller, as for `property=value`: owners are not filters.
            let properties = try known ?? state.publicProperties(schema, sourceFields: state.store.sourceFields(of: name))
            r.filter = try FilterParameters.filter(request, queryables: FilterParameters.queryables(properties), equals: r.filters, crs: state.crs)
            r.filters = [:]
        } else if !r.filters.isEmpty, r.asOf == nil {
            // `property=value` (what GDAL's -where sends) runs as the CQL2 it is: in the
            // database, its matches counted once, its pages following on by key.
            let properties = try known ?? state.publicProperties(schema, sourceFields: state.store.sourceFields(of: name))
            if let filter = FilterParameters.equalityFilter(r.filters, queryables: FilterParameters.queryables(properties)) {
                r.filter = filter
                r.filters = [:]
            }
        }
        let page = try await state.items.borrow { try await $0.page(r) }
        let hidden = state.hiddenFields(schema, for: identity)
        let transform = output.crs == .wgs84 ? nil : try Transformer(from: .wgs84, to: output.crs)
        let features = try page.features.map { try Self.prepared($0, transform: transform, swap: output.swapAxes) }

        let base = request.baseURL
        let path = "\(base)/collections/\(name)/items"
        // A filter whose spaces came as `+` goes on with them as spaces (`Request.text`).
        let kept = request.uri.queryParameters.filter { !["offset", "cursor", "f"].contains($0.key) }
            .map { "\($0.key)=\(encodeQuery($0.key == "filter" ? request.text("filter") ?? String($0.value) : String($0.value)))&" }.joined()
        func pageLink(_ at: String, _ rel: String) -> JSONValue {
            link("\(path)?\(kept)\(at)&f=json", rel, "application/geo+json", rel == "next" ? "Next page" : rel == "prev" ? "Previous page" : "This page")
        }
        var links = [pageLink(r.after.map { "cursor=\(r.offset).\($0)" } ?? "offset=\(r.offset)", "self")]
        // The next page starts after this one's last key where the path reads keys: as fast
        // 10 000 pages deep as at the first. Elsewhere, and backwards, by offset.
        if page.byKey, let last = page.lastKey {
            links.append(pageLink("cursor=\(r.offset + features.count).\(last)", "next"))
        } else if !page.byKey, r.offset + features.count < page.numberMatched, !features.isEmpty {
            links.append(pageLink("offset=\(r.offset + r.limit)", "next"))
        }
        if r.offset > 0 { links.append(pageLink("offset=\(max(0, r.offset - r.limit))", "prev")) }
        links.append(link("\(base)/collections/\(name)", "collection", "application/json", schema.title))
        // A format style, not a formatter: making an `ISO8601DateFormatter` was 9 % of a page.
        let timeStamp = Date().formatted(.iso8601)
        var headers = HTTPFields()
        headers[.contentCrs] = "<\(output.uri)>"
        state.served.add(features.count, to: identity)
        let etag = Reply.etag(versions: [version], request.uri.query ?? "", base, state.access(schema, for: identity).audience)
        if request.wantsHTML {
            let body = JSONValue.object([
                "type": "FeatureCollection", "features": .array(features.map { $0.geoJSON(hiding: hidden) }),
                "numberMatched": .integer(Int64(page.numberMatched)), "numberReturned": .integer(Int64(features.count)),
                "timeStamp": .string(timeStamp), "links": .array(links),
            ])
            return Reply.text(htmlPage(title: "\(schema.title): items", json: body), contentType: "text/html; charset=utf-8", etag: etag)
        }
        // The page written straight out, its features without a `JSONValue` tree.
        var text = "{\"type\":\"FeatureCollection\",\"features\":["
        for (i, f) in features.enumerated() {
            if i > 0 { text += "," }
            f.writeGeoJSON(hiding: hidden, into: &text)
        }
        text += "],\"numberMatched\":\(page.numberMatched),\"numberReturned\":\(features.count),\"timeStamp\":"
        JSONValue.writeString(timeStamp, into: &text)
        text += ",\"links\":"
        JSONValue.array(links).write(into: &text)
        text += "}"
        return Reply.text(text, contentType: "application/geo+json", cache: "public, max-age=60", etag: etag, headers: headers)
    }

    /// A `cursor` of a next link: the page's offset (its number among the matches) and the
    /// key it starts after, as `offset.key`.
    static func cursor(_ text: String) throws -> (offset: Int, after: Int64) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let offset = Int(parts[0]), (0...Int(Int32.max)).contains(offset), let after = Int64(parts[1]) else {
            throw Problem.badRequest("cursor '\(text.prefix(64))' is not one this server wrote; follow the page's next link, or page with offset")
        }
        return (offset, after)
    }

    func item(_ request: Request, _ name: String, _ id: String, _ identity: Identity?) throws -> Response {
        let schema = try state.readable(name, for: identity)
        let output = try outputCRS(request)
        let asOf = try request.asOf()
        // The revision first: if a write lands between the two reads, the ETag is the older one
        // and a PUT made with it is refused (412) rather than overwriting unseen changes.
        let revision = asOf == nil ? try state.store.revision(layer: name, id: id) : nil
        guard let feature = try state.store.feature(layer: name, id: id, asOf: asOf) else {
            throw Problem.notFound("collection '\(name)' has no feature '\(id)'")
        }
        let transform = output.crs == .wgs84 ? nil : try Transformer(from: .wgs84, to: output.crs)
        guard case .object(var body) = try Self.present(feature, hidden: state.hiddenFields(schema, for: identity), transform: transform, swap: output.swapAxes) else {
            throw Problem(.internalServerError, "a feature could not be written")
        }
        let base = request.baseURL
        body["links"] = .array([
            link("\(base)/collections/\(name)/items/\(encodeQuery(id))", "self", "application/geo+json", "This feature"),
            link("\(base)/collections/\(name)", "collection", "application/json", schema.title),
        ])
        var headers = HTTPFields()
        headers[.contentCrs] = "<\(output.uri)>"
        state.served.add(1, to: identity)
        let etag = Reply.itemETag(revision, request.uri.query ?? "", base, state.access(schema, for: identity).audience)
        if request.wantsHTML { return Reply.text(htmlPage(title: "\(name) \(id)", json: .object(body)), contentType: "text/html; charset=utf-8", etag: etag) }
        return Reply.json(.object(body), contentType: "application/geo+json", cache: "public, max-age=60", etag: etag, headers: headers)
    }

    /// The properties `items` filters on (`property=value`, and CQL2 `filter`): `id`, the
    /// geometry, and every public canonical and source field, with its type — the same for
    /// every caller (one answer, one ETag): a private field is never a filter.
    func queryables(_ request: Request, _ name: String, _ identity: Identity?) throws -> Response {
        let info = try readableInfo(name, identity)
        var properties: [String: JSONValue] = [
            "id": .object(["type": "string", "title": "Feature id"]),
            ItemsRequest.geometryQueryable: .object([
                "title": "Geometry", "x-ogc-role": "primary-geometry",
                "description": "The feature's geometry; filters may also call it `geometry`.",
                "format": .string(GeometryKind.schemaFormat(info.declaredGeometryType)),
                "$ref": "https://geojson.org/schema/Geometry.json",
            ]),
        ]
        for p in state.publicProperties(info.schema, sourceFields: info.sourceFields) where p.name != ItemsRequest.geometryQueryable {
            properties[p.name] = p.schema
        }
        let body = JSONValue.object([
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": .string("\(request.baseURL)/collections/\(name)/queryables"),
            "type": "object",
            "title": .string(info.schema.title),
            "properties": .object(properties),
            "additionalProperties": .bool(false),
        ])
        return Reply.json(body, contentType: "application/schema+json", etag: Reply.etag(versions: [info.dataVersion], "queryables"))
    }

    /// OGC API – Features Part 5: the JSON Schema of the layer's features, every property with
    /// its type and the primary geometry with its true kind (`geometry-any` when it mixes), so
    /// that clients need not guess fields and geometry from the first page.
    func schema(_ request: Request, _ name: String, _ identity: Identity?) throws -> Response {
        let info = try readableInfo(name, identity)
        let body = OpenAPIDocument.featureSchema(info, state.publicProperties(info.schema, sourceFields: info.sourceFields),
                                                 id: "\(request.baseURL)/collections/\(name)/schema")
        return Reply.json(body, contentType: "application/schema+json", etag: Reply.etag(versions: [info.dataVersion], "schema", request.baseURL))
    }

    // MARK: Helpers

    func respond(_ request: Request, _ body: JSONValue, title: String, cache: String = "no-cache", etag: String? = nil) -> Response {
        if request.wantsHTML { return Reply.text(htmlPage(title: title, json: body), contentType: "text/html; charset=utf-8", cache: cache, etag: etag) }
        return Reply.json(body, cache: cache, etag: etag)
    }

    func outputCRS(_ request: Request) throws -> CRSCatalog.Entry {
        guard let text = request.query("crs") else { return state.crs.entries[0] }
        guard let e = state.crs.entry(text) else { throw Problem.badRequest("crs '\(text)' is not offered; use one of \(state.crs.uris.joined(separator: ", "))") }
        return e
    }

    /// `bbox=minx,miny,maxx,maxy` (or 6 numbers with heights), in the bbox CRS's axis order.
    static func bbox(_ text: String, swap: Bool) throws -> BoundingBox {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4 || parts.count == 6, parts.allSatisfy({ $0?.isFinite == true }) else {
            throw Problem.badRequest("bbox must be 4 numbers (or 6 with heights), separated by commas")
        }
        let v = parts.compactMap { $0 }
        let half = v.count / 2
        var (minX, minY, maxX, maxY) = (v[0], v[1], v[half], v[half + 1])
        if swap { (minX, minY, maxX, maxY) = (minY, minX, maxY, maxX) }
        guard minX <= maxX, minY <= maxY else { throw Problem.badRequest("bbox minimum exceeds maximum") }
        return BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
    }

    /// A feature as the client gets it: private fields left out, in the output CRS and axis order.
    static func present(_ f: Feature, hidden: HiddenProperties, transform: Transformer?, swap: Bool) throws -> JSONValue {
        try prepared(f, transform: transform, swap: swap).geoJSON(hiding: hidden)
    }

    /// The feature's geometry in the output CRS and axis order, rings wound as RFC 7946 asks.
    static func prepared(_ f: Feature, transform: Transformer?, swap: Bool) throws -> Feature {
        var f = f
        if var g = f.geometry {
            if let transform { g = try transform.transform(g) }
            if swap { g = g.mapCoordinates { Coordinate($0.y, $0.x) } }
            f.geometry = g.rewound()
        }
        return f
    }
}
