import CQL2
import Foundation
import Geometry
import GRDB
import Store

/// The SQL functions `CQL2SQLite`'s clauses call, registered on every connection beside
/// `SpatialFunctions`. Each is pure and answers NULL for a NULL or unreadable argument, so a
/// damaged row is left out of a filter's matches rather than failing the whole read.
enum CQL2Functions {
    static func register(_ db: Database) {
        db.add(function: casei)
        db.add(function: accenti)
        db.add(function: like)
        db.add(function: instant)
        db.add(function: power)
        db.add(function: spatial)
        db.add(function: intersectsBox)
    }

    /// CASEI: Unicode case folding ("KØBENHAVN" is "københavn").
    static let casei = DatabaseFunction("cql2_casei", argumentCount: 1, pure: true) { v in
        String.fromDatabaseValue(v[0]).map(Self.caseFolded)
    }

    /// ACCENTI: marks gone, `đ` as `d` (`SearchText.withoutAccents`, the search's own folding).
    static let accenti = DatabaseFunction("cql2_accenti", argumentCount: 1, pure: true) { v in
        String.fromDatabaseValue(v[0]).map(SearchText.withoutAccents)
    }

    /// `value LIKE pattern` as CQL2 means it: case-sensitive, `%` any run, `_` one character,
    /// `\` escapes.
    static let like = DatabaseFunction("cql2_like", argumentCount: 2, pure: true) { v in
        guard let s = String.fromDatabaseValue(v[0]), let p = String.fromDatabaseValue(v[1]) else { return nil }
        return LikePattern(p).matches(s) ? 1 : 0
    }

    /// Dates and timestamps as seconds since 1970 (`CQL2Instant`); numbers as they are.
    static let instant = DatabaseFunction("cql2_instant", argumentCount: 1, pure: true) { v -> Double? in
        switch v[0].storage {
        case .string(let s): CQL2Instant.seconds(s)
        case .int64(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    static let power = DatabaseFunction("cql2_power", argumentCount: 2, pure: true) { v -> Double? in
        guard let a = Double.fromDatabaseValue(v[0]), let b = Double.fromDatabaseValue(v[1]) else { return nil }
        return Foundation.pow(a, b)
    }

    /// `cql2_spatial(op, a, b)`: the S_ predicate `op` (its CQL2 JSON name) between two
    /// geometries, each a GeoPackage blob or plain WKB, decided by GEOS.
    static let spatial = DatabaseFunction("cql2_spatial", argumentCount: 3, pure: true) { v -> Int? in
        guard let op = String.fromDatabaseValue(v[0]).flatMap(CQL2Predicate.init(rawValue:)),
              let a = Data.fromDatabaseValue(v[1]), let b = Data.fromDatabaseValue(v[2]) else { return nil }
        do {
            let geos = try GeosContext()
            let (x, y) = (try geometry(a, geos), try geometry(b, geos))
            let result = switch op {
            case .sIntersects: try x.intersects(y)
            case .sDisjoint: try x.disjoint(y)
            case .sEquals: try x.topologicallyEquals(y)
            case .sTouches: try x.touches(y)
            case .sWithin: try x.within(y)
            case .sContains: try x.contains(y)
            case .sCrosses: try x.crosses(y)
            case .sOverlaps: try x.overlaps(y)
            default: false
            }
            return result ? 1 : 0
        } catch {
            return nil
        }
    }

    /// `cql2_intersects_box(blob, minx, miny, maxx, maxy)`: whether a geometry meets a
    /// rectangle. Its envelope decides when it lies wholly inside (yes) or outside (no); across
    /// the rectangle's edge its WKB decides, as for an items page in a box (`WKB.intersects`),
    /// and GEOS only what that leaves open (points, collections).
    static let intersectsBox = DatabaseFunction("cql2_intersects_box", argumentCount: 5, pure: true) { v -> Int? in
        guard let data = Data.fromDatabaseValue(v[0]), let minX = Double.fromDatabaseValue(v[1]), let minY = Double.fromDatabaseValue(v[2]),
              let maxX = Double.fromDatabaseValue(v[3]), let maxY = Double.fromDatabaseValue(v[4]) else { return nil }
        let box = BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
        do {
            guard let envelope = try GeoPackageBinary.envelope(data) else { return 0 }
            if !envelope.intersects(box) { return 0 }
            if box.contains(envelope) { return 1 }
            if let met = try Self.wkbMeets(data, box) { return met ? 1 : 0 }
            let geos = try GeosContext()
            return try geometry(data, geos).intersects(try geos.geometry(box.polygon)) ? 1 : 0
        } catch {
            return nil
        }
    }

    /// Whether a blob's ISO WKB meets the box, nil where its bytes do not decide it.
    static func wkbMeets(_ data: Data, _ box: BoundingBox) throws -> Bool? {
        try data.withUnsafeBytes { raw in
            guard raw.count >= 2, raw[0] == 0x47, raw[1] == 0x50 else { return try WKB.intersects(box, raw) }
            let header = try GeoPackageBinary.header(raw)
            return header.isEmpty ? false : try WKB.intersects(box, UnsafeRawBufferPointer(rebasing: raw[header.wkbOffset...]))
        }
    }

    /// A blob as GEOS reads it: the WKB after a GeoPackage header, or the blob itself.
    static func geometry(_ data: Data, _ geos: GeosContext) throws -> GeosGeometry {
        try data.withUnsafeBytes { raw in
            if raw.count >= 2, raw[0] == 0x47, raw[1] == 0x50 {
                let header = try GeoPackageBinary.header(raw)
                if header.isEmpty { return try geos.geometry(.geometryCollection([])) }
                return try geos.geometry(wkb: UnsafeRawBufferPointer(rebasing: raw[header.wkbOffset...]))
            }
            return try geos.geometry(wkb: raw)
        }
    }

    static func caseFolded(_ s: String) -> String {
        s.folding(options: [.caseInsensitive], locale: nil)
    }
}

/// A CQL2 LIKE pattern, matched without backtracking blow-up (one remembered `%`).
struct LikePattern {
    enum Token: Equatable { case any, one, literal(Character) }
    let tokens: [Token]

    init(_ pattern: String) {
        var out = [Token]()
        var escaped = false
        for c in pattern {
            if escaped { out.append(.literal(c)); escaped = false; continue }
            switch c {
            case "\\": escaped = true
            case "%": if out.last != .any { out.append(.any) }
            case "_": out.append(.one)
            default: out.append(.literal(c))
            }
        }
        if escaped { out.append(.literal("\\")) }
        tokens = out
    }

    func matches(_ text: String) -> Bool {
        let s = Array(text)
        var i = 0, t = 0
        var star = -1, mark = 0
        while i < s.count {
            if t < tokens.count, tokens[t] == .one || tokens[t] == .literal(s[i]) {
                i += 1
                t += 1
            } else if t < tokens.count, tokens[t] == .any {
                star = t
                mark = i
                t += 1
            } else if star >= 0 {
                t = star + 1
                mark += 1
                i = mark
            } else {
                return false
            }
        }
        while t < tokens.count, tokens[t] == .any { t += 1 }
        return t == tokens.count
    }
}
