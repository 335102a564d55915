import Features
import Foundation
import Geometry
import GRDB
import Store

/// Writes one batch into one layer, inside the transaction the store opened: prepared
/// statements made once per batch, old versions moved to `landmap_history`, counts kept.
final class GeoPackageBatchWriter: FeatureBatchWriter {
    let db: Database
    let schema: LayerSchema
    let request: BatchRequest
    let batchID: Int64
    let timestamp: String
    let row: FeatureRow
    private(set) var summary: BatchSummary
    /// Geometry types, source fields and largest polygon of what this batch wrote.
    private(set) var figures = BatchFigures()

    private let insert: Statement
    private let select: Statement
    private let update: Statement
    private let remove: Statement
    private let archive: Statement
    /// The last version an id had before it was deleted: a re-created id goes on from there.
    private let pastVersion: Statement
    private let touch: Statement?
    private let nearbyGeometries: Statement
    /// Another present feature with the same key (layers whose key is unique), see `checkKey`.
    private let keyHolder: Statement?
    /// Where the key fields sit in `row.columns(of:)`'s canonical values.
    private let keyPositions: [Int]
    /// The layer's search documents, written with its rows.
    private let search: GeoPackageSearchIndexer

    init(db: Database, schema: LayerSchema, request: BatchRequest, batchID: Int64, timestamp: String) throws {
        self.db = db
        self.schema = schema
        self.request = request
        self.batchID = batchID
        self.timestamp = timestamp
        self.row = FeatureRow(schema: schema)
        self.summary = BatchSummary(batchID: batchID)
        let q = GeoPackageSchema.quoted(schema.name)
        let fields = schema.fields.map { GeoPackageSchema.quoted($0.name) }
        let insertColumns = ["geom", "id"] + fields + ["properties", "lm_version", "lm_valid_from", "lm_batch"]
        insert = try db.makeStatement(sql: "INSERT INTO \(q) (\(insertColumns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: insertColumns.count).joined(separator: ", ")))")
        select = try db.makeStatement(sql: "SELECT \(row.selectColumns) FROM \(q) WHERE id = ?")
        let sets = (["geom", "properties"] + fields + ["lm_version", "lm_valid_from", "lm_batch"]).map { "\($0) = ?" }
        update = try db.makeStatement(sql: "UPDATE \(q) SET \(sets.joined(separator: ", ")) WHERE fid = ?")
        remove = try db.makeStatement(sql: "DELETE FROM \(q) WHERE fid = ?")
        archive = try db.makeStatement(sql: """
            INSERT INTO landmap_history (layer, id, version, valid_from, valid_to, batch_id, ended_by_batch, deleted,
              geom, attributes, min_x, min_y, max_x, max_y) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        pastVersion = try db.makeStatement(sql: "SELECT max(version) FROM landmap_history WHERE layer = ? AND id = ?")
        if request.mode == .replace {
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS landmap_touched (id TEXT PRIMARY KEY)")
            try db.execute(sql: "DELETE FROM temp.landmap_touched")
            touch = try db.makeStatement(sql: "INSERT OR IGNORE INTO temp.landmap_touched (id) VALUES (?)")
        } else {
            touch = nil
        }
        // In replace mode the rows the batch has not named yet are about to be deleted: what the
        // layer "is so far" is only what this batch has written.
        nearbyGeometries = try db.makeStatement(sql: """
            SELECT t.id, r.minx, r.miny, r.maxx, r.maxy, t.geom FROM \(GeoPackageSchema.quoted("rtree_\(schema.name)_geom")) r JOIN \(q) t ON t.fid = r.id
            WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?
            \(request.mode == .replace ? "AND t.id IN (SELECT id FROM temp.landmap_touched)" : "")
            """)
        keyPositions = schema.keyFields.compactMap { key in schema.fields.firstIndex { $0.name == key } }
        search = try GeoPackageSearchIndexer(db: db, schema: schema)
        if schema.keyIsUnique, keyPositions.count == schema.keyFields.count {
            // Uses the layer's key index. In replace mode, as for overlaps, only what the batch has
            // written counts: a row it has not named yet is about to be deleted, or to be named
            // later (then this check runs for that row, against this one).
            let match = schema.keyFields.map { "\(GeoPackageSchema.quoted($0)) = ?" }.joined(separator: " AND ")
            keyHolder = try db.makeStatement(sql: """
                SELECT id FROM \(q) WHERE \(match) AND id <> ?
                \(request.mode == .replace ? "AND id IN (SELECT id FROM temp.landmap_touched)" : "") LIMIT 1
                """)
        } else {
            keyHolder = nil
        }
    }

    func put(_ feature: Feature) throws {
        let geometry = try BatchFigures.storedGeometry(of: feature, in: schema)
        let blob = geometry.map { Data(GeoPackageBinary.encode($0)) }
        let (canonical, extra) = try row.columns(of: feature)
        try checkKey(feature.id, canonical)
        figures.note(feature, geometry: geometry, in: schema)

        if let touch {
            try touch.execute(arguments: [feature.id])
            if db.changesCount == 0 { throw StoreError.duplicateID(layer: schema.name, id: feature.id) }
        }
        if request.mode != .append, let old = try Row.fetchOne(select, arguments: [feature.id]) {
            let current = try row.feature(from: old)
            if request.mode == .upsert, current.batch == batchID {
                throw StoreError.duplicateID(layer: schema.name, id: feature.id)
            }
            let oldBlob: Data? = old[1]
            let oldCanonical = (0..<schema.fields.count).map { old[3 + $0] as DatabaseValue }
            let oldExtra: String? = old[3 + schema.fields.count]
            if oldBlob == blob, oldCanonical == canonical, oldExtra == extra {
                summary.unchanged += 1
                return
            }
            try archiveVersion(current.feature, version: current.version, validFrom: current.validFrom,
                               batch: current.batch, blob: oldBlob, deleted: false)
            var args: [DatabaseValue] = [blob?.databaseValue ?? .null, extra?.databaseValue ?? .null]
            args += canonical
            args += [(current.version + 1).databaseValue, timestamp.databaseValue, batchID.databaseValue, current.fid.databaseValue]
            try update.execute(arguments: StatementArguments(args))
            try search.put(feature)
            summary.updated += 1
            return
        }
        var args: [DatabaseValue] = [blob?.databaseValue ?? .null, feature.id.databaseValue]
        args += canonical
        // A re-created id continues its history's numbering: versions name one state each.
        let version = (try Int.fetchOne(pastVersion, arguments: [schema.name, feature.id]) ?? 0) + 1
        args += [extra?.databaseValue ?? .null, version.databaseValue, timestamp.databaseValue, batchID.databaseValue]
        do {
            try insert.execute(arguments: StatementArguments(args))
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.duplicateID(layer: schema.name, id: feature.id)
        }
        try search.put(feature)
        summary.inserted += 1
    }

    /// Refuses a feature whose key another present feature has (checked before anything of the
    /// feature is written, so a caller may skip it and go on). A feature missing part of its key
    /// is not keyed. Checked here rather than by a unique index: a replace batch, or a re-survey
    /// that renumbers parcels, passes through states where an old row still holds a key.
    private func checkKey(_ id: String, _ canonical: [DatabaseValue]) throws {
        guard let keyHolder else { return }
        let key = keyPositions.map { canonical[$0] }
        guard !key.contains(where: \.isNull) else { return }
        guard let holder = try String.fetchOne(keyHolder, arguments: StatementArguments(key + [id.databaseValue])) else { return }
        throw StoreError.duplicateKey(layer: schema.name, id: id, key: StoreError.keyText(fields: schema.keyFields, values: key.map(FeatureRow.fieldValue)), holder: holder)
    }

    @discardableResult
    func delete(id: String) throws -> Bool {
        guard let old = try Row.fetchOne(select, arguments: [id]) else { return false }
        try deleteRow(old)
        return true
    }

    private func deleteRow(_ old: Row) throws {
        let current = try row.feature(from: old)
        try archiveVersion(current.feature, version: current.version, validFrom: current.validFrom,
                           batch: current.batch, blob: old[1], deleted: true)
        try remove.execute(arguments: [current.fid])
        try search.delete(id: current.feature.id)
        summary.deleted += 1
    }

    private func archiveVersion(_ feature: Feature, version: Int, validFrom: String, batch: Int64, blob: Data?, deleted: Bool) throws {
        let box = feature.geometry?.boundingBox
        try archive.execute(arguments: [
            schema.name, feature.id, version, validFrom, timestamp, batch, batchID, deleted,
            blob, JSONValue.object(feature.properties).jsonText, box?.minX, box?.minY, box?.maxX, box?.maxY,
        ])
    }

    func geometries(intersecting box: BoundingBox, keep: (BoundingBox) -> Bool) throws -> [(id: String, geometry: Geometry)] {
        var out = [(id: String, geometry: Geometry)]()
        let rows = try Row.fetchCursor(nearbyGeometries, arguments: [box.maxX, box.minX, box.maxY, box.minY])
        while let row = try rows.next() {
            let candidate = BoundingBox(minX: row[1], minY: row[2], maxX: row[3], maxY: row[4])
            guard keep(candidate), let blob: Data = row[5] else { continue }
            out.append((row[0], try GeoPackageBinary.decode(blob)))
        }
        return out
    }

    func revision(id: String) throws -> FeatureRevision? {
        guard let old = try Row.fetchOne(select, arguments: [id]) else { return nil }
        let current = try row.feature(from: old)
        return FeatureRevision(version: current.version, validFrom: current.validFrom)
    }

    /// Replace mode: everything the batch did not name is deleted (and kept in the history).
    func finish() throws {
        guard touch != nil else { return }
        let q = GeoPackageSchema.quoted(schema.name)
        let stale = try Row.fetchAll(db, sql: "SELECT \(row.selectColumns) FROM \(q) WHERE id NOT IN (SELECT id FROM temp.landmap_touched)")
        for old in stale { try deleteRow(old) }
        try db.execute(sql: "DELETE FROM temp.landmap_touched")
    }
}
