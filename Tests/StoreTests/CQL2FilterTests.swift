import CQL2
import Features
import Foundation
import Geometry
import Backends
import Store
import Testing
import TestSupport

/// CQL2 filters run in the database, on both backends (`CQL2SQLite` and the functions it
/// registers; `CQL2PostGIS`): known answers on a few features whose every match is worked out
/// by hand, the same on each.
@Suite struct CQL2FilterTests {
    static let places: [Feature] = [
        Feature(id: "a", geometry: .point(Coordinate(106.70, 10.78)), properties: [
            "name": "Thủ Đức", "floors": 3, "open": .bool(true), "since": "2021-04-16", "seen": "2022-04-16T10:13:19Z"]),
        Feature(id: "b", geometry: .point(Coordinate(106.80, 10.85)), properties: [
            "name": "thu duc", "floors": 12, "open": .bool(false), "since": "2023-01-01", "seen": "2022-04-16T17:13:20+07:00"]),
        Feature(id: "c", geometry: .polygon([[Coordinate(106.60, 10.70), Coordinate(106.65, 10.70), Coordinate(106.65, 10.75),
                                              Coordinate(106.60, 10.75), Coordinate(106.60, 10.70)]]),
                properties: ["name": "Bến Thành 100%_", "floors": 1]),
        Feature(id: "d", geometry: nil, properties: ["name": "KØBENHAVN"]),
    ]

    /// Every Vietnamese vowel with each of the six tones, then đ, in lower and upper case, and
    /// the same letters plain (made from their parts, not by the folding under test).
    static let vietnamese: (marked: String, plain: String) = {
        let bases: [(String, String)] = [("a", "a"), ("ă", "a"), ("â", "a"), ("e", "e"), ("ê", "e"), ("i", "i"),
                                         ("o", "o"), ("ô", "o"), ("ơ", "o"), ("u", "u"), ("ư", "u"), ("y", "y")]
        var marked = "", plain = ""
        for (base, letter) in bases {
            for tone in ["", "\u{300}", "\u{301}", "\u{309}", "\u{303}", "\u{323}"] {
                marked += (base + tone).precomposedStringWithCanonicalMapping
                plain += letter
            }
        }
        marked += "đ"
        plain += "d"
        return (marked + " " + marked.uppercased(), plain + " " + plain.uppercased())
    }()

    static let queryables = Queryables(["id": .string, "geom": .geometry, "name": .string, "floors": .integer, "open": .boolean,
                                        "since": .date, "seen": .timestamp])

    static let geoPackage: Result<any LandMapStore, any Error> = Result { try seeded(.geoPackage) }
    static let postGIS: Result<any LandMapStore, any Error> = Result { try seeded(.postGIS) }

    static func seeded(_ backend: Backend) throws -> any LandMapStore {
        let store = try StoreLocation(try backend.freshLocation("cql2-filter")).open(create: true)
        try store.createLayer(.custom("places"))
        try store.createLayer(.custom("letters"))
        _ = try store.write(BatchRequest(layer: "letters", mode: .append, source: "test", actor: "tests")) { w in
            try w.put(Feature(id: "v", geometry: nil, properties: ["name": .string(vietnamese.marked)]))
            try w.put(Feature(id: "l", geometry: .lineString([Coordinate(0, 0), Coordinate(10, 10)]), properties: ["name": "diagonal"]))
        }
        _ = try store.write(BatchRequest(layer: "places", mode: .append, source: "test", actor: "tests")) { w in
            for f in places { try w.put(f) }
        }
        return store
    }

