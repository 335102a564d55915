import Features
import Foundation
import PostgresNIO
import Store

/// The search index in PostgreSQL (SPEC §10), the GeoPackage one's twin: `landmap_search`
/// holds each feature's `SearchDocument`; its `tsv` (the folded text and the layer as one word,
/// `lyparcels`, parsed by the `simple` configuration: no stemming, no stop words) has a GIN
/// index. Written by every batch (`PostGISBatchWriter`), remade on copy and metadata changes.
extension PostGISStore: SearchStore {
    public func search(_ query: SearchQuery, layers: [String], limit: Int, geometries: Bool) throws -> [SearchFound] {
        let layers = layers.filter(LayerSchema.isValidName)
        guard !query.isEmpty, !layers.isEmpty, limit > 0 else { return [] }
        let versions = try dataVersions()
        let unitsVersion = layers.contains("admin") ? versions["admin"] : nil
        return try read(snapshot: geometries) { s in
            func documents(_ query: SearchQuery) throws -> [SearchDocument] {
                let tags = layers.map { "'\(Self.searchTag($0))'" }.joined(separator: " | ")
                var b = Binds()
                let sql = """
                    SELECT layer, id, label, body FROM landmap_search
                    WHERE tsv @@ to_tsquery('simple', \(b.add("(\(tags)) & (\(query.tsquery))"))) LIMIT \(b.add(SearchQuery.candidateLimit))
                    """
                return try s.query(sql, b.bindings).compactMap { row -> SearchDocument? in
                    let r = row.makeRandomAccess()
                    let layer = try r.string(0)
                    guard layers.contains(layer) else { return nil }
                    return SearchDocument(layer: layer, id: try r.string(1), label: try r.string(2), text: try r.string(3))
                }
            }
            // A number typed last is meant whole; the numbers it begins only where none is.
            var found = try documents(query.endsWithNumber ? query.wholeWords ?? query : query)
            if query.endsWithNumber, found.isEmpty { found = try documents(query) }
            // Units are few and what people look for by name: all of them are checked, in memory.
            if let version = unitsVersion {
                found.removeAll { $0.layer == "admin" }
                found += try units.answering(query, version: version) {
                    try s.query("SELECT id, label, body FROM landmap_search WHERE layer = 'admin'").map { row in
                        let r = row.makeRandomAccess()
                        return SearchDocument(layer: "admin", id: try r.string(0), label: try r.string(1), text: try r.string(2))
                    }
                }
            }
            let hits = query.rank(found).prefix(limit)
            guard geometries else { return hits.map { SearchFound(document: $0) } }
            // Each layer's hits in one query, in the snapshot the index was read in.
            var wkb = [SearchDocument: [UInt8]]()
            for (layer, docs) in Dictionary(grouping: hits, by: \.layer) where versions[layer] != nil {
                var b = Binds()
                let ids = docs.map { b.add($0.id) }.joined(separator: ", ")
                let rows = try s.query("SELECT id, ST_AsBinary(geom) FROM \(try self.layerTable(s, layer).table) WHERE id IN (\(ids))", b.bindings)
                let byID = try Dictionary(rows.map { row -> (String, [UInt8]?) in
                    let r = row.makeRandomAccess()
                    return (try r.string(0), r[1].bytes.map { Array($0.readableBytesView) })
                }, uniquingKeysWith: { a, _ in a })
                for doc in docs { wkb[doc] = byID[doc.id] ?? nil }
            }
            return hits.map { SearchFound(document: $0, geometry: wkb[$0]) }
        }
    }

    public func rebuildSearchIndex(layer: String) throws {
        try pool.transaction { s in
            try self.lockWrites(s)
            try Self.rebuildSearch(s, layer: layer)
        }
    }

    /// A layer's word in the index, as `Migrations`' generated column writes it.
    static func searchTag(_ layer: String) -> String {
        "ly" + layer.replacingOccurrences(of: "_", with: "")
    }

    /// A layer's documents made anew from its present features, inside the caller's transaction.
    static func rebuildSearch(_ s: PGSession, layer: String) throws {
        var b = Binds()
        guard let r = try s.query("SELECT schema_json, metadata_json FROM landmap_layers WHERE name = \(b.add(layer))", b.bindings)
            .first?.makeRandomAccess() else { throw StoreError.unknownLayer(layer) }
        let schema = try LayerSchema.fromStored(name: layer, json: try r.string(0), metadata: try r.string(1))
        let table = LayerTable(schema)
        b = Binds()
        try s.execute("DELETE FROM landmap_search WHERE layer = \(b.add(layer))", b.bindings)
        try s.execute("DECLARE landmap_reindex NO SCROLL CURSOR FOR SELECT \(table.select) FROM \(table.table) ORDER BY fid")
        while true {
            let rows = try s.query("FETCH 500 FROM landmap_reindex")
            if rows.isEmpty { break }
            let docs = try rows.compactMap { SearchDocument.make(for: try table.row($0).feature, in: schema) }
            if let upsert = Self.upsertSQL(docs) { try s.execute(upsert.0, upsert.1.bindings) }
        }
        try s.execute("CLOSE landmap_reindex")
    }

    /// One INSERT of documents, replacing those of the same features; nil for none.
    static func upsertSQL(_ docs: [SearchDocument]) -> (String, Binds)? {
        guard !docs.isEmpty else { return nil }
        var b = Binds()
        let values = docs.map { d in "(\(b.add(d.layer)), \(b.add(d.id)), \(b.add(d.label)), \(b.add(d.text)))" }.joined(separator: ", ")
        return ("""
            INSERT INTO landmap_search (layer, id, label, body) VALUES \(values)
            ON CONFLICT (layer, id) DO UPDATE SET label = EXCLUDED.label, body = EXCLUDED.body
            """, b)
    }
}
