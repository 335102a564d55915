import Foundation
import Geometry
import GRDB
import Store

/// The SQL functions GeoPackage's R-tree triggers call (`ST_IsEmpty`, `ST_MinX` … `ST_MaxY`),
/// registered on every connection LandMap opens. Without them no row of a feature table could
/// be written. A malformed blob is NULL for the `ST_Min/Max` functions (not indexed) rather
/// than an error that would abort someone's write.
enum SpatialFunctions {
    static func register(_ db: Database) {
        db.add(function: isEmpty)
        for (name, pick) in bounds {
            db.add(function: DatabaseFunction(name, argumentCount: 1, pure: true) { values in
                guard let data = Data.fromDatabaseValue(values[0]),
                      let box = try? GeoPackageBinary.envelope(data) else { return nil }
                return pick(box)
            })
        }
    }

    static let isEmpty = DatabaseFunction("ST_IsEmpty", argumentCount: 1, pure: true) { values in
        guard let data = Data.fromDatabaseValue(values[0]) else { return nil }
        return (try? GeoPackageBinary.isEmpty(data)) ?? true
    }

    static let bounds: [(String, @Sendable (BoundingBox) -> Double)] = [
        ("ST_MinX", { $0.minX }), ("ST_MaxX", { $0.maxX }),
        ("ST_MinY", { $0.minY }), ("ST_MaxY", { $0.maxY }),
    ]
}
