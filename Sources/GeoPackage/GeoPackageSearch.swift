import Features
import Foundation
import GRDB
import Store

extension GeoPackageSchema {
    /// The search index (SPEC §10): one document per feature that has words to be found by
    /// (`SearchDocument`), and an FTS5 index over its folded text kept by triggers. `tag` holds
    /// the layer as one word (`lyparcels`), so a search limited to some layers is answered by
    /// the index itself. Made on every open, so older files gain it (then filled from the data).
    static let search = """
        CREATE TABLE IF NOT EXISTS landmap_search_doc (
          doc INTEGER PRIMARY KEY, layer TEXT NOT NULL, id TEXT NOT NULL, label TEXT NOT NULL, body TEXT NOT NULL, tag TEXT NOT NULL,
          UNIQUE (layer, id));
        CREATE VIRTUAL TABLE IF NOT EXISTS landmap_search USING fts5(
          body, tag, content='landmap_search_doc', content_rowid='doc', tokenize='unicode61', prefix='2 3');
        CREATE TRIGGER IF NOT EXISTS landmap_search_ai AFTER INSERT ON landmap_search_doc BEGIN
          INSERT INTO landmap_search (rowid, body, tag) VALUES (new.doc, new.body, new.tag);
        END;
        CREATE TRIGGER IF NOT EXISTS landmap_search_ad AFTER DELETE ON landmap_search_doc BEGIN
          INSERT INTO landmap_search (landmap_search, rowid, body, tag) VALUES ('delete', old.doc, old.body, old.tag);
        END;
        CREATE TRIGGER IF NOT EXISTS landmap_search_au AFTER UPDATE ON landmap_search_doc BEGIN
          INSERT INTO landmap_search (landmap_search, rowid, body, tag) VALUES ('delete', old.doc, old.body, old.tag);
          INSERT INTO landmap_search (rowid, body, tag) VALUES (new.doc, new.body, new.tag);
        END;
        """

    /// The lengths of word starts the index keeps its own lists for (`prefix='2 3'`): another
    /// is answered by reading every word it begins, to the end.
    static let indexedPrefixLengths = 2...3

    /// A layer's word in the `tag` column: its name without `_` (FTS5 splits words there).
    static func searchTag(_ layer: String) -> String {
        "ly" + layer.replacingOccurrences(of: "_", with: "")
    }
}

/// Keeps one layer's documents in step with a batch: every put and delete of a feature.
struct GeoPackageSearchIndexer {
    let schema: LayerSchema
    private let upsert: Statement
    private let remove: Statement

    init(db: Database, schema: LayerSchema) throws {
        self.schema = schema
        upsert = try db.makeStatement(sql: """
            INSERT INTO landmap_search_doc (layer, id, label, body, tag) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (layer, id) DO UPDATE SET label = excluded.label, body = excluded.body
            WHERE label <> excluded.label OR body <> excluded.body
            """)
        remove = try db.makeStatement(sql: "DELETE FROM landmap_search_doc WHERE layer = ? AND id = ?")
    }

    func put(_ feature: Feature) throws {
        if let doc = SearchDocument.make(for: feature, in: schema) {
            try upsert.execute(arguments: [doc.layer, doc.id, doc.label, doc.text, GeoPackageSchema.searchTag(doc.layer)])
        } else {
            try delete(id: feature.id)
        }
    }

    func delete(id: String) throws {
        try remove.execute(arguments: [schema.name, id])
    }
}