    /// The ids a filter selects, after checking that the count agrees with them.
    func ids(_ backend: Backend, _ text: String, layer: String = "places", limit: Int = 100, offset: Int = 0) throws -> [String] {
        let store = try (backend == .geoPackage ? Self.geoPackage : Self.postGIS).get()
        let filter = try CQL2Filter.check(try CQL2Text.parse(text), against: Self.queryables)
        let features = try store.features(layer: layer, filter: filter, limit: limit, offset: offset)
        if offset == 0, features.count < limit { #expect(try store.count(layer: layer, filter: filter) == features.count, "\(backend): \(text)") }
        return features.map(\.id)
    }

    @Test(arguments: Backend.allCases) func comparisonsLikeBetweenInAndNull(_ backend: Backend) throws {
        #expect(try ids(backend, "floors > 2") == ["a", "b"])
        #expect(try ids(backend, "floors <> 3") == ["b", "c"])  // d has no floors: unknown, not a match
        #expect(try ids(backend, "floors BETWEEN 1 AND 3") == ["a", "c"])
        #expect(try ids(backend, "floors IN (1, 12)") == ["b", "c"])
        #expect(try ids(backend, "floors IS NULL") == ["d"])
        #expect(try ids(backend, "open = true") == ["a"])
        #expect(try ids(backend, "NOT (open = true)") == ["b"])
        #expect(try ids(backend, "id = 'c' OR floors = 12") == ["b", "c"])
        // LIKE: case-sensitive; `%` and `_` wildcards, `\` escapes them.
        #expect(try ids(backend, "name LIKE 'Th%'") == ["a"])
        #expect(try ids(backend, "name LIKE '_hu%'") == ["b"])  // `_` is one character: ủ is not u
        #expect(try ids(backend, #"name LIKE '%100\%\_'"#) == ["c"])
        #expect(try ids(backend, #"name LIKE '%100\%\_x'"#) == [])
        #expect(try ids(backend, "floors > 0", limit: 2, offset: 1) == ["b", "c"])
    }

    @Test(arguments: Backend.allCases) func caseiFoldsUnicodeCaseAndAccentiVietnameseMarks(_ backend: Backend) throws {
        #expect(try ids(backend, "CASEI(name) = casei('THỦ ĐỨC')") == ["a"])
        #expect(try ids(backend, "CASEI(name) = casei('københavn')") == ["d"])
        #expect(try ids(backend, "ACCENTI(name) = accenti('Thu Duc')") == ["a"])  // ủ, Đ and ứ folded; case kept
        #expect(try ids(backend, "ACCENTI(CASEI(name)) = accenti(casei('THU DUC'))") == ["a", "b"])
        #expect(try ids(backend, "ACCENTI(CASEI(name)) LIKE accenti(casei('thủ đ%'))") == ["a", "b"])
        #expect(try ids(backend, "ACCENTI(name) LIKE 'Ben Th%'") == ["c"])
        #expect(SearchText.withoutAccents("Đường Nguyễn Thị Thập, 100%") == "Duong Nguyen Thi Thap, 100%")
        // The 12 vowels under each of the 6 tones, and đ, in both cases, fold to their letters on each backend.
        let (marked, plain) = Self.vietnamese
        #expect(marked.count == 147 && plain.count == 147)
        #expect(try ids(backend, "ACCENTI(name) = '\(plain)'", layer: "letters") == ["v"])
        #expect(try ids(backend, "ACCENTI(name) = accenti('\(marked)')", layer: "letters") == ["v"])
        #expect(try ids(backend, "CASEI(name) = '\(marked.lowercased())'", layer: "letters") == ["v"])
        #expect(try ids(backend, "ACCENTI(CASEI(name)) = '\(plain.lowercased())'", layer: "letters") == ["v"])
    }

    @Test(arguments: Backend.allCases) func spatialPredicatesUseTheIndexAndGEOS(_ backend: Backend) throws {
        #expect(try ids(backend, "S_INTERSECTS(geom, BBOX(106.69, 10.77, 106.81, 10.86))") == ["a", "b"])
        #expect(try ids(backend, "S_INTERSECTS(geom, POINT(106.62 10.72))") == ["c"])
        #expect(try ids(backend, "S_CONTAINS(geom, POINT(106.62 10.72))") == ["c"])
        #expect(try ids(backend, "S_WITHIN(POINT(106.62 10.72), geom)") == ["c"])
        #expect(try ids(backend, "S_WITHIN(geom, POLYGON((106.69 10.77, 106.71 10.77, 106.71 10.79, 106.69 10.79, 106.69 10.77)))") == ["a"])
        #expect(try ids(backend, "S_TOUCHES(geom, LINESTRING(106.65 10.60, 106.65 10.80))") == ["c"])
        #expect(try ids(backend, "S_CROSSES(geom, LINESTRING(106.55 10.72, 106.62 10.72))") == ["c"])
        #expect(try ids(backend, "S_OVERLAPS(geom, BBOX(106.64, 10.74, 106.70, 10.76))") == ["c"])
        #expect(try ids(backend, "S_EQUALS(geom, POINT(106.8 10.85))") == ["b"])
        // Disjoint has no index to use; a feature without geometry is neither.
        #expect(try ids(backend, "S_DISJOINT(geom, POINT(106.62 10.72))") == ["a", "b"])
        // A box across the antimeridian is its two halves; nothing here.
        #expect(try ids(backend, "S_INTERSECTS(geom, BBOX(170, 0, -170, 20))") == [])
        #expect(try ids(backend, "S_INTERSECTS(geom, BBOX(100, 0, -170, 20))") == ["a", "b", "c"])
        #expect(try ids(backend, "floors > 2 AND S_INTERSECTS(geom, BBOX(106.69, 10.77, 106.71, 10.79))") == ["a"])
        // A box the line's envelope meets but the line misses; one it crosses; one holding it.
        #expect(try ids(backend, "S_INTERSECTS(geom, BBOX(6, 0, 10, 4))", layer: "letters") == [])
        #expect(try ids(backend, "S_INTERSECTS(geom, POLYGON((6 0, 10 0, 10 4, 6 4, 6 0)))", layer: "letters") == [])
        #expect(try ids(backend, "S_INTERSECTS(geom, BBOX(4, 4, 6, 6))", layer: "letters") == ["l"])
        #expect(try ids(backend, "S_INTERSECTS(geom, BBOX(-1, -1, 11, 11))", layer: "letters") == ["l"])
        #expect(try ids(backend, "S_WITHIN(geom, BBOX(-1, -1, 11, 11))", layer: "letters") == ["l"])
    }

    @Test(arguments: Backend.allCases) func datesAndTimestampsCompareAsInstants(_ backend: Backend) throws {
        #expect(try ids(backend, "since < DATE('2022-01-01')") == ["a"])
        #expect(try ids(backend, "seen = TIMESTAMP('2022-04-16T10:13:19Z')") == ["a"])
        // b's +07:00 is 10:13:20Z, one second later.
        #expect(try ids(backend, "seen > TIMESTAMP('2022-04-16T10:13:19Z')") == ["b"])
        #expect(try ids(backend, "T_AFTER(seen, TIMESTAMP('2022-04-16T10:13:19Z'))") == ["b"])
        #expect(try ids(backend, "T_INTERSECTS(since, INTERVAL('2021-01-01', '2021-12-31'))") == ["a"])
        #expect(try ids(backend, "T_DURING(INTERVAL(since, seen), INTERVAL('2021-01-01', '2022-04-16T10:13:19.5Z'))") == ["a"])
        #expect(try ids(backend, "T_DISJOINT(since, INTERVAL('..', '2022-01-01'))") == ["b"])
    }

    @Test(arguments: Backend.allCases) func valuesAreBoundNeverSpliced(_ backend: Backend) throws {
        #expect(try ids(backend, "name = 'x'' OR 1=1 --'") == [])
        #expect(try ids(backend, "name = 'x\"); DROP TABLE places; --'") == [])
        #expect(try ids(backend, "floors > 0").count == 3)
    }

    /// Found by `fuzz-cql2`: a long OR list went to SQLite as a chain over its 1,000 levels, and
    /// nesting within CQL2's 64 levels overflowed SQLite's parser stack; both were store errors.
    @Test(arguments: Backend.allCases) func longListsRunAndNestingSQLiteCannotParseIsAFilterError(_ backend: Backend) throws {
        let alternatives = (0..<1_200).map { "floors = \($0)" }.joined(separator: " OR ")
        #expect(try ids(backend, alternatives) == ["a", "b", "c"])
        let conjuncts = (0..<1_200).map { "floors <> \($0 + 100)" }.joined(separator: " AND ")
        #expect(try ids(backend, conjuncts) == ["a", "b", "c"])
        guard backend == .geoPackage else { return }
        let sum = "floors > " + String(repeating: "(1 + ", count: 40) + "floors" + String(repeating: ")", count: 40)
        let e = try #require(throws: CQL2Error.self) { try ids(backend, sum) }
        #expect(e.message.contains("nests too deeply"))
        let nots = String(repeating: "NOT ", count: 60) + "floors = 1"
        #expect(throws: CQL2Error.self) { try ids(backend, nots) }
        #expect(try ids(backend, String(repeating: "NOT ", count: 20) + "floors = 1") == ["c"])
    }
}
