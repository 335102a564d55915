import Features
import Foundation
import Geometry

/// A layer's record as a store keeps it, for `landmap copy`: everything but its features.
/// Timestamps stay the text every store writes (`Timestamp`, UTC, milliseconds), so a copy
/// keeps them to the millisecond with no round trip through `Date`.
public struct LayerRecord: Hashable, Sendable {
    public var name: String
    /// `LayerSchema.storedJSON` as stored.
    public var schemaJSON: String
    /// `LayerMetadata.json` as stored (`{}` for none).
    public var metadataJSON: String
    public var dataVersion: Int64
    public var geometryTypes: [String]
    public var sourceFields: [String: SourceFieldType]
    public var largestArea: Double?
    public var lastChange: String?

    public init(name: String, schemaJSON: String, metadataJSON: String, dataVersion: Int64, geometryTypes: [String],
                sourceFields: [String: SourceFieldType], largestArea: Double?, lastChange: String?) {
        self.name = name
        self.schemaJSON = schemaJSON
        self.metadataJSON = metadataJSON
        self.dataVersion = dataVersion
        self.geometryTypes = geometryTypes
        self.sourceFields = sourceFields
        self.largestArea = largestArea
        self.lastChange = lastChange
    }

    /// The schema with its metadata, as the store reads it back.
    public func schema() throws -> LayerSchema {
        try LayerSchema.fromStored(name: name, json: schemaJSON, metadata: metadataJSON)
    }
}

/// One batch as recorded: who wrote what, when, with its counts.
public struct BatchRecord: Hashable, Sendable {
    public var id: Int64
    public var layer: String
    public var mode: String
    public var source: String
    public var actor: String
    public var startedAt: String
    public var inserted: Int
    public var updated: Int
    public var unchanged: Int
    public var deleted: Int
    /// Who proposed what the batch wrote, when it applied an approved proposal (`actor` approved it).
    public var proposer: String?
    /// The layer's data version after the batch (SPEC §9's change feed cursor); nil when
    /// unknown: batches of a database made before it was kept, where it could not be rebuilt.
    public var dataVersion: Int64?

    public init(id: Int64, layer: String, mode: String, source: String, actor: String, startedAt: String,
                inserted: Int, updated: Int, unchanged: Int, deleted: Int, proposer: String? = nil, dataVersion: Int64? = nil) {
        self.id = id
        self.dataVersion = dataVersion
        self.proposer = proposer
        self.layer = layer
        self.mode = mode
        self.source = source
        self.actor = actor
        self.startedAt = startedAt
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.deleted = deleted
    }
}

/// One stored version of a feature: the present one (`validTo` nil), or a past one with the
/// batch that ended it and whether that was a deletion.
public struct VersionRecord: Hashable, Sendable {
    public var layer: String
    public var feature: Feature
    public var version: Int
    public var validFrom: String
    public var batchID: Int64
    public var validTo: String?
    public var endedByBatch: Int64?
    public var deleted: Bool

    public init(layer: String, feature: Feature, version: Int, validFrom: String, batchID: Int64,
                validTo: String? = nil, endedByBatch: Int64? = nil, deleted: Bool = false) {
        self.layer = layer
        self.feature = feature
        self.version = version
        self.validFrom = validFrom
        self.batchID = batchID
        self.validTo = validTo
        self.endedByBatch = endedByBatch
        self.deleted = deleted
    }

    public var isPresent: Bool { validTo == nil }
}

/// An API token row with its timestamps as stored.
public struct TokenRow: Hashable, Sendable {
    public var id: Int64
    public var key: String
    public var name: String
    public var role: String
    public var hash: [UInt8]
    public var createdAt: String
    public var revokedAt: String?
    public var lastUsedAt: String?
    /// `TokenScope.json` as stored (`{}` for none).
    public var scopeJSON: String
    public var expiresAt: String?
    public var lastAddress: String?
    /// Requests per minute; nil: the server's default.
    public var rateLimit: Int?

    public init(id: Int64, key: String, name: String, role: String, hash: [UInt8], createdAt: String, revokedAt: String?, lastUsedAt: String?,
                scopeJSON: String = "{}", expiresAt: String? = nil, lastAddress: String? = nil, rateLimit: Int? = nil) {
        self.id = id
        self.scopeJSON = scopeJSON
        self.expiresAt = expiresAt
        self.lastAddress = lastAddress
        self.rateLimit = rateLimit
        self.key = key
        self.name = name
        self.role = role
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }
}

/// An audit log row with its timestamp as stored.
public struct AuditRow: Hashable, Sendable {
    public var id: Int64
    public var at: String
    public var actor: String
    public var action: String
    public var target: String
    public var detail: String
    public var unit: String
    /// The hash chain (`AuditChain`): the hash of the entry before (the genesis value for the
    /// first) and of this one, lower-case hex SHA-256; nil while the entry is not sealed.
    public var prevHash: String?
    public var hash: String?

    public init(id: Int64, at: String, actor: String, action: String, target: String, detail: String, unit: String = "",
                prevHash: String? = nil, hash: String? = nil) {
        self.id = id
        self.unit = unit
        self.prevHash = prevHash
        self.hash = hash
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
    }
}

/// One thing a store holds, as `StoreTransfer.read` streams it.
public enum TransferRecord: Hashable, Sendable {
    case layer(LayerRecord)
    case batch(BatchRecord)
    case version(VersionRecord)
    case token(TokenRow)
    case audit(AuditRow)
    /// A proposal with its content and decision (`ChangeStore`).
    case change(ChangeRecord)
}

/// Receives a copy's records inside the target's one write transaction.
public protocol TransferLoader {
    func add(_ record: TransferRecord) throws
}

/// Everything a store holds, read out and loaded in whole (SPEC §7's `landmap copy`): every
/// backend implements both sides, so any two databases copy into each other. Ids, batch ids,
/// versions and timestamps are kept exactly; row keys and physical order are not.
public protocol StoreTransfer: Sendable {
    /// Streams the store's contents from one consistent snapshot, in this order: the layers
    /// (all, or those named: an unknown name is an error), their batches by id, every version
    /// of every feature layer by layer (never a whole layer in memory), then all tokens, all
    /// audit entries and all proposals (of the layers read), by id. Writes nothing.
    func read(layers: [String]?, _ body: (TransferRecord) throws -> Void) throws

    /// Runs `body` inside one write transaction and commits what it adds, or nothing. Refuses
    /// (`StoreError.notEmpty`), before `body` runs, a store that holds any batch, token or
    /// audit entry, and any layer record naming a layer the store already has. A batch may
    /// only come after its layer; versions of a layer only after its layer record. Each
    /// layer's data version, figures and extent end as the records say.
    func load(_ body: (any TransferLoader) throws -> Void) throws

    /// How many versions, present and past, each layer holds (`landmap layers --json`).
    func versionCounts() throws -> [String: Int]
}
