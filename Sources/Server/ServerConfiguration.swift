import Foundation
import Import

/// What an operator may tune on `landmap serve`; every field has the default of SPEC §5.
public struct ServerConfiguration: Sendable {
    /// Lookup actors (each with its own GEOS context and PROJ transformers).
    public var lookupWorkers = ProcessInfo.processInfo.activeProcessorCount * 2
    /// Threads that read and write connections (NIO event loops). Requests are answered on
    /// Swift's own threads, one per core, so half the cores is enough: with one loop per core
    /// as well, the threads traded places on the cores under load, and the tail grew (items
    /// pages at 1 M parcels on two cores, `wrk -t2 -c4`: p99 7.8–10 ms with two loops, 4.9–5.4
    /// ms with one; lookups 2.8–3.0 ms and 2.2–2.6 ms).
    public var eventLoops = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
    /// Bytes of rendered tiles kept in memory.
    public var tileCacheBytes = 64 << 20
    /// The largest upload `POST /imports` takes (SPEC §5: 256 MiB).
    public var maxBodyBytes = 256 << 20
    /// The largest single-feature body of a Part 4 write.
    public var maxFeatureBodyBytes = 16 << 20
    /// How long a request may run before it is answered 503 and cancelled (SPEC §5: 30 s).
    public var requestTimeout = Duration.seconds(30)
    /// Features with more vertices are refused in uploads and Part 4 writes (SPEC §5).
    public var maxVertices = ImportOptions.defaultMaxVertices
    /// How long a connection may sit idle, or take to send its request headers, before it is
    /// closed (SPEC §5: 60 s), so idle sockets cannot use up the process's descriptors.
    public var idleTimeout = Duration.seconds(60)
    /// Where `GET /downloads/…` keeps the files it makes: nil for the default, beside a
    /// GeoPackage (`landmap.gpkg.downloads/`) or, for PostgreSQL, in the temporary folder
    /// (`landmap-downloads-<hash of the database URL>`).
    public var downloadCacheFolder: String?
    /// The most bytes of download files kept (the newest is kept even when larger).
    public var downloadCacheBytes = 2 << 30
    /// A raster basemap drawn under the layers; none by default, so the web map works offline.
    public var basemap: Basemap?
    /// Requests-per-minute limits (SPEC §12). Off here, so in-process tests and embedders opt
    /// in; `landmap serve` turns the anonymous limit on with `RateLimits.serveDefault`.
    public var rateLimits = RateLimits()

    public init() {}

    /// An XYZ raster tile source, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`.
    public struct Basemap: Sendable {
        public var url: String
        public var attribution: String
        public var maxZoom: Int

        public init(url: String, attribution: String = "", maxZoom: Int = 19) {
            self.url = url
            self.attribution = attribution
            self.maxZoom = maxZoom
        }
    }
}

/// Who is limited to how many requests a minute, and whose `X-Forwarded-For` is believed.
/// `/health` and `/metrics` are never limited (monitoring must see an overloaded node).
public struct RateLimits: Sendable {
    /// Per client address (IPv6 per /64) for callers without a token; nil: not limited.
    public var anonymous: Int?
    /// Per token, for tokens without a limit of their own (`token create --rate-limit`, which
    /// applies whatever this is); nil: not limited.
    public var tokens: Int?
    /// Proxies whose `X-Forwarded-For` names the client (`TrustedProxies`).
    public var trustedProxies = TrustedProxies.none
    /// The most callers the limiter remembers (`RateLimiter`).
    public var capacity = 100_000
    /// The limiter's clock, monotonic nanoseconds; tests stop it so a slow machine cannot refill a bucket.
    var clock: @Sendable () -> UInt64 = RateLimiter.monotonic

    public init(anonymous: Int? = nil, tokens: Int? = nil) {
        self.anonymous = anonymous
        self.tokens = tokens
    }

    /// `landmap serve`'s anonymous limit: 6 000 a minute per address, which no one panning and
    /// zooming the web map reaches. The map has one vector source of 512-px tiles (MapLibre asks
    /// by CSS pixels, so a HiDPI screen asks no more): a 1920×1080 view is at most 5×4 = 20
    /// tiles, a 3840×2160 one 9×6 = 54. Heavy use on the 4K screen, panning a screen width
    /// every second (8 new columns × 6 = 48 tiles) while zooming a level every 2 s (a new view,
    /// 27 tiles/s), is about 75 tiles/s, 4 500 a minute; style, fonts and lookups add tens.
    /// 6 000 leaves a third of headroom on that and leaves an office of several people behind
    /// one NAT address room too; a scraper on one address is held to 100 requests/s.
    public static let serveDefaultAnonymous = 6_000

    /// Token holders are not limited unless a token or `--token-rate-limit` says so: a token is
    /// issued on purpose, named in the audit log and revocable, and its usual holders (QGIS or
    /// GDAL paging through a layer, `landmap sync`, bulk uploads) make far more requests than a
    /// browser does. Give an app token shared by many users its own `--rate-limit`.
    public static let serveDefault = RateLimits(anonymous: serveDefaultAnonymous, tokens: nil)
}