extension GeoPackageStore: SearchStore {
    public func search(_ query: SearchQuery, layers: [String], limit: Int, geometries: Bool) throws -> [SearchFound] {
        let layers = layers.filter(LayerSchema.isValidName)
        guard !query.isEmpty, !layers.isEmpty, limit > 0 else { return [] }
        return try pool.read { db in
            // The layer's tag is matched only when some layer is left out: ANDed with a tag in a
            // million documents, it tripled the time of a search over every layer (issue 20).
            let versions = try Self.dataVersions(db)
            let tags = Set(layers).isSuperset(of: versions.keys) ? nil : layers.map { "\"\(GeoPackageSchema.searchTag($0))\"" }.joined(separator: " OR ")
            func documents(_ q: SearchQuery, tags: String?) throws -> [SearchDocument] {
                try documents(q, tags: tags, answering: nil).found
            }
            /// The index's first candidates for `q`: how many were read, and those whose text
            /// answers `check` (all without one), each made whole only then. Rows are read in
            /// place from the cursor: `Row.fetchAll` copied each with its column names (12 %).
            func documents(_ q: SearchQuery, tags: String?, answering check: Scorer?) throws -> (read: Int, found: [SearchDocument]) {
                let match = tags.map { "tag : (\($0)) AND body : (\(q.fts5))" } ?? "body : (\(q.fts5))"
                let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                    SELECT d.body, d.layer, d.id, d.label FROM landmap_search s JOIN landmap_search_doc d ON d.doc = s.rowid
                    WHERE landmap_search MATCH ? LIMIT ?
                    """), arguments: [match, SearchQuery.candidateLimit])
                var read = 0, found = [SearchDocument]()
                while let row = try rows.next() {
                    read += 1
                    if let check, try !row.withUnsafeData(atIndex: 0, { $0?.withUnsafeBytes(check.isAnswered(utf8:)) ?? false }) { continue }
                    found.append(SearchDocument(layer: row[1], id: row[2], label: row[3], text: row[0]))
                }
                return (read, found)
            }
            if let count = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(doc) FROM landmap_search_doc")) {
                commonWords.refresh(documents: count) { [pool] in try Self.commonWords(pool) }
            }
            func answering(_ query: SearchQuery) throws -> [SearchDocument] {
                guard let narrow = query.narrowed(documentsHolding: commonWords.documents(holding:)) else { return try documents(query, tags: tags) }
                // The rare words first; the others checked here. The same first candidates as
                // the whole query's unless the limit cut the narrow ones and some were left out.
                let wide = try documents(narrow, tags: tags, answering: Scorer(query))
                return wide.read == SearchQuery.candidateLimit && wide.found.count < wide.read ? try documents(query, tags: tags) : wide.found
            }
            // A number typed last is asked whole first (`endsWithNumber`). So is a last word of
            // a length the index keeps no prefix list for, and the words it begins are asked only
            // where the whole word answers fewer than asked for: a whole word ranks above the
            // words it begins ("nguyen"*, every word so begun, to the end: 8 ms at 1 M parcels).
            var found: [SearchDocument]
            if let whole = query.wholeWords, let last = query.words.last,
               query.endsWithNumber || !GeoPackageSchema.indexedPrefixLengths.contains(last.count) {
                found = try answering(whole)
                // FTS5 reads the words a start begins even when another word is in no document
                // ("thao dien"*: 5 ms for nothing); asking the others first costs 0.1 ms.
                func possible() throws -> Bool {
                    var others = whole
                    others.words.removeLast()
                    return try others.isEmpty || Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM landmap_search WHERE landmap_search MATCH ? LIMIT 1"),
                                                               arguments: ["body : (\(others.fts5))"]) == true
                }
                if query.endsWithNumber ? found.isEmpty : found.count < limit, try possible() {
                    let seen = Set(found)
                    found += try answering(query).filter { !seen.contains($0) }.prefix(SearchQuery.candidateLimit - found.count)
                }
            } else {
                found = try answering(query)
            }
            // Units are few and what people look for by name: all of them are checked, in memory.
            if layers.contains("admin"), let version = versions["admin"] {
                found.removeAll { $0.layer == "admin" }
                found += try units.answering(query, version: version) {
                    try Row.fetchAll(db.cachedStatement(sql: "SELECT id, label, body FROM landmap_search_doc WHERE layer = 'admin'")).map {
                        SearchDocument(layer: "admin", id: $0[0], label: $0[1], text: $0[2])
                    }
                }
            }
            let hits = query.rank(found.filter { layers.contains($0.layer) }).prefix(limit)
            guard geometries else { return hits.map { SearchFound(document: $0) } }
            return try hits.map { doc in
                guard versions[doc.layer] != nil else { return SearchFound(document: doc) }
                let blob = try Data.fetchOne(db.cachedStatement(sql: "SELECT geom FROM \(GeoPackageSchema.quoted(doc.layer)) WHERE id = ?"), arguments: [doc.id])
                return SearchFound(document: doc, geometry: try blob.flatMap(GeoPackageBinary.wkb))
            }
        }
    }

    /// The index's words in more than `CommonWords.threshold` documents, with their counts.
    static func commonWords(_ pool: DatabasePool) throws -> [String: Int64] {
        try pool.read { db in
            let documents = try Int64.fetchOne(db, sql: "SELECT count(*) FROM landmap_search_doc") ?? 0
            try db.execute(sql: "CREATE VIRTUAL TABLE IF NOT EXISTS temp.landmap_search_words USING fts5vocab(main, 'landmap_search', 'row')")
            var counts = [String: Int64]()
            let rows = try Row.fetchCursor(db, sql: "SELECT term, doc FROM temp.landmap_search_words WHERE doc > ?", arguments: [CommonWords.threshold(documents: documents)])
            while let row = try rows.next() { counts[row[0]] = row[1] }
            return counts
        }
    }

    public func rebuildSearchIndex(layer: String) throws {
        try pool.write { db in try Self.rebuildSearch(db, layer: layer) }
    }

    /// A layer's documents made anew from its present features, inside the caller's transaction.
    static func rebuildSearch(_ db: Database, layer: String) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT schema_json, metadata_json FROM landmap_layers WHERE name = ?", arguments: [layer]) else {
            throw StoreError.unknownLayer(layer)
        }
        let schema = try LayerSchema.fromStored(name: layer, json: row[0], metadata: row[1])
        try db.execute(sql: "DELETE FROM landmap_search_doc WHERE layer = ?", arguments: [layer])
        let indexer = try GeoPackageSearchIndexer(db: db, schema: schema)
        let features = FeatureRow(schema: schema)
        let cursor = try Row.fetchCursor(db, sql: "SELECT \(features.selectColumns) FROM \(GeoPackageSchema.quoted(layer)) ORDER BY fid")
        while let r = try cursor.next() { try indexer.put(try features.feature(from: r).feature) }
    }

    /// Files made before the index gain it at open, filled from every layer: true when made.
    static func addSearchIndex(_ db: Database) throws -> Bool {
        guard try !db.tableExists("landmap_search_doc") else { return false }
        try db.execute(sql: GeoPackageSchema.search)
        for layer in try String.fetchAll(db, sql: "SELECT name FROM landmap_layers ORDER BY name") { try rebuildSearch(db, layer: layer) }
        return true
    }
}
