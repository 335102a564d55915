import Access
import Features
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Import
import Review
import Store

/// OGC API – Features Part 4: create (`POST …/items`), replace (`PUT …/items/{id}`) and delete
/// (`DELETE …/items/{id}`), for an editor token; a contributor's become proposals (SPEC §8,
/// `202` and `/changes/{id}`), checked the same way and kept until a steward decides. Each write is one batch: a new version with
/// its actor and time, the old one kept in the history, the audit log written in the same
/// transaction. `If-Match` with an item's ETag makes the write conditional (412 when stale).
/// The body goes through the import's checks (`FeatureEditor`); `Content-Crs` names its CRS.
struct FeatureEditRoutes {
    let state: ServerState

    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    ]

    func add(to router: Router<LandMapContext>) {
        let gate = WriteGate(state: state)
        router.post("/collections/:layer/items") { request, context in
            let (who, schema, path) = try gate.authorize(context, layer: context.parameters.require("layer"), action: "creating a feature")
            return try await self.create(request, schema: schema, who, path, context)
        }
        router.put("/collections/:layer/items/:id") { request, context in
            let (who, schema, path) = try gate.authorize(context, layer: context.parameters.require("layer"), action: "replacing a feature")
            return try await self.replace(request, schema: schema, id: context.parameters.require("id"), who, path, context)
        }
        router.delete("/collections/:layer/items/:id") { request, context in
            let (who, schema, path) = try gate.authorize(context, layer: context.parameters.require("layer"), action: "deleting a feature")
            return try await self.delete(request, schema: schema, id: context.parameters.require("id"), who, path)
        }
    }

    /// What a write body says: the feature's id (if it names one), geometry and properties.
    struct Body {
        var id: String?
        var geometry: Geometry?
        var properties: [String: JSONValue]
    }

    func body(_ request: Request, _ context: LandMapContext) async throws -> (Body, CRSCatalog.Entry) {
        let limit = state.configuration.maxFeatureBodyBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw Problem(.contentTooLarge, "a feature body may be at most \(limit >> 20) MiB; send large data to POST /imports")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(Data(buffer.readableBytesView)) } catch { throw Problem.badRequest("the body is not JSON: \(error)") }
        guard json["type"]?.stringValue == "Feature" else { throw Problem.badRequest("the body must be one GeoJSON Feature (\"type\": \"Feature\")") }
        let crs: CRSCatalog.Entry
        if let header = request.headers[.contentCrs] {
            guard let entry = state.crs.entry(header.trimmingCharacters(in: CharacterSet(charactersIn: "<> "))) else {
                throw Problem.badRequest("Content-Crs '\(header)' is not offered; use one of \(state.crs.uris.joined(separator: ", "))")
            }
            crs = entry
        } else {
            crs = state.crs.entries[0]
        }
        var geometry: Geometry?
        if let g = json["geometry"], g != .null {
            do { geometry = try GeoJSONGeometry.decode(g) } catch { throw Problem.badRequest("the geometry cannot be read: \(error)") }
            if crs.swapAxes { geometry = geometry?.mapCoordinates { Coordinate($0.y, $0.x) } }
        }
        guard json["properties"] == nil || json["properties"] == .null || json["properties"]?.objectValue != nil else {
            throw Problem.badRequest("\"properties\" must be an object or null")
        }
        let id: String? = switch json["id"] {
        case .string(let s)?: s
        case .integer(let i)?: String(i)
        default: nil
        }
        return (Body(id: id, geometry: geometry, properties: json["properties"]?.objectValue ?? [:]), crs)
    }

    /// The id a new feature gets: the one it names, else the parcel's cadastral key, else a UUID.
    static func newID(_ body: Body, layer: String) -> String {
        if let id = body.id, !id.isEmpty { return id }
        let p = body.properties
        if layer == "parcels", let ward = p["ward_code"], let sheet = p["sheet"], let number = p["number"] {
            func text(_ v: JSONValue) -> String? {
                switch v {
                case .string(let s): s
                case .integer(let i): String(i)
                case .number(let d) where d == d.rounded(): String(Int64(d))
                default: nil
                }
            }
            if let w = text(ward), let s = text(sheet), let n = text(number) { return "\(w)-\(s)-\(n)" }
        }
        return UUID().uuidString.lowercased()
    }

    func create(_ request: Request, schema: LayerSchema, _ who: Identity, _ path: WriteGate.Path, _ context: LandMapContext) async throws -> Response {
        let layer = schema.name
        let (body, crs) = try await self.body(request, context)
        let id = Self.newID(body, layer: layer)
        let (feature, warnings, revision, _) = try await write(body, id: id, layer: layer, crs: crs, mode: .append, who, dryRun: path == .propose) { writer, feature in
            do { try writer.put(feature) } catch StoreError.duplicateID {
                throw Problem(.conflict, "collection '\(layer)' has a feature '\(id)' already: PUT replaces it")
            }
        }
        if path == .propose {
            return try await propose(request, Proposal(features: [feature], base: [id: nil], qa: .array(warnings.map(\.json)), source: "api"),
                                     layer: layer, kind: "create", summary: "create \(id)", who, warnings)
        }
        var headers = HTTPFields()
        headers[.location] = "\(request.baseURL)/collections/\(layer)/items/\(encodeQuery(id))"
        headers[.eTag] = Reply.itemETag(revision, "", request.baseURL, "private")
        return Reply.json(written(feature, warnings), contentType: "application/geo+json", headers: headers).with(status: .created)
    }

    func replace(_ request: Request, schema: LayerSchema, id: String, _ who: Identity, _ path: WriteGate.Path, _ context: LandMapContext) async throws -> Response {
        let layer = schema.name
        let (body, crs) = try await self.body(request, context)
        if let named = body.id, named != id { throw Problem.badRequest("the body names feature '\(named)', the path '\(id)'") }
        let condition = request.headers[.ifMatch]
        let (feature, warnings, revision, before) = try await write(body, id: id, layer: layer, crs: crs, mode: .upsert, who, dryRun: path == .propose) { writer, feature in
            let present = try writer.revision(id: id)
            guard present != nil else { throw Problem.notFound("collection '\(layer)' has no feature '\(id)': POST creates one") }
            try Self.check(condition, present)
            try writer.put(feature)
        }
        if path == .propose {
            // Based on the revision the check transaction saw (and `If-Match` was held to).
            return try await propose(request, Proposal(features: [feature], base: [id: before?.tag], qa: .array(warnings.map(\.json)), source: "api"),
                                     layer: layer, kind: "replace", summary: "replace \(id)", who, warnings)
        }
        var headers = HTTPFields()
        headers[.eTag] = Reply.itemETag(revision, "", request.baseURL, "private")
        return Reply.json(written(feature, warnings), contentType: "application/geo+json", headers: headers)
    }

    /// One write batch for a body: the import's checks, the token's wards, overlap warnings
    /// against the layer, then `put` (which checks what the route needs) inside the
    /// transaction, off the event loop. A dry run (a proposal's checks) rolls back at the end.
    /// Returns the feature as stored, the warnings, and its revisions after and before the write.
    func write(_ body: Body, id: String, layer: String, crs: CRSCatalog.Entry, mode: WriteMode, _ who: Identity, dryRun: Bool = false,
               put: @escaping @Sendable (any FeatureBatchWriter, Feature) throws -> Void) async throws -> (Feature, [Finding], FeatureRevision?, FeatureRevision?) {
        let store = state.store, maxVertices = state.configuration.maxVertices, gate = WriteGate(state: state)
        return try await Blocking.run {
            let check = try FeatureEditor(layer: layer, maxVertices: maxVertices)
            let (feature, warnings) = try check.prepare(id: id, geometry: body.geometry, properties: body.properties, crs: crs.crs)
            try gate.inScope(who, layer: layer, after: feature, replacing: mode == .upsert ? id : nil)
            var all = warnings
            var revision: FeatureRevision?, before: FeatureRevision?
            do {
                _ = try store.write(BatchRequest(layer: layer, mode: mode, source: "api", actor: who.actor, unit: who.unit)) { writer in
                    before = try writer.revision(id: id)
                    all += try check.overlaps(feature, in: writer)
                    try put(writer, feature)
                    revision = try writer.revision(id: id)
                    if dryRun { throw DryRun() }
                }
            } catch is DryRun {}
            return (feature, all, revision, before)
        }
    }

    /// Thrown inside a proposal's check transaction so that it rolls back.
    struct DryRun: Error {}

    /// Keeps a contributor's write as a pending change: `202 Accepted`, `Location: /changes/{id}`.
    func propose(_ request: Request, _ proposal: Proposal, layer: String, kind: String, summary: String, _ who: Identity, _ warnings: [Finding]) async throws -> Response {
        let store = state.store
        let change = try await Blocking.run {
            try Review(store: store).propose(proposal, layer: layer, kind: kind, summary: summary, proposer: who.actor, unit: who.unit)
        }
        return ChangeRoutes.accepted(request, change, warnings: warnings.map(\.json))
    }

    func delete(_ request: Request, schema: LayerSchema, id: String, _ who: Identity, _ path: WriteGate.Path) async throws -> Response {
        let layer = schema.name
        let condition = request.headers[.ifMatch]
        let store = state.store, gate = WriteGate(state: state)
        if path == .propose {
            let base = try await Blocking.run { () throws -> String in
                guard let present = try store.revision(layer: layer, id: id) else { throw Problem.notFound("collection '\(layer)' has no feature '\(id)'") }
                try Self.check(condition, present)
                try gate.inScope(who, layer: layer, after: nil, replacing: id)
                return present.tag
            }
            return try await propose(request, Proposal(features: [], deletions: [id], base: [id: base], source: "api"),
                                     layer: layer, kind: "delete", summary: "delete \(id)", who, [])
        }
        try await Blocking.run {
            try gate.inScope(who, layer: layer, after: nil, replacing: id)
            _ = try store.write(BatchRequest(layer: layer, mode: .upsert, source: "api", actor: who.actor, unit: who.unit)) { writer in
                let present = try writer.revision(id: id)
                guard present != nil else { throw Problem.notFound("collection '\(layer)' has no feature '\(id)'") }
                try Self.check(condition, present)
                try writer.delete(id: id)
            }
        }
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    /// 412 when `If-Match` names another revision than the present one.
    static func check(_ condition: String?, _ present: FeatureRevision?) throws {
        guard let condition else { return }
        guard Reply.ifMatch(condition, present) else {
            throw Problem(.preconditionFailed, "the feature has changed since the ETag \(condition) was read: GET it again, then retry")
        }
    }

    /// The stored feature (with its computed area) and the import's warnings about it.
    func written(_ feature: Feature, _ warnings: [Finding]) -> JSONValue {
        guard case .object(var body) = feature.geoJSON() else { return feature.geoJSON() }
        body["warnings"] = .array(warnings.map(\.json))
        return .object(body)
    }
}

extension Response {
    func with(status: HTTPResponse.Status) -> Response {
        var r = self
        r.status = status
        return r
    }
}
