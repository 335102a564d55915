import Features
import Foundation
import Geometry
import PostgresNIO
import Store

/// Reads, with the GeoPackage store's answers: present rows by `fid`, past versions from
/// `landmap_history`, as-of dates as ISO text compared byte by byte.
extension PostGISStore {
    static let readOnly = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    public func revision(layer: String, id: String) throws -> FeatureRevision? {
        try read(snapshot: false) { s in
            let table = try self.layerTable(s, layer)
            var b = Binds()
            guard let row = try s.query("SELECT \(table.select) FROM \(table.table) WHERE id = \(b.add(id))", b.bindings).first else { return nil }
            let current = try table.row(row)
            return FeatureRevision(version: current.version, validFrom: current.validFrom)
        }
    }

    public func batches(ids: [Int64]) throws -> [Int64: BatchRecord] {
        guard !ids.isEmpty else { return [:] }
        return try read(snapshot: false) { s in
            var out = [Int64: BatchRecord]()
            // In slices, well under PostgreSQL's limit on bound parameters.
            for start in stride(from: 0, to: ids.count, by: 500) {
                var b = Binds()
                let list = ids[start..<min(start + 500, ids.count)].map { b.add($0) }.joined(separator: ", ")
                for row in try s.query("SELECT \(Self.batchColumns) FROM landmap_batches WHERE id IN (\(list))", b.bindings) {
                    let batch = try Self.batch(from: row)
                    out[batch.id] = batch
                }
            }
            return out
        }
    }

    /// The columns `batch(from:)` reads, in order.
    static let batchColumns = "id, layer, mode, source, actor, started_at, inserted, updated, unchanged, deleted, proposer, data_version"

    static func batch(from row: PostgresRow) throws -> BatchRecord {
        let r = row.makeRandomAccess()
        return BatchRecord(id: try r.int64(0), layer: try r.string(1), mode: try r.string(2), source: try r.string(3),
                           actor: try r.string(4), startedAt: try r.string(5), inserted: Int(try r.int64(6)),
                           updated: Int(try r.int64(7)), unchanged: Int(try r.int64(8)), deleted: Int(try r.int64(9)),
                           proposer: try r.optionalString(10), dataVersion: try r[11].decode(Int64?.self))
    }

    public func feature(layer: String, id: String, asOf: Date?) throws -> Feature? {
        try read(snapshot: asOf != nil) { s in
            let table = try self.layerTable(s, layer)
            var b = Binds()
            if let row = try s.query("SELECT \(table.select) FROM \(table.table) WHERE id = \(b.add(id))", b.bindings).first {
                let current = try table.row(row)
                if asOf == nil || current.validFrom <= Timestamp.string(asOf ?? Date()) { return current.feature }
            }
            guard let asOf else { return nil }
            let t = Timestamp.string(asOf)
            b = Binds()
            guard let past = try s.query("""
                SELECT id, ST_AsBinary(geom), attributes::text FROM landmap_history
                WHERE layer = \(b.add(layer)) AND id = \(b.add(id)) AND valid_from <= \(b.add(t)) AND valid_to > \(b.last)
                """, b.bindings).first else { return nil }
            return try LayerTable.historyFeature(past.makeRandomAccess())
        }
    }

    public func features(layer: String, intersecting box: BoundingBox, asOf: Date?, limit: Int, offset: Int) throws -> [Feature] {
        try read(snapshot: asOf != nil) { s in
            let table = try self.layerTable(s, layer)
            var b = Binds()
            let envelope = "ST_MakeEnvelope(\(b.add(box.minX)), \(b.add(box.minY)), \(b.add(box.maxX)), \(b.add(box.maxY)), 4326)"
            guard let asOf else {
                let sql = "SELECT \(table.select) FROM \(table.table) WHERE geom && \(envelope) ORDER BY fid LIMIT \(b.add(max(0, limit))) OFFSET \(b.add(max(0, offset)))"
                return try s.query(sql, b.bindings).map { try table.row($0).feature }
            }
            // As of a date: the present rows that already existed, then past versions live then.
            let t = Timestamp.string(asOf)
            let tp = b.add(t)
            var out = try s.query("SELECT \(table.select) FROM \(table.table) WHERE geom && \(envelope) AND lm_valid_from <= \(tp) ORDER BY id",
                                  b.bindings).map { try table.row($0).feature }
            var h = Binds()
            let past = try s.query("""
                SELECT id, ST_AsBinary(geom), attributes::text FROM landmap_history
                WHERE layer = \(h.add(layer)) AND valid_from <= \(h.add(t)) AND valid_to > \(h.last)
                  AND min_x <= \(h.add(box.maxX)) AND max_x >= \(h.add(box.minX)) AND min_y <= \(h.add(box.maxY)) AND max_y >= \(h.add(box.minY))
                ORDER BY id
                """, h.bindings)
            out += try past.map { try LayerTable.historyFeature($0.makeRandomAccess()) }
            out.sort { $0.id < $1.id }
            return Array(out.dropFirst(max(0, offset)).prefix(max(0, limit)))
        }
    }

