import CQL2
import Features
import Foundation
import Geometry
import NIOCore
import PostgresNIO
import Store

/// A connection of its own for one thread's hot path (a lookup worker). Its statements are
/// prepared once per connection (named server-side statements), and `BEGIN`/`COMMIT` are
/// sent without waiting for their answers — the connection runs requests in order — so a
/// snapshot costs only the round trips of its own queries. With a replica it keeps one
/// connection to each server, opened when first needed, and each snapshot goes where the
/// store's reads go (`PostGISStore.readEndpoint`).
final class PostGISReader: FeatureReader {
    let store: PostGISStore
    private final class Link {
        var session: PGSession?
        /// The previous snapshot's COMMIT, checked before the next one begins.
        var pendingCommit: EventLoopFuture<PostgresQueryResult>?
        deinit { session?.close() }
    }
    private let primary = Link()
    private let replica = Link()
    /// The server of the snapshot running now.
    private var current = Endpoint.primary

    /// Connects on its first snapshot, to the server that snapshot reads (a reader made while
    /// the primary is down reads from the replica).
    init(store: PostGISStore) {
        self.store = store
    }

    private func link(_ endpoint: Endpoint) -> Link {
        endpoint == .replica ? replica : primary
    }

    /// The session to `endpoint`, (re)connected if the server closed it.
    private func live(_ endpoint: Endpoint) throws -> PGSession {
        let l = link(endpoint)
        if let session = l.session, !session.isClosed { return session }
        l.session?.close()
        l.session = nil
        l.pendingCommit = nil
        let fresh = try store.reads.pool(endpoint).connect()
        l.session = fresh
        return fresh
    }

    func snapshot<T>(_ body: (any FeatureSnapshot) throws -> T) throws -> T {
        let target = try store.readTarget()
        return try store.reads.run(target.endpoint, onFailover: { store.versions.invalidate() }) { _, endpoint, attempt in
            try snapshot(on: endpoint, versions: endpoint == target.endpoint ? target.versions : nil, attempt, body)
        }
    }

    /// `versions`: the cached ones, taken before the snapshot begins (they may lag its data,
    /// never lead it); nil to read them in the snapshot (exactly its data's). Once `body` has the
    /// snapshot the read is not run again elsewhere (`Attempt`): its caller may have kept what
    /// it was handed (a renderer's drawn features).
    private func snapshot<T>(on endpoint: Endpoint, versions cached: [String: Int64]?, _ attempt: Attempt,
                             _ body: (any FeatureSnapshot) throws -> T) throws -> T {
        current = endpoint
        let l = link(endpoint)
        let s = try live(endpoint)
        if let pending = l.pendingCommit {
            l.pendingCommit = nil
            do { _ = try pending.wait() } catch { throw PostGISError.wrap(error) }
        }
        let begin = s.connection.query(PostgresQuery(unsafeSQL: PostGISStore.readOnly), logger: s.logger)
        do {
            let versions = try cached ?? PostGISStore.readDataVersions(s)
            attempt.started = true
            let result = try body(PostGISSnapshot(reader: self, session: s, versions: versions, versionsAreExact: cached == nil))
            _ = try begin.wait()
            l.pendingCommit = s.connection.query("COMMIT", logger: s.logger)
            return result
        } catch {
            _ = try? begin.wait()
            _ = try? s.connection.query("ROLLBACK", logger: s.logger).wait()
            throw PostGISError.wrap(error)
        }
    }

    /// Runs a statement prepared once on this snapshot's connection; each row's cells, decodable.
    func run(_ sql: String, _ binds: Binds = Binds()) throws -> [[PostgresCell]] {
        try live(current).prepared(sql, binds)
    }

    /// The layer's SQL (the catalog's, or read once through this connection).
    func table(_ layer: String) throws -> LayerTable {
        try store.layerTable(try live(current), layer)
    }
}

/// One REPEATABLE READ READ ONLY transaction of a reader. Keys are the layer's `fid`s.
///
/// Every statement is a round trip to the server, which costs more than the geometry work of
/// a lookup (0.16 ms for `SELECT 1` here, against 0.2 ms for a whole lookup on GeoPackage), so
/// a snapshot makes as few as it can: the data versions come from the store's cache, which
/// LISTEN/NOTIFY keeps (a commit is in it once notified: it may lag this snapshot by that
/// delay, never lead it, so nothing is cached under a version newer than its data), and the
/// rows `forEachWKB` reads come whole, so `feature(layer:key:)` for one of them — the lookup's
/// winning parcel, every kept feature of a tile — is answered without asking again.
struct PostGISSnapshot: FeatureSnapshot {
    let reader: PostGISReader
    let session: PGSession
    /// The data versions, read before the snapshot began from the server it reads.
    let versions: [String: Int64]
    /// False where `versions` came from the store's cache (they may lag this snapshot's data).
    let versionsAreExact: Bool
    /// The rows `forEachWKB` read, by layer and key, for this snapshot only.
    let rows = RowCache()

    final class RowCache {
        var byLayer = [String: [Int64: [PostgresCell]]]()
        /// Rows kept in all: past this (a low-zoom tile over a large layer), later rows are not
        /// kept and `feature(layer:key:)` asks the server for them, so memory stays bounded.
        var kept = 0
        static let limit = 20_000
    }

    func dataVersions() throws -> [String: Int64] {
        versions
    }

