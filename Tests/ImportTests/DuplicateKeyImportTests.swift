import Backends
import Foundation
import Features
@testable import Import
import Store
import Testing
import TestSupport

/// An import may not give a ward, sheet and number to a second present parcel.
@Suite struct DuplicateKeyImportTests {
    /// Parcels with their own ids (`MaThua`, read with `--key`) and the cadastral keys given.
    static func file(_ parcels: [(id: String, number: Int)], name: String) throws -> String {
        let features = parcels.enumerated().map { i, p in
            let x = 106.70 + Double(i) * 0.0002, y = 10.78
            let ring = [[x, y], [x + 0.00018, y], [x + 0.00018, y + 0.00018], [x, y + 0.00018], [x, y]].map { "[\($0[0]),\($0[1])]" }.joined(separator: ",")
            return #"{"type":"Feature","properties":{"MaThua":"\#(p.id)","MaXa":"26734","SoTo":7,"SoThua":\#(p.number),"LoaiDat":"ODT"},"geometry":{"type":"Polygon","coordinates":[[\#(ring)]]}}"#
        }
        return try ImportFixtures.write(#"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#, name: name)
    }

    static func options(_ mode: WriteMode, skipInvalid: Bool = false) -> ImportOptions {
        var options = ImportOptions(layer: "parcels")
        options.keyField = "MaThua"
        options.mode = mode
        options.skipInvalid = skipInvalid
        return options
    }

    @Test func aKeyTwiceInOneFileIsRefusedAtTheSecondFeature() throws {
        let store = try ImportFixtures.store()
        let file = try Self.file([("a", 1), ("b", 2), ("c", 1)], name: "twice.geojson")
        do {
            _ = try Importer(store: store).run([file], Self.options(.append))
            Issue.record("an import giving one key to two parcels must be refused")
        } catch let refused as ImportRefused {
            let error = try #require(refused.report.errors.first)
            #expect(error.kind == .duplicateKey && error.index == 3 && error.key == "c", "\(refused.report.text())")
            #expect(error.message.contains("ward_code 26734, sheet 7, number 1") && error.message.contains("'a'"), "\(error.message)")
        }
        #expect(try store.layer("parcels") == nil || store.layer("parcels")?.featureCount == 0)
    }

    @Test func appendAndUpsertMayNotReuseAKeyOfTheLayer() throws {
        let store = try ImportFixtures.store()
        _ = try Importer(store: store).run([try Self.file([("a", 1), ("b", 2)], name: "first.geojson")], Self.options(.append))
        for mode in [WriteMode.append, .upsert] {
            let file = try Self.file([("z", 3), ("y", 2)], name: "second.geojson")
            do {
                _ = try Importer(store: store).run([file], Self.options(mode))
                Issue.record("\(mode): reusing parcel b's key must be refused")
            } catch let refused as ImportRefused {
                let error = try #require(refused.report.errors.first)
                #expect(error.kind == .duplicateKey && error.index == 2 && error.key == "y" && error.message.contains("'b'"), "\(refused.report.text())")
            }
        }
        // --skip-invalid writes the others and names the one left out.
        let report = try Importer(store: store).run([try Self.file([("z", 3), ("y", 2)], name: "third.geojson")], Self.options(.upsert, skipInvalid: true))
        #expect(report.written?.inserted == 1 && report.skipped == 1)
        #expect(try store.count(layer: "parcels", matching: ["number": .integer(2)], asOf: nil) == 1)
    }
}

/// `--key` makes a field the public feature id: a private field may not be it (SPEC §8).
@Suite struct PrivateKeyImportTests {
    static func file(name: String) throws -> String {
        let ring = "[[106.70,10.78],[106.7002,10.78],[106.7002,10.7802],[106.70,10.7802],[106.70,10.78]]"
        return try ImportFixtures.write(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"SoCCCD":"079123456789","HoTen1":"Nguyễn Văn A","MaThua":"t1","ma_kios":"k1","MaXa":"26734","SoTo":7,"SoThua":1},"geometry":{"type":"Polygon","coordinates":[\#(ring)]}}]}"#, name: name)
    }

    @Test func aPrivateKeyFieldIsRefusedAndNothingIsWritten() throws {
        let store = try ImportFixtures.store()
        let file = try Self.file(name: "owners.geojson")
        for (layer, key) in [("parcels", "SoCCCD"), ("zoning", "HoTen1"), ("kiosks", "SoCCCD")] {
            var options = ImportOptions(layer: layer)
            options.keyField = key
            do {
                _ = try Importer(store: store).run([file], options)
                Issue.record("--key \(key) in \(layer) must be refused")
            } catch let refused as PrivateKeyField {
                #expect(refused.description.contains("--key \(key) is a private field in layer '\(layer)'"), "\(refused)")
            }
            #expect(try store.layer(layer) == nil || store.layer(layer)?.featureCount == 0)
            // Validation says so as well.
            #expect(throws: PrivateKeyField.self) { try Importer.validate([file], options, scratch: StoreLocation.scratch) }
        }
        // A field the layer marks private is refused too; a public one is the id.
        var options = ImportOptions(layer: "kiosks")
        options.keyField = "ma_kios"
        _ = try Importer(store: store).run([file], options)
        #expect(try store.feature(layer: "kiosks", id: "k1", asOf: nil) != nil)
        try store.setMetadata(LayerMetadata(privateFields: ["ma_kios"]), of: "kiosks", actor: "tests")
        options.mode = .upsert
        #expect(throws: PrivateKeyField.self) { try Importer(store: store).run([file], options) }
    }
}
