import Features
import Geometry
import GRDB
import Store

/// The SQL that makes a file a GeoPackage 1.3 with LandMap's tables beside the feature tables.
enum GeoPackageSchema {
    /// 'GPKG' as a 32-bit big-endian integer, and version 1.3.0.
    static let applicationID: Int32 = 0x4750_4B47
    static let userVersion = 10300
    /// LandMap's own schema version, in `landmap_meta`.
    static let landmapSchemaVersion = 1

    static let wgs84WKT = #"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#

    /// The mandatory GeoPackage tables (Requirements 10–21) with their three required SRS rows.
    static let core = """
        CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
          srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
          organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
        INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
          ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
          ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
          ('WGS 84 geodetic', 4326, 'EPSG', 4326, '\(wgs84WKT)', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
        CREATE TABLE IF NOT EXISTS gpkg_contents (
          table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
          description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
          min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
          CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
          table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
          srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
          CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
          CONSTRAINT uk_gc_table_name UNIQUE (table_name),
          CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
          CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
        CREATE TABLE IF NOT EXISTS gpkg_extensions (
          table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
          scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
        """

    /// LandMap's tables: layer registry with data versions, batches, and past feature versions.
    static let landmap = """
        CREATE TABLE IF NOT EXISTS landmap_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT OR IGNORE INTO landmap_meta VALUES ('schema_version', '\(landmapSchemaVersion)');
        CREATE TABLE IF NOT EXISTS landmap_layers (
          name TEXT PRIMARY KEY REFERENCES gpkg_contents(table_name),
          schema_json TEXT NOT NULL,
          data_version INTEGER NOT NULL DEFAULT 0,
          geometry_types TEXT NOT NULL DEFAULT '[]',
          last_change TEXT,
          metadata_json TEXT NOT NULL DEFAULT '{}',
          source_fields TEXT NOT NULL DEFAULT '{}',
          largest_area REAL);
        CREATE TABLE IF NOT EXISTS landmap_batches (
          id INTEGER PRIMARY KEY, layer TEXT NOT NULL, mode TEXT NOT NULL, source TEXT NOT NULL,
          actor TEXT NOT NULL, started_at TEXT NOT NULL,
          inserted INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0,
          unchanged INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,
          proposer TEXT, data_version INTEGER);
        CREATE TABLE IF NOT EXISTS landmap_history (
          layer TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
          valid_from TEXT NOT NULL, valid_to TEXT NOT NULL,
          batch_id INTEGER NOT NULL, ended_by_batch INTEGER NOT NULL, deleted INTEGER NOT NULL,
          geom BLOB, attributes TEXT NOT NULL,
          min_x REAL, min_y REAL, max_x REAL, max_y REAL,
          PRIMARY KEY (layer, id, version));
        CREATE INDEX IF NOT EXISTS landmap_history_time ON landmap_history (layer, valid_from, valid_to);
        """

    /// GDAL's GeoPackage driver lists every table missing from `gpkg_contents` as a layer
    /// (`LIST_ALL_TABLES=AUTO`) unless the file registers its attribute tables there, which
    /// this row of GDAL's `gdal_aspatial` extension declares (exactly one such row: GDAL counts
    /// them). So `ogrinfo` and QGIS list the feature layers, not `landmap_*`. Added on every
    /// open (older files gain it); `write-only`, since it changes nothing a reader decodes.
    static let registeredTablesOnly = """
        INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)
        SELECT NULL, NULL, 'gdal_aspatial', 'http://gdal.org/geopackage_aspatial.html', 'write-only'
        WHERE NOT EXISTS (SELECT 1 FROM gpkg_extensions WHERE lower(extension_name) = 'gdal_aspatial' AND table_name IS NULL AND column_name IS NULL)
        """

