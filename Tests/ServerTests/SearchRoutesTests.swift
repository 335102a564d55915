import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport

/// SPEC §10 over HTTP, on both backends: `/search` answers only from the layers the caller may
/// read and never finds a private field; `/admin/crosswalk`; `/parcels/at`'s units of two dates.
@Suite(.serialized) struct SearchRoutesTests {
    static func hits(_ r: TestResponse) -> [JSONValue] { r.json.value?["hits"]?.arrayValue ?? [] }

    @Test(arguments: Backend.allCases)
    func searchAnswersFromReadableLayersOnlyAndNeverFindsOwners(_ backend: Backend) async throws {
        let server = try StewardshipServer.get(backend)
        try await server.test { client in
            for caller in Caller.allCases {
                let h = server.headers(caller)
                // poi (internal) is named "Điểm 1…3"; its owners "Chủ 1…3" are private.
                let poi = try await client.execute(uri: "/search?q=diem", method: .get, headers: h) { r in
                    #expect(r.status == .ok)
                    return Self.hits(r).filter { $0["layer"] == "poi" }.count
                }
                #expect((poi == 3) == caller.reads("poi") && (poi == 0) == !caller.reads("poi"), "\(caller) \(backend): \(poi) poi hits")
                let owners = try await client.execute(uri: "/search?q=chu&layers=poi,parcels", method: .get, headers: h) { r in
                    r.status == .ok ? Self.hits(r).count : -1
                }
                #expect(owners == (caller.reads("poi") ? 0 : -1), "\(caller) \(backend): owners searchable? \(owners)")
                // Zoning (restricted): its codes are found only by those who read it; naming it
                // is the same 404 as naming a layer that does not exist.
                let zones = try await client.execute(uri: "/search?q=hh&limit=50", method: .get, headers: h) { r in
                    Self.hits(r).filter { $0["layer"] == "zoning" }.count
                }
                #expect((zones > 0) == caller.reads("zoning"), "\(caller) \(backend): \(zones) zones")
                let asked = try await client.execute(uri: "/search?q=hh&layers=zoning", method: .get, headers: h) { $0.status }
                #expect(asked == (caller.reads("zoning") ? .ok : .notFound), "\(caller) \(backend)")
            }
            try await client.execute(uri: "/search?q=Nguyen%20Thi%20Thap%20206&limit=3", method: .get) { r in
                let hits = Self.hits(r)
                #expect(hits.count == 3)
                for hit in hits {
                    #expect(hit["layer"] == "parcels" && hit["label"]?.stringValue?.hasPrefix("206 Nguyễn Thị Thập") == true)
                    let p = hit["point"]?.arrayValue?.compactMap(\.doubleValue) ?? [], b = hit["bbox"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                    #expect(p.count == 2 && b.count == 4 && b[0] <= p[0] && p[0] <= b[2] && b[1] <= p[1] && p[1] <= b[3])
                }
                // Each hit's point lies inside its parcel: a lookup there finds that parcel.
                for hit in hits {
                    guard let p = hit["point"]?.arrayValue?.compactMap(\.doubleValue), p.count == 2 else { continue }
                    let found = try await client.execute(uri: "/parcels/at?lon=\(p[0])&lat=\(p[1])", method: .get) { $0.json.value?["parcel"]?["id"] }
                    #expect(found == hit["id"], "\(hit["id"] ?? .null) at \(p)")
                }
            }
            // Spaces written `+`, as a form or a typed address bar sends them: the same hits.
            let plus = try await client.execute(uri: "/search?q=Nguyen+Thi+Thap+206&limit=3", method: .get) { Self.hits($0).map { $0["id"] } }
            let spaces = try await client.execute(uri: "/search?q=Nguyen%20Thi%20Thap%20206&limit=3", method: .get) { Self.hits($0).map { $0["id"] } }
            #expect(plus.count == 3 && plus == spaces)
            for bad in ["", "q=", "q=a&limit=0", "q=a&limit=51", "q=" + String(repeating: "a", count: 201), "q=a&layers=roads"] {
                try await client.execute(uri: "/search?\(bad)", method: .get) { r in
                    #expect(r.status == .badRequest || r.status == .notFound, "\(bad): \(r.status)")
                }
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func crosswalkAndTheUnitsOfTwoDays(_ backend: Backend) async throws {
        try await ServerFixture.test(backend) { client in
            try await client.execute(uri: "/admin/crosswalk?code=26740&on=2025-06-30", method: .get) { r in
                #expect(r.status == .ok)
                let v = r.json.value
                #expect(v?["unit"]?["name"] == "Phường Bến Nghé" && v?["direction"] == "successors")
                let first = v?["successors"]?.arrayValue?.first
                #expect(first?["code"] == "26740" && first?["official"] == .bool(true))
            }
            try await client.execute(uri: "/admin/crosswalk?code=26740&on=2025-07-01", method: .get) { r in
                let links = r.json.value?["predecessors"]?.arrayValue ?? []
                #expect(Set(links.filter { $0["official"] == .bool(true) }.compactMap { $0["code"]?.stringValue }) == ["26740", "26737", "26746"])
                let sum = links.compactMap { $0["share"]?.doubleValue }.reduce(0, +)
                #expect(abs(sum - 1) < 0.001)
            }
            for (query, status) in [("code=99999&on=2025-06-30", HTTPResponse.Status.notFound), ("code=abc", .badRequest), ("", .badRequest),
                                    ("code=26740&on=30/06/2025", .badRequest)] {
                try await client.execute(uri: "/admin/crosswalk?\(query)", method: .get) { r in #expect(r.status == status, "\(query)") }
            }
            // Inside the former Phường Bến Nghé, now Phường Sài Gòn.
            try await client.execute(uri: "/parcels/at?lon=106.7009&lat=10.7769", method: .get) { r in
                let v = r.json.value
                #expect(v?["admin"]?["code"] == "26740" && v?["admin"]?["full_name"] == "Phường Sài Gòn")
                #expect(v?["admin_before_reform"]?["ward"]?["name"] == "Phường Bến Nghé")
                #expect(v?["admin_before_reform"]?["district"]?["name"] == "Quận 1" && v?["admin_before_reform"]?["district"]?["code"] == "760")
            }
            try await client.execute(uri: "/parcels/at?lon=106.7009&lat=10.7769&on=2025-06-30", method: .get) { r in
                #expect(r.json.value?["admin"]?["name"] == "Phường Bến Nghé")
            }
            try await client.execute(uri: "/parcels/at?lon=106.7009&lat=10.7769&on=yesterday", method: .get) { r in
                #expect(r.status == .badRequest)
            }
        }
    }
}
