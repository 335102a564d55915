import Backends
import Features
import Foundation
import Geometry
import Store
import Testing
import TestSupport

/// SPEC §10's search on both backends (one suite, run on each): folding, parcel keys, ranking,
/// layers, private fields never indexed, and the index in step with every kind of write.
@Suite struct SearchStoreTests {
    static func parcel(_ i: Int, address: String, owner: String) -> Feature {
        var f = StoreFixtures.parcel(i, owner: owner)
        f.properties["address"] = .string(address)
        return f
    }

    static func words(_ store: any LandMapStore, _ q: String, layers: [String] = ["parcels", "admin"]) throws -> [String] {
        try store.search(SearchQuery(q), layers: layers, limit: 10).map(\.id)
    }

    @Test(arguments: Backend.allCases)
    func findsFoldedTextKeysAndKeepsInStepWithWrites(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        try store.write(StoreFixtures.request(.append)) { w in
            try w.put(Self.parcel(0, address: "206 Nguyễn Thị Thập, Phường Tân Mỹ", owner: "Trần Thị Bích"))
            try w.put(Self.parcel(1, address: "12 Nguyễn Thị Thập, Phường Tân Mỹ", owner: "Lê Văn Đức"))
            try w.put(Self.parcel(2, address: "5 Đường Số 17, Phường Tân Thuận", owner: "Nguyễn Thị Thập"))
            try w.put(Self.parcel(3, address: "2060 Huỳnh Tấn Phát", owner: "Phạm Minh"))
        }
        try store.write(StoreFixtures.request(.append, layer: "admin")) { w in
            try w.put(Feature(id: "26740-until-2025-06-30", geometry: nil, properties: [
                "code": "26740", "name": "Phường Bến Nghé", "level": "ward", "district_name": "Quận 1", "valid_to": "2025-06-30",
                "successors": .array([.object(["code": "26740", "name": "Phường Sài Gòn"])]),
            ]))
            try w.put(Feature(id: "26740", geometry: nil, properties: ["code": "26740", "name": "Sài Gòn", "level": "ward", "valid_from": "2025-07-01"]))
        }
        // Case, tone marks and đ fold away; parcel 2's owner is named so but never indexed.
        #expect(Set(try Self.words(store, "nguyen thi thap")) == ["26734-12-1", "26734-12-2"])
        #expect(Set(try Self.words(store, "NGUYỄN THỊ THẬP")) == ["26734-12-1", "26734-12-2"])
        #expect(try Self.words(store, "Nguyen Thi Thap 206") == ["26734-12-1"])
        #expect(try Self.words(store, "duong so 17") == ["26734-12-3"])
        #expect(try Self.words(store, "tran thi bich").isEmpty)
        // The last word is a prefix (suggestions as one types): 206 and 2060 both start "20".
        #expect(Set(try Self.words(store, "20")) == ["26734-12-1", "26734-12-4"])
        // Keys in the forms people write them.
        #expect(try Self.words(store, "26734-12-3") == ["26734-12-3"])
        #expect(try Self.words(store, "26734/12/3") == ["26734-12-3"])
        #expect(try Self.words(store, "tờ 12 thửa 3") == ["26734-12-3"])
        // Old names find the old unit, whose label says what it is part of now.
        let ben = try store.search(SearchQuery("ben nghe"), layers: ["admin"], limit: 5)
        #expect(ben.map(\.id) == ["26740-until-2025-06-30"])
        #expect(ben.first?.label.contains("Phường Sài Gòn") == true)
        #expect(try Self.words(store, "sai gon") == ["26740"])
        // Only the layers asked.
        #expect(try Self.words(store, "nguyen", layers: ["admin"]).isEmpty)
        #expect(try Self.words(store, "nguyen", layers: ["no-such; DROP"]).isEmpty)

        // Updates, deletes and replaces reach the index in the same transaction.
        try store.write(StoreFixtures.request(.upsert)) { w in
            try w.put(Self.parcel(1, address: "14 Lê Văn Lương", owner: "Lê Văn Đức"))
            try w.delete(id: "26734-12-4")
        }
        #expect(try Self.words(store, "nguyen thi thap") == ["26734-12-1"])
        #expect(try Self.words(store, "le van luong") == ["26734-12-2"])
        #expect(try Self.words(store, "huynh tan phat").isEmpty)
        try store.write(StoreFixtures.request(.replace)) { w in
            try w.put(Self.parcel(0, address: "206 Nguyễn Thị Thập", owner: "Trần Thị Bích"))
        }
        #expect(try Self.words(store, "le van luong").isEmpty)
        #expect(try Self.words(store, "thap") == ["26734-12-1"])

        // A field made private leaves the index; made public again, it comes back.
        var metadata = try #require(try store.schema(of: "parcels")).metadata
        metadata.setPrivateFields(["address"])
        try store.setMetadata(metadata, of: "parcels", actor: "tests")
        #expect(try Self.words(store, "thap").isEmpty)
        #expect(try Self.words(store, "26734-12-1") == ["26734-12-1"])
        metadata.setPrivateFields([])
        try store.setMetadata(metadata, of: "parcels", actor: "tests")
        #expect(try Self.words(store, "thap") == ["26734-12-1"])
    }