    /// `ST_MakeEnvelope($1::float8, …, 4326)` with the box bound.
    private func envelope(_ box: BoundingBox, _ b: inout Binds) -> String {
        "ST_MakeEnvelope(\(b.add(box.minX)), \(b.add(box.minY)), \(b.add(box.maxX)), \(b.add(box.maxY)), 4326)"
    }

    func keys(layer: String, intersecting box: BoundingBox) throws -> [Int64] {
        let table = try reader.table(layer)
        var b = Binds()
        return try reader.run("SELECT fid FROM \(table.table) WHERE geom && \(envelope(box, &b))", b)
            .map { try $0[0].decode(Int64.self) }
    }

    func boxes(layer: String, limit: Int) throws -> [(key: Int64, box: BoundingBox)]? {
        let table = try reader.table(layer)
        let rows = try reader.run("""
            SELECT fid, ST_XMin(geom::box3d), ST_YMin(geom::box3d), ST_XMax(geom::box3d), ST_YMax(geom::box3d)
            FROM \(table.table) WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom) LIMIT $1::int8
            """, { var b = Binds(); _ = b.add(Int64(max(0, limit)) + 1); return b }())
        guard rows.count <= limit else { return nil }
        return try rows.map { r in
            (try r[0].decode(Int64.self), BoundingBox(minX: try r[1].decode(Double.self), minY: try r[2].decode(Double.self),
                                                maxX: try r[3].decode(Double.self), maxY: try r[4].decode(Double.self)))
        }
    }

    func forEachWKB(layer: String, intersecting box: BoundingBox, _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        let table = try reader.table(layer)
        var b = Binds()
        let found = try reader.run("SELECT \(table.select) FROM \(table.table) WHERE geom && \(envelope(box, &b))", b)
        var kept = rows.byLayer[layer] ?? [:]
        defer { rows.byLayer[layer] = kept }
        for r in found {
            let key = try r[0].decode(Int64.self)
            if rows.kept < RowCache.limit {
                kept[key] = r
                rows.kept += 1
            }
            guard let bytes = r[1].bytes, bytes.readableBytes > 0 else { continue }
            try bytes.withUnsafeReadableBytes { try body(key, $0) }
        }
    }

    /// Decided by PostGIS beside its rows: only the keys come back, not every candidate's row.
    func keys(layer: String, meeting rectangle: BoundingBox) throws -> [Int64] {
        let table = try reader.table(layer)
        var b = Binds()
        let area = envelope(rectangle, &b)
        return try reader.run("SELECT fid FROM \(table.table) WHERE geom && \(area) AND ST_Intersects(geom, \(area)) ORDER BY fid", b)
            .map { try $0[0].decode(Int64.self) }
    }

    /// One round trip for the keys this snapshot has not read already.
    func features(layer: String, keys: [Int64]) throws -> [Feature] {
        let table = try reader.table(layer)
        let cells = try rows(layer, table, keys)
        return try keys.compactMap { key in try cells[key].map { try table.row(cells: $0).feature } }
    }

    func forEachWKB(layer: String, keys: [Int64], _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        let cells = try rows(layer, try reader.table(layer), keys)
        for key in keys {
            guard let bytes = cells[key]?[1].bytes, bytes.readableBytes > 0 else { continue }
            try bytes.withUnsafeReadableBytes { try body(key, $0) }
        }
    }

    /// The rows of `keys`, those not read already in one round trip (not kept: a page's few).
    private func rows(_ layer: String, _ table: LayerTable, _ keys: [Int64]) throws -> [Int64: [PostgresCell]] {
        var cells = [Int64: [PostgresCell]](minimumCapacity: keys.count), missing = [Int64]()
        let kept = rows.byLayer[layer]
        for key in keys {
            if let row = kept?[key] { cells[key] = row } else { missing.append(key) }
        }
        guard !missing.isEmpty else { return cells }
        var b = Binds()
        let list = b.add("{" + missing.map(String.init).joined(separator: ",") + "}")
        for row in try reader.run("SELECT \(table.select) FROM \(table.table) WHERE fid = ANY(\(list)::int8[])", b) {
            cells[try row[0].decode(Int64.self)] = row
        }
        return cells
    }

    func feature(layer: String, key: Int64) throws -> Feature? {
        try features(layer: layer, keys: [key]).first
    }

    /// Not prepared: each filter is its own statement, and a connection would keep them all.
    func keys(layer: String, matching filter: CQL2Filter) throws -> [Int64] {
        let table = try reader.table(layer)
        let (clause, b) = try CQL2PostGIS.translate(filter, schema: table.schema)
        var out = [Int64]()
        for row in try session.query("SELECT fid FROM \(table.table) WHERE \(clause) ORDER BY fid", b.bindings) {
            if out.count & 4095 == 0 { try Deadline.check() }
            out.append(try row.makeRandomAccess().int64(0))
        }
        return out
    }

    func keys(layer: String, after key: Int64, limit: Int) throws -> [Int64] {
        let table = try reader.table(layer)
        var b = Binds()
        return try reader.run("SELECT fid FROM \(table.table) WHERE fid > \(b.add(key)) ORDER BY fid LIMIT \(b.add(Int64(max(0, limit))))", b)
            .map { try $0[0].decode(Int64.self) }
    }
}

extension PostGISStore {
    public func reader() throws -> any FeatureReader {
        PostGISReader(store: self)
    }
}
