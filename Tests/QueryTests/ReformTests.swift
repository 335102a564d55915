import Features
import Foundation
import Geometry
@testable import Query
import Store
import Testing
import TestSupport

/// SPEC §10 on the sample (GeoData/): the ward and district before the reform and the unit of
/// today at points chosen from the 2019 geometry (shared data, read here, independently of the
/// sample's making), the crosswalk of split wards, and search.
@Suite struct ReformTests {
    static func json(_ relative: String) throws -> JSONValue? {
        guard let url = SharedData.url(relative) else { return nil }
        return try JSONValue.parse(Data(contentsOf: url))
    }

    /// The GSO code list of 2025-03-01: ward code → district code, for HCMC.
    static func codeList() throws -> [String: String]? {
        guard let list = try json("hcmc-districts-2021-dvhcvn/original/data_dvhcvn.json") else { return nil }
        var out = [String: String]()
        for province in list["data"]?.arrayValue ?? [] where province["level1_id"]?.stringValue == "79" {
            for district in province["level2s"]?.arrayValue ?? [] {
                for ward in district["level3s"]?.arrayValue ?? [] {
                    if let w = ward["level3_id"]?.stringValue, let d = district["level2_id"]?.stringValue { out[w] = d }
                }
            }
        }
        return out
    }

    /// The official crosswalk: old ward code → new unit codes.
    static func officialSuccessors() throws -> [String: [String]]? {
        guard let splits = try json("vn-admin-reform-2025/splits_hcmc.json") else { return nil }
        var out = [String: [String]]()
        for province in splits["data"]?.arrayValue ?? [] where province["level1_id"]?.stringValue == "79" {
            for unit in province["level3s"]?.arrayValue ?? [] {
                guard let code = unit["level3_id"]?.stringValue else { continue }
                out[code] = (unit["splits"]?.arrayValue ?? []).compactMap { $0["new_id"]?.stringValue }
            }
        }
        return out
    }

    @Test func pointsOfThe2019WardsNameTheWardAndDistrictBeforeTheReformAndTheUnitAfter() throws {
        guard let wards2019 = try Self.json("hcmc-wards-2019-cityscope/wards_2019_wgs84.geojson"), let codes = try Self.codeList(),
              let successors = try Self.officialSuccessors() else {
            print(SharedData.skipReason)
            return
        }
        // In each of the 24 old districts, the first ward by code that still had its code on
        // 2025-06-30 (one merged in 2020–2025 is named by its successor), at a point GEOS
        // puts inside its 2019 polygon.
        let geos = try GeosContext()
        var byDistrict = [String: (code: String, point: Coordinate)]()
        for f in wards2019["features"]?.arrayValue ?? [] {
            guard let p = f["properties"], let code = p["Com_ID"]?.stringValue, let district = p["Dist_ID"]?.stringValue,
                  codes[code] != nil, let g = f["geometry"] else { continue }
            if let known = byDistrict[district], known.code < code { continue }
            let point = try #require(try geos.geometry(GeoJSONGeometry.decode(g)).pointOnSurface().coordinate)
            byDistrict[district] = (code, point)
        }
        #expect(byDistrict.count >= 20)
        let lookup = try ParcelLookup(store: SampleStore.shared.get())
        for (district2019, ward) in byDistrict.sorted(by: { $0.key < $1.key }) {
            let answer = try lookup.at(ward.point)
            let before = try #require(answer.adminBeforeReform, "\(ward)")
            #expect(before.ward?.code == ward.code, "district \(district2019), \(ward)")
            #expect(before.district?.code == codes[ward.code], "district \(district2019), \(ward)")
            let now = try #require(answer.admin, "\(ward)")
            #expect(now.validFrom == "2025-07-01" && now.validTo == nil)
            #expect(successors[ward.code]?.contains(now.code) == true, "\(ward) is now in \(now.code) \(now.name)")
            // The same point on the last day before the reform names the old ward as `admin`.
            var then = answer
            then.choose(on: Reform.lastDayBefore)
            #expect(then.admin?.code == ward.code)
        }
    }

    @Test func aSplitWardsCrosswalkListsEverySuccessorWithSharesSummingToOne() throws {
        guard let successors = try Self.officialSuccessors() else {
            print(SharedData.skipReason)
            return
        }
        let store = try SampleStore.shared.get()
        let split = successors.filter { $0.value.count > 1 }.keys.sorted()
        #expect(split.count > 5)
        for code in split {
            let walk = try #require(try Crosswalk.make(code: code, on: Reform.lastDayBefore, store: store), "\(code)")
            #expect(walk.direction == "successors")
            let listed = Set(walk.links.map(\.unit.code))
            #expect(Set(successors[code] ?? []).isSubset(of: listed), "\(code): \(listed)")
            let sum = walk.links.reduce(0) { $0 + $1.share }
            #expect(abs(sum - 1) <= 0.01, "\(code): \(sum)")
            #expect(walk.coverage > 0.9, "\(code): \(walk.coverage)")
        }
    }