    /// API tokens (only their SHA-256 is kept) and the audit log; made on every open, so older
    /// files gain them.
    static let access = """
        CREATE TABLE IF NOT EXISTS landmap_tokens (
          id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
          hash BLOB NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT, last_used_at TEXT,
          scope_json TEXT NOT NULL DEFAULT '{}');
        CREATE TABLE IF NOT EXISTS landmap_audit (
          id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
          target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', unit TEXT NOT NULL DEFAULT '');
        CREATE INDEX IF NOT EXISTS landmap_audit_at ON landmap_audit (at);
        """

    /// Columns added since the tables were first made, as (table, column, declaration): files
    /// made before them gain them at open (`ALTER TABLE … ADD COLUMN`), with the default that
    /// says "none" (no scope limits, no unit, no proposer).
    static let addedColumns: [(table: String, column: String, declaration: String)] = [
        ("landmap_layers", "metadata_json", "TEXT NOT NULL DEFAULT '{}'"),
        ("landmap_tokens", "scope_json", "TEXT NOT NULL DEFAULT '{}'"),
        ("landmap_audit", "unit", "TEXT NOT NULL DEFAULT ''"),
        ("landmap_batches", "proposer", "TEXT"),
        ("landmap_batches", "data_version", "INTEGER"),
        // SPEC §12: the audit log's hash chain (hex SHA-256 of the entry before and of this one,
        // NULL until the entry is sealed into the chain), and tokens' expiry, the address they were
        // last used from and their own rate limit (requests per minute; NULL: the server's).
        ("landmap_audit", "prev_hash", "TEXT"),
        ("landmap_audit", "hash", "TEXT"),
        ("landmap_tokens", "expires_at", "TEXT"),
        ("landmap_tokens", "last_address", "TEXT"),
        ("landmap_tokens", "rate_limit", "INTEGER"),
    ]

    /// The change feed reads a batch's versions by the batch that wrote them and the one that
    /// ended them. Made on every open, so older files gain them.
    static let changeFeedIndexes = """
        CREATE INDEX IF NOT EXISTS landmap_history_batch ON landmap_history (layer, batch_id, id);
        CREATE INDEX IF NOT EXISTS landmap_history_ended ON landmap_history (layer, ended_by_batch, id);
        """

    /// Each batch's data version, rebuilt once when the column is added (SPEC §9): the layer's
    /// changing batches up to it plus its metadata changes before it (`layer.set` entries of the
    /// audit log before the batch's own `write` entry; by time for a batch that has none). Kept
    /// only for layers where that count adds up to the layer's present data version; a layer
    /// where it does not (metadata changes missing from the audit, an audit log cut short) keeps
    /// NULL, and its feed answers only from the first batch written after.
    static let backfillBatchDataVersions = """
        UPDATE landmap_batches SET data_version =
          (SELECT count(*) FROM landmap_batches b WHERE b.layer = landmap_batches.layer AND b.id <= landmap_batches.id
             AND b.inserted + b.updated + b.deleted > 0)
          + (SELECT count(*) FROM landmap_audit a WHERE a.action = 'layer.set' AND a.target = landmap_batches.layer
             AND a.id < coalesce((SELECT min(w.id) FROM landmap_audit w WHERE w.action = 'write' AND w.target = landmap_batches.layer
                                   AND w.detail LIKE 'batch ' || landmap_batches.id || ' (%'),
                                 CASE WHEN a.at < landmap_batches.started_at THEN a.id + 1 ELSE a.id END))
        WHERE data_version IS NULL;
        UPDATE landmap_batches SET data_version = NULL WHERE layer NOT IN (
          SELECT l.name FROM landmap_layers l WHERE l.data_version =
            (SELECT count(*) FROM landmap_batches b WHERE b.layer = l.name AND b.inserted + b.updated + b.deleted > 0)
            + (SELECT count(*) FROM landmap_audit a WHERE a.action = 'layer.set' AND a.target = l.name));
        """

