import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

@Suite struct ParcelRoutesTests {
    @Test func parcelAtAPointByLonLatAndByVN2000() async throws {
        try await ServerFixture.test { client in
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