    @Test(arguments: Backend.allCases)
    func aCopyCarriesTheIndex(_ backend: Backend) throws {
        let source = try StoreFixtures.make(backend, "search-src").store
        try source.write(StoreFixtures.request(.append)) { w in
            try w.put(Self.parcel(0, address: "206 Nguyễn Thị Thập", owner: "Trần Thị Bích"))
        }
        for target in Backend.allCases {
            let copy = try StoreFixtures.make(target, "search-dst").store
            try StoreCopy.copy(from: source, to: copy, layers: nil)
            #expect(try Self.words(copy, "nguyen thi thap 206") == ["26734-12-1"], "copy \(backend) → \(target)")
        }
    }

    /// Hits come with their features' present geometries, read in the index's snapshot: the
    /// geometry after an update, none for a unit without one.
    @Test(arguments: Backend.allCases)
    func hitsComeWithTheirPresentGeometries(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        try store.write(StoreFixtures.request(.append)) { w in
            try w.put(Self.parcel(0, address: "206 Nguyễn Thị Thập", owner: "Trần Thị Bích"))
            try w.put(Self.parcel(1, address: "12 Nguyễn Thị Thập", owner: "Lê Văn Đức"))
        }
        var moved = try #require(try store.feature(layer: "parcels", id: "26734-12-2", asOf: nil))
        moved.geometry = .polygon([[Coordinate(106.7, 10.7), Coordinate(106.71, 10.7), Coordinate(106.71, 10.71), Coordinate(106.7, 10.7)]])
        try store.write(StoreFixtures.request(.upsert)) { w in try w.put(moved) }
        try store.write(StoreFixtures.request(.append, layer: "admin")) { w in
            try w.put(Feature(id: "26734", geometry: nil, properties: ["code": "26734", "name": "Tân Mỹ", "level": "ward"]))
        }
        let found = try store.search(SearchQuery("nguyen thi thap"), layers: ["parcels"], limit: 10, geometries: true)
        #expect(found.count == 2)
        for hit in found {
            let feature = try #require(try store.feature(layer: "parcels", id: hit.document.id, asOf: nil))
            #expect(hit.geometry == feature.geometry.map { WKB.encode($0) }, "\(backend) \(hit.document.id)")
        }
        let movedWKB = try #require(found.first { $0.document.id == "26734-12-2" }?.geometry)
        #expect(try movedWKB.withUnsafeBytes(WKB.boundingBox) == moved.geometry?.boundingBox)
        let unit = try store.search(SearchQuery("tan my"), layers: ["admin"], limit: 10, geometries: true)
        #expect(unit.map(\.document.id) == ["26734"])
        #expect(unit.first?.geometry == nil)
        // Without geometries asked, none are read.
        #expect(try store.search(SearchQuery("nguyen thi thap"), layers: ["parcels"], limit: 10, geometries: false).allSatisfy { $0.geometry == nil })
    }