    /// Proposals (SPEC §8): pending until a steward approves (the applying batch marks it, see
    /// `BatchRequest.approves`) or rejects it. `content` is the proposal's JSON, kept as text so
    /// a copy carries it byte for byte. Made on every open, so older files gain it.
    static let changes = """
        CREATE TABLE IF NOT EXISTS landmap_changes (
          id INTEGER PRIMARY KEY, layer TEXT NOT NULL, kind TEXT NOT NULL, proposer TEXT NOT NULL,
          unit TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
          summary TEXT NOT NULL DEFAULT '', content TEXT NOT NULL,
          decided_by TEXT, decided_at TEXT, reason TEXT, batch_id INTEGER);
        CREATE INDEX IF NOT EXISTS landmap_changes_layer ON landmap_changes (layer, status, id);
        """

    /// A member of a JSON column by name, as SQL with one `?` and the argument to bind to it: a
    /// path for `json_extract`, or the key itself for `json_each` where the name holds a `"` or
    /// a `\`, which a path cannot spell (SQLite then answers NULL, and the filter nothing).
    static func jsonMember(_ column: String, _ name: String) -> (sql: String, argument: String) {
        if name.contains("\"") || name.contains("\\") {
            return ("(SELECT value FROM json_each(\(column)) WHERE key = ?)", name)
        }
        return ("json_extract(\(column), ?)", "$.\"\(name)\"")
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A feature table, its GeoPackage registrations, its R-tree with the 1.3 triggers, and indexes.
    static func layer(_ schema: LayerSchema, description: String) -> [(String, StatementArguments)] {
        let t = schema.name
        let q = quoted(t)
        let columns = schema.fields.map { "\(quoted($0.name)) \($0.type.rawValue)" }.joined(separator: ", ")
        let rtree = quoted("rtree_\(t)_geom")
        var sql: [(String, StatementArguments)] = [
            ("""
             CREATE TABLE \(q) (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom \(schema.geometryType),
               id TEXT NOT NULL UNIQUE\(columns.isEmpty ? "" : ", " + columns), properties TEXT,
               lm_version INTEGER NOT NULL DEFAULT 1, lm_valid_from TEXT NOT NULL, lm_batch INTEGER NOT NULL)
             """, []),
            ("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, 'features', ?, ?, 4326)",
             [t, t, description]),
            ("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)", [t, schema.geometryType]),
            ("INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')", [t]),
            ("CREATE VIRTUAL TABLE \(rtree) USING rtree(id, minx, maxx, miny, maxy)", []),
        ]
        let values = "VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom))"
        let trigger = { (suffix: String) in quoted("rtree_\(t)_geom_\(suffix)") }
        sql += [
            "CREATE TRIGGER \(trigger("insert")) AFTER INSERT ON \(q) WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN INSERT OR REPLACE INTO \(rtree) \(values); END",
            "CREATE TRIGGER \(trigger("update1")) AFTER UPDATE OF geom ON \(q) WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN INSERT OR REPLACE INTO \(rtree) \(values); END",
            "CREATE TRIGGER \(trigger("update2")) AFTER UPDATE OF geom ON \(q) WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM \(rtree) WHERE id = OLD.fid; END",
            "CREATE TRIGGER \(trigger("update3")) AFTER UPDATE ON \(q) WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM \(rtree) WHERE id = OLD.fid; INSERT OR REPLACE INTO \(rtree) \(values); END",
            "CREATE TRIGGER \(trigger("update4")) AFTER UPDATE ON \(q) WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM \(rtree) WHERE id IN (OLD.fid, NEW.fid); END",
            "CREATE TRIGGER \(trigger("delete")) AFTER DELETE ON \(q) WHEN old.geom NOT NULL BEGIN DELETE FROM \(rtree) WHERE id = OLD.fid; END",
        ].map { ($0, StatementArguments()) }
        if !schema.keyFields.isEmpty {
            sql.append(("CREATE INDEX \(quoted("\(t)_key")) ON \(q) (\(schema.keyFields.map(quoted).joined(separator: ", ")))", []))
        }
        return sql
    }
}
