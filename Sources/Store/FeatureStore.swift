import CQL2
import Features
import Foundation
import Geometry

/// How a write batch treats features that already exist.
public enum WriteMode: String, Sendable, CaseIterable {
    /// Add new features; an id that exists already fails the whole batch.
    case append
    /// The batch becomes the layer: features not in it are deleted (their versions kept).
    case replace
    /// Insert new ids, update existing ones where something changed.
    case upsert
}

/// Who writes what, for the batch record and the history.
public struct BatchRequest: Sendable {
    public var layer: String
    public var mode: WriteMode
    /// Where the features came from: a file name, `api`, …
    public var source: String
    /// Who asked: `cli:<user>`, a token's name, …
    public var actor: String
    /// The actor's unit, for the audit entry of the batch; empty when none.
    public var unit: String
    /// Who proposed what this batch writes, when it applies an approved proposal: kept in the
    /// batch record, so the history names proposer and approver (`actor`).
    public var proposer: String?
    /// The proposal this batch applies: the store marks it approved (by `actor`, with this
    /// batch's id) inside the batch's transaction, and throws `StoreError.changeNotPending`,
    /// writing nothing, when it is not pending any more.
    public var approves: Int64?

    public init(layer: String, mode: WriteMode, source: String, actor: String, unit: String = "", proposer: String? = nil, approves: Int64? = nil) {
        self.layer = layer
        self.mode = mode
        self.source = source
        self.actor = actor
        self.unit = unit
        self.proposer = proposer
        self.approves = approves
    }
}

/// What a committed batch did.
public struct BatchSummary: Hashable, Sendable {
    public var batchID: Int64
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var deleted = 0
    /// The layer's data version after the batch (unchanged when the batch changed nothing).
    public var dataVersion: Int64 = 0

    public init(batchID: Int64) {
        self.batchID = batchID
    }
}

/// Receives the features of one batch, inside its transaction.
public protocol FeatureBatchWriter {
    /// Adds or updates a feature according to the batch's mode.
    func put(_ feature: Feature) throws
    /// Deletes a feature (its last version is kept in the history). Returns false if absent.
    @discardableResult func delete(id: String) throws -> Bool
    /// Ids and geometries of the features whose bounding boxes intersect `box`, as this batch
    /// has left the layer so far (for the import's overlap check). In replace mode that is only
    /// what the batch has written: the rest is about to be deleted. A geometry is decoded only
    /// when `keep` accepts the neighbour's bounding box.
    func geometries(intersecting box: BoundingBox, keep: (BoundingBox) -> Bool) throws -> [(id: String, geometry: Geometry)]
    /// The present version of a feature as this batch sees it (to check an `If-Match` inside
    /// the transaction that writes); nil if absent.
    func revision(id: String) throws -> FeatureRevision?
}

/// Which version of a feature is the present one: what an item's `ETag` names.
public struct FeatureRevision: Hashable, Sendable {
    public var version: Int
    /// When this version began (ISO 8601, milliseconds): tells a re-created id from the old one.
    public var validFrom: String

    public init(version: Int, validFrom: String) {
        self.version = version
        self.validFrom = validFrom
    }

    /// A short stable token for ETags: `v3.k2x9…`.
    public var tag: String {
        var hasher = FNV1a()
        hasher.add(validFrom)
        return "v\(version).\(String(hasher.value, radix: 36))"
    }
}

/// One version of a feature: the present one has no `validTo`.
public struct FeatureVersion: Hashable, Sendable {
    public var version: Int
    public var feature: Feature
    public var validFrom: Date
    public var validTo: Date?
    /// The batch that wrote this version.
    public var batchID: Int64
    /// True when this version ended because the feature was deleted.
    public var endedByDeletion: Bool

    public init(version: Int, feature: Feature, validFrom: Date, validTo: Date?, batchID: Int64, endedByDeletion: Bool) {
        self.version = version
        self.feature = feature
        self.validFrom = validFrom
        self.validTo = validTo
        self.batchID = batchID
        self.endedByDeletion = endedByDeletion
    }
}