    /// A query with a house number asks the index for the rare words first and checks the rest
    /// itself; where the limit cut those candidates short and some did not answer, it asks for
    /// every word, so nothing past the first candidates is lost.
    @Test(arguments: Backend.allCases)
    func rareWordsFirstLoseNothingPastTheLimit(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        let n = SearchQuery.candidateLimit + 20
        try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<n { try w.put(Self.parcel(i, address: "206 Lê Văn Thọ", owner: "")) }
            try w.put(Self.parcel(n, address: "206 Nguyễn Hữu Thọ", owner: ""))
        }
        let last = StoreFixtures.parcel(n).id
        #expect(try Self.words(store, "nguyen huu tho 206") == [last])
        #expect(try Self.words(store, "206 nguyen huu th") == [last])
        #expect(try Self.words(store, "le van tho 206").count == 10)
    }

    /// More addresses naming a ward than the candidates a search ranks, written before the
    /// ward itself: the ward is still found, and first.
    @Test(arguments: Backend.allCases)
    func addressesNeverCrowdOutTheUnitTheyName(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<(SearchQuery.candidateLimit + 20) { try w.put(Self.parcel(i, address: "\(i) Đồng Khởi, Phường Bến Nghé, Quận 1", owner: "")) }
        }
        try store.write(StoreFixtures.request(.append, layer: "admin")) { w in
            try w.put(Feature(id: "26740-until-2025-06-30", geometry: nil, properties: [
                "code": "26740", "name": "Phường Bến Nghé", "level": "ward", "district_name": "Quận 1", "valid_to": "2025-06-30",
            ]))
        }
        #expect(try Self.words(store, "ben nghe").first == "26740-until-2025-06-30")
    }

    /// A number typed last is meant whole, and the numbers it begins answer only where no
    /// document holds it; a last word of other kinds still answers with the words it begins.
    @Test(arguments: Backend.allCases)
    func wholeWordsBeforeTheWordsTheyBegin(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        try store.write(StoreFixtures.request(.append)) { w in
            try w.put(Self.parcel(0, address: "25 Phạm Hữu Lầu", owner: ""))
            try w.put(Self.parcel(1, address: "2 Phạm Hữu Lầu", owner: ""))
            try w.put(Self.parcel(2, address: "7 Hai Bà Trưng", owner: ""))
            try w.put(Self.parcel(3, address: "12 Trưng Nữ Vương", owner: ""))
        }
        let id = { StoreFixtures.parcel($0).id }
        #expect(try Self.words(store, "pham huu lau 2") == [id(1)])
        #expect(try Self.words(store, "pham huu lau 25") == [id(0)])
        #expect(try Self.words(store, "trung nu vuong 1") == [id(3)])
        #expect(try Self.words(store, "pham huu lau") == [id(1), id(0)])
        #expect(try Self.words(store, "hai ba trung") == [id(2)])
        #expect(Set(try Self.words(store, "trung")) == [id(2), id(3)])
        #expect(Set(try Self.words(store, "trun")) == [id(2), id(3)])
        #expect(try Self.words(store, "ba trun") == [id(2)])
    }

    @Test func wholeWordsOfAQuery() throws {
        let whole = try #require(SearchQuery("nguyen huu tho 18").wholeWords)
        #expect(whole.fts5 == "\"nguyen\" \"huu\" \"tho\" \"18\"")
        #expect(whole.tsquery == "'nguyen' & 'huu' & 'tho' & '18'")
        #expect(whole.narrowed?.fts5 == "\"tho\" \"18\"")
        #expect(whole.wholeWords == nil)
        #expect(SearchQuery("nguyen huu tho 18").endsWithNumber)
        #expect(!whole.endsWithNumber)
        #expect(!SearchQuery("18 nguyen huu tho").endsWithNumber)
        #expect(SearchQuery("to 56 thua 1").endsWithNumber)
        #expect(SearchQuery("").wholeWords == nil)
        let doc = SearchDocument(layer: "parcels", id: "x", label: "", text: "180 nguyen huu tho")
        #expect(SearchQuery("nguyen huu tho 18").isAnswered(by: doc))
        #expect(!whole.isAnswered(by: doc))
        #expect(whole.isAnswered(by: SearchDocument(layer: "parcels", id: "x", label: "", text: "18 nguyen huu tho")))
    }

    /// Of the words without digits, the narrowed query keeps the one in fewest documents (an
    /// unknown count is few), the last at equal counts.
    @Test func rareWordsByTheirCounts() {
        let counts: [String: Int64] = ["hai": 83_000, "ba": 83_100, "trung": 142_000, "nguyen": 250_000]
        let q = SearchQuery("hai ba trung 225")
        #expect(q.narrowed(documentsHolding: { counts[$0] })?.words == ["hai", "225"])
        #expect(q.narrowed?.words == ["trung", "225"])
        #expect(SearchQuery("nguyen lam 12").narrowed(documentsHolding: { counts[$0] })?.words == ["lam", "12"])
        #expect(SearchQuery("180 nguyen hai").narrowed(documentsHolding: { counts[$0] })?.words == ["180", "hai"])
        #expect(SearchQuery("nguyen hai").narrowed(documentsHolding: { counts[$0] }) == nil)
    }

    @Test func rareWordsOfAQuery() {
        #expect(SearchQuery("Nguyễn Hữu Thọ 180").narrowed?.words == ["tho", "180"])
        #expect(SearchQuery("180 nguyen huu tho").narrowed?.words == ["180", "tho"])
        #expect(SearchQuery("nguyen thi thap").narrowed == nil)
        #expect(SearchQuery("tờ 56 thửa 1").narrowed == nil)
        #expect(SearchQuery("tờ 56 thửa 1 27484").narrowed?.words == ["k27484s56n1"])
        #expect(SearchQuery("27484-56-1").narrowed == nil)
        let doc = SearchDocument(layer: "parcels", id: "x", label: "", text: "180 nguyen huu tho phuong cat lai")
        #expect(SearchQuery("nguyen huu tho 18").isAnswered(by: doc))
        #expect(SearchQuery("huu tho 180").isAnswered(by: doc))
        #expect(!SearchQuery("nguyen huu 18 tho").isAnswered(by: SearchDocument(layer: "parcels", id: "x", label: "", text: "180 nguyen huu thon")))
        #expect(!SearchQuery("nguyen van tho 180").isAnswered(by: doc))
    }

    @Test func foldingAndQueries() {
        #expect(SearchText.fold("NGUYỄN THỊ THẬP") == "nguyen thi thap")
        #expect(SearchText.fold("Đường Lê Đức Thọ, P.16") == "duong le duc tho p 16")
        // Decomposed input (NFD, as some sources write it) folds the same.
        #expect(SearchText.fold("Ba\u{300}n Co\u{31B}\u{300}") == "ban co")
        #expect(SearchQuery("27484-56-1").words == ["k27484s56n1"])
        #expect(SearchQuery("tờ số 56, thửa 1").words == ["to56", "thua1"])
        #expect(SearchQuery("\"a\" OR b*").fts5 == "\"a\" \"or\" \"b\"*")
        #expect(SearchQuery("  ,, ").isEmpty)
    }
}
