import Features
import Foundation
import Geometry
import GRDB
import Store
import Synchronization

/// The embedded store: one GeoPackage 1.3 file that GDAL and QGIS open as it is.
///
/// Feature tables carry the canonical properties as columns, other source fields as JSON in
/// `properties`, and GeoPackage's R-tree index. Beside them: `landmap_layers` (schema, data
/// version), `landmap_batches` and `landmap_history`. GRDB's `DatabasePool` runs in WAL mode:
/// readers run concurrently and see only committed batches; writes are serialised.
public final class GeoPackageStore: FeatureStore {
    public let path: String
    let pool: DatabasePool
    let catalog = LayerCatalog()
    let versionWatch: DataVersionWatch
    /// See `checkpointPending`.
    let walBehind = Atomic<Bool>(false)
    /// The `admin` layer's search documents (`UnitDocuments`).
    let units = UnitDocuments()
    /// The search index's common words (`CommonWords`).
    let commonWords = CommonWords()

    /// Opens the file, creating it unless `create` is false. A SQLite file that holds other
    /// tables and is not a GeoPackage is refused rather than written into. `readOnly` opens an
    /// existing LandMap file without ever writing to it (no upgrade, no checkpoint): the source
    /// of `landmap copy`; its writes fail.
    public init(path: String, create: Bool = true, readOnly: Bool = false) throws {
        self.path = path
        if !create || readOnly, !FileManager.default.fileExists(atPath: path) { throw StoreError.noDatabase(path: path) }
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.readonly = readOnly
        config.prepareDatabase { db in
            SpatialFunctions.register(db)
            CQL2Functions.register(db)
            try Self.mapIntoMemory(db)
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError.notAGeoPackage(path: path, detail: "\(error)")
        }
        versionWatch = try DataVersionWatch(path: path)
        if readOnly {
            // Opened for writing once by this landmap, a file has every table and column it reads.
            let isLandMap = try pool.read { db in
                try db.tableExists("landmap_layers") && db.tableExists("landmap_audit") && db.tableExists("landmap_changes")
            }
            guard isLandMap else {
                throw StoreError.notAGeoPackage(path: path, detail: "it has no LandMap tables (a file older than its access and proposal tables: open it once with `landmap layers` first)")
            }
            return
        }
        let created = try pool.write { db in try Self.initialise(db, path: path) }
        if created {
            // GDAL checks `application_id` by reading the file's header bytes itself; in WAL
            // mode page 1 would otherwise wait in the -wal file until a later checkpoint.
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } else {
            // Pages another process left in the WAL (a large import whose last checkpoint a
            // reader held back) are copied now: while they sit there every read of every page
            // first searches the WAL's index, which made searches and lookups on a freshly
            // imported 1 M store 40 % slower until something wrote again.
            checkpoint()
        }
    }