/// The JSON type of a source field (one kept in the `properties` column, not a canonical
/// column), merged over every value the layer's batches have written: what queryables, the
/// features' schema and filters type it as.
public enum SourceFieldType: String, Hashable, Sendable {
    case integer, number, string, boolean
    /// Text that is a date (`YYYY-MM-DD`) or a timestamp (RFC 3339) in every feature that has it:
    /// a queryable of CQL2's date or timestamp type, compared as instants.
    case date, timestamp

    /// The type of one value; nil for null, which says nothing about the field.
    public init?(of value: JSONValue) {
        switch value {
        case .null: return nil
        case .integer: self = .integer
        case .number: self = .number
        case .bool: self = .boolean
        case .string(let s): self = Self.isDate(s) ? .date : Self.isTimestamp(s) ? .timestamp : .string
        default: self = .string  // arrays or objects, which clients read as text
        }
    }

    /// The type that holds both: integers widen to numbers, any other mix is text.
    public func merged(_ other: SourceFieldType) -> SourceFieldType {
        if self == other { return self }
        if Set([self, other]) == [.integer, .number] { return .number }
        return .string
    }

    /// The JSON Schema type and format clients are told of (`string` with `date`/`date-time`).
    public var jsonSchema: (type: String, format: String?) {
        switch self {
        case .date: ("string", "date")
        case .timestamp: ("string", "date-time")
        default: (rawValue, nil)
        }
    }

    private static func digits(_ b: [UInt8], _ r: Range<Int>) -> Bool {
        r.upperBound <= b.count && r.allSatisfy { (48...57).contains(b[$0]) }
    }

