import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing
import TestSupport

/// Part 3's parameters on `items`: what a filter may name (never a field hidden from the
/// caller), how errors point at the input, filter-crs, and the bbox beside a filter.
@Suite(.serialized) struct FilterRoutesTests {
    static func items(_ client: some TestClientProtocol, _ query: String, _ headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, JSONValue?) {
        try await client.execute(uri: "/collections/shops/items?\(query)", method: .get, headers: headers) { ($0.status, $0.json.value) }
    }

    static func filter(_ text: String) -> String { "filter=\(encodeQuery(text))" }

    @Test func aPrivateFieldIsNoQueryable() async throws {
        let (server, _, _) = try await PrivacyTests.seeded("filter-privacy")
        try await server.test { client in
            let (status, body) = try await Self.items(client, Self.filter("owner LIKE 'SECRET%'"))
            let (unknownStatus, unknown) = try await Self.items(client, Self.filter("nobody LIKE 'SECRET%'"))
            #expect(status == .badRequest && unknownStatus == .badRequest)
            let detail = try #require(body?["detail"]?.stringValue)
            // The same answer as for a name that exists nowhere, and no private name listed.
            #expect(detail == unknown?["detail"]?.stringValue?.replacingOccurrences(of: "nobody", with: "owner"))
            #expect(detail.hasPrefix("filter: 'owner' is not a queryable of this collection; queryables: amenity, geom, geometry, id"))
            for name in ["HoTen", "cccd", "Chủ sử dụng", "OWNER_ID"] { #expect(!detail.contains(name)) }
            #expect(body?["position"]?["column"] == .integer(1))

            // Not for a token holder who sees owners either: owners are never filters (one list of
            // queryables for all), so no filter answers differently by who asks.
            let (readerStatus, reader) = try await Self.items(client, Self.filter("owner LIKE 'SECRET%'"), bearer(server.reader))
            #expect(readerStatus == .badRequest && reader?["detail"]?.stringValue == detail)

            // Queryables say the same: no private field, the geometry as `geom`.
            let queryables = try await client.execute(uri: "/collections/shops/queryables", method: .get) { $0.json.value }
            let names = Set(queryables?["properties"]?.objectValue?.keys.map { $0 } ?? [])
            #expect(names.contains("amenity") && names.contains("geom") && !names.contains("owner") && !names.contains("HoTen"))
        }
    }

    @Test func filtersRunWithBboxPropertyFiltersAndFilterCRS() async throws {
        let (server, _, _) = try await PrivacyTests.seeded("filter-crs")
        let p = PrivacyTests.point
        try await server.test { client in
            let json = #"{"op":"s_intersects","args":[{"property":"geom"},{"type":"Point","coordinates":[\#(p.x),\#(p.y)]}]}"#
            let box = "bbox=\(p.x - 0.00005),\(p.y - 0.00005),\(p.x + 0.00005),\(p.y + 0.00005)"
            let cases: [(String, Int64)] = [
                (Self.filter("amenity = 'cafe'"), 1),
                // Spaces as `+` (forms, OWSLib); with spaces as `%20`, a `+` is a plus.
                ("filter=amenity+%3D+%27cafe%27", 1),
                ("filter=amenity%20%3D%20%27cafe%27%20AND%201%20+%201%20%3D%202", 1),
                (Self.filter("amenity IN ('cafe', 'market')") + "&amenity=market", 1),
                (Self.filter("S_INTERSECTS(geom, POINT(\(p.x) \(p.y)))"), 2),
                // `geometry`, as most people write it, is the same property.
                (Self.filter("S_INTERSECTS(geometry, POINT(\(p.x) \(p.y)))"), 2),
                // EPSG:4326 is latitude first; the same point in CRS84 order misses.
                (Self.filter("S_INTERSECTS(geom, POINT(\(p.y) \(p.x)))") + "&filter-crs=EPSG:4326", 2),
                (Self.filter("S_INTERSECTS(geom, POINT(\(p.y) \(p.x)))"), 0),
                (Self.filter(json) + "&filter-lang=cql2-json", 2),
                // bbox and filter together: both must hold.
                (Self.filter("amenity = 'market'") + "&" + box, 1),
                (Self.filter("amenity = 'market'") + "&bbox=0,0,1,1", 0),
            ]
            for (query, expected) in cases {
                let (status, body) = try await Self.items(client, query)
                #expect(status == .ok && body?["numberMatched"] == .integer(expected), "\(query): \(body?["detail"]?.stringValue ?? "")")
            }
        }
    }

    /// A filter sent with its spaces as `+` (OWSLib) keeps its meaning in the next links.
    @Test func aFilterWithSpacesAsPlusPagesOnThroughItsNextLinks() async throws {
        try await ServerFixture.test { client in
            var uri: String? = "/collections/parcels/items?filter=land_use+%3D+%27ODT%27&limit=700"
            var ids = [String](), matched = Set<Int64>()
            while let next = uri, ids.count < 100_000 {
                uri = try await client.execute(uri: next, method: .get) { r in
                    #expect(r.status == .ok, "\(next)")
                    let doc = r.json.value
                    ids += doc?["features"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                    if case .integer(let n)? = doc?["numberMatched"] { matched.insert(n) }
                    let link = doc?["links"]?.arrayValue?.first { $0["rel"] == "next" }?["href"]?.stringValue
                    return link.flatMap { l in l.range(of: "/collections").map { String(l[$0.lowerBound...]) } }
                }
            }
            #expect(matched.count == 1 && ids.count == Int(matched.first ?? -1) && Set(ids).count == ids.count && ids.count > 700)
        }
    }

    @Test func badFiltersAre400sThatSayWhere() async throws {
        try await ServerFixture.test { client in
            let bad = try await client.execute(uri: "/collections/parcels/items?\(Self.filter("land_use = 'ODT' AND AND"))", method: .get) { ($0.status, $0.json.value) }
            #expect(bad.0 == .badRequest)
            #expect(bad.1?["position"]?["line"] == .integer(1) && bad.1?["position"]?["column"] == .integer(22), "\(bad.1?["detail"]?.stringValue ?? "")")
            let typed = try await client.execute(uri: "/collections/parcels/items?\(Self.filter("land_use > 3"))", method: .get) { ($0.status, $0.json.value) }
            #expect(typed.0 == .badRequest && typed.1?["detail"]?.stringValue == "filter: '>' compares a string with a number (line 1, column 12)")
            let lang = try await client.execute(uri: "/collections/parcels/items?filter=x&filter-lang=sql", method: .get) { $0.status }
            #expect(lang == .badRequest)
            let json = try await client.execute(uri: "/collections/parcels/items?filter-lang=cql2-json&\(Self.filter(#"{"op":"=","args":[{"property":"nope"},1]}"#))",
                                                method: .get) { $0.json.value }
            #expect(json?["position"]?["path"] == .string("/args/0"))
            let conformance = try await client.execute(uri: "/conformance", method: .get) { $0.json.value?["conformsTo"]?.arrayValue ?? [] }
            #expect(conformance.contains(.string("http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2")))
        }
    }
}
