import Features
import Foundation
import PostgresNIO
import Store

/// SPEC §9's change feed: one REPEATABLE READ transaction per page, through `ChangeFeedPlanner`.
/// Read from the primary (a follower that learnt of version V anywhere finds it), from the
/// replica only while the primary cannot answer.
extension PostGISStore: ChangeFeed {
    public func changes(layer: String, since: Int64, after: String?, limit: Int) throws -> ChangePage {
        try reads.run(.primary) { pool, _, _ in
            try pool.transaction(Self.readOnly) { s in
                guard let stored = try self.storedEntry(s, layer) else { throw StoreError.unknownLayer(layer) }
                return try ChangeFeedPlanner.page(PostGISFeedSource(s: s, table: LayerTable(stored.schema)), layer: layer, since: since,
                                                  after: after, limit: limit)
            }
        }
    }
}

extension PostGISStore {
    public func batchRecords(layer: String) throws -> [BatchRecord] {
        try pool.with { s in
            var b = Binds()
            return try s.query("SELECT \(Self.batchColumns) FROM landmap_batches WHERE layer = \(b.add(layer)) ORDER BY id", b.bindings).map(Self.batch)
        }
    }
}

struct PostGISFeedSource: ChangeFeedSource {
    let s: PGSession
    let table: LayerTable
    var layer: String { table.schema.name }

    func versions() throws -> (current: Int64, oldest: Int64)? {
        var b = Binds()
        guard let current = try s.query("SELECT data_version FROM landmap_layers WHERE name = \(b.add(layer))", b.bindings).scalar(Int64.self) else {
            return nil
        }
        b = Binds()
        guard let r = try s.query("""
            SELECT count(*) FILTER (WHERE data_version IS NULL), min(data_version)
            FROM landmap_batches WHERE layer = \(b.add(layer)) AND inserted + updated + deleted > 0
            """, b.bindings).first?.makeRandomAccess() else { return (current, 0) }
        let unknown = try r.int64(0)
        let firstKnown = try r[1].decode(Int64?.self)
        return (current, unknown == 0 ? 0 : (firstKnown.map { $0 - 1 } ?? current))
    }

    func changingBatches(after dataVersion: Int64, limit: Int) throws -> [(batch: Int64, dataVersion: Int64)] {
        var b = Binds()
        return try s.query("""
            SELECT id, data_version FROM landmap_batches
            WHERE layer = \(b.add(layer)) AND data_version > \(b.add(dataVersion)) AND inserted + updated + deleted > 0
            ORDER BY data_version, id LIMIT \(b.add(limit))
            """, b.bindings).map { row in
            let r = row.makeRandomAccess()
            return (try r.int64(0), try r.int64(1))
        }
    }

    func survivors(batch: Int64, afterID: String?, limit: Int) throws -> [(id: String, version: Int, feature: Feature)] {
        var b = Binds()
        let present = try s.query("""
            SELECT \(table.select) FROM \(table.table) WHERE lm_batch = \(b.add(batch)) AND id > \(b.add(afterID ?? "")) ORDER BY id LIMIT \(b.add(limit))
            """, b.bindings).map { row in
            let f = try table.row(row)
            return (id: f.feature.id, version: f.version, feature: f.feature)
        }
        b = Binds()
        let past = try s.query("""
            SELECT id, ST_AsBinary(geom), attributes::text, version FROM landmap_history
            WHERE layer = \(b.add(layer)) AND batch_id = \(b.add(batch)) AND ended_by_batch <> \(b.last) AND id > \(b.add(afterID ?? ""))
            ORDER BY id LIMIT \(b.add(limit))
            """, b.bindings).map { row in
            let r = row.makeRandomAccess()
            return (id: try r.string(0), version: Int(try r[3].decode(Int32.self)), feature: try LayerTable.historyFeature(r))
        }
        return Array((present + past).sorted { $0.id < $1.id }.prefix(limit))
    }

    func ended(batch: Int64, afterID: String?, limit: Int) throws -> [(id: String, version: Int, deleted: Bool)] {
        var b = Binds()
        return try s.query("""
            SELECT id, version, deleted FROM landmap_history
            WHERE layer = \(b.add(layer)) AND ended_by_batch = \(b.add(batch)) AND batch_id <> \(b.last) AND id > \(b.add(afterID ?? ""))
            ORDER BY id LIMIT \(b.add(limit))
            """, b.bindings).map { row in
            let r = row.makeRandomAccess()
            return (try r.string(0), Int(try r[1].decode(Int32.self)), try r[2].decode(Bool.self))
        }
    }
}
