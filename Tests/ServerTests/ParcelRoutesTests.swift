import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport

@Suite struct ParcelRoutesTests {
    @Test(arguments: Backend.allCases)
    func parcelAtAPointByLonLatAndByVN2000(_ backend: Backend) async throws {
        try await ServerFixture.test(backend) { client in
            var byLonLat: JSONValue?
            try await client.execute(uri: "/parcels/at?lon=106.7483377&lat=10.734784", method: .get) { r in
                #expect(r.status == .ok)
                byLonLat = r.json.value
            }
            #expect(byLonLat?["parcel"]?["id"] == "27484-56-1")
            #expect(byLonLat?["parcel"]?["properties"]?["owner"] == nil)  // never to anonymous callers
            #expect(byLonLat?["admin"]?["code"] == "27484")
            #expect(byLonLat?["parcel_land_use"]?["vi"] == "Đất ở tại đô thị" && byLonLat?["parcel_land_use"]?["code"] == "ODT")
            let shares = byLonLat?["zoning"]?.arrayValue?.compactMap { $0["share"]?.doubleValue } ?? []
            #expect(!shares.isEmpty && abs(shares.reduce(0, +) - 1) < 1e-9)
            try await client.execute(uri: "/parcels/at?x=609000&y=1187300&crs=vn2000", method: .get) { r in
                #expect(r.json.value?["parcel"]?["id"] == "27484-56-1")
            }
            for bad in ["", "lon=abc&lat=10", "lon=106.7", "lon=200&lat=10", "x=1&y=2&crs=EPSG:99999", "lon=1&lat=1&x=2&y=2"] {
                try await client.execute(uri: "/parcels/at?\(bad)", method: .get) { r in
                    #expect(r.status == .badRequest, "\(bad)")
                }
            }
        }
    }

    /// The web map's search opens the parcel it found at the `label_point` `/parcels` gives
    /// with it. For every sample parcel that point lies inside the parcel, and `/parcels/at`
    /// there answers that parcel. The box centre the map asked about before answers another
    /// parcel (or none) for 102 of them: the non-convex ones.
    @Test func searchOpensEveryParcelAtAPointInsideIt() async throws {
        let store = try ServerFixture.shared.get().store
        let parcels = try store.features(layer: "parcels", intersecting: BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90),
                                         asOf: nil, limit: 100_000, offset: 0)
        #expect(parcels.count == 4_162)
        try await ServerFixture.test { client in
            let geos = try GeosContext()
            var (inside, opened, wrongAtBoxCentre) = (0, 0, 0)
            for parcel in parcels {
                let p = parcel.properties
                let ward = p["ward_code"]?.stringValue ?? "", sheet = p["sheet"]?.doubleValue.map { Int($0) } ?? -1
                let number = p["number"]?.doubleValue.map { Int($0) } ?? -1
                let found = try await client.execute(uri: "/parcels?ward=\(ward)&sheet=\(sheet)&number=\(number)", method: .get) { r in
                    r.json.value?["features"]?.arrayValue?.first
                }
                #expect(found?["id"]?.stringValue == parcel.id)
                let point = found?["label_point"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                guard point.count == 2, let g = parcel.geometry, let box = g.boundingBox else {
                    Issue.record("no label_point for \(parcel.id)")
                    continue
                }
                if try geos.geometry(g).contains(geos.point(Coordinate(point[0], point[1]))) { inside += 1 }
                // As the viewer sends them: the numbers as received (JavaScript prints the same shortest form).
                let answer = try await client.execute(uri: "/parcels/at?lon=\(point[0])&lat=\(point[1])", method: .get) { r in
                    r.json.value?["parcel"]?["id"]?.stringValue
                }
                if answer == parcel.id { opened += 1 } else { Issue.record("\(parcel.id) at its label point answers \(answer ?? "none")") }
                let lon = String(format: "%.7f", (box.minX + box.maxX) / 2), lat = String(format: "%.7f", (box.minY + box.maxY) / 2)
                let atCentre = try await client.execute(uri: "/parcels/at?lon=\(lon)&lat=\(lat)", method: .get) { r in
                    r.json.value?["parcel"]?["id"]?.stringValue
                }
                if atCentre != parcel.id { wrongAtBoxCentre += 1 }
            }
            #expect(inside == parcels.count && opened == parcels.count)
            #expect(wrongAtBoxCentre == 102)
        }
    }

    @Test func byKeyHistoryHealthAndMetrics() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/parcels?ward=27484&sheet=56&number=1", method: .get) { r in
                #expect(r.json.value?["features"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["27484-56-1"])
            }
            try await client.execute(uri: "/parcels?sheet=x", method: .get) { r in #expect(r.status == .badRequest) }
            try await client.execute(uri: "/parcels/27484-56-1/history", method: .get) { r in
                #expect(r.json.value?["versions"]?.arrayValue?.count == 1)
                #expect(r.json.value?["versions"]?.arrayValue?.first?["feature"]?["properties"]?["owner_id"] == nil)
            }
            try await client.execute(uri: "/parcels/no-such/history", method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/health", method: .get) { r in
                #expect(r.status == .ok && r.json.value?["status"] == "ok")
            }
            try await client.execute(uri: "/no/such/route", method: .get) { r in
                #expect(r.status == .notFound && r.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/metrics", method: .get) { r in
                // Request counts and a latency histogram per route and status (the /health call above).
                #expect(r.text.contains(#"http_server_request_duration_bucket{http_route="/health",http_request_method="GET",http_response_status_code="200""#), "\(r.text.prefix(600))")
                #expect(r.text.contains(#"http_route="/parcels/{id}/history""#))
            }
        }
    }
}
