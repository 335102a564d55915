import Features
import Foundation
import Geometry
import PostgresNIO
import Store

/// Writes one batch into one layer, inside the transaction the store opened, with exactly
/// the GeoPackage writer's rules: unchanged features left alone, old versions moved to
/// `landmap_history`, ids and parcel keys checked before anything of a feature is written.
///
/// PostgreSQL aborts a transaction at its first failed statement, so every rule is checked by
/// a query first and no constraint is relied on to refuse a feature. Round trips are what a
/// batch costs: each `put` waits for one query (present row and key holder together); writes
/// are pipelined, and new rows are buffered and inserted 500 at a time — the buffered ids and
/// keys are checked in memory meanwhile.
final class PostGISBatchWriter: FeatureBatchWriter {
    let pipe: Pipeline
    let table: LayerTable
    let request: BatchRequest
    let batchID: Int64
    let timestamp: String
    private(set) var summary: BatchSummary
    /// Geometry types, source fields and largest polygon of what this batch wrote.
    private(set) var figures = BatchFigures()
    /// The extent of what this batch wrote, and whether it updated or deleted anything
    /// (then the layer's extent is computed afresh).
    private(set) var writtenExtent: BoundingBox?
    private(set) var shrank = false
    /// Replace mode: the ids this batch has named (also in the temporary table
    /// `landmap_touched`, which the SQL filters read, once flushed).
    private var touched: Set<String>?
    private let keyPositions: [Int]
    private let keyed: Bool

    /// New rows not yet sent, and their ids and keys.
    private struct NewRow {
        var id: String
        var wkb: [UInt8]?
        /// The geometry as written and its box, for `geometries(intersecting:)` before a flush.
        var geometry: Geometry?
        var box: BoundingBox?
        var canonical: [FieldValue]
        var extraJSON: String?
    }
    private var buffer = [NewRow]()
    private var bufferedIDs = Set<String>()
    private var bufferedKeys = [[FieldValue]: String]()
    static let bufferSize = 500
    /// Search documents of what this batch wrote, not yet sent (sent with the rows).
    private var documents = [SearchDocument]()

    var schema: LayerSchema { table.schema }

    init(session: PGSession, table: LayerTable, request: BatchRequest, batchID: Int64, timestamp: String) throws {
        pipe = Pipeline(session)
        self.table = table
        self.request = request
        self.batchID = batchID
        self.timestamp = timestamp
        summary = BatchSummary(batchID: batchID)
        let schema = table.schema
        keyPositions = schema.keyFields.compactMap { key in schema.fields.firstIndex { $0.name == key } }
        keyed = schema.keyIsUnique && keyPositions.count == schema.keyFields.count
        if request.mode == .replace {
            try session.execute("CREATE TEMP TABLE IF NOT EXISTS landmap_touched (id text COLLATE \"C\" PRIMARY KEY) ON COMMIT DELETE ROWS")
            try session.execute("TRUNCATE landmap_touched")
            touched = []
        }
    }

    private var onlyTouched: String {
        touched == nil ? "" : " AND k.id IN (SELECT id FROM landmap_touched)"
    }

