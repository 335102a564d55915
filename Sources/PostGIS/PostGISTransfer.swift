import Features
import Foundation
import Geometry
import PostgresNIO
import Store

/// `landmap copy` in and out of PostgreSQL: read from one REPEATABLE READ snapshot through
/// server-side cursors (500 rows a fetch, never a whole layer in memory); loaded in one
/// transaction under the write lock with multi-row INSERTs, then the id sequences moved past
/// the copied ids, so later batches, tokens, audit entries and proposals follow them.
extension PostGISStore: StoreTransfer {
    public func read(layers wanted: [String]?, _ body: (TransferRecord) throws -> Void) throws {
        try pool.transaction(Self.readOnly) { s in
            let all = try s.query("SELECT name FROM landmap_layers ORDER BY name").map { try $0.makeRandomAccess().string(0) }
            var names = all
            if let wanted {
                names = []
                for name in wanted where !names.contains(name) {
                    guard all.contains(name) else { throw StoreError.unknownLayer(name) }
                    names.append(name)
                }
            }
            var tables = [String: LayerTable]()
            for name in names {
                var b = Binds()
                guard let r = try s.query("""
                    SELECT schema_json, metadata_json, data_version, geometry_types, last_change, source_fields, largest_area
                    FROM landmap_layers WHERE name = \(b.add(name))
                    """, b.bindings).first?.makeRandomAccess() else { throw StoreError.unknownLayer(name) }
                let record = LayerRecord(name: name, schemaJSON: try r.string(0), metadataJSON: try r.string(1), dataVersion: try r.int64(2),
                                         geometryTypes: (try? JSONValue.parse(try r.string(3)))?.arrayValue?.compactMap(\.stringValue) ?? [],
                                         sourceFields: Self.sourceFields(fromJSON: try r.string(5)), largestArea: try r.optionalDouble(6),
                                         lastChange: try r.optionalString(4))
                tables[name] = LayerTable(try record.schema())
                try body(.layer(record))
            }
            let chosen = Set(names)
            try Self.cursor(s, "SELECT \(Self.batchColumns) FROM landmap_batches ORDER BY id") { row in
                let batch = try Self.batch(from: row)
                guard chosen.contains(batch.layer) else { return }
                try body(.batch(batch))
            }
            for name in names {
                guard let table = tables[name] else { continue }
                try Self.cursor(s, "SELECT \(table.select) FROM \(table.table) ORDER BY fid") { row in
                    let f = try table.row(row)
                    try body(.version(VersionRecord(layer: name, feature: f.feature, version: f.version, validFrom: f.validFrom, batchID: f.batch)))
                }
                var b = Binds()
                try Self.cursor(s, """
                    SELECT id, ST_AsBinary(geom), attributes::text, version, valid_from, valid_to, batch_id, ended_by_batch, deleted
                    FROM landmap_history WHERE layer = \(b.add(name)) ORDER BY id, version
                    """, b.bindings) { row in
                    let r = row.makeRandomAccess()
                    try body(.version(VersionRecord(layer: name, feature: try LayerTable.historyFeature(r), version: Int(try r.int64(3)),
                                                    validFrom: try r.string(4), batchID: try r.int64(6), validTo: try r.string(5),
                                                    endedByBatch: try r.int64(7), deleted: try r[8].decode(Bool.self))))
                }
            }
            try Self.cursor(s, "SELECT \(Self.tokenColumns) FROM landmap_tokens ORDER BY id") { row in
                let r = row.makeRandomAccess()
                let hash = try r[4].decode(ByteBuffer.self)
                try body(.token(TokenRow(id: try r.int64(0), key: try r.string(1), name: try r.string(2), role: try r.string(3),
                                         hash: Array(hash.readableBytesView), createdAt: try r.string(5), revokedAt: try r.optionalString(6),
                                         lastUsedAt: try r.optionalString(7), scopeJSON: try r.string(8), expiresAt: try r.optionalString(9),
                                         lastAddress: try r.optionalString(10), rateLimit: try r[11].decode(Int?.self))))
            }
            try Self.cursor(s, "SELECT \(Self.auditRowColumns) FROM landmap_audit ORDER BY id") { row in try body(.audit(try Self.auditRow(from: row))) }
            try Self.cursor(s, "SELECT \(Self.changeColumns(content: true)) FROM landmap_changes ORDER BY id") { row in
                let change = try Self.change(from: row)
                guard wanted == nil || chosen.contains(change.layer) else { return }
                try body(.change(change))
            }
        }
    }

    /// Runs `sql` through a server-side cursor inside the session's open transaction.
    static func cursor(_ s: PGSession, _ sql: String, _ binds: PostgresBindings = PostgresBindings(), _ each: (PostgresRow) throws -> Void) throws {
        try s.execute("DECLARE landmap_transfer NO SCROLL CURSOR FOR \(sql)", binds)
        while true {
            let rows = try s.query("FETCH 500 FROM landmap_transfer")
            if rows.isEmpty { break }
            for row in rows { try each(row) }
        }
        try s.execute("CLOSE landmap_transfer")
    }

