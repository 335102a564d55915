import GeoPackage
import Features
import Foundation
import Geometry
import Projection
@testable import Query
import SeededRandom
import Store
import Testing
import TestSupport

@Suite struct ParcelLookupTests {
    /// Every feature of a layer with its GEOS form: the brute force, no index at all.
    struct Everything {
        let geos: GeosContext
        let parcels: [(Feature, GeosGeometry)]
        let zones: [(Feature, GeosGeometry)]
        let wards: [(Feature, GeosGeometry)]

        init(_ store: GeoPackageStore) throws {
            let context = try GeosContext()
            geos = context
            parcels = try Self.load("parcels", store, context)
            zones = try Self.load("zoning", store, context).sorted { $0.0.id < $1.0.id }
            // The units valid today: the 168 of 2025 (the old ones end on 2025-06-30).
            wards = try Self.load("admin", store, context).filter { $0.0.properties["valid_to"] == nil }.sorted { $0.0.id < $1.0.id }
        }

        static func load(_ layer: String, _ store: GeoPackageStore, _ context: GeosContext) throws -> [(Feature, GeosGeometry)] {
            var out = [(Feature, GeosGeometry)]()
            try store.forEachFeature(layer: layer, asOf: nil) { f in
                if let g = f.geometry { out.append((f, try context.geometry(g))) }
            }
            return out
        }
    }

    func points(_ all: Everything, count: Int) throws -> [Coordinate] {
        var r = SplitMix64(seed: 7)
        var box = try #require(all.parcels.first?.0.geometry?.boundingBox)
        for (f, _) in all.parcels { if let b = f.geometry?.boundingBox { box.expand(toInclude: b) } }
        var out = [Coordinate]()
        for _ in 0..<(count * 2 / 5) {  // anywhere in (and a little around) the parcels' extent
            out.append(Coordinate(box.minX - 0.001 + r.unit() * (box.maxX - box.minX + 0.002), box.minY - 0.001 + r.unit() * (box.maxY - box.minY + 0.002)))
        }
        for _ in 0..<(count * 2 / 5) {  // inside a random parcel
            let (_, g) = all.parcels[Int(r.unit() * Double(all.parcels.count))]
            out.append(try g.pointOnSurface().value().boundingBox.map { Coordinate($0.minX, $0.minY) } ?? Coordinate(0, 0))
        }
        while out.count < count {  // a corner: on the edges shared by neighbouring parcels
            let (f, _) = all.parcels[Int(r.unit() * Double(all.parcels.count))]
            if case .multiPolygon(let polys)? = f.geometry, let c = polys.first?.first?.first { out.append(c) }
        }
        return out
    }

