import Foundation
import PostgresNIO
import Store

/// LandMap's schema in PostgreSQL, as numbered migrations run at open: each runs once, in
/// order, inside one transaction holding an advisory lock (two servers starting together
/// wait for each other), and is recorded in `landmap_migrations`.
enum Migrations {
    struct Migration {
        let version: Int
        let description: String
        let sql: [String]
    }

    /// Advisory lock keys (any constant unlikely to be used by another application).
    static let migrationLock: Int64 = 0x4C4D_4D49_4752  // "LMMIGR"
    static let writeLock: Int64 = 0x4C4D_5752_4954  // "LMWRIT"
    /// Held by every audit append until it commits (the hash chain's one writer at a time); a
    /// write takes it after `writeLock`, never before.
    static let auditLock: Int64 = 0x4C4D_4155_4449  // "LMAUDI"

    /// Text that sorts and compares byte by byte, as SQLite's does, whatever the database's
    /// collation: ids and ISO timestamps must order exactly as in a GeoPackage.
    static let c = #"COLLATE "C""#

    static let all: [Migration] = [
        Migration(version: 1, description: "layers, batches, history, tokens, audit", sql: [
            """
            CREATE TABLE landmap_layers (
              name text \(c) PRIMARY KEY,
              schema_json text NOT NULL,
              metadata_json text NOT NULL DEFAULT '{}',
              data_version bigint NOT NULL DEFAULT 0,
              geometry_types text NOT NULL DEFAULT '[]',
              last_change text \(c),
              source_fields text NOT NULL DEFAULT '{}',
              largest_area double precision,
              min_x double precision, min_y double precision, max_x double precision, max_y double precision)
            """,
            """
            CREATE TABLE landmap_batches (
              id bigserial PRIMARY KEY, layer text NOT NULL, mode text NOT NULL, source text NOT NULL,
              actor text NOT NULL, started_at text \(c) NOT NULL,
              inserted integer NOT NULL DEFAULT 0, updated integer NOT NULL DEFAULT 0,
              unchanged integer NOT NULL DEFAULT 0, deleted integer NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX landmap_batches_started ON landmap_batches (started_at)",
            """
            CREATE TABLE landmap_history (
              layer text \(c) NOT NULL, id text \(c) NOT NULL, version integer NOT NULL,
              valid_from text \(c) NOT NULL, valid_to text \(c) NOT NULL,
              batch_id bigint NOT NULL, ended_by_batch bigint NOT NULL, deleted boolean NOT NULL,
              geom geometry(Geometry, 4326), attributes jsonb NOT NULL,
              min_x double precision, min_y double precision, max_x double precision, max_y double precision,
              PRIMARY KEY (layer, id, version))
            """,
            "CREATE INDEX landmap_history_time ON landmap_history (layer, valid_from, valid_to)",
            """
            CREATE TABLE landmap_tokens (
              id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, name text NOT NULL, role text NOT NULL,
              hash bytea NOT NULL, created_at text NOT NULL, revoked_at text, last_used_at text)
            """,
            """
            CREATE TABLE landmap_audit (
              id bigserial PRIMARY KEY, at text \(c) NOT NULL, actor text NOT NULL, action text NOT NULL,
              target text NOT NULL DEFAULT '', detail text NOT NULL DEFAULT '')
            """,
            "CREATE INDEX landmap_audit_at ON landmap_audit (at)",
        ]),
        Migration(version: 2, description: "token scopes, audit units, batch proposers, proposals", sql: [
            "ALTER TABLE landmap_tokens ADD COLUMN scope_json text NOT NULL DEFAULT '{}'",
            "ALTER TABLE landmap_audit ADD COLUMN unit text \(c) NOT NULL DEFAULT ''",
            "ALTER TABLE landmap_batches ADD COLUMN proposer text",
            // `content` is text, not jsonb: a copy carries the proposal byte for byte.
            """
            CREATE TABLE landmap_changes (
              id bigserial PRIMARY KEY, layer text \(c) NOT NULL, kind text NOT NULL, proposer text NOT NULL,
              unit text \(c) NOT NULL DEFAULT '', created_at text \(c) NOT NULL, status text NOT NULL DEFAULT 'pending',
              summary text NOT NULL DEFAULT '', content text NOT NULL,
              decided_by text, decided_at text \(c), reason text, batch_id bigint)
            """,
            "CREATE INDEX landmap_changes_layer ON landmap_changes (layer, status, id)",
        ]),
        // SPEC §9's change feed: each batch's data version (rebuilt for older batches as
        // GeoPackageSchema.backfillBatchDataVersions does, NULL for a layer where the count
        // does not add up), and the indexes that read a batch's versions.
        Migration(version: 3, description: "batch data versions and change feed indexes", sql: [
            "ALTER TABLE landmap_batches ADD COLUMN data_version bigint",
            """
            UPDATE landmap_batches t SET data_version =
              (SELECT count(*) FROM landmap_batches b WHERE b.layer = t.layer AND b.id <= t.id AND b.inserted + b.updated + b.deleted > 0)
              + (SELECT count(*) FROM landmap_audit a WHERE a.action = 'layer.set' AND a.target = t.layer
                 AND a.id < coalesce((SELECT min(w.id) FROM landmap_audit w WHERE w.action = 'write' AND w.target = t.layer
                                       AND w.detail LIKE 'batch ' || t.id || ' (%'),
                                     CASE WHEN a.at < t.started_at THEN a.id + 1 ELSE a.id END))
            """,
            """
            UPDATE landmap_batches SET data_version = NULL WHERE layer NOT IN (
              SELECT l.name FROM landmap_layers l WHERE l.data_version =
                (SELECT count(*) FROM landmap_batches b WHERE b.layer = l.name AND b.inserted + b.updated + b.deleted > 0)
                + (SELECT count(*) FROM landmap_audit a WHERE a.action = 'layer.set' AND a.target = l.name))
            """,
            "CREATE INDEX landmap_batches_layer_version ON landmap_batches (layer, data_version)",
            "CREATE INDEX landmap_history_batch ON landmap_history (layer, batch_id, id)",
            "CREATE INDEX landmap_history_ended ON landmap_history (layer, ended_by_batch, id)",
        ]),
        // SPEC §12: the audit log's hash chain (NULL until an entry is sealed), tokens' expiry,
        // last address and own rate limit, as the GeoPackage store's `addedColumns`.
        Migration(version: 4, description: "audit hash chain, token expiry, last address and rate limit", sql: [
            "ALTER TABLE landmap_audit ADD COLUMN prev_hash text",
            "ALTER TABLE landmap_audit ADD COLUMN hash text",
            "ALTER TABLE landmap_tokens ADD COLUMN expires_at text \(c)",
            "ALTER TABLE landmap_tokens ADD COLUMN last_address text",
            "ALTER TABLE landmap_tokens ADD COLUMN rate_limit integer",
        ]),
        // SPEC §10's search: one document per feature (`SearchDocument`), its folded text and
        // the layer as a word (`lyparcels`) in a tsvector with a GIN index. Filled by the store
        // after the migration (`PostGISStore.fillSearchIndex`): documents are made in Swift.
        Migration(version: 5, description: "search index", sql: [
            """
            CREATE TABLE landmap_search (
              layer text \(c) NOT NULL, id text \(c) NOT NULL, label text NOT NULL, body text NOT NULL,
              tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, body || ' ly' || replace(layer, '_', ''))) STORED,
              PRIMARY KEY (layer, id))
            """,
            "CREATE INDEX landmap_search_tsv ON landmap_search USING gin (tsv)",
        ]),
        // CQL2 filters compare dates and timestamps as seconds since 1970 (`CQL2Instant`'s rule:
        // text without a zone is UTC); text that is no instant is NULL, never an error.
        Migration(version: 6, description: "CQL2 instants", sql: [
            """
            CREATE OR REPLACE FUNCTION landmap_instant(value text) RETURNS float8
              LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET timezone = 'UTC' AS $$
            BEGIN
              RETURN extract(epoch FROM value::timestamptz);
            EXCEPTION WHEN others THEN
              RETURN NULL;
            END $$
            """,
        ]),
    ]

    /// The first version that has the search index (see `PostGISStore.fillSearchIndex`).
    static let searchIndexVersion = 5

    static var latest: Int { all.map(\.version).max() ?? 0 }

    /// Makes sure PostGIS is there (creating it when allowed), then applies what is missing;
    /// returns the version the database had before (0 for a new one).
    @discardableResult
    static func run(_ s: PGSession, database: String, known: [Migration] = all) throws -> Int {
        try ensurePostGIS(s, database: database)
        return try ConnectionPool.transaction(s, "BEGIN") { s in
            try s.execute("SELECT pg_advisory_xact_lock(\(migrationLock))")
            try s.execute("""
                CREATE TABLE IF NOT EXISTS landmap_migrations (
                  version integer PRIMARY KEY, applied_at text NOT NULL, description text NOT NULL)
                """)
            let current = try s.query("SELECT coalesce(max(version), 0)::bigint FROM landmap_migrations").first
                .map { try $0.makeRandomAccess()[0].decode(Int64.self) } ?? 0
            let newest = known.map(\.version).max() ?? 0
            if current > newest {
                throw PostGISError.newerSchema(database: database, version: Int(current), known: newest)
            }
            for migration in known.sorted(by: { $0.version < $1.version }) where migration.version > current {
                for statement in migration.sql { try s.execute(statement) }
                var b = Binds()
                let sql = "INSERT INTO landmap_migrations (version, applied_at, description) VALUES (\(b.add(migration.version)), \(b.add(Timestamp.string(Date()))), \(b.add(migration.description)))"
                try s.execute(sql, b.bindings)
            }
            // A database that had layers before the index gets their documents, in this same
            // transaction: no server sees the index before it is whole.
            if current > 0, current < searchIndexVersion, newest >= searchIndexVersion {
                for name in try s.query("SELECT name FROM landmap_layers ORDER BY name").map({ try $0.makeRandomAccess().string(0) }) {
                    try PostGISStore.rebuildSearch(s, layer: name)
                }
            }
            return Int(current)
        }
    }

    /// PostGIS in this database, or a clear error: tries `CREATE EXTENSION IF NOT EXISTS` first.
    static func ensurePostGIS(_ s: PGSession, database: String) throws {
        if try hasPostGIS(s) { return }
        do {
            try s.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        } catch {
            // Another server may have created it meanwhile.
            if try hasPostGIS(s) { return }
            if PostGISError.sqlState(of: error) == "25006" { throw PostGISError.readOnly(database: database) }
            let detail: String
            if case .server(_, let message, _)? = error as? PostGISError { detail = message } else { detail = "\(error)" }
            throw PostGISError.noPostGIS(database: database, detail: detail)
        }
    }

    static func hasPostGIS(_ s: PGSession) throws -> Bool {
        !(try s.query("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).isEmpty
    }
}
