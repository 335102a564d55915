import Access
import Features
import Formats
import Foundation
import Geometry
import NIOCore
import Projection
import Prometheus
import Query
import Store
import Synchronization
import Tiles

/// What every route needs: the store, the lookup workers, the metrics registry, the CRSs on
/// offer. Shared by all requests, so everything in it is `Sendable`.
public final class ServerState: Sendable {
    public let store: any LandMapStore
    let lookups: WorkerPool<LookupWorker>
    /// OGC items pages, each worker with its own read connection and GEOS context.
    let items: WorkerPool<ItemsWorker>
    public let metrics: PrometheusCollectorRegistry
    let crs: CRSCatalog
    /// Rendered MVT tiles, keyed by layers, tile, audience and data versions.
    let tiles: TileCache<CachedTile>
    /// Layers' extents and first zooms by data version: OGC API – Tiles' limits (`TileExtents`).
    let tileExtents = TileExtents()
    let started = Date()
    public let configuration: ServerConfiguration
    let tokens: AccessTokens
    let audit: AuditTrail
    /// The database's last integrity check, for `/health` and `/metrics`.
    let health: DatabaseHealth
    let refusals: [Refusal: Prometheus.Counter]
    /// The files `GET /downloads/…` serves, made once per data version and audience.
    let downloads: DownloadCache
    /// The read replica's state, for `/metrics`.
    let replication: ReplicationMetrics
    /// Features answered per caller, for `/metrics` (bulk reads).
    let served: ServedFeatures
    /// Requests per minute per caller (`RateLimits`).
    let limiter: RateLimiter
    /// `landmap_rate_limited_total{caller}`: anonymous, token.
    let rateLimited: (anonymous: Prometheus.Counter, token: Prometheus.Counter)
    /// `landmap_auth_failures_total{reason}`, by `TokenRefusal.reason`.
    let authFailures: [String: Prometheus.Counter]

    public init(store: any LandMapStore, configuration: ServerConfiguration = ServerConfiguration(),
                metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) throws {
        self.store = store
        self.configuration = configuration
        // No upload may make GDAL open the served database (see `SourcePolicy`).
        if let file = store.localFile { SourcePolicy.protect(database: file) }
        tokens = AccessTokens(store: store)
        audit = AuditTrail(store: store)
        tiles = TileCache<CachedTile>(capacityBytes: configuration.tileCacheBytes)
        lookups = try WorkerPool((0..<max(1, configuration.lookupWorkers)).map { _ in try LookupWorker(store: store) })
        let matches = MatchedKeys(), boxes = LayerBoxes(store: store)
        items = try WorkerPool((0..<max(1, configuration.lookupWorkers)).map { _ in try ItemsWorker(store: store, matches: matches, boxes: boxes) })
        self.metrics = metrics
        health = DatabaseHealth(store: store, metrics: metrics)
        replication = ReplicationMetrics(store: store, metrics: metrics)
        served = ServedFeatures(metrics: metrics)
        crs = try CRSCatalog()
        downloads = try DownloadCache(
            folder: configuration.downloadCacheFolder.map { URL(fileURLWithPath: $0) }
                ?? DownloadCache.defaultFolder(localFile: store.localFile, location: store.displayLocation),
            capacityBytes: configuration.downloadCacheBytes)
        limiter = RateLimiter(capacity: configuration.rateLimits.capacity, clock: configuration.rateLimits.clock)
        let limitedHelp = "Requests answered 429 because the caller was over its rate limit, by caller: anonymous (per address) or token"
        rateLimited = (metrics.makeCounter(name: "landmap_rate_limited_total", labels: [("caller", "anonymous")], help: limitedHelp),
                       metrics.makeCounter(name: "landmap_rate_limited_total", labels: [("caller", "token")], help: limitedHelp))
        authFailures = Dictionary(uniqueKeysWithValues: TokenRefusal.reasons.map {
            ($0, metrics.makeCounter(name: "landmap_auth_failures_total", labels: [("reason", $0)],
                                     help: "Bearer tokens refused, by reason: malformed, unknown, revoked, expired"))
        })
        refusals = Dictionary(uniqueKeysWithValues: Refusal.allCases.map {
            ($0, metrics.makeCounter(name: "landmap_refusals_total", labels: [("reason", $0.rawValue)],
                                     help: "Requests refused, by reason: unauthenticated, role, scope, stale (proposal changed since), invalid (data failed its checks), unsafe (an upload naming other files, URLs or the database)"))
        })
    }

    /// What the caller may do with a layer (`LayerAccess`: the one place SPEC §8's rules live).
    func access(_ schema: LayerSchema, for identity: Identity?) -> LayerAccess {
        LayerAccess(identity, schema)
    }

    /// The layer's schema (current metadata) when the caller may read it. A layer that does not
    /// exist and one the caller may not read get the same 404: neither reveals the other.
    func readable(_ name: String, for identity: Identity?, what: String = "collection") throws -> LayerSchema {
        try readableVersioned(name, for: identity, what: what).schema
    }

    /// `readable`, with the layer's data version read in the same look at the store (one
    /// data-version check instead of two: an items page asked both, 3 % of its time).
    func readableVersioned(_ name: String, for identity: Identity?, what: String = "collection") throws -> (schema: LayerSchema, version: Int64) {
        let known = try store.schemas(of: [name])
        guard let schema = known.schemas[name], let version = known.versions[name], LayerAccess(identity, schema).canRead else {
            throw Problem.notFound("no \(what) named '\(name)'")
        }
        return (schema, version)
    }

    /// The layers the caller may read, by name, with their schemas.
    func readableLayers(for identity: Identity?) throws -> [String: LayerSchema] {
        try store.schemas(of: nil).schemas.filter { LayerAccess(identity, $0.value).canRead }
    }

    /// The properties of a layer a caller may not see: its private ones (`LayerSchema.isPrivate`:
    /// owners' names and ids under any name, and the fields the layer marks private) unless the
    /// layer is granted to the caller's token (`LayerAccess.seesPrivate`). Every route that
    /// answers with properties or field names asks this, with a schema from `store.schema(of:)`.
    func hiddenFields(_ layer: LayerSchema, for identity: Identity?) -> HiddenProperties {
        LayerAccess(identity, layer).hidden(layer)
    }

    /// Counts a refusal by its reason (bounded: `Refusal`), for `/metrics`.
    func refused(_ reason: Refusal) {
        refusals[reason]?.increment()
    }
}

/// Why a request was refused, as `/metrics` counts them (`landmap_refusals_total{reason}`).
enum Refusal: String, CaseIterable, Sendable {
    /// No token where one is needed, or a token refused.
    case unauthenticated
    /// A token whose role is too low for what it asked.
    case role
    /// A write partly outside the token's layers or wards.
    case scope
    /// A proposal that cannot be approved: its features changed since.
    case stale
    /// A write or upload whose data failed its checks.
    case invalid
    /// An upload refused for what it would make LandMap read (`FormatError.isUnsafe`): a VRT, a
    /// path or URL inside, the server's own database, a zip slip or bomb. Rare by mistake; an
    /// attempt at the server's files when repeated.
    case unsafe
}

/// A rendered MVT tile as it is answered: the bytes, and their gzip form made once at render
/// time, so a browser's request for a cached tile costs no compression. Buffers are shared by
/// every answer, not copied.
struct CachedTile: ByteSized {
    let raw: ByteBuffer
    let gzip: ByteBuffer?
    /// Features drawn in it, counted as served at every answer (`ServedFeatures`).
    var features = 0

    var byteCount: Int { raw.readableBytes + (gzip?.readableBytes ?? 0) }
}

