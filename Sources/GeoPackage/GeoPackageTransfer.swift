import Features
import Foundation
import Geometry
import GRDB
import Store

/// `landmap copy` in and out of a GeoPackage: everything read from one snapshot through
/// cursors, everything loaded in one write transaction with each layer's statements cached.
extension GeoPackageStore: StoreTransfer {
    public func read(layers wanted: [String]?, _ body: (TransferRecord) throws -> Void) throws {
        try pool.read { db in
            let all = try String.fetchAll(db, sql: "SELECT name FROM landmap_layers ORDER BY name")
            var names = all
            if let wanted {
                names = []
                for name in wanted where !names.contains(name) {
                    guard all.contains(name) else { throw StoreError.unknownLayer(name) }
                    names.append(name)
                }
            }
            for name in names {
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT schema_json, metadata_json, data_version, geometry_types, last_change, source_fields, largest_area
                    FROM landmap_layers WHERE name = ?
                    """, arguments: [name]) else { throw StoreError.unknownLayer(name) }
                let types = (try? JSONValue.parse(row[3] as String))?.arrayValue?.compactMap(\.stringValue) ?? []
                try body(.layer(LayerRecord(name: name, schemaJSON: row[0], metadataJSON: row[1], dataVersion: row[2], geometryTypes: types,
                                            sourceFields: Self.sourceFields(fromJSON: row[5]), largestArea: row[6], lastChange: row[4])))
            }
            let chosen = Set(names)
            // A source opened read-only is not upgraded: a file from before batch data versions has no column.
            let hasDataVersion = try db.columns(in: "landmap_batches").contains { $0.name == "data_version" }
            let columns = hasDataVersion ? Self.batchColumns : Self.batchColumns.replacingOccurrences(of: "data_version", with: "NULL")
            let batches = try Row.fetchCursor(db, sql: "SELECT \(columns) FROM landmap_batches ORDER BY id")
            while let r = try batches.next() {
                guard chosen.contains(r[1]) else { continue }
                try body(.batch(Self.batch(from: r)))
            }
            for name in names {
                guard let schema = try self.storedSchema(db, name) else { throw StoreError.unknownLayer(name) }
                let row = FeatureRow(schema: schema)
                let present = try Row.fetchCursor(db, sql: "SELECT \(row.selectColumns) FROM \(GeoPackageSchema.quoted(name)) ORDER BY fid")
                while let r = try present.next() {
                    let f = try row.feature(from: r)
                    try body(.version(VersionRecord(layer: name, feature: f.feature, version: f.version, validFrom: f.validFrom, batchID: f.batch)))
                }
                let past = try Row.fetchCursor(db, sql: """
                    SELECT id, geom, attributes, version, valid_from, valid_to, batch_id, ended_by_batch, deleted
                    FROM landmap_history WHERE layer = ? ORDER BY id, version
                    """, arguments: [name])
                while let r = try past.next() {
                    try body(.version(VersionRecord(layer: name, feature: try Self.historyFeature(r), version: r[3], validFrom: r[4], batchID: r[6],
                                                    validTo: r[5] as String, endedByBatch: r[7], deleted: r[8])))
                }
            }
            let tokens = try Row.fetchCursor(db, sql: """
                SELECT id, key, name, role, hash, created_at, revoked_at, last_used_at, scope_json, expires_at, last_address, rate_limit
                FROM landmap_tokens ORDER BY id
                """)
            while let r = try tokens.next() {
                let hash: Data = r[4]
                try body(.token(TokenRow(id: r[0], key: r[1], name: r[2], role: r[3], hash: [UInt8](hash), createdAt: r[5], revokedAt: r[6], lastUsedAt: r[7],
                                         scopeJSON: r[8], expiresAt: r[9], lastAddress: r[10], rateLimit: r[11])))
            }
            // With its hash chain; a source from before the chain has none (the copy is sealed when loaded).
            let hasChain = try db.columns(in: "landmap_audit").contains { $0.name == "hash" }
            let auditColumns = hasChain ? Self.auditRowColumns : "id, at, actor, action, target, detail, unit, NULL, NULL"
            let audit = try Row.fetchCursor(db, sql: "SELECT \(auditColumns) FROM landmap_audit ORDER BY id")
            while let r = try audit.next() { try body(.audit(Self.auditRow(from: r))) }
            let changes = try Row.fetchCursor(db, sql: "SELECT \(Self.changeColumns(content: true)) FROM landmap_changes ORDER BY id")
            while let r = try changes.next() {
                guard wanted == nil || chosen.contains(r[1]) else { continue }
                try body(.change(try Self.change(from: r)))
            }
        }
    }

    public func load(_ body: (any TransferLoader) throws -> Void) throws {
        try pool.write { db in
            var held = [String]()
            for (table, one, many) in [("landmap_batches", "batch", "batches"), ("landmap_tokens", "token", "tokens"),
                                       ("landmap_audit", "audit entry", "audit entries"), ("landmap_changes", "change", "changes")] {
                let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0
                if n > 0 { held.append("\(n) \(n == 1 ? one : many)") }
            }
            guard held.isEmpty else { throw StoreError.notEmpty(location: self.path, what: held.joined(separator: ", ")) }
            let loader = GeoPackageLoader(store: self, db: db)
            try body(loader)
            try loader.finish()
        }
        checkpoint()
    }

    public func versionCounts() throws -> [String: Int] {
        try pool.read { db in
            var counts = [String: Int]()
            for name in try String.fetchAll(db, sql: "SELECT name FROM landmap_layers") {
                counts[name] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(GeoPackageSchema.quoted(name))") ?? 0
            }
            for row in try Row.fetchAll(db, sql: "SELECT layer, count(*) FROM landmap_history GROUP BY layer") {
                counts[row[0], default: 0] += row[1] as Int
            }
            return counts
        }
    }
}

/// Writes a copy's records into the store's open write transaction, keeping every id,
/// version and timestamp (`StoreTransfer.load`).
final class GeoPackageLoader: TransferLoader {
    let store: GeoPackageStore
    let db: Database
    /// The layers loaded so far, with what each one's rows need.
    private var layers = [String: (record: LayerRecord, row: FeatureRow, insert: String)]()
    private var order = [String]()

    init(store: GeoPackageStore, db: Database) {
        self.store = store
        self.db = db
    }

    func add(_ record: TransferRecord) throws {
        switch record {
        case .layer(let r): try addLayer(r)
        case .batch(let b):
            try known(b.layer)
            try db.cachedStatement(sql: """
                INSERT INTO landmap_batches (id, layer, mode, source, actor, started_at, inserted, updated, unchanged, deleted, proposer, data_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [b.id, b.layer, b.mode, b.source, b.actor, b.startedAt, b.inserted, b.updated, b.unchanged, b.deleted, b.proposer,
                                         b.dataVersion])
        case .version(let v): try addVersion(v)
        case .token(let t):
            try db.cachedStatement(sql: """
                INSERT INTO landmap_tokens (id, key, name, role, hash, created_at, revoked_at, last_used_at, scope_json, expires_at, last_address, rate_limit)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [t.id, t.key, t.name, t.role, Data(t.hash), t.createdAt, t.revokedAt, t.lastUsedAt, t.scopeJSON, t.expiresAt,
                                         t.lastAddress, t.rateLimit])
        case .audit(let a):
            try db.cachedStatement(sql: "INSERT INTO landmap_audit (id, at, actor, action, target, detail, unit, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .execute(arguments: [a.id, a.at, a.actor, a.action, a.target, a.detail, a.unit, a.prevHash, a.hash])
        case .change(let c):
            try db.cachedStatement(sql: """
                INSERT INTO landmap_changes (id, layer, kind, proposer, unit, created_at, status, summary, content, decided_by, decided_at, reason, batch_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [c.id, c.layer, c.kind, c.proposer, c.unit, c.createdAt, c.status.rawValue, c.summary, c.content ?? "{}",
                                         c.decidedBy, c.decidedAt, c.reason, c.batchID])
        }
    }

    private func known(_ layer: String) throws {
        guard layers[layer] != nil else {
            throw StoreError.unsupported("the copy sent rows of layer '\(layer)' before the layer itself: nothing was written")
        }
    }

    private func addLayer(_ r: LayerRecord) throws {
        guard try store.storedSchema(db, r.name) == nil, layers[r.name] == nil else {
            throw StoreError.notEmpty(location: store.path, what: "layer '\(r.name)'")
        }
        let schema = try store.ensureLayer(db, try r.schema())
        try db.execute(sql: """
            UPDATE landmap_layers SET schema_json = ?, metadata_json = ?, data_version = ?, geometry_types = ?, last_change = ?,
              source_fields = ?, largest_area = ? WHERE name = ?
            """, arguments: [r.schemaJSON, r.metadataJSON, r.dataVersion, JSONValue.array(r.geometryTypes.sorted().map { .string($0) }).jsonText,
                             r.lastChange, GeoPackageStore.sourceFieldsJSON(r.sourceFields), r.largestArea, r.name])
        try db.execute(sql: "UPDATE gpkg_geometry_columns SET geometry_type_name = ? WHERE table_name = ?",
                       arguments: [LayerInfo.declaredGeometryType(schema: schema, types: Set(r.geometryTypes)), r.name])
        let row = FeatureRow(schema: schema)
        let columns = (["geom", "id"] + schema.fields.map(\.name) + ["properties", "lm_version", "lm_valid_from", "lm_batch"]).map(GeoPackageSchema.quoted)
        let insert = "INSERT INTO \(GeoPackageSchema.quoted(r.name)) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
        layers[r.name] = (r, row, insert)
        order.append(r.name)
    }

    private func addVersion(_ v: VersionRecord) throws {
        guard let layer = layers[v.layer] else { return try known(v.layer) }
        let blob = v.feature.geometry.map { Data(GeoPackageBinary.encode($0)) }
        guard let validTo = v.validTo else {
            let (canonical, extra) = try layer.row.columns(of: v.feature)
            var args: [DatabaseValue] = [blob?.databaseValue ?? .null, v.feature.id.databaseValue]
            args += canonical
            args += [extra?.databaseValue ?? .null, v.version.databaseValue, v.validFrom.databaseValue, v.batchID.databaseValue]
            do {
                try db.cachedStatement(sql: layer.insert).execute(arguments: StatementArguments(args))
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.duplicateID(layer: v.layer, id: v.feature.id)
            }
            return
        }
        guard let endedBy = v.endedByBatch else {
            throw StoreError.invalidFeature(layer: v.layer, id: v.feature.id, detail: "version \(v.version) ended without the batch that ended it")
        }
        let box = v.feature.geometry?.boundingBox
        try db.cachedStatement(sql: """
            INSERT INTO landmap_history (layer, id, version, valid_from, valid_to, batch_id, ended_by_batch, deleted,
              geom, attributes, min_x, min_y, max_x, max_y) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                v.layer, v.feature.id, v.version, v.validFrom, validTo, v.batchID, endedBy, v.deleted,
                blob, JSONValue.object(v.feature.properties).jsonText, box?.minX, box?.minY, box?.maxX, box?.maxY,
            ])
    }

    /// Each layer's extent from its R-tree, made exact, and its last change, as a batch leaves them.
    func finish() throws {
        // A log copied from before the hash chain is sealed here, as an upgraded file is.
        try GeoPackageStore.sealAuditLog(db)
        for name in order {
            guard let layer = layers[name] else { continue }
            let rtree = GeoPackageSchema.quoted("rtree_\(name)_geom")
            try db.execute(sql: """
                UPDATE gpkg_contents SET last_change = coalesce(?, last_change),
                  (min_x, min_y, max_x, max_y) = (SELECT min(minx), min(miny), max(maxx), max(maxy) FROM \(rtree))
                WHERE table_name = ?
                """, arguments: [layer.record.lastChange, name])
            try store.refineExtent(db, name)
            // The search index is not copied: it is made from the features copied.
            try GeoPackageStore.rebuildSearch(db, layer: name)
        }
    }
}