    public func load(_ body: (any TransferLoader) throws -> Void) throws {
        try pool.transaction { s in
            try self.lockWrites(s)
            try Self.lockAudit(s)
            var held = [String]()
            for (table, one, many) in [("landmap_batches", "batch", "batches"), ("landmap_tokens", "token", "tokens"),
                                       ("landmap_audit", "audit entry", "audit entries"), ("landmap_changes", "change", "changes")] {
                let n = try s.query("SELECT count(*) FROM \(table)").scalar(Int64.self) ?? 0
                if n > 0 { held.append("\(n) \(n == 1 ? one : many)") }
            }
            guard held.isEmpty else { throw StoreError.notEmpty(location: self.displayLocation, what: held.joined(separator: ", ")) }
            let loader = PostGISLoader(store: self, session: s)
            try body(loader)
            try loader.finish()
        }
        versions.invalidate()
    }

    public func versionCounts() throws -> [String: Int] {
        try pool.transaction(Self.readOnly) { s in
            var counts = [String: Int]()
            for name in try s.query("SELECT name FROM landmap_layers").map({ try $0.makeRandomAccess().string(0) }) where LayerSchema.isValidName(name) {
                counts[name] = Int(try s.query("SELECT count(*) FROM public.\(LayerTable.quoted(name))").scalar(Int64.self) ?? 0)
            }
            for row in try s.query("SELECT layer, count(*) FROM landmap_history GROUP BY layer") {
                let r = row.makeRandomAccess()
                counts[try r.string(0), default: 0] += Int(try r.int64(1))
            }
            return counts
        }
    }
}

/// Writes a copy's records into the store's open transaction, 500 rows to an INSERT, keeping
/// every id, version and timestamp (`StoreTransfer.load`).
final class PostGISLoader: TransferLoader {
    let store: PostGISStore
    let s: PGSession
    private var layers = [String: (record: LayerRecord, table: LayerTable)]()
    private var order = [String]()
    /// Rows waiting for their INSERT, by its `INSERT INTO … (…) VALUES` head.
    private var pending = [String: (binds: Binds, rows: [String])]()
    static let rowsPerInsert = 500

    init(store: PostGISStore, session: PGSession) {
        self.store = store
        self.s = session
    }

    func add(_ record: TransferRecord) throws {
        switch record {
        case .layer(let r): try addLayer(r)
        case .batch(let x):
            try known(x.layer)
            try queue("INSERT INTO landmap_batches (id, layer, mode, source, actor, started_at, inserted, updated, unchanged, deleted, proposer, data_version) VALUES") { b in
                [b.add(x.id), b.add(x.layer), b.add(x.mode), b.add(x.source), b.add(x.actor), b.add(x.startedAt),
                 b.add(x.inserted), b.add(x.updated), b.add(x.unchanged), b.add(x.deleted), b.add(x.proposer), b.add(x.dataVersion)]
            }
        case .version(let v): try addVersion(v)
        case .token(let t):
            try queue("""
                INSERT INTO landmap_tokens (id, key, name, role, hash, created_at, revoked_at, last_used_at, scope_json, expires_at, last_address, rate_limit) VALUES
                """) { b in
                [b.add(t.id), b.add(t.key), b.add(t.name), b.add(t.role), b.add(bytes: t.hash), b.add(t.createdAt), b.add(t.revokedAt), b.add(t.lastUsedAt),
                 b.add(t.scopeJSON), b.add(t.expiresAt), b.add(t.lastAddress), b.add(t.rateLimit.map(Int64.init))]
            }
        case .audit(let a):
            try queue("INSERT INTO landmap_audit (id, at, actor, action, target, detail, unit, prev_hash, hash) VALUES") { b in
                [b.add(a.id), b.add(a.at), b.add(a.actor), b.add(a.action), b.add(a.target), b.add(a.detail), b.add(a.unit), b.add(a.prevHash), b.add(a.hash)]
            }
        case .change(let c):
            try queue("""
                INSERT INTO landmap_changes (id, layer, kind, proposer, unit, created_at, status, summary, content, decided_by, decided_at, reason, batch_id) VALUES
                """) { b in
                [b.add(c.id), b.add(c.layer), b.add(c.kind), b.add(c.proposer), b.add(c.unit), b.add(c.createdAt), b.add(c.status.rawValue),
                 b.add(c.summary), b.add(c.content ?? "{}"), b.add(c.decidedBy), b.add(c.decidedAt), b.add(c.reason), b.add(c.batchID)]
            }
        }
    }

    private func known(_ layer: String) throws {
        guard layers[layer] != nil else {
            throw StoreError.unsupported("the copy sent rows of layer '\(layer)' before the layer itself: nothing was written")
        }
    }

    /// Adds one row to its INSERT, sent once it holds `rowsPerInsert` rows or 30 000 parameters
    /// (a layer with many fields; PostgreSQL takes at most 65 535 in one statement).
    private func queue(_ head: String, _ values: (inout Binds) -> [String]) throws {
        var entry = pending.removeValue(forKey: head) ?? (Binds(), [])
        entry.rows.append("(" + values(&entry.binds).joined(separator: ", ") + ")")
        if entry.rows.count >= Self.rowsPerInsert || entry.binds.bindings.count >= 30_000 {
            try s.execute(head + " " + entry.rows.joined(separator: ", "), entry.binds.bindings)
        } else {
            pending[head] = entry
        }
    }

