import CQL2
import Features
import Foundation
import Geometry
import GRDB
import Store

/// The GeoPackage snapshot: one GRDB read transaction.
struct GeoPackageSnapshot: FeatureSnapshot {
    let db: Database
    let store: GeoPackageStore

    func dataVersions() throws -> [String: Int64] {
        try GeoPackageStore.dataVersions(db)
    }

    var versionsAreExact: Bool { true }

    func keys(layer: String, intersecting box: BoundingBox) throws -> [Int64] {
        let sql = try store.layerSQL(db, layer)
        return try Int64.fetchAll(db.cachedStatement(sql: sql.keysInBox), arguments: [box.maxX, box.minX, box.maxY, box.minY])
    }

    func boxes(layer: String, limit: Int) throws -> [(key: Int64, box: BoundingBox)]? {
        let sql = try store.layerSQL(db, layer)
        var out = [(key: Int64, box: BoundingBox)]()
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql.allBoxes), arguments: [limit + 1])
        while let r = try rows.next() {
            out.append((r[0], BoundingBox(minX: r[1], minY: r[3], maxX: r[2], maxY: r[4])))
        }
        return out.count > limit ? nil : out
    }

    func forEachWKB(layer: String, intersecting box: BoundingBox, _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        let sql = try store.layerSQL(db, layer)
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql.geometriesInBox), arguments: [box.maxX, box.minX, box.maxY, box.minY])
        while let row = try rows.next() {
            guard let blob = row.dataNoCopy(atIndex: 1) else { continue }
            let key: Int64 = row[0]
            try blob.withUnsafeBytes { bytes in
                let header = try GeoPackageBinary.header(bytes)
                guard !header.isEmpty else { return }
                try body(key, UnsafeRawBufferPointer(rebasing: bytes[header.wkbOffset...]))
            }
        }
    }

    func forEachWKB(layer: String, keys: [Int64], _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        let sql = try store.layerSQL(db, layer)
        let statement = try db.cachedStatement(sql: sql.geometryByKey)
        for (i, key) in keys.enumerated() {
            if i & 4095 == 4095 { try Deadline.check() }
            let row = try RawRows(statement, key: key)
            defer { row.reset() }
            guard try row.next(), let blob = row.blob(0) else { continue }
            let header = try GeoPackageBinary.header(blob)
            if !header.isEmpty { try body(key, UnsafeRawBufferPointer(rebasing: blob[header.wkbOffset...])) }
        }
    }

    /// Features whose R-tree boxes lie within the rectangle are counted from the index alone;
    /// only those across its edge have their geometry read, in the same statement.
    func keys(layer: String, meeting rectangle: BoundingBox) throws -> [Int64] {
        let sql = try store.layerSQL(db, layer)
        let rows = try RawRows(db.cachedStatement(sql: sql.candidatesInBox), [rectangle.maxX, rectangle.minX, rectangle.maxY, rectangle.minY])
        // Left mid-row (a deadline, a bad blob), the statement would hold this connection's
        // read transaction, and every later snapshot of it would read the old data.
        defer { rows.reset() }
        let test = RectangleTest(rectangle)
        var out = [Int64](), seen = 0
        while try rows.next() {
            seen += 1
            if seen & 4095 == 0 { try Deadline.check() }
            if rows.isInteger(1) {
                out.append(rows.int64(0))
                continue
            }
            // NULL: no row, or no geometry, behind the index entry.
            guard let blob = rows.blob(1) else { continue }
            let header = try GeoPackageBinary.header(blob)
            if !header.isEmpty, try test.meets(UnsafeRawBufferPointer(rebasing: blob[header.wkbOffset...])) { out.append(rows.int64(0)) }
        }
        out.sort()
        return out
    }

    func feature(layer: String, key: Int64) throws -> Feature? {
        try features(layer: layer, keys: [key]).first
    }

    /// Each row read in place, by one statement found once: a GRDB cursor indexed the column
    /// names for every row asked.
    func features(layer: String, keys: [Int64]) throws -> [Feature] {
        let sql = try store.layerSQL(db, layer)
        let statement = try db.cachedStatement(sql: sql.byKey)
        var out = [Feature]()
        out.reserveCapacity(keys.count)
        for key in keys {
            let row = try RawRows(statement, key: key)
            defer { row.reset() }
            guard try row.next() else { continue }
            out.append(try sql.row.feature(from: row).feature)
        }
        return out
    }

    func keys(layer: String, matching filter: CQL2Filter) throws -> [Int64] {
        let sql = try store.layerSQL(db, layer)
        let clause = try CQL2SQLite.translate(filter, schema: sql.schema)
        let rows = try Int64.fetchCursor(db, sql: "SELECT fid FROM \(GeoPackageSchema.quoted(layer)) WHERE \(clause.sql) ORDER BY fid",
                                         arguments: StatementArguments(clause.arguments))
        var out = [Int64]()
        while let key = try rows.next() {
            if out.count & 4095 == 0 { try Deadline.check() }
            out.append(key)
        }
        return out
    }

    func keys(layer: String, after key: Int64, limit: Int) throws -> [Int64] {
        let sql = try store.layerSQL(db, layer)
        return try Int64.fetchAll(db.cachedStatement(sql: sql.keysAfter), arguments: [key, max(0, limit)])
    }
}

/// A read-only SQLite connection beside the store's pool (WAL lets it read while others write).
final class GeoPackageReader: FeatureReader {
    let store: GeoPackageStore
    let queue: DatabaseQueue

    init(store: GeoPackageStore) throws {
        self.store = store
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            SpatialFunctions.register(db)
            CQL2Functions.register(db)
            try GeoPackageStore.mapIntoMemory(db)
        }
        queue = try DatabaseQueue(path: store.path, configuration: config)
    }

    /// GRDB's `read` compiles `BEGIN`/`COMMIT` afresh each time; from cached statements the
    /// transaction costs next to nothing.
    func snapshot<T>(_ body: (any FeatureSnapshot) throws -> T) throws -> T {
        try queue.inDatabase { db in
            try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
            do {
                let result = try body(GeoPackageSnapshot(db: db, store: store))
                try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                return result
            } catch {
                try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute()
                throw error
            }
        }
    }
}

extension GeoPackageStore {
    public func reader() throws -> any FeatureReader {
        try GeoPackageReader(store: self)
    }

    static func dataVersions(_ db: Database) throws -> [String: Int64] {
        var out = [String: Int64]()
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT name, data_version FROM landmap_layers"))
        while let row = try rows.next() { out[row[0]] = row[1] }
        return out
    }
}