    func put(_ feature: Feature) throws {
        let geometry = try BatchFigures.storedGeometry(of: feature, in: schema)
        let wkb = geometry.map { WKB.encode($0) }
        var canonical = [FieldValue]()
        canonical.reserveCapacity(schema.fields.count)
        for field in schema.fields {
            canonical.append(try FieldValue.coerce(feature.properties[field.name] ?? .null, as: field, layer: schema.name, id: feature.id))
        }
        var rest = feature.properties
        for field in schema.fields { rest.removeValue(forKey: field.name) }
        // As it will read back: `12.0` is written `12` and reads as an integer (the GeoPackage
        // writer compares the JSON text, which comes to the same).
        let extraJSON = rest.isEmpty ? nil : JSONValue.object(rest).jsonText
        let extra = try extraJSON.map { try JSONValue.parse($0).objectValue }

        // One round trip: the present row of this id and the holder of its key.
        let key = keyed ? keyPositions.map { canonical[$0] } : []
        let checkKey = keyed && !key.contains(.null)
        let (old, holder) = try lookUp(feature.id, key: checkKey ? key : nil)
        if let holder {
            throw StoreError.duplicateKey(layer: schema.name, id: feature.id, key: StoreError.keyText(fields: schema.keyFields, values: key), holder: holder)
        }
        figures.note(feature, geometry: geometry, in: schema)
        if touched != nil {
            guard touched?.insert(feature.id).inserted == true else { throw StoreError.duplicateID(layer: schema.name, id: feature.id) }
        }
        if bufferedIDs.contains(feature.id) {
            // Written earlier in this batch (append: exists; upsert: named twice).
            throw StoreError.duplicateID(layer: schema.name, id: feature.id)
        }
        if let old {
            if touched != nil { markTouched(feature.id) }
            if request.mode == .append || (request.mode == .upsert && old.batch == batchID) {
                throw StoreError.duplicateID(layer: schema.name, id: feature.id)
            }
            if old.wkb == wkb, old.canonical == canonical, old.extra == extra {
                summary.unchanged += 1
                return
            }
            var b = Binds()
            var sets = ["geom = \(geometrySQL(wkb, &b))", "properties = \(jsonSQL(extraJSON, &b))"]
            for (field, value) in zip(schema.fields, canonical) {
                sets.append("\(LayerTable.quoted(field.name)) = \(LayerTable.bind(value, field.type, into: &b))")
            }
            sets += ["lm_version = \(b.add(Int64(old.version + 1)))::integer", "lm_valid_from = \(b.add(timestamp))", "lm_batch = \(b.add(batchID))"]
            let archive = archiveSQL(old, deleted: false, &b)
            pipe.send("WITH archived AS (\(archive)) UPDATE \(table.table) SET \(sets.joined(separator: ", ")) WHERE fid = \(b.add(old.fid))", b, prepared: true)
            index(feature)
            noteWritten(geometry)
            shrank = true
            summary.updated += 1
            return
        }
        buffer.append(NewRow(id: feature.id, wkb: wkb, geometry: geometry, box: geometry?.boundingBox, canonical: canonical, extraJSON: extraJSON))
        bufferedIDs.insert(feature.id)
        if checkKey { bufferedKeys[key] = feature.id }
        index(feature)
        noteWritten(geometry)
        summary.inserted += 1
        if buffer.count >= Self.bufferSize { flush() }
    }

    /// The present row of `id` and, when `key` is given, another present feature holding it
    /// (in replace mode, only one the batch has named) — the buffered rows included.
    private func lookUp(_ id: String, key: [FieldValue]?) throws -> (LayerTable.Row?, String?) {
        var b = Binds()
        var holderSQL = "NULL::text"
        if let key {
            if let holder = bufferedKeys[key], holder != id {
                return (nil, holder)
            }
            var match = [String]()
            for (position, value) in zip(keyPositions, key) {
                let field = schema.fields[position]
                match.append("k.\(LayerTable.quoted(field.name)) = \(LayerTable.bind(value, field.type, into: &b))")
            }
            holderSQL = "(SELECT k.id FROM \(table.table) k WHERE \(match.joined(separator: " AND ")) AND k.id <> \(b.add(id))\(onlyTouched) LIMIT 1)"
        }
        let sql = "SELECT \(holderSQL), c.* FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT \(table.select) FROM \(table.table) WHERE id = \(b.add(id))) c ON TRUE"
        guard let cells = try pipe.query(sql, b, prepared: true).first else { return (nil, nil) }
        let holder = cells[0].bytes == nil ? nil : try cells[0].decode(String.self)
        let rest = Array(cells.dropFirst())
        let old = rest.first?.bytes == nil ? nil : try table.row(cells: rest)
        return (old, holder)
    }

    private func markTouched(_ id: String) {
        var b = Binds()
        pipe.send("INSERT INTO landmap_touched (id) VALUES (\(b.add(id)))", b, prepared: true)
    }

