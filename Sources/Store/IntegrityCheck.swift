import Foundation
import GRDB

/// What SQLite's `PRAGMA quick_check` found in the database file: b-tree pages, records, the
/// free list (not the UNIQUE indexes `integrity_check` adds, at several times the cost).
public struct IntegrityCheck: Hashable, Sendable {
    /// SQLite's words for each problem, at most the limit asked for; empty when the file is sound.
    public var problems: [String]
    public var checkedAt: Date
    public var seconds: Double
    /// Keys that several present features share: a file written before keys were checked
    /// (`StoreError.duplicateKey`) may hold some. The file is sound; its data needs fixing.
    public var duplicateKeys: [DuplicateKey] = []

    public var isOK: Bool { problems.isEmpty }

    public init(problems: [String], checkedAt: Date, seconds: Double, duplicateKeys: [DuplicateKey] = []) {
        self.problems = problems
        self.checkedAt = checkedAt
        self.seconds = seconds
        self.duplicateKeys = duplicateKeys
    }
}

/// A key held by more than one present feature of a layer whose key is unique.
public struct DuplicateKey: Hashable, Sendable {
    public var layer: String
    /// `ward_code 27484, sheet 1, number 2`
    public var key: String
    public var ids: [String]

    public init(layer: String, key: String, ids: [String]) {
        self.layer = layer
        self.key = key
        self.ids = ids
    }
}

extension GeoPackageStore {
    /// Runs `PRAGMA quick_check` on a reader's snapshot (writers go on meanwhile). Its time grows
    /// with the file, so it belongs in the background, never on a request's path. A file SQLite
    /// cannot read at all is a failed check with SQLite's message.
    public func quickCheck(limit: Int = 10) -> IntegrityCheck {
        let start = Date()
        var problems: [String]
        do {
            // One row per problem, or one row holding them all under a "*** in database" line.
            problems = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(\(max(1, limit)))") }
                .flatMap { $0.split(separator: "\n").map(String.init) }
                .filter { !$0.hasPrefix("*** in database") }
            if problems == ["ok"] { problems = [] } else if problems.isEmpty { problems = ["quick_check gave no answer"] }
        } catch {
            problems = ["\(error)"]
        }
        let duplicates = problems.isEmpty ? ((try? duplicateKeys(limit: limit)) ?? []) : []
        return IntegrityCheck(problems: problems, checkedAt: start, seconds: Date().timeIntervalSince(start), duplicateKeys: duplicates)
    }

    /// Keys shared by several present features, in layers whose key is unique (read along the
    /// key index), at most `limit`.
    public func duplicateKeys(limit: Int = 10) throws -> [DuplicateKey] {
        try pool.read { db in
            var found = [DuplicateKey]()
            for name in try String.fetchAll(db, sql: "SELECT name FROM landmap_layers ORDER BY name") {
                let schema = try self.layerSQL(db, name).schema
                guard schema.keyIsUnique, found.count < limit else { continue }
                // The key index alone answers the grouping (0.13 s at 100 000 parcels); ids are
                // read only for the keys found.
                let table = GeoPackageSchema.quoted(name)
                let keys = schema.keyFields.map(GeoPackageSchema.quoted)
                let groups = try Row.fetchAll(db, sql: """
                    SELECT \(keys.joined(separator: ", ")) FROM \(table)
                    WHERE \(keys.map { "\($0) IS NOT NULL" }.joined(separator: " AND "))
                    GROUP BY \(keys.joined(separator: ", ")) HAVING count(*) > 1 LIMIT ?
                    """, arguments: [limit - found.count])
                let members = try db.makeStatement(sql: "SELECT id FROM \(table) WHERE \(keys.map { "\($0) = ?" }.joined(separator: " AND ")) ORDER BY id")
                for group in groups {
                    let values: [DatabaseValue] = schema.keyFields.indices.map { group[$0] }
                    let named: String = zip(schema.keyFields, values).map { (field: String, value: DatabaseValue) -> String in
                        let v = FeatureRow.json(value)
                        return "\(field) \(v.stringValue ?? v.jsonText)"
                    }.joined(separator: ", ")
                    found.append(DuplicateKey(layer: name, key: named, ids: try String.fetchAll(members, arguments: StatementArguments(values))))
                }
            }
            return found
        }
    }
}
