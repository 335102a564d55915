import Foundation
import Import

/// What an operator may tune on `landmap serve`; every field has the default of SPEC §5.
public struct ServerConfiguration: Sendable {
    /// Lookup actors (each with its own GEOS context and PROJ transformers).
    public var lookupWorkers = ProcessInfo.processInfo.activeProcessorCount * 2
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
