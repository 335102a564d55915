import Foundation

/// The two storage backends (SPEC §7): tests that must hold on both take one as an argument,
/// `@Test(arguments: Backend.allCases)`, and make a fresh database of that kind.
public enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A GeoPackage file in a temporary folder.
    case geoPackage
    /// A fresh database on the test PostgreSQL + PostGIS cluster (`TestPostgres`).
    case postGIS

    public var description: String { rawValue }

    /// A `--db` value naming a new, empty database of this kind (a file path that does not exist
    /// yet, or a `postgresql://` URL of an empty database with PostGIS). `label` names it.
    public func freshLocation(_ label: String) throws -> String {
        switch self {
        case .geoPackage:
            try SharedData.temporaryDirectory(label).appendingPathComponent("\(label).gpkg").path
        case .postGIS:
            try TestPostgres.freshDatabaseURL(prefix: label)
        }
    }
}