    /// WHERE clauses for property filters on the present rows and on past versions, with the
    /// GeoPackage store's equality: canonical fields compare their typed columns to the value
    /// coerced as on write; `id` compares as text (SQLite converts a number for a TEXT column);
    /// other properties compare as SQLite compares `json_extract` to a bound value — numbers by
    /// value whatever their JSON spelling, strings exactly, `true`/`false` as 1/0.
    func filterClauses(_ schema: LayerSchema, _ filters: [String: JSONValue], present b: inout Binds, past h: inout Binds) throws
        -> (present: [String], past: [String]) {
        var present = [String](), past = [String]()
        for (name, value) in filters.sorted(by: { $0.key < $1.key }) {
            if let field = schema.field(name) {
                let coerced = try FieldValue.coerce(value, as: field, layer: schema.name, id: "(filter)")
                present.append("\(LayerTable.quoted(name)) = \(LayerTable.bind(coerced, field.type, into: &b))")
            } else if name == "id" {
                present.append(Self.idClause(value, &b))
            } else {
                present.append(Self.jsonClause("properties", name, value, &b))
            }
            past.append(name == "id" ? Self.idClause(value, &h) : Self.jsonClause("attributes", name, value, &h))
        }
        return (present, past)
    }

    static func idClause(_ value: JSONValue, _ b: inout Binds) -> String {
        let text: String? = switch value {
        case .null: nil
        case .string(let s): s
        case .integer(let i): String(i)
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? "\(Int64(d)).0" : "\(d)"
        case .bool(let v): v ? "1" : "0"
        case .array, .object: value.jsonText
        }
        guard let text else { return "FALSE" }
        return "id = \(b.add(text))"
    }

    /// `column->'name'` equal to one of the JSON values SQLite would find equal to `value`.
    static func jsonClause(_ column: String, _ name: String, _ value: JSONValue, _ b: inout Binds) -> String {
        var candidates = [JSONValue]()
        switch value {
        case .null: return "FALSE"
        case .bool(let v): candidates = [.bool(v), .integer(v ? 1 : 0)]
        case .integer(let i): candidates = [.integer(i)] + (i == 0 || i == 1 ? [.bool(i == 1)] : [])
        case .number(let d): candidates = [.number(d)] + (d == 0 || d == 1 ? [.bool(d == 1)] : [])
        case .string(let s):
            // json_extract gives a string's text; an object or array comes back as its JSON text.
            return "(\(column)->\(b.add(name)) = to_jsonb(\(b.add(s))::text) OR (jsonb_typeof(\(column)->\(b.add(name))) IN ('object', 'array') AND (\(column)->\(b.last))::text = \(b.add(s))))"
        case .array, .object: candidates = [value]
        }
        let key = b.add(name)
        // jsonb compares numbers by value: 12 = 12.0, as SQLite's INTEGER 12 = REAL 12.0.
        let alternatives = candidates.map { "\(column)->\(key) = \(b.add($0.jsonText))::jsonb" }
        return "(" + alternatives.joined(separator: " OR ") + ")"
    }

    public func features(layer: String, matching filters: [String: JSONValue], asOf: Date?, limit: Int, offset: Int) throws -> [Feature] {
        try read(snapshot: asOf != nil) { s in
            let table = try self.layerTable(s, layer)
            var b = Binds(), h = Binds()
            var (clauses, pastClauses) = try self.filterClauses(table.schema, filters, present: &b, past: &h)
            let t = asOf.map(Timestamp.string)
            if let t { clauses.append("lm_valid_from <= \(b.add(t))") }
            let whereClause = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            var pageBinds = b
            let page = " ORDER BY fid LIMIT \(pageBinds.add(max(0, limit))) OFFSET \(pageBinds.add(max(0, offset)))"
            var out = try s.query("SELECT \(table.select) FROM \(table.table)\(whereClause)\(page)", pageBinds.bindings).map { try table.row($0).feature }
            // As of a date, past versions follow the present rows that were already valid then.
            if let t, out.count < limit {
                let presentCount = try s.query("SELECT count(*) FROM \(table.table)\(whereClause)", b.bindings).scalar(Int64.self) ?? 0
                let pastOffset = max(0, offset - Int(presentCount))
                let sql = "SELECT id, ST_AsBinary(geom), attributes::text FROM landmap_history WHERE layer = \(h.add(layer)) AND valid_from <= \(h.add(t)) AND valid_to > \(h.last)"
                    + pastClauses.map { " AND " + $0 }.joined() + " ORDER BY id LIMIT \(h.add(limit - out.count)) OFFSET \(h.add(pastOffset))"
                out += try s.query(sql, h.bindings).map { try LayerTable.historyFeature($0.makeRandomAccess()) }
            }
            return out
        }
    }

