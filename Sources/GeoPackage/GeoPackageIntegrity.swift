import Foundation
import GRDB
import Store

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
                    let named = StoreError.keyText(fields: schema.keyFields, values: values.map(FeatureRow.fieldValue))
                    found.append(DuplicateKey(layer: name, key: named, ids: try String.fetchAll(members, arguments: StatementArguments(values))))
                }
            }
            return found
        }
    }
}
