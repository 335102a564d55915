import CQL2
import Features
import Geometry
import Hummingbird
import Projection
import Query
import Store

/// OGC API – Features Part 3 on `items`: `filter` in `filter-lang` (`cql2-text`, the default,
/// or `cql2-json`), its geometries in `filter-crs` (CRS84 unless told), checked against the
/// layer's queryables (its public properties, for every caller: a private field is never one)
/// and joined with any `property=value` parameters. Bad filters are 400 problems naming the position.
struct FilterParameters {
    static let names: Set<String> = ["filter", "filter-lang", "filter-crs"]

    /// The conformance classes of Part 3 and CQL2 whose every test passes here (see
    /// Docs/CONFORMANCE.md and CQL2ConformanceTests, which fails when one of them does not).
    /// Not accent-insensitive-comparison: ACCENTI works (Vietnamese included), but three of its
    /// published known answers disagree with the test data (opengeospatial/ogcapi-features#1011).
    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
        "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    ]

    /// `property=value` parameters as CQL2 `=` comparisons, in name order.
    static func equalities(_ equals: [String: JSONValue]) -> [CQL2Expression] {
        equals.sorted(by: { $0.key < $1.key }).map { name, value in
            let literal: CQL2Expression.Kind = switch value {
            case .integer(let i): .number(.integer(i))
            case .number(let d): .number(.double(d))
            case .bool(let b): .boolean(b)
            case .string(let s): .string(s)
            default: .string(value.jsonText)
            }
            return CQL2Expression(.comparison(.equal, CQL2Expression(.property(name)), CQL2Expression(literal)))
        }
    }

    /// `property=value` parameters alone as one checked filter; nil where one does not check
    /// (`sheet=abc` on an integer field), which the store's own filters answer as before: a 400
    /// that names the field and the type it must be.
    static func equalityFilter(_ equals: [String: JSONValue], queryables: Queryables) -> CQL2Filter? {
        let conjuncts = equalities(equals)
        guard let first = conjuncts.first else { return nil }
        return try? CQL2Filter.check(conjuncts.count == 1 ? first : CQL2Expression(.and(conjuncts)), against: queryables)
    }

    /// The queryables of a layer: `id`, the geometry (as `geom` and `geometry`), and its public
    /// properties.
    static func queryables(_ properties: [LayerProperty]) -> Queryables {
        var kinds: [String: Queryables.Kind] = ["id": .string, ItemsRequest.geometryQueryable: .geometry]
        for p in properties where p.name != ItemsRequest.geometryQueryable { kinds[p.name] = p.cql2Kind }
        // The name most people write (and other servers use) for it, where no property has it.
        if kinds[ItemsRequest.geometryAlias] == nil { kinds[ItemsRequest.geometryAlias] = .geometry }
        return Queryables(kinds)
    }

    /// The request's checked filter, with `equals` (`property=value`) joined to it; nil without `filter`.
    static func filter(_ request: Request, queryables: Queryables, equals: [String: JSONValue], crs: CRSCatalog) throws -> CQL2Filter? {
        guard let text = request.text("filter") else { return nil }
        let expression: CQL2Expression
        do {
            switch request.query("filter-lang") ?? "cql2-text" {
            case "cql2-text": expression = try CQL2Text.parse(text)
            case "cql2-json": expression = try CQL2JSON.parse(text)
            case let other: throw Problem.badRequest("filter-lang '\(other.prefix(40))' is not offered; use cql2-text or cql2-json")
            }
        } catch let e as CQL2Error {
            throw problem(e)
        }
        let conjuncts = [expression] + equalities(equals)
        let whole = conjuncts.count == 1 ? expression : CQL2Expression(.and(conjuncts), at: expression.position)
        var checked: CQL2Filter
        do {
            checked = try CQL2Filter.check(whole, against: queryables)
        } catch let e as CQL2Error {
            throw problem(e)
        }
        if let uri = request.query("filter-crs") {
            guard let entry = crs.entry(uri) else {
                throw Problem.badRequest("filter-crs '\(uri.prefix(80))' is not offered; use one of \(crs.uris.joined(separator: ", "))")
            }
            if entry.crs != .wgs84 || entry.swapAxes {
                let transformer = entry.crs == .wgs84 ? nil : try Transformer(from: entry.crs, to: .wgs84)
                checked = try checked.mappingGeometries { g in
                    let ordered = entry.swapAxes ? g.mapCoordinates { Coordinate($0.y, $0.x) } : g
                    return try transformer?.transform(ordered) ?? ordered
                }
            }
        }
        return checked
    }

    /// A filter that cannot be read or does not fit the queryables: 400, saying where.
    static func problem(_ e: CQL2Error) -> Problem {
        var p = Problem.badRequest("filter: \(e.message) (\(e.position))")
        switch e.position {
        case .text(let line, let column, let offset):
            p.extra["position"] = .object(["line": .integer(Int64(line)), "column": .integer(Int64(column)), "offset": .integer(Int64(offset))])
        case .json(let path): p.extra["position"] = .object(["path": .string(path.isEmpty ? "/" : path)])
        case .none: break
        }
        return p
    }
}