    /// The feature's search document goes with the next flush; a feature with no words to be
    /// found by loses the one it had at once.
    private func index(_ feature: Feature) {
        if let doc = SearchDocument.make(for: feature, in: schema) {
            documents.append(doc)
            if documents.count >= Self.bufferSize { flush() }
        } else {
            unindex(feature.id)
        }
    }

    private func unindex(_ id: String) {
        var b = Binds()
        pipe.send("DELETE FROM landmap_search WHERE layer = \(b.add(schema.name)) AND id = \(b.add(id))", b, prepared: true)
    }

    /// Sends the buffered new rows as one INSERT (and, in replace mode, their ids as touched),
    /// and the buffered search documents.
    private func flush() {
        if let upsert = PostGISStore.upsertSQL(documents) {
            pipe.send(upsert.0, upsert.1)
            documents.removeAll(keepingCapacity: true)
        }
        guard !buffer.isEmpty else { return }
        var b = Binds()
        let validFrom = b.add(timestamp), batch = b.add(batchID), layer = b.add(schema.name)
        var rows = [String]()
        rows.reserveCapacity(buffer.count)
        for row in buffer {
            var values = [geometrySQL(row.wkb, &b), b.add(row.id)]
            for (field, value) in zip(schema.fields, row.canonical) { values.append(LayerTable.bind(value, field.type, into: &b)) }
            // A re-created id continues its history's numbering: versions name one state each.
            let version = "(SELECT coalesce(max(h.version), 0) + 1 FROM landmap_history h WHERE h.layer = \(layer) AND h.id = \(b.add(row.id)))"
            values += [jsonSQL(row.extraJSON, &b), version, validFrom, batch]
            rows.append("(" + values.joined(separator: ", ") + ")")
        }
        let columns = ["geom", "id"] + schema.fields.map { LayerTable.quoted($0.name) } + ["properties", "lm_version", "lm_valid_from", "lm_batch"]
        pipe.send("INSERT INTO \(table.table) (\(columns.joined(separator: ", "))) VALUES \(rows.joined(separator: ", "))", b)
        if touched != nil {
            var t = Binds()
            let ids = buffer.map { "(\(t.add($0.id)))" }.joined(separator: ", ")
            pipe.send("INSERT INTO landmap_touched (id) VALUES \(ids)", t)
        }
        buffer.removeAll(keepingCapacity: true)
        bufferedIDs.removeAll(keepingCapacity: true)
        bufferedKeys.removeAll(keepingCapacity: true)
    }

    private func noteWritten(_ geometry: Geometry?) {
        guard let box = geometry?.boundingBox else { return }
        if writtenExtent == nil { writtenExtent = box } else { writtenExtent?.expand(toInclude: box) }
    }

    private func geometrySQL(_ wkb: [UInt8]?, _ b: inout Binds) -> String {
        guard let wkb else { return "NULL" }
        return "ST_GeomFromWKB(\(b.add(bytes: wkb)), 4326)"
    }

    private func jsonSQL(_ text: String?, _ b: inout Binds) -> String {
        guard let text else { return "NULL" }
        return "\(b.add(text))::jsonb"
    }

    /// The present row of an id, as this batch has left it.
    private func current(_ id: String) throws -> LayerTable.Row? {
        flush()
        var b = Binds()
        return try pipe.query("SELECT \(table.select) FROM \(table.table) WHERE id = \(b.add(id))", b, prepared: true).first.map { try table.row(cells: $0) }
    }

    @discardableResult
    func delete(id: String) throws -> Bool {
        guard let old = try current(id) else { return false }
        deleteRow(old)
        return true
    }

    private func deleteRow(_ old: LayerTable.Row) {
        var b = Binds()
        let archive = archiveSQL(old, deleted: true, &b)
        pipe.send("WITH archived AS (\(archive)) DELETE FROM \(table.table) WHERE fid = \(b.add(old.fid))", b, prepared: true)
        unindex(old.feature.id)
        shrank = true
        summary.deleted += 1
    }