    public func count(layer: String, matching filters: [String: JSONValue], asOf: Date?) throws -> Int {
        try read(snapshot: asOf != nil) { s in
            let table = try self.layerTable(s, layer)
            var b = Binds(), h = Binds()
            var (clauses, pastClauses) = try self.filterClauses(table.schema, filters, present: &b, past: &h)
            let t = asOf.map(Timestamp.string)
            if let t { clauses.append("lm_valid_from <= \(b.add(t))") }
            let whereClause = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            var n = Int(try s.query("SELECT count(*) FROM \(table.table)\(whereClause)", b.bindings).scalar(Int64.self) ?? 0)
            if let t {
                let sql = "SELECT count(*) FROM landmap_history WHERE layer = \(h.add(layer)) AND valid_from <= \(h.add(t)) AND valid_to > \(h.last)"
                    + pastClauses.map { " AND " + $0 }.joined()
                n += Int(try s.query(sql, h.bindings).scalar(Int64.self) ?? 0)
            }
            return n
        }
    }

    /// One REPEATABLE READ transaction; rows come through a server-side cursor 500 at a time,
    /// so a layer is never held in memory at once.
    public func forEachFeature(layer: String, asOf: Date?, _ body: (Feature) throws -> Void) throws {
        try reads.run(try readEndpoint(), onFailover: { versions.invalidate() }) { pool, _, attempt in
            try pool.read(snapshot: true) { s in
                guard let stored = try self.storedEntry(s, layer) else { throw StoreError.unknownLayer(layer) }
                let table = LayerTable(stored.schema)
                let t = asOf.map(Timestamp.string)
                var b = Binds()
                let filter = t.map { " WHERE lm_valid_from <= \(b.add($0))" } ?? ""
                try s.execute("DECLARE landmap_present NO SCROLL CURSOR FOR SELECT \(table.select) FROM \(table.table)\(filter) ORDER BY fid", b.bindings)
                while true {
                    try Deadline.check()
                    let rows = try s.query("FETCH 500 FROM landmap_present")
                    if rows.isEmpty { break }
                    for row in rows {
                        try Deadline.check()
                        attempt.started = true
                        try body(try table.row(row).feature)
                    }
                }
                try s.execute("CLOSE landmap_present")
                guard let t else { return }
                var h = Binds()
                try s.execute("""
                    DECLARE landmap_past NO SCROLL CURSOR FOR SELECT id, ST_AsBinary(geom), attributes::text FROM landmap_history
                    WHERE layer = \(h.add(layer)) AND valid_from <= \(h.add(t)) AND valid_to > \(h.last) ORDER BY id
                    """, h.bindings)
                while true {
                    try Deadline.check()
                    let rows = try s.query("FETCH 500 FROM landmap_past")
                    if rows.isEmpty { break }
                    for row in rows {
                        try Deadline.check()
                        attempt.started = true
                        try body(try LayerTable.historyFeature(row.makeRandomAccess()))
                    }
                }
                try s.execute("CLOSE landmap_past")
            }
        }
    }

    public func history(layer: String, id: String) throws -> [FeatureVersion] {
        try read(snapshot: true) { s in
            guard let stored = try self.storedEntry(s, layer) else { throw StoreError.unknownLayer(layer) }
            let table = LayerTable(stored.schema)
            var b = Binds()
            var versions = try s.query("""
                SELECT id, ST_AsBinary(geom), attributes::text, version, valid_from, valid_to, batch_id, deleted
                FROM landmap_history WHERE layer = \(b.add(layer)) AND id = \(b.add(id)) ORDER BY version
                """, b.bindings).map { row in
                let r = row.makeRandomAccess()
                return FeatureVersion(version: Int(try r.int64(3)), feature: try LayerTable.historyFeature(r),
                                      validFrom: Timestamp.date(try r.string(4)) ?? .distantPast, validTo: Timestamp.date(try r.string(5)),
                                      batchID: try r.int64(6), endedByDeletion: try r[7].decode(Bool.self))
            }
            b = Binds()
            if let row = try s.query("SELECT \(table.select) FROM \(table.table) WHERE id = \(b.add(id))", b.bindings).first {
                let f = try table.row(row)
                versions.append(FeatureVersion(version: f.version, feature: f.feature, validFrom: Timestamp.date(f.validFrom) ?? .distantPast,
                                               validTo: nil, batchID: f.batch, endedByDeletion: false))
            }
            return versions
        }
    }

    /// Layers whose history or present rows hold this id (for `landmap history ID`).
    public func layers(containing id: String) throws -> [String] {
        try read(snapshot: true) { s in
            var b = Binds()
            var found = Set(try s.query("SELECT DISTINCT layer FROM landmap_history WHERE id = \(b.add(id))", b.bindings)
                .map { try $0.makeRandomAccess().string(0) })
            for name in try s.query("SELECT name FROM landmap_layers").map({ try $0.makeRandomAccess().string(0) }) {
                guard LayerSchema.isValidName(name) else { continue }
                b = Binds()
                if try !s.query("SELECT 1 FROM public.\(LayerTable.quoted(name)) WHERE id = \(b.add(id))", b.bindings).isEmpty {
                    found.insert(name)
                }
            }
            return found.sorted()
        }
    }
}