    @Test func aCodeIsReadWithADate() throws {
        let store = try SampleStore.shared.get()
        // 26740 was Phường Bến Nghé (Quận 1) until 2025-06-30 and is Phường Sài Gòn since.
        let old = try #require(try Crosswalk.make(code: "26740", on: "2025-06-30", store: store))
        #expect(old.unit.name == "Phường Bến Nghé" && old.direction == "successors")
        #expect(old.links.first?.unit.code == "26740" && old.links.first?.unit.name == "Sài Gòn" && old.links.first?.official == true)
        let new = try #require(try Crosswalk.make(code: "26740", on: "2025-07-01", store: store))
        #expect(new.unit.fullName == "Phường Sài Gòn" && new.direction == "predecessors")
        #expect(Set(new.links.filter(\.official).map(\.unit.name)) == ["Phường Bến Nghé", "Phường Đa Kao", "Phường Nguyễn Thái Bình"])
        // The sample does not know when the old units began: they answer for earlier days too.
        #expect(try Crosswalk.make(code: "26740", on: "2019-01-01", store: store)?.unit.name == "Phường Bến Nghé")
        #expect(try Crosswalk.make(code: "99999", on: "2025-06-30", store: store) == nil)
    }

    @Test func searchFindsStreetsAndFormerWards() throws {
        let store = try SampleStore.shared.get()
        let searcher = try Searcher(store: store)
        let layers = ["admin", "parcels", "zoning"]
        for (q, street) in [("nguyen thi thap", "Nguyễn Thị Thập"), ("NGUYỄN THỊ THẬP", "Nguyễn Thị Thập"), ("Nguyen Thi Thap 206", "206 Nguyễn Thị Thập")] {
            let hits = try searcher.search(q, layers: layers, limit: 10)
            #expect(!hits.isEmpty, "\(q)")
            for hit in hits {
                #expect(hit.layer == "parcels" && hit.label.contains(street), "\(q): \(hit.label)")
                let point = try #require(hit.point), box = try #require(hit.bbox)
                #expect(box.contains(point))
            }
        }
        let at206 = try searcher.search("Nguyen Thi Thap 206", layers: layers, limit: 1)
        #expect(at206.first?.label.hasPrefix("206 Nguyễn Thị Thập") == true)
        let ben = try #require(try searcher.search("ben nghe", layers: layers, limit: 5).first)
        #expect(ben.layer == "admin" && ben.id == "26740-until-2025-06-30")
        #expect(ben.label.contains("Phường Bến Nghé") && ben.label.contains("nay thuộc (now part of) Phường Sài Gòn"), "\(ben.label)")
        // The owners' names of the sample are never found.
        #expect(try searcher.search("Đỗ Đức Bình", layers: layers, limit: 5).isEmpty)
    }
}

/// `Reform.day(of:)` is arithmetic; Foundation's calendar in UTC+7 is the known answer.
@Suite struct ReformDayTests {
    @Test func dayInVietnamAgreesWithTheCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 7 * 3600) ?? .gmt
        func expected(_ date: Date) -> String {
            let c = calendar.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        }
        // Either side of midnight in Hanoi (17:00 UTC), leap days, the reform's eve, and 500
        // instants spread over 1900–2100 (a fixed stride, so every run checks the same ones).
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1)]
        for text in ["2025-06-30T16:59:59Z", "2025-06-30T17:00:00Z", "2024-02-28T17:00:00Z", "2000-02-29T16:59:59Z",
                     "1900-03-01T00:00:00Z", "2100-02-28T17:00:00Z", "1969-12-31T16:59:59Z"] {
            if let d = ISO8601DateFormatter().date(from: text) { dates.append(d) }
        }
        let start = -2_208_988_800.0, end = 4_102_444_800.0  // 1900-01-01 … 2100-01-01
        for i in 0..<500 { dates.append(Date(timeIntervalSince1970: start + (end - start) * Double(i) / 500 + Double(i * 7_919 % 86_400))) }
        for d in dates { #expect(Reform.day(of: d) == expected(d), "\(d)") }
        #expect(Reform.day(of: ISO8601DateFormatter().date(from: "2025-06-30T17:00:00Z") ?? Date()) == "2025-07-01")
    }
}