    /// `YYYY-MM-DD`, exactly.
    static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        return b.count == 10 && digits(b, 0..<4) && b[4] == 45 && digits(b, 5..<7) && b[7] == 45 && digits(b, 8..<10)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`: RFC 3339's date-time.
    static func isTimestamp(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 20, isDate(String(decoding: b[0..<10], as: UTF8.self)), b[10] == UInt8(ascii: "T"),
              digits(b, 11..<13), b[13] == 58, digits(b, 14..<16), b[16] == 58, digits(b, 17..<19) else { return false }
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, (48...57).contains(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        if i == b.count - 1 { return b[i] == UInt8(ascii: "Z") }
        return i == b.count - 6 && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) && digits(b, (i + 1)..<(i + 3)) && b[i + 3] == 58 && digits(b, (i + 4)..<(i + 6))
    }
}

/// A layer and its figures, as `landmap layers` shows them.
public struct LayerInfo: Hashable, Sendable {
    public var schema: LayerSchema
    public var featureCount: Int
    /// WGS 84 lon/lat; nil for an empty layer.
    public var extent: BoundingBox?
    public var geometryTypes: [String]
    public var lastChange: Date?
    /// Grows by one with every batch that changes the layer: keys caches and ETags.
    public var dataVersion: Int64
    /// The source fields its features carry beyond the canonical ones, with their types.
    public var sourceFields: [String: SourceFieldType]
    /// The area of its largest polygon in Web Mercator with the world as a 1 × 1 square (what
    /// a tile renderer sizes features by); nil when unknown or when it holds no polygon.
    public var largestArea: Double?

    public init(schema: LayerSchema, featureCount: Int, extent: BoundingBox?, geometryTypes: [String], lastChange: Date?, dataVersion: Int64,
                sourceFields: [String: SourceFieldType] = [:], largestArea: Double? = nil) {
        self.schema = schema
        self.featureCount = featureCount
        self.extent = extent
        self.geometryTypes = geometryTypes
        self.lastChange = lastChange
        self.dataVersion = dataVersion
        self.sourceFields = sourceFields
        self.largestArea = largestArea
    }

    /// The geometry type the layer truly holds, named as GeoPackage does: the one type of all
    /// its features, `GEOMETRY` when they mix (points and polygons), or the schema's own while
    /// it is empty. Polygons in a multipolygon layer count as multipolygons (promoted on write).
    public var declaredGeometryType: String {
        Self.declaredGeometryType(schema: schema, types: Set(geometryTypes))
    }

    public static func declaredGeometryType(schema: LayerSchema, types: Set<String>) -> String {
        if schema.geometryType != "GEOMETRY" || types.isEmpty { return schema.geometryType }
        return types.count == 1 ? types.first ?? "GEOMETRY" : "GEOMETRY"
    }
}

/// Storage of layers, features and their history: what the rest of LandMap depends on.
///
/// Implemented by the GeoPackage store (the embedded default) and the PostGIS one. Every
/// write is one transaction, and a reader never sees half of one. Geometries are WGS 84
/// lon/lat. Methods block the calling thread; a server calls them off its event loops.
public protocol FeatureStore: Sendable {
    /// Creates the layer if it does not exist; a no-op for an existing layer.
    func createLayer(_ schema: LayerSchema) throws

    func layers() throws -> [LayerInfo]

    /// Figures of a layer, counting its features: not for hot paths (see `schema(of:)`).
    func layer(_ name: String) throws -> LayerInfo?

    /// A layer's schema with its current metadata, cheaply (no counting); nil for an unknown layer.
    func schema(of layer: String) throws -> LayerSchema?

    /// Replaces a layer's metadata (SPEC §8's `landmap layer set`); a new data version, so
    /// nothing cached under the old metadata is served again; audited.
    func setMetadata(_ metadata: LayerMetadata, of layer: String, actor: String) throws

    /// The source fields a layer's features carry beyond its canonical fields (kept in the
    /// JSON `properties` column), with their types, as recorded at write: no feature is read.
    func sourceFields(of layer: String) throws -> [String: SourceFieldType]

    /// Runs `body` inside one write transaction: everything it puts is written, or nothing is.
    func write(_ request: BatchRequest, _ body: (any FeatureBatchWriter) throws -> Void) throws -> BatchSummary

    /// Each layer's data version, in one cheap read (for caches and ETags).
    func dataVersions() throws -> [String: Int64]

    /// The data versions and the schemas of `layers` (every layer when nil) from one look at the
    /// versions: what a request that names several layers needs, for the cost of one
    /// `schema(of:)` rather than one per layer. Unknown layers are left out of both.
    func schemas(of layers: [String]?) throws -> LayerSchemas

    /// A reader with a connection of its own, for one thread's hot path (see `FeatureReader`).
    func reader() throws -> any FeatureReader

    /// A feature by id, as it is now or as it was at `asOf`.
    func feature(layer: String, id: String, asOf: Date?) throws -> Feature?

    /// Features whose bounding boxes intersect `box`, in a stable order, now or as of a date.
    func features(layer: String, intersecting box: BoundingBox, asOf: Date?, limit: Int, offset: Int) throws -> [Feature]

    /// Features whose properties equal the given values (canonical fields use their typed,
    /// indexed columns; `id` the feature id; others the JSON properties), now or as of a date.
    func features(layer: String, matching filters: [String: JSONValue], asOf: Date?, limit: Int, offset: Int) throws -> [Feature]

    /// How many features `features(layer:matching:asOf:…)` would return without a limit.
    func count(layer: String, matching filters: [String: JSONValue], asOf: Date?) throws -> Int

    /// Present features a checked CQL2 filter selects (OGC API – Features Part 3), in the
    /// order of the other reads, paged; run in the database with bound parameters only.
    func features(layer: String, filter: CQL2Filter, limit: Int, offset: Int) throws -> [Feature]

    /// How many present features `filter` selects.
    func count(layer: String, filter: CQL2Filter) throws -> Int

    /// Calls `body` for every feature of a layer (now, or as of a date), one at a time, from one
    /// consistent snapshot: exports stream through this without holding the layer in memory.
    func forEachFeature(layer: String, asOf: Date?, _ body: (Feature) throws -> Void) throws

    /// Every version of a feature, oldest first; empty if the id never existed.
    func history(layer: String, id: String) throws -> [FeatureVersion]

    /// The present revision of a feature; nil if it does not exist.
    func revision(layer: String, id: String) throws -> FeatureRevision?

    /// The records of these batches (who wrote, from what, proposed by whom), by id; ids that
    /// name no batch are left out. For histories, which name each version's batch.
    func batches(ids: [Int64]) throws -> [Int64: BatchRecord]
}

/// Failures of the store, each saying what to do about it.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAGeoPackage(path: String, detail: String)
    case noDatabase(path: String)
    case unknownLayer(String)
    case invalidLayerName(String)
    case duplicateID(layer: String, id: String)
    /// Another present feature (`holder`) has the key (`key`: `ward_code 27484, sheet 1, number 1`).
    case duplicateKey(layer: String, id: String, key: String, holder: String)
    case wrongGeometryType(layer: String, id: String, expected: String, got: String)
    case invalidFeature(layer: String, id: String, detail: String)
    /// Something this backend or build cannot do, with what to do instead.
    case unsupported(String)
    /// A copy's target already holds LandMap data (`what`: "2 batches", "layer 'parcels'").
    case notEmpty(location: String, what: String)
    /// A proposal was decided already (`status`: approved or rejected) or does not exist.
    case changeNotPending(id: Int64, status: String)

    public var description: String {
        switch self {
        case .notAGeoPackage(let path, let detail):
            "\(path) is not a LandMap GeoPackage: \(detail)"
        case .noDatabase(let path):
            "no database at \(path): import data first (`landmap import FILE --layer L`), or pass --db / set LANDMAP_DB"
        case .unknownLayer(let name):
            "no layer named '\(name)' (see `landmap layers`)"
        case .invalidLayerName(let name):
            "'\(name)' cannot be a layer name: use lower-case letters, digits and _, starting with a letter"
        case .duplicateID(let layer, let id):
            "layer '\(layer)' already has a feature with id '\(id)' (use --mode upsert to update it)"
        case .duplicateKey(let layer, let id, let key, let holder):
            "feature '\(id)': \(key) is the key of feature '\(holder)' of layer '\(layer)' already; a key names one feature (change one of them, or delete '\(holder)')"
        case .wrongGeometryType(let layer, let id, let expected, let got):
            "feature '\(id)': layer '\(layer)' holds \(expected), not \(got)"
        case .invalidFeature(let layer, let id, let detail):
            "feature '\(id)' of layer '\(layer)': \(detail)"
        case .unsupported(let what):
            what
        case .notEmpty(let location, let what):
            "\(location) already holds LandMap data (\(what)): copy into a new GeoPackage file or an empty PostgreSQL database"
        case .changeNotPending(let id, let status):
            "change \(id) is \(status), not pending: it cannot be decided again"
        }
    }
}

/// Schemas of several layers at one data version each (`FeatureStore.schemas(of:)`).
public struct LayerSchemas: Sendable {
    public var versions: [String: Int64]
    public var schemas: [String: LayerSchema]

    public init(versions: [String: Int64], schemas: [String: LayerSchema]) {
        self.versions = versions
        self.schemas = schemas
    }
}

extension FeatureStore {
    /// One `schema(of:)` per layer: for a store whose versions are not cheaper read together.
    public func schemas(of layers: [String]?) throws -> LayerSchemas {
        let all = try dataVersions()
        var out = LayerSchemas(versions: [:], schemas: [:])
        for name in layers ?? Array(all.keys) where all[name] != nil && out.schemas[name] == nil {
            guard let schema = try schema(of: name) else { continue }
            out.schemas[name] = schema
            out.versions[name] = all[name]
        }
        return out
    }
}

extension StoreError {
    /// A key as people read it in messages: `ward_code 27484, sheet 1, number 1`.
    public static func keyText(fields: [String], values: [FieldValue]) -> String {
        zip(fields, values).map { field, value in
            let v = value.json
            return "\(field) \(v.stringValue ?? v.jsonText)"
        }.joined(separator: ", ")
    }
}
