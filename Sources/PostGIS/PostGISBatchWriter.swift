import Features
import Foundation
import Geometry
import PostgresNIO
import Store

/// Writes one batch into one layer, inside the transaction the store opened, with exactly
/// the GeoPackage writer's rules: unchanged features left alone, old versions moved to
/// `landmap_history`, ids and parcel keys checked before anything of a feature is written.
///
/// Unlike SQLite, PostgreSQL aborts a transaction at its first failed statement, so every
/// rule is checked by a query first and no constraint is relied on to refuse a feature.
final class PostGISBatchWriter: FeatureBatchWriter {
    let s: PGSession
    let table: LayerTable
    let request: BatchRequest
    let batchID: Int64
    let timestamp: String
    private(set) var summary: BatchSummary
    private(set) var geometryTypes = Set<String>()
    private(set) var sourceFields = [String: SourceFieldType]()
    private(set) var largestArea: Double?
    /// The extent of what this batch wrote, and whether it updated or deleted anything
    /// (then the layer's extent is computed afresh).
    private(set) var writtenExtent: BoundingBox?
    private(set) var shrank = false
    /// Replace mode: the ids this batch has named (also in the temporary table
    /// `landmap_touched`, which the SQL filters read).
    private var touched: Set<String>?
    private let keyPositions: [Int]
    private let keyed: Bool

    var schema: LayerSchema { table.schema }

    init(session: PGSession, table: LayerTable, request: BatchRequest, batchID: Int64, timestamp: String) throws {
        s = session
        self.table = table
        self.request = request
        self.batchID = batchID
        self.timestamp = timestamp
        summary = BatchSummary(batchID: batchID)
        let schema = table.schema
        keyPositions = schema.keyFields.compactMap { key in schema.fields.firstIndex { $0.name == key } }
        keyed = schema.keyIsUnique && keyPositions.count == schema.keyFields.count
        if request.mode == .replace {
            try s.execute("CREATE TEMP TABLE IF NOT EXISTS landmap_touched (id text COLLATE \"C\" PRIMARY KEY) ON COMMIT DELETE ROWS")
            try s.execute("TRUNCATE landmap_touched")
            touched = []
        }
    }

    private var onlyTouched: String {
        touched == nil ? "" : " AND t.id IN (SELECT id FROM landmap_touched)"
    }

    func put(_ feature: Feature) throws {
        guard !feature.id.isEmpty else { throw StoreError.invalidFeature(layer: schema.name, id: "", detail: "a feature needs a non-empty id") }
        var geometry = feature.geometry
        if let g = geometry {
            if schema.isAreal {
                guard g.isAreal || g.isEmpty else {
                    throw StoreError.wrongGeometryType(layer: schema.name, id: feature.id, expected: "polygons", got: g.typeName)
                }
                geometry = g.promotedToMulti
            }
            if let box = g.boundingBox, !(box.minX.isFinite && box.minY.isFinite && box.maxX.isFinite && box.maxY.isFinite) {
                throw StoreError.invalidFeature(layer: schema.name, id: feature.id, detail: "geometry has a non-finite coordinate")
            }
        }
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
        let extra: [String: JSONValue]? = rest.isEmpty ? nil : try JSONValue.parse(JSONValue.object(rest).jsonText).objectValue
        try checkKey(feature.id, canonical)
        if let geometry {
            geometryTypes.insert(geometry.typeName)
            if geometry.isAreal { largestArea = max(largestArea ?? 0, LayerFigures.mercatorArea(geometry)) }
        }
        for (name, value) in feature.properties where schema.field(name) == nil {
            guard let type = SourceFieldType(of: value) else { continue }
            sourceFields[name] = sourceFields[name].map { $0.merged(type) } ?? type
        }
        if touched != nil {
            guard touched?.insert(feature.id).inserted == true else { throw StoreError.duplicateID(layer: schema.name, id: feature.id) }
            var b = Binds()
            try s.execute("INSERT INTO landmap_touched (id) VALUES (\(b.add(feature.id)))", b.bindings)
        }
        if let old = try current(feature.id) {
            if request.mode == .append || (request.mode == .upsert && old.batch == batchID) {
                throw StoreError.duplicateID(layer: schema.name, id: feature.id)
            }
            if old.wkb == wkb, old.canonical == canonical, old.extra == extra {
                summary.unchanged += 1
                return
            }
            try archive(old, deleted: false)
            var b = Binds()
            var sets = ["geom = \(geometrySQL(wkb, &b))", "properties = \(jsonSQL(extra, &b))"]
            for (field, value) in zip(schema.fields, canonical) {
                sets.append("\(LayerTable.quoted(field.name)) = \(LayerTable.bind(value, field.type, into: &b))")
            }
            sets += ["lm_version = \(b.add(old.version + 1))", "lm_valid_from = \(b.add(timestamp))", "lm_batch = \(b.add(batchID))"]
            try s.execute("UPDATE \(table.table) SET \(sets.joined(separator: ", ")) WHERE fid = \(b.add(old.fid))", b.bindings)
            noteWritten(geometry)
            shrank = true
            summary.updated += 1
            return
        }
        var b = Binds()
        var columns = ["geom", "id"], values = [geometrySQL(wkb, &b), b.add(feature.id)]
        for (field, value) in zip(schema.fields, canonical) {
            columns.append(LayerTable.quoted(field.name))
            values.append(LayerTable.bind(value, field.type, into: &b))
        }
        columns += ["properties", "lm_version", "lm_valid_from", "lm_batch"]
        values += [jsonSQL(extra, &b), b.add(1), b.add(timestamp), b.add(batchID)]
        try s.execute("INSERT INTO \(table.table) (\(columns.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))", b.bindings)
        noteWritten(geometry)
        summary.inserted += 1
    }