    @Test func thousandPointsAgreeWithBruteForce() throws {
        let store = try SampleStore.shared.get()
        let all = try Everything(store)
        #expect(all.parcels.count > 4_000 && all.zones.count == 256 && all.wards.count == 168)
        let lookup = try ParcelLookup(store: store)
        let toVN = try Transformer(from: .wgs84, to: .vn2000)
        let zonesVN = try all.zones.map { ($0.0, try all.geos.geometry(toVN.transform(#require($0.0.geometry)))) }
        var withParcel = 0, covered = 0
        for point in try points(all, count: 1_000) {
            let answer = try lookup.at(point)
            let p = try all.geos.point(point)

            // Parcel: covering the point; interior first, then smallest id.
            var expected: (Feature, GeosGeometry, Bool)?
            for (f, g) in all.parcels where try g.covers(p) {
                let inside = try g.contains(p)
                if let e = expected, !(inside && !e.2) && !(inside == e.2 && f.id < e.0.id) { continue }
                expected = (f, g, inside)
            }
            #expect(answer.parcel?.id == expected?.0.id, "\(point)")

            // Ward: covering the point, smallest id.
            let ward = try all.wards.first { try $0.1.covers(p) }
            #expect(answer.admin?.code == ward?.0.properties["code"]?.stringValue, "\(point)")

            guard let (parcel, parcelGeometry, _) = expected else {
                let zonesHere = try all.zones.filter { try $0.1.covers(p) }.map(\.0.id)
                #expect(answer.zoning.map(\.zone.id).sorted() == zonesHere, "\(point)")
                continue
            }
            withParcel += 1
            // Zoning, cut in VN-2000 where areas are measured: each part of the parcel counted
            // once, overlaps going to the first zone by id.
            _ = parcelGeometry
            let parcelVN = try all.geos.geometry(toVN.transform(#require(parcel.geometry)))
            let parcelArea = try parcelVN.area()
            var remainder = parcelVN
            var shares = [String: Double]()
            for (z, zg) in zonesVN where try zg.intersects(parcelVN) {
                let m2 = try remainder.intersection(zg).area()
                guard m2 > 0 else { continue }
                remainder = try remainder.difference(zg)
                shares[z.id] = m2 / parcelArea
            }
            #expect(Set(answer.zoning.map(\.zone.id)) == Set(shares.keys), "\(point)")
            for z in answer.zoning {
                #expect(abs((z.share ?? -1) - (shares[z.zone.id] ?? -2)) < 1e-9, "\(point) \(z.zone.id)")
            }
            // Shares are in [0, 1] and add up to at most 1, and to 1 where zoning covers the parcel.
            let sum = answer.zoning.reduce(0) { $0 + ($1.share ?? 0) }
            #expect(answer.zoning.allSatisfy { (0...1).contains($0.share ?? -1) })
            #expect(sum <= 1 + 1e-9)
            let uncovered = try remainder.area()
            if uncovered < parcelArea * 1e-12 {
                covered += 1
                #expect(abs(sum - 1) < 1e-9, "\(point): shares sum to \(sum)")
            }
        }
        #expect(withParcel > 500 && covered > 300, "with parcel \(withParcel), fully zoned \(covered)")
    }

    @Test func vn2000QueryFindsTheSameParcelAsLonLat() throws {
        let store = try SampleStore.shared.get()
        let all = try Everything(store)
        let lookup = try ParcelLookup(store: store)
        let toVN = try Transformer(from: .wgs84, to: CRS.resolve("vn2000"))
        let fromVN = try Transformer(from: CRS.resolve("vn2000"), to: .wgs84)
        var r = SplitMix64(seed: 11)
        for _ in 0..<100 {
            let (f, g) = all.parcels[Int(r.unit() * Double(all.parcels.count))]
            guard case .point(let c?) = try g.pointOnSurface().value() else { continue }
            let xy = try toVN.transform(c)  // what a planner reads off the sheet (x = easting)
            let viaVN = try lookup.at(fromVN.transform(xy))
            #expect(viaVN.parcel?.id == f.id)
            // The lookup's own entry for points in another CRS (one transformer per CRS, reused).
            let direct = try lookup.at(xy, in: CRS.resolve("vn2000"))
            #expect(direct.parcel?.id == f.id && direct.dataVersions["parcels"] != nil)
            #expect(try lookup.at(c).parcel?.id == f.id)
        }
    }

    /// Zoning and wards too large for the in-memory box index are asked through the R-tree:
    /// the same answers either way.
    @Test func layersTooLargeToIndexInMemoryGiveTheSameAnswers() throws {
        let store = try SampleStore.shared.get()
        let indexed = try ParcelLookup(store: store)
        let unindexed = try ParcelLookup(store: store, areaIndexLimit: 10)  // the sample has 256 zones, 168 + 295 units
        var withZoning = 0
        for point in try points(Everything(store), count: 300) {
            let a = try indexed.at(point), b = try unindexed.at(point)
            #expect(a == b, "\(point)")
            if !a.zoning.isEmpty { withZoning += 1 }
        }
        #expect(withZoning > 50)
    }

    @Test func outsideEveryParcelTheZoningAndWardAreStillAnswered() throws {
        let lookup = try ParcelLookup(store: SampleStore.shared.get())
        // Bến Thành market, District 1: a ward, but no sample parcel or zoning.
        let answer = try lookup.at(Coordinate(106.6981, 10.7721))
        #expect(answer.parcel == nil && answer.zoning.isEmpty)
        #expect(answer.admin?.name == "Bến Thành" && answer.admin?.level == "ward")
        #expect(throws: QueryError.self) { try lookup.at(Coordinate(200, 10)) }
        let json = answer.json(hiding: { _ in .nothing })
        #expect(json["parcel"] == .null && json["admin"]?["code"] != nil)
    }

    @Test func byKeyAndByBoxAndAsOfADate() throws {
        let store = try SampleStore.shared.get()
        let found = try store.features(layer: "parcels", matching: ["ward_code": "27484", "sheet": .integer(1), "number": .integer(2)], asOf: nil, limit: 5, offset: 0)
        #expect(found.map(\.id) == ["27484-1-2"])
        #expect(try store.features(layer: "parcels", matching: ["ward_code": "27484", "sheet": .integer(1), "number": .integer(99_999)], asOf: nil, limit: 5, offset: 0).isEmpty)
        #expect(try store.features(layer: "parcels", matching: ["ward_code": "27484"], asOf: Date(timeIntervalSince1970: 0), limit: 5, offset: 0).isEmpty)
        // A 100 m box in VN-2000 holds exactly the parcels GEOS says intersect it.
        let vnBox = BoundingBox(minX: 608_900, minY: 1_187_200, maxX: 609_000, maxY: 1_187_300)
        var request = ItemsRequest(layer: "parcels")
        request.box = vnBox
        request.boxCRS = try CRS.resolve("vn2000")
        request.limit = 10_000
        let hits = try ItemsQuery(store: store).page(request).features
        let toVN = try Transformer(from: .wgs84, to: CRS.resolve("vn2000"))
        let geos = try GeosContext()
        let boxGeometry = try geos.geometry(vnBox.polygon)
        var expected = Set<String>()
        try store.forEachFeature(layer: "parcels", asOf: nil) { f in
            if let g = f.geometry, try boxGeometry.intersects(geos.geometry(toVN.transform(g))) { expected.insert(f.id) }
        }
        #expect(!expected.isEmpty && Set(hits.map(\.id)) == expected)
    }
}
