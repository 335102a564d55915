import Features
import Foundation
import Geometry
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Store
import Synchronization

/// LandMap's second backend (SPEC §7): layers as ordinary PostGIS tables that QGIS and
/// `ogrinfo PG:` open as they are, LandMap's own tables beside them, the same protocols and
/// answers as `GeoPackageStore`.
///
/// Every method blocks its caller while a private event loop talks to the server; batches
/// are one transaction each, serialised across processes by an advisory lock.
public final class PostGISStore: FeatureStore {
    public let url: PostgresURL
    /// The streaming replica reads go to (`--read-db`), if any.
    public let readURL: PostgresURL?
    let group: MultiThreadedEventLoopGroup
    /// The primary's connections: every write, and reads that must see the latest commit.
    let pool: ConnectionPool
    /// Where reads go: the replica when there is one and it answers, else the primary.
    let reads: ReadRouting
    let catalog = Mutex<[String: (table: LayerTable, dataVersion: Int64)]>([:])
    let versions: DataVersionCache
    /// The `admin` layer's search documents (`UnitDocuments`).
    let units = UnitDocuments()
    public let engineVersion: String

    /// Connects (5 s at most), checks that the server takes writes, makes sure PostGIS is
    /// installed and runs the migrations this binary knows. With `readURL`, reads go to that
    /// streaming replica of the same database (SPEC §7); a replica that cannot be reached
    /// now is tried again later, and reads go to the primary meanwhile.
    public convenience init(url text: String, readURL: String? = nil, maxConnections: Int = 8) throws {
        try self.init(url: try PostgresURL(text), readURL: try readURL.map(PostgresURL.init), maxConnections: maxConnections)
    }

    public convenience init(url: PostgresURL, readURL: PostgresURL? = nil, maxConnections: Int = 8, connectTimeout: Duration = .seconds(5)) throws {
        try self.init(url: url, readURL: readURL, maxConnections: maxConnections, connectTimeout: connectTimeout, sharesInvalidation: true)
    }