    /// The INSERT that keeps a present version in `landmap_history`, ended by this batch. The
    /// geometry and its box are copied on the server, not sent back; the attributes are the
    /// version's properties as read (canonical and source fields together).
    private func archiveSQL(_ old: LayerTable.Row, deleted: Bool, _ b: inout Binds) -> String {
        let values = [
            b.add(schema.name), "o.id", "o.lm_version", "o.lm_valid_from", b.add(timestamp), "o.lm_batch", b.add(batchID), b.add(deleted), "o.geom",
            "\(b.add(JSONValue.object(old.feature.properties).jsonText))::jsonb",
            "ST_XMin(o.geom::box3d)", "ST_YMin(o.geom::box3d)", "ST_XMax(o.geom::box3d)", "ST_YMax(o.geom::box3d)",
        ]
        return """
            INSERT INTO landmap_history (layer, id, version, valid_from, valid_to, batch_id, ended_by_batch, deleted,
              geom, attributes, min_x, min_y, max_x, max_y)
            SELECT \(values.joined(separator: ", ")) FROM \(table.table) o WHERE o.fid = \(b.add(old.fid))
            """
    }

    /// The rows sent so far, from the server (statements run in the order sent), then the
    /// buffered ones from memory, in the order written: the buffer is not flushed for this, so
    /// an import's overlap check, which asks once per feature, keeps its 500-row INSERTs.
    func geometries(intersecting box: BoundingBox, keep: (BoundingBox) -> Bool) throws -> [(id: String, geometry: Geometry)] {
        var b = Binds()
        let envelope = "ST_MakeEnvelope(\(b.add(box.minX)), \(b.add(box.minY)), \(b.add(box.maxX)), \(b.add(box.maxY)), 4326)"
        let rows = try pipe.query("""
            SELECT k.id, ST_XMin(k.geom::box3d), ST_YMin(k.geom::box3d), ST_XMax(k.geom::box3d), ST_YMax(k.geom::box3d), ST_AsBinary(k.geom)
            FROM \(table.table) k WHERE k.geom && \(envelope)\(onlyTouched) ORDER BY k.fid
            """, b, prepared: true)
        var out = [(id: String, geometry: Geometry)]()
        for r in rows {
            guard r[1].bytes != nil, r[2].bytes != nil, r[3].bytes != nil, r[4].bytes != nil else { continue }
            let candidate = BoundingBox(minX: try r[1].decode(Double.self), minY: try r[2].decode(Double.self),
                                        maxX: try r[3].decode(Double.self), maxY: try r[4].decode(Double.self))
            guard keep(candidate), let wkb = r[5].bytes else { continue }
            out.append((try r[0].decode(String.self), try WKB.decode(wkb.readableBytesView)))
        }
        for row in buffer {
            guard let geometry = row.geometry, let candidate = row.box, candidate.intersects(box), keep(candidate) else { continue }
            out.append((row.id, geometry))
        }
        return out
    }

    func revision(id: String) throws -> FeatureRevision? {
        try current(id).map { FeatureRevision(version: $0.version, validFrom: $0.validFrom) }
    }

    /// Sends what is buffered and waits for every write. Replace mode: everything the batch
    /// did not name is deleted (and kept in the history), read in pages so a large layer is
    /// never held in memory at once.
    func finish() throws {
        flush()
        if touched != nil {
            var after: Int64 = 0
            while true {
                var b = Binds()
                let rows = try pipe.query("""
                    SELECT \(table.selectT) FROM \(table.table) t
                    WHERE t.fid > \(b.add(after)) AND NOT EXISTS (SELECT 1 FROM landmap_touched k WHERE k.id = t.id)
                    ORDER BY t.fid LIMIT 1000
                    """, b).map { try table.row(cells: $0) }
                guard let last = rows.last else { break }
                for old in rows { deleteRow(old) }
                after = last.fid
            }
            pipe.send("TRUNCATE landmap_touched")
        }
        try pipe.finish()
    }
}
