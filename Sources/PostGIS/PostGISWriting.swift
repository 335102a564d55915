import Features
import Foundation
import Geometry
import PostgresNIO
import Store

extension PostGISStore {
    /// One batch, one transaction. Batches from every process are serialised by one advisory
    /// lock taken first, so two imports into one layer both land in order (the later sees the
    /// earlier's rows) or one fails cleanly; nothing is committed before the end.
    public func write(_ request: BatchRequest, _ body: (any FeatureBatchWriter) throws -> Void) throws -> BatchSummary {
        let summary = try pool.transaction { s in
            try self.lockWrites(s)
            let schema: LayerSchema
            if let stored = try self.storedEntry(s, request.layer) {
                schema = stored.schema
            } else {
                schema = try self.ensureLayer(s, LayerSchema.builtIn(named: request.layer) ?? .custom(request.layer))
            }
            let table = LayerTable(schema)
            let timestamp = try self.nextTimestamp(s)
            var b = Binds()
            let batchID = try s.query("""
                INSERT INTO landmap_batches (layer, mode, source, actor, started_at, proposer)
                VALUES (\(b.add(request.layer)), \(b.add(request.mode.rawValue)), \(b.add(request.source)), \(b.add(request.actor)), \(b.add(timestamp)),
                  \(b.add(request.proposer)))
                RETURNING id
                """, b.bindings).scalar(Int64.self) ?? 0
            // First, so a proposal decided meanwhile fails the batch before any of it is written.
            if let change = request.approves {
                try Self.approve(s, change: change, actor: request.actor, unit: request.unit, batchID: batchID, at: timestamp)
            }
            let writer = try PostGISBatchWriter(session: s, table: table, request: request, batchID: batchID, timestamp: timestamp)
            try body(writer)
            try writer.finish()
            var summary = writer.summary
            let changed = summary.inserted + summary.updated + summary.deleted > 0
            if changed {
                try self.recordChange(s, table: table, timestamp: timestamp, writer: writer, replace: request.mode == .replace)
            }
            b = Binds()
            summary.dataVersion = try s.query("SELECT data_version FROM landmap_layers WHERE name = \(b.add(schema.name))", b.bindings)
                .scalar(Int64.self) ?? 0
            b = Binds()
            try s.execute("""
                UPDATE landmap_batches SET inserted = \(b.add(summary.inserted)), updated = \(b.add(summary.updated)),
                  unchanged = \(b.add(summary.unchanged)), deleted = \(b.add(summary.deleted)), data_version = \(b.add(summary.dataVersion))
                WHERE id = \(b.add(batchID))
                """, b.bindings)
            // Last, so the audit lock (taken by the first append) is held only until the commit.
            if let change = request.approves {
                try Self.auditApproval(s, change: change, actor: request.actor, unit: request.unit, batchID: batchID)
            }
            if changed {
                try Self.appendAudit(s, actor: request.actor, unit: request.unit, action: "write", target: schema.name,
                                     detail: request.auditDetail(batchID: batchID, summary))
                try self.notify(s, schema.name)
            }
            return summary
        }
        versions.invalidateAll()
        return summary
    }

    /// Strictly later than every earlier batch (of any process: the write lock is held), so
    /// versions never share an instant.
    func nextTimestamp(_ s: PGSession) throws -> String {
        var now = Timestamp.string(Date())
        if let last = try s.query("SELECT max(started_at) FROM landmap_batches").scalar(String.self), last >= now,
           let lastDate = Timestamp.date(last) {
            now = Timestamp.string(lastDate.addingTimeInterval(0.001))
        }
        return now
    }

    /// New data version, geometry types, source fields and largest polygon (a replace starts
    /// them afresh, other modes add to them), last change, and the exact extent: grown by what
    /// the batch wrote, or computed afresh when it updated or deleted features.
    func recordChange(_ s: PGSession, table: LayerTable, timestamp: String, writer: PostGISBatchWriter, replace: Bool) throws {
        let name = table.schema.name
        var all = writer.figures.geometryTypes
        var fields = writer.figures.sourceFields
        var largest = writer.figures.largestArea
        var b = Binds()
        let stored = try s.query("""
            SELECT geometry_types, source_fields, largest_area, min_x, min_y, max_x, max_y FROM landmap_layers WHERE name = \(b.add(name))
            """, b.bindings).first?.makeRandomAccess()
        if !replace, let stored {
            all.formUnion((try? JSONValue.parse(try stored.string(0)))?.arrayValue?.compactMap(\.stringValue) ?? [])
            fields.merge(Self.sourceFields(fromJSON: try stored.string(1))) { $0.merged($1) }
            if let before = try stored.optionalDouble(2) { largest = max(largest ?? 0, before) }
        }
        var extent: BoundingBox?
        if writer.shrank {
            // Exact: ST_XMin of a geometry reads its coordinates (the index's boxes are floats).
            if let r = try s.query("""
                SELECT min(ST_XMin(geom::box3d)), min(ST_YMin(geom::box3d)), max(ST_XMax(geom::box3d)), max(ST_YMax(geom::box3d)) FROM \(table.table)
                """).first?.makeRandomAccess(),
                let minX = try r.optionalDouble(0), let minY = try r.optionalDouble(1), let maxX = try r.optionalDouble(2), let maxY = try r.optionalDouble(3) {
                extent = BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
            }
        } else {
            extent = writer.writtenExtent
            if let stored, let minX = try stored.optionalDouble(3), let minY = try stored.optionalDouble(4),
               let maxX = try stored.optionalDouble(5), let maxY = try stored.optionalDouble(6) {
                let before = BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
                if extent == nil { extent = before } else { extent?.expand(toInclude: before) }
            }
        }
        b = Binds()
        let typesJSON = JSONValue.array(all.sorted().map { .string($0) }).jsonText
        try s.execute("""
            UPDATE landmap_layers SET data_version = data_version + 1, geometry_types = \(b.add(typesJSON)), last_change = \(b.add(timestamp)),
              source_fields = \(b.add(Self.sourceFieldsJSON(fields))), largest_area = \(b.add(largest)),
              min_x = \(b.add(extent?.minX)), min_y = \(b.add(extent?.minY)), max_x = \(b.add(extent?.maxX)), max_y = \(b.add(extent?.maxY))
            WHERE name = \(b.add(name))
            """, b.bindings)
    }
}
