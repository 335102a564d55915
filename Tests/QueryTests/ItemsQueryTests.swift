import Backends
import CQL2
import Features
import Foundation
import Geometry
import Projection
@testable import Query
import SeededRandom
import Store
import Testing
import TestSupport

/// Items pages in a box against a brute-force answer: GEOS over every feature of the layer.
@Suite struct ItemsQueryTests {
    /// The box the tricky features sit around (District 1, about 330 m × 330 m).
    /// A custom layer: it takes any geometry type, points and lines beside polygons.
    static let layer = "shapes"
    static let box = BoundingBox(minX: 106.703, minY: 10.783, maxX: 106.706, maxY: 10.786)

    static func parcel(_ i: Int, _ geometry: Geometry) -> Feature {
        Feature(id: "f\(i)", geometry: geometry, properties: ["n": .integer(Int64(i)), "kind": .string(i % 3 == 0 ? "a" : "b")])
    }

    /// 300 random squares, triangles and two-part multipolygons over the box and around it, then
    /// features made to catch shortcuts: a triangle whose bounding box overlaps the box's corner
    /// while the triangle does not, a square touching the box's edge, a line across it, a point.
    static func features() -> [Feature] {
        var random = SplitMix64(seed: 23)
        var out = [Feature]()
        for i in 0..<300 {
            let x = random.range(106.701, 106.708), y = random.range(10.781, 10.788), s = random.range(0.00005, 0.0008)
            let square = [Coordinate(x, y), Coordinate(x + s, y), Coordinate(x + s, y + s), Coordinate(x, y + s), Coordinate(x, y)]
            let triangle = [Coordinate(x, y), Coordinate(x + s, y + s / 3), Coordinate(x + s / 4, y + s), Coordinate(x, y)]
            let g: Geometry = switch i % 3 {
            case 0: .polygon([square])
            case 1: .polygon([triangle])
            default: .multiPolygon([[triangle], [square.map { Coordinate($0.x + 0.0015, $0.y - 0.001) }]])
            }
            out.append(parcel(i, g))
        }
        let n = out.count
        out.append(parcel(n, .polygon([[Coordinate(106.7055, 10.7868), Coordinate(106.7070, 10.7853), Coordinate(106.7070, 10.7868), Coordinate(106.7055, 10.7868)]])))
        out.append(parcel(n + 1, .polygon([[Coordinate(106.706, 10.784), Coordinate(106.707, 10.784), Coordinate(106.707, 10.785), Coordinate(106.706, 10.785), Coordinate(106.706, 10.784)]])))
        out.append(parcel(n + 2, .lineString([Coordinate(106.702, 10.7845), Coordinate(106.707, 10.7846)])))
        out.append(parcel(n + 3, .point(Coordinate(106.704, 10.785))))
        return out
    }

    /// Ids of the present features that intersect the WGS 84 polygon, in the store's order (by key).
    static func bruteForce(_ store: any FeatureStore, _ polygon: Geometry) throws -> [String] {
        let geos = try GeosContext()
        let area = try geos.geometry(polygon)
        var ids = [String]()
        try store.forEachFeature(layer: Self.layer, asOf: nil) { f in
            if let g = f.geometry, try area.intersects(geos.geometry(g)) { ids.append(f.id) }
        }
        return ids
    }

    /// Every page of a request, `limit` at a time: the ids in order, and each page's numberMatched.
    static func allPages(_ query: ItemsQuery, _ base: ItemsRequest, limit: Int) throws -> (ids: [String], matched: Set<Int>) {
        var r = base
        r.limit = limit
        var ids = [String](), matched = Set<Int>()
        while true {
            let page = try query.page(r)
            matched.insert(page.numberMatched)
            ids += page.features.map(\.id)
            if page.features.count < limit { return (ids, matched) }
            r.offset += limit
        }
    }

