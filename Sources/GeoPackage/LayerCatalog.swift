import Features
import Store
import Synchronization

/// A layer's schema with the SQL the store runs against it, built once per process: the hot
/// paths (lookups, tiles) must not rebuild strings or re-read the schema on every call.
struct LayerSQL: Sendable {
    let schema: LayerSchema
    let row: FeatureRow
    /// `SELECT <columns> FROM layer WHERE id = ?`
    let byID: String
    /// Present features whose R-tree boxes intersect `maxX, minX, maxY, minY`, paged.
    let inBox: String
    /// The same, as of a time (`lm_valid_from <= ?`), unpaged.
    let inBoxAsOf: String
    /// `SELECT <columns> FROM layer WHERE fid = ?`
    let byKey: String
    /// Keys (fids) from the R-tree alone, for callers that cache geometries by key.
    let keysInBox: String
    /// Keys after `?`, ascending, `LIMIT ?`.
    let keysAfter: String
    /// Every key with its R-tree box, `LIMIT ?`.
    let allBoxes: String
    /// Key and geometry blob of the features in a box, nothing else decoded.
    let geometriesInBox: String
    /// `SELECT geom FROM layer WHERE fid = ?`
    let geometryByKey: String
    /// Keys in a box (`?1…?4` as above), each with 1 where its R-tree box lies within the box
    /// (its row unread), else its geometry blob.
    let candidatesInBox: String

    init(_ schema: LayerSchema) {
        self.schema = schema
        row = FeatureRow(schema: schema)
        let table = GeoPackageSchema.quoted(schema.name)
        let rtree = GeoPackageSchema.quoted("rtree_\(schema.name)_geom")
        let qualified = row.columnNames.map { "t." + GeoPackageSchema.quoted($0) }.joined(separator: ", ")
        let join = "FROM \(rtree) r JOIN \(table) t ON t.fid = r.id WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?"
        byID = "SELECT \(row.selectColumns) FROM \(table) WHERE id = ?"
        inBox = "SELECT \(qualified) \(join) ORDER BY t.fid LIMIT ? OFFSET ?"
        inBoxAsOf = "SELECT \(qualified) \(join) AND t.lm_valid_from <= ? ORDER BY t.id"
        byKey = "SELECT \(row.selectColumns) FROM \(table) WHERE fid = ?"
        keysAfter = "SELECT fid FROM \(table) WHERE fid > ? ORDER BY fid LIMIT ?"
        keysInBox = "SELECT r.id FROM \(rtree) r WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?"
        allBoxes = "SELECT id, minx, maxx, miny, maxy FROM \(rtree) LIMIT ?"
        geometriesInBox = "SELECT t.fid, t.geom \(join)"
        geometryByKey = "SELECT geom FROM \(table) WHERE fid = ?"
        let within = "r.minx >= ?2 AND r.maxx <= ?1 AND r.miny >= ?4 AND r.maxy <= ?3"
        candidatesInBox = """
            SELECT r.id, CASE WHEN \(within) THEN 1 ELSE (SELECT t.geom FROM \(table) t WHERE t.fid = r.id) END
            FROM \(rtree) r WHERE r.minx <= ?1 AND r.maxx >= ?2 AND r.miny <= ?3 AND r.maxy >= ?4
            """
    }
}

/// The layers this process has seen. A layer's fields never change once created, so its SQL
/// stays valid; its metadata (private fields) may, and bumps the layer's data version when it
/// does, so each entry remembers the data version its schema was read at. A layer another
/// process creates is simply read on first use.
final class LayerCatalog: Sendable {
    struct Entry: Sendable {
        let sql: LayerSQL
        let dataVersion: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])

    func get(_ name: String) -> Entry? {
        entries.withLock { $0[name] }
    }

    func set(_ sql: LayerSQL, dataVersion: Int64) {
        entries.withLock { $0[sql.schema.name] = Entry(sql: sql, dataVersion: dataVersion) }
    }
}
