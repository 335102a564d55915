import Features
import Foundation
import GRDB
import Store

/// SPEC §9's change feed: one read transaction per page, through `ChangeFeedPlanner`.
extension GeoPackageStore: ChangeFeed {
    public func changes(layer: String, since: Int64, after: String?, limit: Int) throws -> ChangePage {
        try pool.read { db in
            guard let schema = try self.storedSchema(db, layer) else { throw StoreError.unknownLayer(layer) }
            return try ChangeFeedPlanner.page(GeoPackageFeedSource(db: db, schema: schema), layer: layer, since: since, after: after, limit: limit)
        }
    }
}

extension GeoPackageStore {
    public func batchRecords(layer: String) throws -> [BatchRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.batchColumns) FROM landmap_batches WHERE layer = ? ORDER BY id", arguments: [layer]).map(Self.batch)
        }
    }
}

struct GeoPackageFeedSource: ChangeFeedSource {
    let db: Database
    let schema: LayerSchema

    func versions() throws -> (current: Int64, oldest: Int64)? {
        guard let current = try Int64.fetchOne(db, sql: "SELECT data_version FROM landmap_layers WHERE name = ?", arguments: [schema.name]) else {
            return nil
        }
        let row = try Row.fetchOne(db, sql: """
            SELECT sum(CASE WHEN data_version IS NULL THEN 1 ELSE 0 END), min(data_version)
            FROM landmap_batches WHERE layer = ? AND inserted + updated + deleted > 0
            """, arguments: [schema.name])
        let unknown: Int64 = row?[0] ?? 0
        let firstKnown: Int64? = row?[1]
        return (current, unknown == 0 ? 0 : (firstKnown.map { $0 - 1 } ?? current))
    }

    func changingBatches(after dataVersion: Int64, limit: Int) throws -> [(batch: Int64, dataVersion: Int64)] {
        try Row.fetchAll(db, sql: """
            SELECT id, data_version FROM landmap_batches
            WHERE layer = ? AND data_version > ? AND inserted + updated + deleted > 0 ORDER BY data_version, id LIMIT ?
            """, arguments: [schema.name, dataVersion, limit]).map { ($0[0], $0[1]) }
    }

    func survivors(batch: Int64, afterID: String?, limit: Int) throws -> [(id: String, version: Int, feature: Feature)] {
        let row = FeatureRow(schema: schema)
        let present = try Row.fetchAll(db, sql: """
            SELECT \(row.selectColumns) FROM \(GeoPackageSchema.quoted(schema.name)) WHERE lm_batch = ? AND id > ? ORDER BY id LIMIT ?
            """, arguments: [batch, afterID ?? "", limit]).map { r in
            let f = try row.feature(from: r)
            return (id: f.feature.id, version: f.version, feature: f.feature)
        }
        let past = try Row.fetchAll(db, sql: """
            SELECT id, geom, attributes, version FROM landmap_history
            WHERE layer = ? AND batch_id = ? AND ended_by_batch <> ? AND id > ? ORDER BY id LIMIT ?
            """, arguments: [schema.name, batch, batch, afterID ?? "", limit]).map { r in
            (id: r[0] as String, version: r[3] as Int, feature: try GeoPackageStore.historyFeature(r))
        }
        return Array((present + past).sorted { $0.id < $1.id }.prefix(limit))
    }

    func ended(batch: Int64, afterID: String?, limit: Int) throws -> [(id: String, version: Int, deleted: Bool)] {
        try Row.fetchAll(db, sql: """
            SELECT id, version, deleted FROM landmap_history
            WHERE layer = ? AND ended_by_batch = ? AND batch_id <> ? AND id > ? ORDER BY id LIMIT ?
            """, arguments: [schema.name, batch, batch, afterID ?? "", limit]).map { ($0[0], $0[1], $0[2]) }
    }
}