    @Test(arguments: Backend.allCases)
    func numberMatchedAndPagesAreTheBruteForceAnswer(_ backend: Backend) throws {
        let store = try StoreLocation(backend.freshLocation("items")).open(create: true)
        let all = Self.features()
        _ = try store.write(BatchRequest(layer: Self.layer, mode: .append, source: "test", actor: "tests")) { w in
            for f in all { try w.put(f) }
        }
        let query = try ItemsQuery(store: store)
        // The same through the layer's boxes in memory (a server's), built at this data version;
        // PostGIS pages do without it (their snapshots' versions may lag their data).
        let layerBoxes = LayerBoxes(store: store)
        layerBoxes.build(Self.layer)
        if backend == .geoPackage {
            #expect(layerBoxes.index(layer: Self.layer, version: try #require(try store.dataVersions()[Self.layer]))?.count == all.count)
        }
        let indexed = try ItemsQuery(store: store, boxes: layerBoxes)
        let boxes = [Self.box, BoundingBox(minX: 106.7041, minY: 10.7832, maxX: 106.7043, maxY: 10.7851), BoundingBox(minX: 106.69, minY: 10.77, maxX: 106.72, maxY: 10.80),
                     BoundingBox(minX: 106.60, minY: 10.70, maxX: 106.61, maxY: 10.71)]
        for box in boxes {
            var r = ItemsRequest(layer: Self.layer)
            r.box = box
            let expected = try Self.bruteForce(store, box.polygon)
            let pages = try Self.allPages(query, r, limit: 7)
            #expect(pages.ids == expected, "\(backend) \(box)")
            #expect(pages.matched == [expected.count], "\(backend) \(box)")
            let fromMemory = try Self.allPages(indexed, r, limit: 7)
            #expect(fromMemory.ids == expected && fromMemory.matched == [expected.count], "\(backend) \(box), boxes in memory")
            // As of now, through whole features (ordered by id there): the same features.
            r.asOf = Date()
            r.limit = 10_000
            let asOf = try query.page(r)
            #expect(asOf.numberMatched == expected.count && asOf.features.map(\.id).sorted() == expected.sorted())
        }
        // The corner triangle's box overlaps the box, the triangle does not; the touching square counts.
        let inBox = try Self.bruteForce(store, Self.box.polygon)
        #expect(!inBox.contains(all[300].id) && inBox.contains(all[301].id) && inBox.contains(all[302].id) && inBox.contains(all[303].id))
        #expect(inBox.count > 20 && inBox.count < all.count - 20)

        // A box in VN-2000: the densified, transformed box decides, as by hand.
        var vn = ItemsRequest(layer: Self.layer)
        let vn2000 = try CRS.resolve("vn2000")
        let toVN = try Transformer(from: .wgs84, to: vn2000)
        let low = try toVN.transform(Coordinate(Self.box.minX, Self.box.minY)), high = try toVN.transform(Coordinate(Self.box.maxX, Self.box.maxY))
        vn.box = BoundingBox(minX: low.x, minY: low.y, maxX: high.x, maxY: high.y)
        vn.boxCRS = vn2000
        let vnExpected = try Self.bruteForce(store, ItemsQuery.lonLatPolygon(try #require(vn.box), vn2000))
        let vnPages = try Self.allPages(query, vn, limit: 9)
        #expect(!vnExpected.isEmpty && vnPages.ids == vnExpected && vnPages.matched == [vnExpected.count])

        // Without a box: every feature, counted once per data version.
        var plain = ItemsRequest(layer: Self.layer)
        plain.limit = 4
        #expect(try query.page(plain).numberMatched == all.count)
        #expect(try query.page(plain).numberMatched == all.count)

        // The same query object sees a later write (its read connection is not a stale snapshot,
        // its count not one of an older data version).
        let gone = Array(inBox.prefix(5))
        _ = try store.write(BatchRequest(layer: Self.layer, mode: .upsert, source: "test", actor: "tests")) { w in
            for id in gone { _ = try w.delete(id: id) }
        }
        var again = ItemsRequest(layer: Self.layer)
        again.box = Self.box
        again.limit = 3
        let page = try query.page(again)
        #expect(page.numberMatched == inBox.count - 5)
        #expect(page.features.map(\.id) == Array(inBox.dropFirst(5).prefix(3)))
        // Boxes built before the write are not used after it; rebuilt, they give the same.
        for _ in 0..<2 {
            let fromMemory = try indexed.page(again)
            #expect(fromMemory.numberMatched == inBox.count - 5 && fromMemory.features.map(\.id) == Array(inBox.dropFirst(5).prefix(3)))
            layerBoxes.build(Self.layer)
        }
        if backend == .geoPackage {
            // The boxes kept are the new version's, without the deleted five; the old version's are gone.
            let before = try #require(try store.dataVersions()[Self.layer]) - 1
            let after = before + 1
            var rebuilt = layerBoxes.index(layer: Self.layer, version: after)
            for _ in 0..<100 where rebuilt == nil {
                layerBoxes.build(Self.layer)  // returns at once while a background build runs
                Thread.sleep(forTimeInterval: 0.05)
                rebuilt = layerBoxes.index(layer: Self.layer, version: after)
            }
            #expect(rebuilt?.count == all.count - 5)
            #expect(layerBoxes.index(layer: Self.layer, version: before) == nil)
        }
        let plainAfter = try query.page(plain)
        #expect(plainAfter.numberMatched == all.count - 5 && plainAfter.features.map(\.id) == Array(all.map(\.id).filter { !gone.contains($0) }.prefix(4)))
    }

    /// Every page of a request, each starting after the last one's key, as a next link does.
    static func pagesByKey(_ query: ItemsQuery, _ base: ItemsRequest, limit: Int) throws -> (ids: [String], matched: Set<Int>) {
        var r = base
        r.limit = limit
        var ids = [String](), matched = Set<Int>()
        while true {
            let page = try query.page(r)
            #expect(page.byKey)
            matched.insert(page.numberMatched)
            ids += page.features.map(\.id)
            guard let last = page.lastKey else { return (ids, matched) }
            r.after = last
            r.offset += page.features.count
        }
    }

    /// Pages that follow on by key (the next link's cursor) give what offsets give — a whole
    /// layer, a box, a CQL2 filter, a filter and a box — and a page after a key is the page at
    /// that offset; a write between pages neither repeats nor skips what is left.
    @Test(arguments: Backend.allCases)
    func pagesFollowOnByKey(_ backend: Backend) throws {
        let store = try StoreLocation(backend.freshLocation("items-keys")).open(create: true)
        let all = Self.features()
        _ = try store.write(BatchRequest(layer: Self.layer, mode: .append, source: "test", actor: "tests")) { w in
            for f in all { try w.put(f) }
        }
        let matches = MatchedKeys()
        let query = try ItemsQuery(store: store, matches: matches)
        let queryables = Queryables(["id": .string, "geom": .geometry, "n": .integer, "kind": .string])
        let kindA = try CQL2Filter.check(try CQL2Text.parse("kind = 'a'"), against: queryables)
        var requests = [ItemsRequest]()
        var r = ItemsRequest(layer: Self.layer)
        requests.append(r)
        r.box = BoundingBox(minX: 106.69, minY: 10.77, maxX: 106.72, maxY: 10.80)
        requests.append(r)
        r.filter = kindA
        requests.append(r)
        r.box = nil
        requests.append(r)
        for request in requests {
            let byOffset = try Self.allPages(query, request, limit: 7)
            let byKey = try Self.pagesByKey(query, request, limit: 7)
            #expect(byKey.ids == byOffset.ids && byKey.matched == byOffset.matched, "\(backend) \(request.box != nil) \(request.filter != nil)")
            #expect(!byKey.ids.isEmpty && byKey.matched == [byKey.ids.count])
        }
        let expectedA = all.filter { $0.properties["kind"] == .string("a") }.map(\.id)
        #expect(try Self.pagesByKey(query, requests[3], limit: 10).ids == expectedA)
        // One filter, one data version: its keys read once and kept (two filters above).
        #expect(matches.count == 2)

        // After the third page's last key: the fourth page, as offset 30 gives it.
        var third = requests[3]
        third.limit = 10
        third.offset = 20
        let thirdPage = try query.page(third)
        var fourth = third
        fourth.after = try #require(thirdPage.lastKey)
        fourth.offset = 30
        var atOffset = third
        atOffset.offset = 30
        #expect(try query.page(fourth).features.map(\.id) == query.page(atOffset).features.map(\.id))

        // A write between pages: the next page starts after the last key it read.
        let deleted = Array(expectedA.prefix(35))
        _ = try store.write(BatchRequest(layer: Self.layer, mode: .upsert, source: "test", actor: "tests")) { w in
            for id in deleted { _ = try w.delete(id: id) }
        }
        var rest = [String]()
        var next: Int64? = thirdPage.lastKey
        var page = fourth
        while let after = next {
            page.after = after
            let p = try query.page(page)
            #expect(p.numberMatched == expectedA.count - 35)
            rest += p.features.map(\.id)
            next = p.lastKey
        }
        #expect(rest == Array(expectedA.dropFirst(35)))
        #expect(matches.count == 3)
    }

    /// Kept keys stay under the capacity: the least recently used filter goes first.
    @Test func matchedKeysKeepTheRecentlyUsedUnderTheirCapacity() throws {
        let keys = MatchedKeys(capacity: 10)
        let queryables = Queryables(["n": .integer])
        func filter(_ n: Int) throws -> CQL2Filter { try CQL2Filter.check(try CQL2Text.parse("n = \(n)"), against: queryables) }
        var reads = 0
        func get(_ n: Int, _ count: Int) throws -> [Int64] {
            try keys.keys(layer: "l", version: 1, filter: filter(n)) { reads += 1; return (0..<Int64(count)).map { $0 } }
        }
        #expect(try get(1, 4).count == 4 && get(2, 4).count == 4 && reads == 2)
        #expect(try get(1, 4).count == 4 && reads == 2)
        _ = try get(3, 4)  // 12 kept: the least recently used (2) goes
        #expect(keys.count == 2 && reads == 3)
        _ = try get(1, 4)
        #expect(reads == 3)
        _ = try get(2, 4)
        #expect(reads == 4)
        // More than the capacity is answered, never kept.
        #expect(try get(4, 11).count == 11 && keys.count == 2)
        // Another data version is another entry.
        _ = try keys.keys(layer: "l", version: 2, filter: filter(1)) { reads += 1; return [1] }
        #expect(reads == 6)
    }
}
