import Foundation
import GeoPackage
import PostGIS
import Store

/// Where a LandMap database is, as `--db` or `$LANDMAP_DB` names it (SPEC §7): a GeoPackage
/// file path, or a PostgreSQL URL (`postgresql://…`, `postgres://…`).
public enum StoreLocation: Sendable, Equatable {
    case geoPackage(path: String)
    case postgres(url: String)

    public init(_ text: String) {
        let lower = text.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            self = .postgres(url: text)
        } else {
            self = .geoPackage(path: text)
        }
    }

    /// What may be shown of it: the path, or the URL without its password.
    public var display: String {
        switch self {
        case .geoPackage(let path): path
        case .postgres(let url): Self.redacted(url)
        }
    }

    /// True when both name one database: the same file by any path, or the same URL.
    public func isSame(as other: StoreLocation) -> Bool {
        switch (self, other) {
        case (.geoPackage(let a), .geoPackage(let b)):
            URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath() == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
        default: self == other
        }
    }

    /// The local file GDAL must never open; nil for a database server.
    public var localFile: String? {
        if case .geoPackage(let path) = self { return path }
        return nil
    }

    /// Opens the database. A GeoPackage is created when `create` is true and it does not
    /// exist; a PostgreSQL database must exist (LandMap creates its tables in it). `readOnly`
    /// (the source of `landmap copy`) opens an existing GeoPackage without writing to it at all.
    /// `replica` (`--read-db`) is a streaming replica of a PostgreSQL database that reads go to.
    public func open(create: Bool = false, readOnly: Bool = false, replica: String? = nil) throws -> any LandMapStore {
        switch self {
        case .geoPackage(let path):
            if let replica {
                throw StoreError.unsupported("--read-db \(Self.redacted(replica)) needs a PostgreSQL --db: a GeoPackage has no replicas (several servers on one machine share the file)")
            }
            return try GeoPackageStore(path: path, create: create && !readOnly, readOnly: readOnly)
        case .postgres(let url):
            if let replica, !StoreLocation(replica).isPostgres {
                throw StoreError.unsupported("--read-db must be a PostgreSQL URL (postgresql://…), not \(replica)")
            }
            // Opening runs the store's migrations: a copy's source that is already a LandMap
            // database at this binary's schema is not changed by them.
            return try PostGISStore(url: url, readURL: replica)
        }
    }

    public var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }
}

extension StoreLocation {
    /// SQLite's version, for `landmap --version`.
    public static var sqliteVersion: String { GeoPackageStore.sqliteVersion }

    /// A URL as it may be shown: its password replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://"), scheme.upperBound < at,
              let colon = url[scheme.upperBound..<at].firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }

    /// A throw-away store in `directory` for work that must not touch the real one (a
    /// validation's dry run): a GeoPackage, the cheapest to make and remove.
    public static func scratch(in directory: String) throws -> any LandMapStore {
        try GeoPackageStore(path: (directory as NSString).appendingPathComponent("scratch.gpkg"))
    }
}
