import Access
import Features
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Projection
import Query
import Store

/// The planner's questions over HTTP: what is at a point, a parcel by its cadastral key, the
/// versions of a parcel.
struct ParcelRoutes {
    let state: ServerState

    func add(to router: Router<LandMapContext>) {
        router.get("/parcels/at") { request, context in try await self.at(request, context.identity) }
        router.get("/parcels") { request, context in try self.byKey(request, context.identity) }
        router.get("/parcels/:id/history") { request, context in try self.history(request, context.parameters.require("id"), context.identity) }
    }

    func at(_ request: Request, _ identity: Identity?) async throws -> Response {
        let point: Coordinate, crs: CRS
        if let lon = try request.double("lon"), let lat = try request.double("lat") {
            guard request.query("x") == nil, request.query("y") == nil else { throw Problem.badRequest("give lon and lat, or x, y and crs, not both") }
            guard (-180...180).contains(lon), (-90...90).contains(lat) else {
                throw Problem.badRequest("the point \(lon), \(lat) is outside longitude −180…180 / latitude −90…90")
            }
            (point, crs) = (Coordinate(lon, lat), .wgs84)
        } else if let x = try request.double("x"), let y = try request.double("y") {
            (point, crs) = (Coordinate(x, y), try CRS.resolve(request.query("crs") ?? "vn2000"))
        } else {
            throw Problem.badRequest("give lon and lat (WGS 84), or x (easting), y (northing) and crs (default vn2000)")
        }
        let asOf = try request.asOf()
        var result = try await state.lookups.borrow { try await $0.at(point, in: crs, asOf: asOf) }
        // `on`: the day whose unit `admin` names (SPEC §10), when not the data's own date.
        if let on = request.query("on") {
            guard let day = Reform.day(parsing: on) else { throw Problem.badRequest("'on' must be a date (2025-06-30) or an RFC 3339 date-time, not '\(on)'") }
            result.choose(on: day)
        }
        // A layer the caller may not read answers as if it were empty: a restricted zoning
        // plan is not revealed by the lookup, nor is its existence.
        var access = [String: LayerAccess]()
        var hidden = [String: HiddenProperties]()
        let schemas = try state.store.schemas(of: ["parcels", "zoning", "admin"]).schemas
        for name in ["parcels", "zoning", "admin"] {
            guard let schema = schemas[name] else { continue }
            access[name] = state.access(schema, for: identity)
            hidden[name] = state.hiddenFields(schema, for: identity)
        }
        if access["parcels"]?.canRead != true { result.parcel = nil; result.parcelAreaM2 = nil }
        if access["zoning"]?.canRead != true { result.zoning = [] }
        if access["admin"]?.canRead != true { result.admin = nil; result.adminBeforeReform = nil; result.adminUnits = [] }
        state.served.add((result.parcel == nil ? 0 : 1) + result.zoning.count, to: identity)
        let versions = result.dataVersions
        let audience = ["parcels", "zoning", "admin"].map { access[$0]?.audience ?? "none" }.joined(separator: ",")
        // The ETag shows data versions: an unreadable layer's is not the caller's to know.
        let etag = Reply.etag(versions: ["parcels", "zoning", "admin"].map { access[$0]?.canRead == true ? versions[$0] ?? 0 : 0 },
                              request.uri.query ?? "", audience)
        return Reply.json(result.json(hiding: { hidden[$0] ?? .nothing }), cache: "public, max-age=60", etag: etag)
    }

    func byKey(_ request: Request, _ identity: Identity?) throws -> Response {
        var filters = [String: JSONValue]()
        if let ward = request.query("ward") { filters["ward_code"] = .string(ward) }
        if let sheet = request.query("sheet") {
            guard let s = Int64(sheet) else { throw Problem.badRequest("'sheet' must be a whole number, not '\(sheet)'") }
            filters["sheet"] = .integer(s)
        }
        if let number = request.query("number") {
            guard let n = Int64(number) else { throw Problem.badRequest("'number' must be a whole number, not '\(number)'") }
            filters["number"] = .integer(n)
        }
        guard !filters.isEmpty else { throw Problem.badRequest("give ward, sheet and/or number") }
        let schema = try state.readable("parcels", for: identity, what: "layer")
        let limit = try request.int("limit", default: 100, range: 1...10_000)
        let found = try state.store.features(layer: "parcels", matching: filters, asOf: request.asOf(), limit: limit, offset: 0)
        let hidden = state.hiddenFields(schema, for: identity)
        let geos = try GeosContext()
        state.served.add(found.count, to: identity)
        return Reply.json(.object([
            "type": "FeatureCollection",
            "features": .array(try found.map { try Self.withLabelPoint($0.geoJSON(hiding: hidden), $0, geos) }),
            "numberReturned": .integer(Int64(found.count)),
        ]), contentType: "application/geo+json")
    }

    /// A parcel's GeoJSON with `label_point`, [lon, lat]: the point furthest inside it, where
    /// its label stands in tiles and where `/parcels/at` finds this parcel (the web map's search
    /// opens it there; its box centre may lie in a neighbour).
    static func withLabelPoint(_ json: JSONValue, _ parcel: Feature, _ geos: GeosContext) throws -> JSONValue {
        guard var object = json.objectValue, let g = parcel.geometry, let p = try geos.geometry(g).labelPoint() else { return json }
        object["label_point"] = .array([.number(p.x), .number(p.y)])
        return .object(object)
    }

    func history(_ request: Request, _ id: String, _ identity: Identity?) throws -> Response {
        guard let schema = try? state.readable("parcels", for: identity, what: "layer") else { throw Problem.notFound("no parcel '\(id)' has ever existed") }
        let versions = try state.store.history(layer: "parcels", id: id)
        guard !versions.isEmpty else { throw Problem.notFound("no parcel '\(id)' has ever existed") }
        state.served.add(versions.count, to: identity)
        let hidden = state.hiddenFields(schema, for: identity)
        // Who wrote and who proposed each version names people's tokens: token holders only.
        let batches = state.access(schema, for: identity).seesPrivate ? try state.store.batches(ids: Array(Set(versions.map(\.batchID)))) : [:]
        let f = ISO8601DateFormatter()
        return Reply.json(.object([
            "id": .string(id),
            "versions": .array(versions.map { v in
                .object([
                    "version": .integer(Int64(v.version)),
                    "valid_from": .string(f.string(from: v.validFrom)),
                    "valid_to": v.validTo.map { .string(f.string(from: $0)) } ?? .null,
                    "batch_id": .integer(v.batchID),
                    "deleted": .bool(v.endedByDeletion),
                    "feature": v.feature.geoJSON(hiding: hidden),
                ].merging(batches[v.batchID].map { b in
                    ["written_by": .string(b.actor), "proposed_by": b.proposer.map { .string($0) } ?? .null]
                } ?? [:]) { a, _ in a })
            }),
        ]))
    }
}