    /// `sharesInvalidation: false` makes the store learn of other stores' commits only as
    /// another process would, through LISTEN/NOTIFY (for tests).
    init(url: PostgresURL, readURL: PostgresURL? = nil, maxConnections: Int, connectTimeout: Duration, sharesInvalidation: Bool) throws {
        self.url = url
        self.readURL = readURL
        var logger = Logger(label: "landmap.postgis")
        logger.logLevel = .critical
        // Two threads: a server's lookup workers decode rows in parallel; more buy nothing.
        group = MultiThreadedEventLoopGroup(numberOfThreads: min(2, System.coreCount))
        pool = ConnectionPool(url: url, maxConnections: maxConnections, group: group, connectTimeout: TimeAmount(connectTimeout), logger: logger)
        let replica = readURL.map { [group] in
            ConnectionPool(url: $0, maxConnections: maxConnections, group: group, connectTimeout: TimeAmount(connectTimeout), logger: logger)
        }
        reads = ReadRouting(primary: pool, replica: replica)
        do {
            engineVersion = try pool.with { s in
                let standby = try s.query("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
                if let r = standby.first?.makeRandomAccess(), try r[0].decode(Bool.self) || (try r.string(1)) == "on" {
                    throw PostGISError.readOnly(database: url.database)
                }
                try Migrations.run(s, database: url.database)
                // A log from before the hash chain is sealed once, so an upgraded database verifies.
                try ConnectionPool.transaction(s, ConnectionPool.write) { s in
                    try Self.lockAudit(s)
                    try Self.sealAuditLog(s)
                }
                let pg = try s.query("SHOW server_version").scalar(String.self) ?? "?"
                let gis = try s.query("SELECT extversion FROM pg_extension WHERE extname = 'postgis'").scalar(String.self) ?? "?"
                return "PostgreSQL \(pg.split(separator: " ").first.map(String.init) ?? pg), PostGIS \(gis)"
            }
            if let replica, let readURL { try Self.checkReplica(replica, primary: pool, readURL, routing: reads) }
            versions = DataVersionCache(routing: reads, shared: sharesInvalidation)
        } catch {
            replica?.close()
            pool.close()
            group.shutdownGracefully { _ in }
            throw error
        }
    }

    /// A replica must be a copy of the primary's cluster (the same system identifier: a replica
    /// made from it with `pg_basebackup`) holding this database at this binary's schema (waited
    /// for up to 10 s after the primary ran new migrations). One that cannot be reached is not an
    /// error at start (a node restarted while its replica is down serves from the primary); one
    /// that answers as another cluster, or without the database, is.
    static func checkReplica(_ replica: ConnectionPool, primary pool: ConnectionPool, _ readURL: PostgresURL, routing: ReadRouting) throws {
        let primary = pool.url
        let identity = "SELECT system_identifier::text FROM pg_control_system()"
        // Readable by superusers and pg_monitor members; without the right, the check is skipped.
        let primaryID = try pool.with { s in (try? s.query(identity).scalar(String.self)) ?? nil }
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                let (replicaID, applied) = try replica.with { s -> (String?, Int64) in
                    let id = (try? s.query(identity).scalar(String.self)) ?? nil
                    let exists = try s.query("SELECT to_regclass('public.landmap_migrations') IS NOT NULL").scalar(Bool.self) ?? false
                    guard exists else { return (id, 0) }
                    return (id, try s.query("SELECT coalesce(max(version), 0)::bigint FROM landmap_migrations").scalar(Int64.self) ?? 0)
                }
                if let primaryID, let replicaID, replicaID != primaryID {
                    throw PostGISError.badURL("--read-db \(readURL) is not a replica of \(primary.description): it is another PostgreSQL cluster (make the replica with pg_basebackup from the primary)")
                }
                if applied >= Int64(Migrations.latest) { return }
                guard ContinuousClock.now < deadline else {
                    throw PostGISError.badURL("--read-db \(readURL) lags \(primary.description): it has LandMap schema version \(applied), the primary \(Migrations.latest) (is replication running?)")
                }
                Thread.sleep(forTimeInterval: 0.05)
            } catch PostGISError.noDatabase(let database, _) {
                throw PostGISError.badURL("--read-db \(readURL) has no database '\(database)': name the database the primary's --db names (a replica holds all of the primary's databases)")
            } catch where ReadRouting.unavailable(error) {
                routing.markDown(.replica)
                return
            }
        }
    }

    /// Closes the connections and lets the event loop go, without waiting for it (the last
    /// reference may be dropped anywhere, and waiting on a loop from that loop would deadlock).
    deinit {
        versions.stop()
        pool.close()
        reads.replica?.close()
        group.shutdownGracefully { _ in }
    }

    public var displayLocation: String { url.description }

    // MARK: Layers

    public func createLayer(_ schema: LayerSchema) throws {
        try pool.transaction { s in
            try self.lockWrites(s)
            _ = try self.ensureLayer(s, schema)
        }
    }

    /// Every change takes this one lock, in this process and any other, until it commits.
    /// Waits up to the session's `lock_timeout` (2 minutes) for the batch before it, then fails
    /// cleanly: nothing of this write has been done.
    func lockWrites(_ s: PGSession) throws {
        do {
            try s.execute("SELECT pg_advisory_xact_lock(\(Migrations.writeLock))")
        } catch where PostGISError.sqlState(of: error) == "55P03" {
            throw PostGISError.busy("another write to \(url.database) (an import, from this or another machine) held the write lock for 2 minutes; nothing was written")
        }
    }

    /// The stored schema of a layer, creating the layer first when asked for a new one.
    func ensureLayer(_ s: PGSession, _ schema: LayerSchema) throws -> LayerSchema {
        guard LayerSchema.isValidName(schema.name) else { throw StoreError.invalidLayerName(schema.name) }
        if let stored = try storedEntry(s, schema.name) { return stored.schema }
        var b = Binds()
        let exists = try s.query("SELECT to_regclass(\(b.add("public." + LayerTable.quoted(schema.name)))) IS NOT NULL", b.bindings).scalar(Bool.self) ?? false
        if exists { throw PostGISError.foreignTable(database: url.database, table: schema.name) }
        for statement in LayerTable(schema).create { try s.execute(statement) }
        b = Binds()
        try s.execute("INSERT INTO landmap_layers (name, schema_json) VALUES (\(b.add(schema.name)), \(b.add(schema.storedJSON)))", b.bindings)
        try notify(s, schema.name)
        return schema
    }

    /// Tells every store on this database (LISTEN `landmap_data`) that a layer changed; sent
    /// when the transaction commits, never for one rolled back.
    func notify(_ s: PGSession, _ layer: String) throws {
        var b = Binds()
        try s.execute("SELECT pg_notify('landmap_data', \(b.add(layer)))", b.bindings)
    }

    func storedEntry(_ s: PGSession, _ name: String) throws -> (schema: LayerSchema, dataVersion: Int64)? {
        var b = Binds()
        guard let r = try s.query("SELECT schema_json, metadata_json, data_version FROM landmap_layers WHERE name = \(b.add(name))", b.bindings)
            .first?.makeRandomAccess() else { return nil }
        return (try LayerSchema.fromStored(name: name, json: try r.string(0), metadata: try r.string(1)), try r.int64(2))
    }

    /// The layer's table and SQL, from the catalog or read once. Its schema's metadata may be
    /// older than the database's: callers that need it use `schema(of:)`.
    func layerTable(_ s: PGSession, _ name: String) throws -> LayerTable {
        if let known = catalog.withLock({ $0[name] }) { return known.table }
        guard let stored = try storedEntry(s, name) else { throw StoreError.unknownLayer(name) }
        let table = LayerTable(stored.schema)
        catalog.withLock { $0[name] = (table, stored.dataVersion) }
        return table
    }

    public func layers() throws -> [LayerInfo] {
        try read(snapshot: true) { s in
            let names = try s.query("SELECT name FROM landmap_layers ORDER BY name").map { try $0.makeRandomAccess().string(0) }
            return try names.compactMap { try self.info(s, $0) }
        }
    }

    public func layer(_ name: String) throws -> LayerInfo? {
        try read(snapshot: true) { s in try self.info(s, name) }
    }

    func info(_ s: PGSession, _ name: String) throws -> LayerInfo? {
        var b = Binds()
        guard let r = try s.query("""
            SELECT schema_json, metadata_json, data_version, geometry_types, last_change, source_fields, largest_area,
              min_x, min_y, max_x, max_y FROM landmap_layers WHERE name = \(b.add(name))
            """, b.bindings).first?.makeRandomAccess() else { return nil }
        let schema = try LayerSchema.fromStored(name: name, json: try r.string(0), metadata: try r.string(1))
        let count = try s.query("SELECT count(*) FROM \(LayerTable(schema).table)").scalar(Int64.self) ?? 0
        var extent: BoundingBox?
        if count > 0, let minX = try r.optionalDouble(7), let minY = try r.optionalDouble(8), let maxX = try r.optionalDouble(9),
           let maxY = try r.optionalDouble(10) {
            extent = BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
        }
        let types = (try? JSONValue.parse(try r.string(3)))?.arrayValue?.compactMap(\.stringValue) ?? []
        return LayerInfo(schema: schema, featureCount: Int(count), extent: extent, geometryTypes: types.sorted(),
                         lastChange: try r.optionalString(4).flatMap(Timestamp.date), dataVersion: try r.int64(2),
                         sourceFields: Self.sourceFields(fromJSON: try r.string(5)), largestArea: try r.optionalDouble(6))
    }

    /// From the catalog while the layer's data version is the one its entry was read at.
    public func schema(of layer: String) throws -> LayerSchema? {
        guard let version = try versions.versions()[layer] else { return nil }
        if let known = catalog.withLock({ $0[layer] }), known.dataVersion == version { return known.table.schema }
        return try read(snapshot: false) { s in
            guard let stored = try self.storedEntry(s, layer) else { return nil }
            self.catalog.withLock { $0[layer] = (LayerTable(stored.schema), stored.dataVersion) }
            return stored.schema
        }
    }

    public func setMetadata(_ metadata: LayerMetadata, of layer: String, actor: String) throws {
        try pool.transaction { s in
            try self.lockWrites(s)
            var b = Binds()
            let changed = try s.execute("""
                UPDATE landmap_layers SET metadata_json = \(b.add(metadata.json.jsonText)), data_version = data_version + 1
                WHERE name = \(b.add(layer))
                """, b.bindings)
            guard changed > 0 else { throw StoreError.unknownLayer(layer) }
            try Self.appendAudit(s, actor: actor, action: "layer.set", target: layer,
                                 detail: metadata.auditText)
            // Fields made private leave the search index; fields made public enter it.
            try Self.rebuildSearch(s, layer: layer)
            try self.notify(s, layer)
        }
        versions.invalidateAll()
    }

    public func sourceFields(of layer: String) throws -> [String: SourceFieldType] {
        try read(snapshot: false) { s in
            var b = Binds()
            return Self.sourceFields(fromJSON: try s.query("SELECT source_fields FROM landmap_layers WHERE name = \(b.add(layer))", b.bindings)
                .scalar(String.self))
        }
    }

    public func dataVersions() throws -> [String: Int64] {
        try versions.versions()
    }

    /// Where a snapshot goes now, with the cached data versions that key it — nil when they
    /// must be read in the snapshot itself (a caller that must see the latest commit).
    func readTarget() throws -> (endpoint: Endpoint, versions: [String: Int64]?) {
        if reads.replica != nil, ReadConsistency.latest { return (.primary, nil) }
        let cached = try versions.current()
        return (cached.source, cached.versions)
    }

    /// Where a read goes now: the primary for a caller that must see the latest commit, else
    /// the server the cached data versions came from.
    func readEndpoint() throws -> Endpoint {
        guard reads.replica != nil, !ReadConsistency.latest else { return .primary }
        return try versions.current().source
    }

    /// Runs a read where `readEndpoint()` says, on the other server when that one cannot
    /// answer; in one REPEATABLE READ snapshot when it takes several statements.
    func read<T>(snapshot: Bool, _ body: (PGSession) throws -> T) throws -> T {
        try reads.run(try readEndpoint(), onFailover: { versions.invalidate() }) { pool, _, _ in
            try pool.read(snapshot: snapshot, body)
        }
    }

    static func sourceFieldsJSON(_ fields: [String: SourceFieldType]) -> String {
        JSONValue.object(fields.mapValues { .string($0.rawValue) }).jsonText
    }

    static func sourceFields(fromJSON text: String?) -> [String: SourceFieldType] {
        guard let text, let object = (try? JSONValue.parse(text))?.objectValue else { return [:] }
        return object.compactMapValues { $0.stringValue.flatMap(SourceFieldType.init(rawValue:)) }
    }

    /// Each layer's data version, read now.
    static func readDataVersions(_ s: PGSession) throws -> [String: Int64] {
        var out = [String: Int64]()
        for row in try s.query("SELECT name, data_version FROM landmap_layers") {
            let r = row.makeRandomAccess()
            out[try r.string(0)] = try r.int64(1)
        }
        return out
    }
}
