@testable import GeoPackage
import Features
import Foundation
import Geometry
import Testing
import Store
import TestSupport

/// A ward, sheet and number name one present parcel, whatever the write mode.
@Suite struct UniqueKeyTests {
    /// Parcel `i` of the fixture grid under another id, with the cadastral key of parcel `keyOf`.
    static func parcel(_ i: Int, id: String, keyOf: Int) -> Feature {
        var f = StoreFixtures.parcel(i)
        f.id = id
        f.properties["number"] = .integer(Int64(keyOf + 1))
        return f
    }

    static func count(_ store: GeoPackageStore, number: Int) throws -> Int {
        try store.count(layer: "parcels", matching: ["ward_code": "26734", "sheet": .integer(12), "number": .integer(Int64(number))], asOf: nil)
    }

    @Test func appendAndUpsertRefuseAKeyAnotherParcelHas() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) }
        }
        // A new id with parcel 26734-12-1's key.
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "new-1", key: "ward_code 26734, sheet 12, number 1", holder: "26734-12-1")) {
            _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(Self.parcel(5, id: "new-1", keyOf: 0)) }
        }
        // An existing parcel rewritten with another's key.
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "26734-12-2", key: "ward_code 26734, sheet 12, number 1", holder: "26734-12-1")) {
            _ = try store.write(StoreFixtures.request(.upsert)) { w in try w.put(Self.parcel(1, id: "26734-12-2", keyOf: 0)) }
        }
        // Two new features with one key in the same batch: the second is refused.
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "b", key: "ward_code 26734, sheet 12, number 9", holder: "a")) {
            _ = try store.write(StoreFixtures.request(.upsert)) { w in
                try w.put(Self.parcel(7, id: "a", keyOf: 8))
                try w.put(Self.parcel(8, id: "b", keyOf: 8))
            }
        }
        #expect(try Self.count(store, number: 1) == 1)
        #expect(try store.layer("parcels")?.featureCount == 3)
        // Rewriting a parcel with its own key, and a feature missing part of its key, are fine.
        let summary = try store.write(StoreFixtures.request(.upsert)) { w in
            try w.put(StoreFixtures.parcel(0, landUse: "TMD"))
            var unkeyed = StoreFixtures.parcel(6)
            unkeyed.properties["number"] = nil
            try w.put(unkeyed)
        }
        #expect(summary.updated == 1 && summary.inserted == 1)
    }

    @Test func aReplaceMayHandAKeyOnToAnotherId() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) }
        }
        // A re-survey: parcel 1's key now belongs to a new id; the old row is not in the batch.
        let summary = try store.write(StoreFixtures.request(.replace)) { w in
            try w.put(Self.parcel(0, id: "resurvey-1", keyOf: 0))
            try w.put(StoreFixtures.parcel(1))
            try w.put(StoreFixtures.parcel(2))
        }
        #expect(summary.inserted == 1 && summary.deleted == 1)
        #expect(try store.features(layer: "parcels", matching: ["number": .integer(1)], asOf: nil, limit: 10, offset: 0).map(\.id) == ["resurvey-1"])
        // But two features of one replace batch may not share a key.
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "26734-12-3", key: "ward_code 26734, sheet 12, number 2", holder: "26734-12-2")) {
            _ = try store.write(StoreFixtures.request(.replace)) { w in
                try w.put(StoreFixtures.parcel(1))
                try w.put(Self.parcel(2, id: "26734-12-3", keyOf: 1))
            }
        }
        #expect(try store.layer("parcels")?.featureCount == 3)
    }

    /// A file written before keys were checked: its duplicates are reported, not fatal, and a
    /// write that keeps one is refused until it is fixed.
    @Test func duplicatesAlreadyInAFileAreReported() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<4 { try w.put(StoreFixtures.parcel(i)) }
        }
        #expect(try store.duplicateKeys().isEmpty)
        try store.pool.write { db in try db.execute(sql: "UPDATE parcels SET number = 1 WHERE id IN ('26734-12-2', '26734-12-3')") }
        let check = store.quickCheck()
        #expect(check.isOK)
        #expect(check.duplicateKeys == [DuplicateKey(layer: "parcels", key: "ward_code 26734, sheet 12, number 1",
                                                      ids: ["26734-12-1", "26734-12-2", "26734-12-3"])])
        #expect(throws: StoreError.self) {
            _ = try store.write(StoreFixtures.request(.upsert)) { w in try w.put(Self.parcel(1, id: "26734-12-2", keyOf: 0)) }
        }
    }

    @Test func zonesMayShareACode() throws {
        let (store, _) = try StoreFixtures.store()
        let summary = try store.write(StoreFixtures.request(.append, layer: "zoning")) { w in
            for i in 0..<2 {
                var f = StoreFixtures.parcel(i)
                f.properties = ["zone_code": "A1", "land_use": "ODT"]
                try w.put(f)
            }
        }
        #expect(summary.inserted == 2)
    }
}