    private func noteWritten(_ geometry: Geometry?) {
        guard let box = geometry?.boundingBox else { return }
        if writtenExtent == nil { writtenExtent = box } else { writtenExtent?.expand(toInclude: box) }
    }

    private func geometrySQL(_ wkb: [UInt8]?, _ b: inout Binds) -> String {
        guard let wkb else { return "NULL" }
        return "ST_GeomFromWKB(\(b.add(bytes: wkb)), 4326)"
    }

    private func jsonSQL(_ object: [String: JSONValue]?, _ b: inout Binds) -> String {
        guard let object else { return "NULL" }
        return "\(b.add(JSONValue.object(object).jsonText))::jsonb"
    }

    /// The present row of an id, as this batch has left it.
    private func current(_ id: String) throws -> LayerTable.Row? {
        var b = Binds()
        return try s.query("SELECT \(table.select) FROM \(table.table) WHERE id = \(b.add(id))", b.bindings).first.map(table.row)
    }

    /// Refuses a feature whose key another present feature has (before anything of it is
    /// written). A feature missing part of its key is not keyed. In replace mode only what the
    /// batch has written counts, as for overlaps.
    private func checkKey(_ id: String, _ canonical: [FieldValue]) throws {
        guard keyed else { return }
        let key = keyPositions.map { canonical[$0] }
        guard !key.contains(.null) else { return }
        var b = Binds()
        var match = [String]()
        for (position, value) in zip(keyPositions, key) {
            let field = schema.fields[position]
            match.append("t.\(LayerTable.quoted(field.name)) = \(LayerTable.bind(value, field.type, into: &b))")
        }
        let sql = "SELECT t.id FROM \(table.table) t WHERE \(match.joined(separator: " AND ")) AND t.id <> \(b.add(id))\(onlyTouched) LIMIT 1"
        guard let holder = try s.query(sql, b.bindings).scalar(String.self) else { return }
        throw StoreError.duplicateKey(layer: schema.name, id: id, key: StoreError.keyText(fields: schema.keyFields, values: key), holder: holder)
    }

    @discardableResult
    func delete(id: String) throws -> Bool {
        guard let old = try current(id) else { return false }
        try deleteRow(old)
        return true
    }

    private func deleteRow(_ old: LayerTable.Row) throws {
        try archive(old, deleted: true)
        var b = Binds()
        try s.execute("DELETE FROM \(table.table) WHERE fid = \(b.add(old.fid))", b.bindings)
        shrank = true
        summary.deleted += 1
    }

    private func archive(_ old: LayerTable.Row, deleted: Bool) throws {
        let box = old.feature.geometry?.boundingBox
        var b = Binds()
        let values = [
            b.add(schema.name), b.add(old.feature.id), b.add(old.version), b.add(old.validFrom), b.add(timestamp), b.add(old.batch),
            b.add(batchID), b.add(deleted), old.wkb.map { "ST_GeomFromWKB(\(b.add(bytes: $0)), 4326)" } ?? "NULL",
            "\(b.add(JSONValue.object(old.feature.properties).jsonText))::jsonb",
            b.add(box?.minX), b.add(box?.minY), b.add(box?.maxX), b.add(box?.maxY),
        ]
        try s.execute("""
            INSERT INTO landmap_history (layer, id, version, valid_from, valid_to, batch_id, ended_by_batch, deleted,
              geom, attributes, min_x, min_y, max_x, max_y) VALUES (\(values.joined(separator: ", ")))
            """, b.bindings)
    }

    func geometries(intersecting box: BoundingBox, keep: (BoundingBox) -> Bool) throws -> [(id: String, geometry: Geometry)] {
        var b = Binds()
        let envelope = "ST_MakeEnvelope(\(b.add(box.minX)), \(b.add(box.minY)), \(b.add(box.maxX)), \(b.add(box.maxY)), 4326)"
        let rows = try s.query("""
            SELECT t.id, ST_XMin(t.geom), ST_YMin(t.geom), ST_XMax(t.geom), ST_YMax(t.geom), ST_AsBinary(t.geom)
            FROM \(table.table) t WHERE t.geom && \(envelope)\(onlyTouched) ORDER BY t.fid
            """, b.bindings)
        var out = [(id: String, geometry: Geometry)]()
        for row in rows {
            let r = row.makeRandomAccess()
            guard let minX = try r.optionalDouble(1), let minY = try r.optionalDouble(2), let maxX = try r.optionalDouble(3),
                  let maxY = try r.optionalDouble(4) else { continue }
            guard keep(BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY)), let wkb = r[5].bytes else { continue }
            out.append((try r.string(0), try WKB.decode(wkb.readableBytesView)))
        }
        return out
    }

    func revision(id: String) throws -> FeatureRevision? {
        try current(id).map { FeatureRevision(version: $0.version, validFrom: $0.validFrom) }
    }

    /// Replace mode: everything the batch did not name is deleted (and kept in the history),
    /// read in pages so a large layer is never held in memory at once.
    func finish() throws {
        guard touched != nil else { return }
        var after: Int64 = 0
        while true {
            var b = Binds()
            let rows = try s.query("""
                SELECT \(table.selectT) FROM \(table.table) t
                WHERE t.fid > \(b.add(after)) AND NOT EXISTS (SELECT 1 FROM landmap_touched k WHERE k.id = t.id)
                ORDER BY t.fid LIMIT 1000
                """, b.bindings).map(table.row)
            guard let last = rows.last else { break }
            for old in rows { try deleteRow(old) }
            after = last.fid
        }
        try s.execute("TRUNCATE landmap_touched")
    }
}