    /// Copies the committed pages of the `-wal` file into the database file, so that the file
    /// alone is the database: a copy of `landmap.gpkg` taken after a batch holds the batch.
    /// Runs after every batch that changed data. PASSIVE, because it neither waits for readers
    /// nor blocks them (TRUNCATE and RESTART wait, up to the busy timeout, for every reader
    /// still on an older snapshot, and hold off writers meanwhile); pages such a reader still
    /// needs stay in the WAL until the next call. True when nothing is left in the WAL; never
    /// throws, since the batch is committed either way (a busy file answers false).
    @discardableResult
    public func checkpoint() -> Bool {
        let done: Bool
        if let (frames, copied) = try? pool.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) { done = copied == frames } else { done = false }
        walBehind.store(!done, ordering: .relaxed)
        return done
    }

    /// Reads the file through a memory map (up to SQLite's 2 GB limit) rather than a `pread`
    /// into each connection's 2 MB page cache per page: a search or an items page touches a few
    /// hundred scattered rows of a 1 M store, and copying each page in was most of their time.
    static func mapIntoMemory(_ db: Database) throws {
        try db.execute(sql: "PRAGMA mmap_size = 2147418112")
    }

    /// True when the last checkpoint left pages in the WAL (a reader held them); the server's
    /// health monitor then checkpoints again.
    public var checkpointPending: Bool { walBehind.load(ordering: .relaxed) }

    /// Makes an empty file a GeoPackage with LandMap's tables; true if it changed anything.
    static func initialise(_ db: Database, path: String) throws -> Bool {
        let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let hasLandMap = try db.tableExists("landmap_layers")
        if appID != GeoPackageSchema.applicationID {
            let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") ?? 0
            guard tables == 0 else {
                throw StoreError.notAGeoPackage(path: path, detail: "it is an SQLite file with other tables; give a new file name")
            }
            try db.execute(sql: "PRAGMA application_id = \(GeoPackageSchema.applicationID)")
            try db.execute(sql: "PRAGMA user_version = \(GeoPackageSchema.userVersion)")
        }
        if !hasLandMap {
            try db.execute(sql: GeoPackageSchema.core)
            try db.execute(sql: GeoPackageSchema.landmap)
        }
        if try !db.tableExists("landmap_audit") { try db.execute(sql: GeoPackageSchema.access) }
        var upgraded = false
        for added in GeoPackageSchema.addedColumns where try !db.columns(in: added.table).contains(where: { $0.name == added.column }) {
            try db.execute(sql: "ALTER TABLE \(added.table) ADD COLUMN \(added.column) \(added.declaration)")
            if added.table == "landmap_batches" && added.column == "data_version" {
                try db.execute(sql: GeoPackageSchema.backfillBatchDataVersions)
            }
            upgraded = true
        }
        if try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'landmap_history_ended'") == 0 {
            try db.execute(sql: GeoPackageSchema.changeFeedIndexes)
            upgraded = true
        }
        if try !db.tableExists("landmap_changes") {
            try db.execute(sql: GeoPackageSchema.changes)
            upgraded = true
        }
        try addLayerFigures(db)
        if try addSearchIndex(db) { upgraded = true }
        // A log from before the hash chain is sealed once, so an upgraded file verifies.
        if try sealAuditLog(db) > 0 { upgraded = true }
        try db.execute(sql: GeoPackageSchema.registeredTablesOnly)
        let listed = db.changesCount > 0
        return appID != GeoPackageSchema.applicationID || !hasLandMap || listed || upgraded
    }

    /// Files made before `landmap_layers` kept each layer's source fields and largest polygon
    /// gain the two columns, filled once from the data (later batches keep them up to date).
    static func addLayerFigures(_ db: Database) throws {
        let columns = try db.columns(in: "landmap_layers").map(\.name)
        guard !columns.contains("source_fields") else { return }
        try db.execute(sql: "ALTER TABLE landmap_layers ADD COLUMN source_fields TEXT NOT NULL DEFAULT '{}'")
        try db.execute(sql: "ALTER TABLE landmap_layers ADD COLUMN largest_area REAL")
        for name in try String.fetchAll(db, sql: "SELECT name FROM landmap_layers") {
            let q = GeoPackageSchema.quoted(name)
            var fields = [String: SourceFieldType]()
            let kinds = try Row.fetchAll(db, sql: "SELECT DISTINCT j.key, j.type FROM \(q), json_each(\(q).properties) j WHERE json_valid(\(q).properties)")
            for row in kinds {
                let key: String = row[0], kind: String = row[1]
                guard let t: SourceFieldType = switch kind {
                case "integer": .integer
                case "real": .number
                case "true", "false": .boolean
                case "null": nil
                default: .string
                } else { continue }
                fields[key] = fields[key].map { $0.merged(t) } ?? t
            }
            var largest: Double?
            let blobs = try Data.fetchCursor(db, sql: "SELECT geom FROM \(q) WHERE geom IS NOT NULL")
            while let blob = try blobs.next() {
                let g = try GeoPackageBinary.decode(blob)
                if g.isAreal { largest = max(largest ?? 0, LayerFigures.mercatorArea(g)) }
            }
            try db.execute(sql: "UPDATE landmap_layers SET source_fields = ?, largest_area = ? WHERE name = ?",
                           arguments: [Self.sourceFieldsJSON(fields), largest, name])
        }
    }

    static func sourceFieldsJSON(_ fields: [String: SourceFieldType]) -> String {
        JSONValue.object(fields.mapValues { .string($0.rawValue) }).jsonText
    }

    static func sourceFields(fromJSON text: String?) -> [String: SourceFieldType] {
        guard let text, let object = (try? JSONValue.parse(text))?.objectValue else { return [:] }
        return object.compactMapValues { $0.stringValue.flatMap(SourceFieldType.init(rawValue:)) }
    }

    // MARK: Layers

    public func createLayer(_ schema: LayerSchema) throws {
        try pool.write { db in _ = try self.ensureLayer(db, schema) }
    }

    /// The stored schema of a layer, creating the layer first when asked for a new one.
    func ensureLayer(_ db: Database, _ schema: LayerSchema) throws -> LayerSchema {
        guard LayerSchema.isValidName(schema.name) else { throw StoreError.invalidLayerName(schema.name) }
        if let stored = try storedSchema(db, schema.name) { return stored }
        if try db.tableExists(schema.name) {
            throw StoreError.notAGeoPackage(path: path, detail: "a table named '\(schema.name)' exists but is not a LandMap layer")
        }
        for (sql, args) in GeoPackageSchema.layer(schema, description: schema.title) {
            try db.execute(sql: sql, arguments: args)
        }
        try db.execute(sql: "INSERT INTO landmap_layers (name, schema_json) VALUES (?, ?)", arguments: [schema.name, schema.storedJSON])
        return schema
    }

    func storedSchema(_ db: Database, _ name: String) throws -> LayerSchema? {
        try storedEntry(db, name)?.schema
    }

    /// The stored schema with its metadata, and the data version they were read at.
    func storedEntry(_ db: Database, _ name: String) throws -> (schema: LayerSchema, dataVersion: Int64)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT schema_json, metadata_json, data_version FROM landmap_layers WHERE name = ?",
                                         arguments: [name]) else { return nil }
        return (try LayerSchema.fromStored(name: name, json: row[0], metadata: row[1]), row[2])
    }

    func requireSchema(_ db: Database, _ name: String) throws -> LayerSchema {
        try layerSQL(db, name).schema
    }

    /// The layer's SQL, from the catalog, or read once from the file. Its schema's metadata
    /// may be older than the file's: callers that need it use `schema(of:)`.
    func layerSQL(_ db: Database, _ name: String) throws -> LayerSQL {
        if let known = catalog.get(name) { return known.sql }
        guard let stored = try storedEntry(db, name) else { throw StoreError.unknownLayer(name) }
        let sql = LayerSQL(stored.schema)
        catalog.set(sql, dataVersion: stored.dataVersion)
        return sql
    }

    public func layers() throws -> [LayerInfo] {
        try pool.read { db in
            let names = try String.fetchAll(db, sql: "SELECT name FROM landmap_layers ORDER BY name")
            return try names.compactMap { try self.info(db, $0) }
        }
    }

    /// From the catalog while the layer's data version is the one its entry was read at; read
    /// again after any write or metadata change, by this process or another.
    public func schema(of layer: String) throws -> LayerSchema? {
        guard let version = try versionWatch.versions()[layer] else { return nil }
        return try schema(of: layer, at: version)
    }

    /// Every layer named from one `PRAGMA data_version` check, not one per layer (a tile of three
    /// layers, a lookup and `/health` each asked four times: 8–13 % of their answers).
    public func schemas(of layers: [String]?) throws -> LayerSchemas {
        let all = try versionWatch.versions()
        var out = LayerSchemas(versions: [:], schemas: [:])
        for name in layers ?? Array(all.keys) where out.schemas[name] == nil {
            guard let version = all[name], let schema = try schema(of: name, at: version) else { continue }
            out.schemas[name] = schema
            out.versions[name] = version
        }
        return out
    }

    private func schema(of layer: String, at version: Int64) throws -> LayerSchema? {
        if let known = catalog.get(layer), known.dataVersion == version { return known.sql.schema }
        return try pool.read { db in
            guard let stored = try self.storedEntry(db, layer) else { return nil }
            self.catalog.set(LayerSQL(stored.schema), dataVersion: stored.dataVersion)
            return stored.schema
        }
    }

    public func setMetadata(_ metadata: LayerMetadata, of layer: String, actor: String) throws {
        try pool.write { db in
            guard try self.storedSchema(db, layer) != nil else { throw StoreError.unknownLayer(layer) }
            // A new data version: cached tiles, ETags and schemas made under the old metadata
            // are keyed by the old one, in this process and any other.
            try db.execute(sql: "UPDATE landmap_layers SET metadata_json = ?, data_version = data_version + 1 WHERE name = ?",
                           arguments: [metadata.json.jsonText, layer])
            try Self.appendAudit(db, actor: actor, action: "layer.set", target: layer,
                                 detail: metadata.auditText)
            // Fields made private leave the search index; fields made public enter it.
            try Self.rebuildSearch(db, layer: layer)
        }
    }

    public func sourceFields(of layer: String) throws -> [String: SourceFieldType] {
        try pool.read { db in
            Self.sourceFields(fromJSON: try String.fetchOne(db, sql: "SELECT source_fields FROM landmap_layers WHERE name = ?", arguments: [layer]))
        }
    }

    public func layer(_ name: String) throws -> LayerInfo? {
        try pool.read { db in try self.info(db, name) }
    }

    func info(_ db: Database, _ name: String) throws -> LayerInfo? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT l.schema_json, l.data_version, l.geometry_types, l.last_change, c.min_x, c.min_y, c.max_x, c.max_y, l.metadata_json,
              l.source_fields, l.largest_area
            FROM landmap_layers l JOIN gpkg_contents c ON c.table_name = l.name WHERE l.name = ?
            """, arguments: [name]) else { return nil }
        let schema = try LayerSchema.fromStored(name: name, json: row[0], metadata: row[8])
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(GeoPackageSchema.quoted(name))") ?? 0
        var extent: BoundingBox?
        if count > 0, let minX: Double = row[4], let minY: Double = row[5], let maxX: Double = row[6], let maxY: Double = row[7] {
            extent = BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
        }
        let types = (try? JSONValue.parse(row[2] as String))?.arrayValue?.compactMap(\.stringValue) ?? []
        let last: String? = row[3]
        return LayerInfo(schema: schema, featureCount: count, extent: extent, geometryTypes: types.sorted(),
                         lastChange: last.flatMap(Timestamp.date), dataVersion: row[1],
                         sourceFields: Self.sourceFields(fromJSON: row[9]), largestArea: row[10])
    }

    // MARK: Writing

    public func write(_ request: BatchRequest, _ body: (any FeatureBatchWriter) throws -> Void) throws -> BatchSummary {
        let summary = try pool.write { db in
            let schema: LayerSchema
            if let stored = try self.storedSchema(db, request.layer) {
                schema = stored
            } else {
                schema = try self.ensureLayer(db, LayerSchema.builtIn(named: request.layer) ?? .custom(request.layer))
            }
            let timestamp = try self.nextTimestamp(db)
            try db.execute(sql: "INSERT INTO landmap_batches (layer, mode, source, actor, started_at, proposer) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [request.layer, request.mode.rawValue, request.source, request.actor, timestamp, request.proposer])
            let batchID = db.lastInsertedRowID
            // First, so a proposal decided meanwhile fails the batch before any of it is written.
            if let change = request.approves {
                try Self.approve(db, change: change, actor: request.actor, unit: request.unit, batchID: batchID, at: timestamp)
            }
            let writer = try GeoPackageBatchWriter(db: db, schema: schema, request: request, batchID: batchID, timestamp: timestamp)
            try body(writer)
            try writer.finish()
            var summary = writer.summary
            let changed = summary.inserted + summary.updated + summary.deleted > 0
            if changed {
                try self.recordChange(db, schema: schema, timestamp: timestamp, writer: writer, replace: request.mode == .replace)
            }
            summary.dataVersion = try Int64.fetchOne(db, sql: "SELECT data_version FROM landmap_layers WHERE name = ?", arguments: [schema.name]) ?? 0
            try db.execute(sql: "UPDATE landmap_batches SET inserted = ?, updated = ?, unchanged = ?, deleted = ?, data_version = ? WHERE id = ?",
                           arguments: [summary.inserted, summary.updated, summary.unchanged, summary.deleted, summary.dataVersion, batchID])
            if changed {
                try Self.appendAudit(db, actor: request.actor, unit: request.unit, action: "write", target: schema.name,
                                     detail: request.auditDetail(batchID: batchID, summary))
            }
            return summary
        }
        if summary.inserted + summary.updated + summary.deleted > 0 { checkpoint() }
        return summary
    }

    /// Strictly later than every earlier batch, so versions never share an instant.
    func nextTimestamp(_ db: Database) throws -> String {
        var now = Timestamp.string(Date())
        if let last = try String.fetchOne(db, sql: "SELECT max(started_at) FROM landmap_batches"), last >= now,
           let lastDate = Timestamp.date(last) {
            now = Timestamp.string(lastDate.addingTimeInterval(0.001))
        }
        return now
    }

    /// New data version, geometry types, source fields and largest polygon (a replace starts
    /// them afresh, other modes add to them), the geometry type GDAL and QGIS read, and the
    /// extent and last change.
    func recordChange(_ db: Database, schema: LayerSchema, timestamp: String, writer: GeoPackageBatchWriter, replace: Bool) throws {
        var all = writer.figures.geometryTypes
        var fields = writer.figures.sourceFields
        var largest = writer.figures.largestArea
        if !replace, let stored = try Row.fetchOne(db, sql: "SELECT geometry_types, source_fields, largest_area FROM landmap_layers WHERE name = ?",
                                                   arguments: [schema.name]) {
            all.formUnion((try? JSONValue.parse(stored[0] as String))?.arrayValue?.compactMap(\.stringValue) ?? [])
            fields.merge(Self.sourceFields(fromJSON: stored[1])) { $0.merged($1) }
            if let before: Double = stored[2] { largest = max(largest ?? 0, before) }
        }
        let typesJSON = JSONValue.array(all.sorted().map { .string($0) }).jsonText
        try db.execute(sql: """
            UPDATE landmap_layers SET data_version = data_version + 1, geometry_types = ?, last_change = ?, source_fields = ?, largest_area = ?
            WHERE name = ?
            """, arguments: [typesJSON, timestamp, Self.sourceFieldsJSON(fields), largest, schema.name])
        try db.execute(sql: "UPDATE gpkg_geometry_columns SET geometry_type_name = ? WHERE table_name = ?",
                       arguments: [LayerInfo.declaredGeometryType(schema: schema, types: all), schema.name])
        let rtree = GeoPackageSchema.quoted("rtree_\(schema.name)_geom")
        try db.execute(sql: """
            UPDATE gpkg_contents SET last_change = ?,
              (min_x, min_y, max_x, max_y) = (SELECT min(minx), min(miny), max(maxx), max(maxy) FROM \(rtree))
            WHERE table_name = ?
            """, arguments: [timestamp, schema.name])
        try refineExtent(db, schema.name)
    }

    /// The R-tree stores 32-bit floats rounded outwards; the extent GDAL reports should be exact.
    /// Only features touching the rounded edges can hold the true bounds, so only they are read.
    func refineExtent(_ db: Database, _ layer: String) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", arguments: [layer]),
              let minX: Double = row[0], let minY: Double = row[1], let maxX: Double = row[2], let maxY: Double = row[3] else { return }
        let q = GeoPackageSchema.quoted(layer)
        let rtree = GeoPackageSchema.quoted("rtree_\(layer)_geom")
        let slack = 1e-5 * max(1, abs(minX), abs(maxX), abs(minY), abs(maxY))
        let blobs = try Data.fetchAll(db, sql: """
            SELECT t.geom FROM \(q) t JOIN \(rtree) r ON r.id = t.fid
            WHERE r.minx <= ? OR r.miny <= ? OR r.maxx >= ? OR r.maxy >= ?
            """, arguments: [minX + slack, minY + slack, maxX - slack, maxY - slack])
        var exact: BoundingBox?
        for blob in blobs {
            guard let box = try GeoPackageBinary.envelope(blob) else { continue }
            if exact == nil { exact = box } else { exact?.expand(toInclude: box) }
        }
        guard let exact else { return }
        try db.execute(sql: "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
                       arguments: [exact.minX, exact.minY, exact.maxX, exact.maxY, layer])
    }

    // MARK: Reading

    public func revision(layer: String, id: String) throws -> FeatureRevision? {
        try pool.read { db in
            let sql = try self.layerSQL(db, layer)
            guard let current = try Row.fetchOne(db.cachedStatement(sql: sql.byID), arguments: [id]) else { return nil }
            let f = try sql.row.feature(from: current)
            return FeatureRevision(version: f.version, validFrom: f.validFrom)
        }
    }

    public func batches(ids: [Int64]) throws -> [Int64: BatchRecord] {
        guard !ids.isEmpty else { return [:] }
        return try pool.read { db in
            var out = [Int64: BatchRecord]()
            // In slices, well under SQLite's limit on bound parameters.
            for start in stride(from: 0, to: ids.count, by: 500) {
                let slice = Array(ids[start..<min(start + 500, ids.count)])
                let rows = try Row.fetchAll(db, sql: """
                    SELECT \(Self.batchColumns) FROM landmap_batches WHERE id IN (\(Array(repeating: "?", count: slice.count).joined(separator: ", ")))
                    """, arguments: StatementArguments(slice))
                for r in rows { let b = Self.batch(from: r); out[b.id] = b }
            }
            return out
        }
    }

    /// The columns `batch(from:)` reads, in order.
    static let batchColumns = "id, layer, mode, source, actor, started_at, inserted, updated, unchanged, deleted, proposer, data_version"

    static func batch(from r: Row) -> BatchRecord {
        BatchRecord(id: r[0], layer: r[1], mode: r[2], source: r[3], actor: r[4], startedAt: r[5],
                    inserted: r[6], updated: r[7], unchanged: r[8], deleted: r[9], proposer: r[10], dataVersion: r[11])
    }

    public func feature(layer: String, id: String, asOf: Date?) throws -> Feature? {
        try pool.read { db in
            let sql = try self.layerSQL(db, layer)
            let row = sql.row
            if let current = try Row.fetchOne(db.cachedStatement(sql: sql.byID), arguments: [id]) {
                let f = try row.feature(from: current)
                if asOf == nil || f.validFrom <= Timestamp.string(asOf ?? Date()) { return f.feature }
            }
            guard let asOf else { return nil }
            let t = Timestamp.string(asOf)
            guard let past = try Row.fetchOne(db, sql: """
                SELECT id, geom, attributes FROM landmap_history
                WHERE layer = ? AND id = ? AND valid_from <= ? AND valid_to > ?
                """, arguments: [layer, id, t, t]) else { return nil }
            return try Self.historyFeature(past)
        }
    }

    public func features(layer: String, intersecting box: BoundingBox, asOf: Date?, limit: Int, offset: Int) throws -> [Feature] {
        try pool.read { db in
            let sql = try self.layerSQL(db, layer)
            let row = sql.row
            let boxArgs: StatementArguments = [box.maxX, box.minX, box.maxY, box.minY]
            guard let asOf else {
                let rows = try Row.fetchAll(db.cachedStatement(sql: sql.inBox), arguments: boxArgs + [limit, offset])
                return try rows.map { try row.feature(from: $0).feature }
            }
            // As of a date: the present rows that already existed, then past versions live then.
            let t = Timestamp.string(asOf)
            var out = [Feature]()
            let current = try Row.fetchAll(db.cachedStatement(sql: sql.inBoxAsOf), arguments: boxArgs + [t])
            out += try current.map { try row.feature(from: $0).feature }
            let past = try Row.fetchAll(db, sql: """
                SELECT id, geom, attributes FROM landmap_history
                WHERE layer = ? AND valid_from <= ? AND valid_to > ?
                  AND min_x <= ? AND max_x >= ? AND min_y <= ? AND max_y >= ?
                ORDER BY id
                """, arguments: [layer, t, t] + boxArgs)
            out += try past.map(Self.historyFeature)
            out.sort { $0.id < $1.id }
            return Array(out.dropFirst(offset).prefix(limit))
        }
    }

    /// WHERE clauses for property filters on the present rows and on past versions.
    func filterClauses(_ schema: LayerSchema, _ filters: [String: JSONValue]) throws
        -> (present: [String], presentArgs: [DatabaseValue], past: [String], pastArgs: [DatabaseValue]) {
        var present = [String](), presentArgs = [DatabaseValue](), past = [String](), pastArgs = [DatabaseValue]()
        for (name, value) in filters.sorted(by: { $0.key < $1.key }) {
            if let field = schema.field(name) {
                present.append("\(GeoPackageSchema.quoted(name)) = ?")
                presentArgs.append(try FeatureRow.value(value, as: field, layer: schema.name, id: "(filter)"))
            } else if name == "id" {
                present.append("id = ?")
                presentArgs.append(value.databaseValue)
            } else {
                // Other properties live in the JSON column.
                let member = GeoPackageSchema.jsonMember("properties", name)
                present.append("\(member.sql) = ?")
                presentArgs += [member.argument.databaseValue, value.databaseValue]
            }
            let member = GeoPackageSchema.jsonMember("attributes", name)
            past.append(name == "id" ? "id = ?" : "\(member.sql) = ?")
            pastArgs += name == "id" ? [value.databaseValue] : [member.argument.databaseValue, value.databaseValue]
        }
        return (present, presentArgs, past, pastArgs)
    }

    public func features(layer: String, matching filters: [String: JSONValue], asOf: Date?, limit: Int, offset: Int) throws -> [Feature] {
        try pool.read { db in
            let sql = try self.layerSQL(db, layer)
            var (clauses, args, pastClauses, pastArgs) = try self.filterClauses(sql.schema, filters)
            let t = asOf.map(Timestamp.string)
            if let t { clauses.append("lm_valid_from <= ?"); args.append(t.databaseValue) }
            var query = "SELECT \(sql.row.selectColumns) FROM \(GeoPackageSchema.quoted(layer))"
            if !clauses.isEmpty { query += " WHERE " + clauses.joined(separator: " AND ") }
            query += " ORDER BY fid LIMIT ? OFFSET ?"
            var out = try Row.fetchAll(db, sql: query, arguments: StatementArguments(args + [limit.databaseValue, offset.databaseValue]))
                .map { try sql.row.feature(from: $0).feature }
            // As of a date, past versions follow the present rows that were already valid then.
            if let t, out.count < limit {
                let presentCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(GeoPackageSchema.quoted(layer))" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")),
                                                    arguments: StatementArguments(args)) ?? 0
                let pastOffset = max(0, offset - presentCount)
                let pastSQL = "SELECT id, geom, attributes FROM landmap_history WHERE layer = ? AND valid_from <= ? AND valid_to > ?"
                    + pastClauses.map { " AND " + $0 }.joined() + " ORDER BY id LIMIT ? OFFSET ?"
                let rows = try Row.fetchAll(db, sql: pastSQL, arguments: StatementArguments(
                    [layer.databaseValue, t.databaseValue, t.databaseValue] + pastArgs + [(limit - out.count).databaseValue, pastOffset.databaseValue]))
                out += try rows.map(Self.historyFeature)
            }
            return out
        }
    }

    public func count(layer: String, matching filters: [String: JSONValue], asOf: Date?) throws -> Int {
        try pool.read { db in
            let sql = try self.layerSQL(db, layer)
            var (clauses, args, pastClauses, pastArgs) = try self.filterClauses(sql.schema, filters)
            let t = asOf.map(Timestamp.string)
            if let t { clauses.append("lm_valid_from <= ?"); args.append(t.databaseValue) }
            var n = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(GeoPackageSchema.quoted(layer))" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")),
                                     arguments: StatementArguments(args)) ?? 0
            if let t {
                n += try Int.fetchOne(db, sql: "SELECT count(*) FROM landmap_history WHERE layer = ? AND valid_from <= ? AND valid_to > ?" + pastClauses.map { " AND " + $0 }.joined(),
                                      arguments: StatementArguments([layer.databaseValue, t.databaseValue, t.databaseValue] + pastArgs)) ?? 0
            }
            return n
        }
    }

    public func dataVersions() throws -> [String: Int64] {
        try versionWatch.versions()
    }

    public func forEachFeature(layer: String, asOf: Date?, _ body: (Feature) throws -> Void) throws {
        try pool.read { db in
            let schema = try self.requireSchema(db, layer)
            let row = FeatureRow(schema: schema)
            let q = GeoPackageSchema.quoted(layer)
            let t = asOf.map(Timestamp.string)
            let filter = t == nil ? "" : " WHERE lm_valid_from <= ?"
            let current = try Row.fetchCursor(db, sql: "SELECT \(row.selectColumns) FROM \(q)\(filter) ORDER BY fid",
                                              arguments: StatementArguments(t.map { [$0] } ?? []))
            while let r = try current.next() {
                try Deadline.check()
                try body(try row.feature(from: r).feature)
            }
            guard let t else { return }
            let past = try Row.fetchCursor(db, sql: "SELECT id, geom, attributes FROM landmap_history WHERE layer = ? AND valid_from <= ? AND valid_to > ? ORDER BY id",
                                           arguments: [layer, t, t])
            while let r = try past.next() {
                try Deadline.check()
                try body(try Self.historyFeature(r))
            }
        }
    }

    static func historyFeature(_ row: Row) throws -> Feature {
        let blob: Data? = row[1]
        let attributes = try JSONValue.parse(row[2] as String).objectValue ?? [:]
        return Feature(id: row[0], geometry: try blob.map(GeoPackageBinary.decode), properties: attributes)
    }

    public func history(layer: String, id: String) throws -> [FeatureVersion] {
        try pool.read { db in
            let schema = try self.requireSchema(db, layer)
            var versions = try Row.fetchAll(db, sql: """
                SELECT id, geom, attributes, version, valid_from, valid_to, batch_id, deleted
                FROM landmap_history WHERE layer = ? AND id = ? ORDER BY version
                """, arguments: [layer, id]).map { r in
                FeatureVersion(version: r[3], feature: try Self.historyFeature(r),
                               validFrom: Timestamp.date(r[4]) ?? .distantPast, validTo: Timestamp.date(r[5]),
                               batchID: r[6], endedByDeletion: r[7])
            }
            let row = FeatureRow(schema: schema)
            if let current = try Row.fetchOne(db, sql: "SELECT \(row.selectColumns) FROM \(GeoPackageSchema.quoted(layer)) WHERE id = ?", arguments: [id]) {
                let f = try row.feature(from: current)
                versions.append(FeatureVersion(version: f.version, feature: f.feature, validFrom: Timestamp.date(f.validFrom) ?? .distantPast,
                                               validTo: nil, batchID: f.batch, endedByDeletion: false))
            }
            return versions
        }
    }

    /// SQLite's version, for `landmap --version`.
    /// Read once per process: `/health` names the engine on every call.
    public static let sqliteVersion: String =
        (try? DatabaseQueue().read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") }).flatMap { $0 } ?? "unknown"

    /// Layers whose history holds this id (for `landmap history ID` without `--layer`).
    public func layers(containing id: String) throws -> [String] {
        try pool.read { db in
            var found = Set(try String.fetchAll(db, sql: "SELECT DISTINCT layer FROM landmap_history WHERE id = ?", arguments: [id]))
            for name in try String.fetchAll(db, sql: "SELECT name FROM landmap_layers") {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM \(GeoPackageSchema.quoted(name)) WHERE id = ?", arguments: [id]) == true {
                    found.insert(name)
                }
            }
            return found.sorted()
        }
    }
}