    private func flush() throws {
        for (head, entry) in pending.sorted(by: { $0.key < $1.key }) {
            try s.execute(head + " " + entry.rows.joined(separator: ", "), entry.binds.bindings)
        }
        pending = [:]
    }

    private func addLayer(_ r: LayerRecord) throws {
        guard try store.storedEntry(s, r.name) == nil, layers[r.name] == nil else {
            throw StoreError.notEmpty(location: store.displayLocation, what: "layer '\(r.name)'")
        }
        let schema = try store.ensureLayer(s, try r.schema())
        var b = Binds()
        try s.execute("""
            UPDATE landmap_layers SET schema_json = \(b.add(r.schemaJSON)), metadata_json = \(b.add(r.metadataJSON)),
              data_version = \(b.add(r.dataVersion)), geometry_types = \(b.add(JSONValue.array(r.geometryTypes.sorted().map { .string($0) }).jsonText)),
              last_change = \(b.add(r.lastChange)), source_fields = \(b.add(PostGISStore.sourceFieldsJSON(r.sourceFields))),
              largest_area = \(b.add(r.largestArea)) WHERE name = \(b.add(r.name))
            """, b.bindings)
        layers[r.name] = (r, LayerTable(schema))
        order.append(r.name)
    }

    private func addVersion(_ v: VersionRecord) throws {
        guard let layer = layers[v.layer] else { return try known(v.layer) }
        let schema = layer.table.schema
        let wkb = v.feature.geometry.map { WKB.encode($0) }
        func geometry(_ b: inout Binds) -> String { wkb.map { "ST_GeomFromWKB(\(b.add(bytes: $0)), 4326)" } ?? "NULL" }
        guard let validTo = v.validTo else {
            var canonical = [FieldValue]()
            for field in schema.fields {
                canonical.append(try FieldValue.coerce(v.feature.properties[field.name] ?? .null, as: field, layer: schema.name, id: v.feature.id))
            }
            var rest = v.feature.properties
            for field in schema.fields { rest.removeValue(forKey: field.name) }
            let columns = (["geom", "id"] + schema.fields.map { LayerTable.quoted($0.name) } + ["properties", "lm_version", "lm_valid_from", "lm_batch"])
            try queue("INSERT INTO \(layer.table.table) (\(columns.joined(separator: ", "))) VALUES") { b in
                var values = [geometry(&b), b.add(v.feature.id)]
                for (field, value) in zip(schema.fields, canonical) { values.append(LayerTable.bind(value, field.type, into: &b)) }
                values += [rest.isEmpty ? "NULL" : "\(b.add(JSONValue.object(rest).jsonText))::jsonb", b.add(v.version), b.add(v.validFrom), b.add(v.batchID)]
                return values
            }
            return
        }
        guard let endedBy = v.endedByBatch else {
            throw StoreError.invalidFeature(layer: v.layer, id: v.feature.id, detail: "version \(v.version) ended without the batch that ended it")
        }
        let box = v.feature.geometry?.boundingBox
        try queue("""
            INSERT INTO landmap_history (layer, id, version, valid_from, valid_to, batch_id, ended_by_batch, deleted,
              geom, attributes, min_x, min_y, max_x, max_y) VALUES
            """) { b in
            [b.add(v.layer), b.add(v.feature.id), b.add(v.version), b.add(v.validFrom), b.add(validTo), b.add(v.batchID), b.add(endedBy),
             b.add(v.deleted), geometry(&b), "\(b.add(JSONValue.object(v.feature.properties).jsonText))::jsonb",
             b.add(box?.minX), b.add(box?.minY), b.add(box?.maxX), b.add(box?.maxY)]
        }
    }

    /// The rows still waiting, each layer's exact extent, the id sequences past the copied
    /// ids, and a notification per layer so other servers reread their data versions.
    func finish() throws {
        try flush()
        for name in order {
            guard let layer = layers[name] else { continue }
            var b = Binds()
            try s.execute("""
                UPDATE landmap_layers l SET min_x = e.min_x, min_y = e.min_y, max_x = e.max_x, max_y = e.max_y
                FROM (SELECT min(ST_XMin(geom::box3d)) AS min_x, min(ST_YMin(geom::box3d)) AS min_y,
                        max(ST_XMax(geom::box3d)) AS max_x, max(ST_YMax(geom::box3d)) AS max_y FROM \(layer.table.table)) e
                WHERE l.name = \(b.add(name))
                """, b.bindings)
            // The search index is not copied: it is made from the features copied.
            try PostGISStore.rebuildSearch(s, layer: name)
            try store.notify(s, name)
        }
        for table in ["landmap_batches", "landmap_tokens", "landmap_audit", "landmap_changes"] {
            try s.execute("SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce(max(id), 0) + 1, false) FROM \(table)")
        }
        // A log copied from before the hash chain is sealed here, as an upgraded database is.
        try PostGISStore.sealAuditLog(s)
    }
}
