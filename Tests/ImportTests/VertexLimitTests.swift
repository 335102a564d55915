import Formats
import Foundation
import Geometry
@testable import Import
import Store
import Testing
import TestSupport

/// SPEC §5: a feature with more vertices than the limit is refused with its index, counted
/// while reading (before the geometry is decoded or given to GEOS).
@Suite struct VertexLimitTests {
    /// A closed ring of `vertices` points (the last repeats the first) on a 10 m circle in District 1.
    static func circle(_ vertices: Int, x: Double = 106.7005, y: Double = 10.7805) -> String {
        let n = vertices - 1
        var points = [String]()
        points.reserveCapacity(vertices)
        for i in 0..<n {
            let a = Double(i) / Double(n) * 2 * .pi
            points.append("[\(x + 0.0001 * cos(a)),\(y + 0.0001 * sin(a))]")
        }
        points.append(points[0])
        return #"{"type":"Polygon","coordinates":[[\#(points.joined(separator: ","))]]}"#
    }

    /// Parcels 1 and 3 small, parcel 2 a ring of `vertices` points.
    static func file(bigRing vertices: Int) throws -> String {
        let features = (1...3).map { i in
            let geometry = i == 2 ? circle(vertices) : circle(5, x: 106.70 + Double(i) * 0.001)
            return #"{"type":"Feature","properties":{"MaXa":"26734","SoTo":7,"SoThua":\#(i)},"geometry":\#(geometry)}"#
        }
        return try ImportFixtures.write(#"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#, name: "big-\(vertices).geojson")
    }

    @Test func aFeatureOverTheConfiguredLimitIsRefusedWithItsIndexAndNothingIsWritten() throws {
        let path = try Self.file(bigRing: 2_001)
        let store = try ImportFixtures.store()
        var options = ImportOptions(layer: "parcels")
        options.maxVertices = 2_000
        do {
            _ = try Importer(store: store).run([path], options)
            Issue.record("a feature over the vertex limit must be refused")
        } catch let refused as ImportRefused {
            let errors = refused.report.errors
            #expect(errors.count == 1)
            #expect(errors.first?.kind == .tooManyVertices && errors.first?.index == 2 && errors.first?.key == "26734-7-2")
            #expect(errors.first?.message.contains("2001 vertices, more than the limit of 2000") == true, "\(errors)")
            #expect(errors.first?.line.contains("big-2001.geojson, feature 2") == true)
        }
        #expect(try store.layer("parcels") == nil)

        // --skip-invalid writes the other two; at the limit itself the feature is accepted.
        options.skipInvalid = true
        let skipped = try Importer(store: store).run([path], options)
        #expect(skipped.written?.inserted == 2 && skipped.skipped == 1)
        options.skipInvalid = false
        options.maxVertices = 2_001
        options.mode = .upsert
        let accepted = try Importer(store: store).run([path], options)
        #expect(accepted.errors.isEmpty && accepted.written?.inserted == 1)
    }

    @Test func theReaderCountsWithoutDecoding() throws {
        let reader = try OGRReader(path: Self.file(bigRing: 501))
        reader.maxVertices = 500
        let first = try #require(try reader.next()), second = try #require(try reader.next())
        #expect(first.geometry != nil && first.tooManyVertices == nil)
        #expect(second.geometry == nil && second.tooManyVertices == 501 && second.geometryError == nil)
    }

    @Test func theEditorRefusesABodyOverTheLimit() throws {
        let editor = try FeatureEditor(layer: "parcels", maxVertices: 100)
        let ring = try GeoJSONGeometry.decode(text: Self.circle(101))
        #expect(throws: EditRefused.self) {
            try editor.prepare(id: "x", geometry: ring, properties: [:], crs: .wgs84)
        }
        let small = try GeoJSONGeometry.decode(text: Self.circle(100))
        #expect(try editor.prepare(id: "x", geometry: small, properties: [:], crs: .wgs84).0.geometry != nil)
    }

    /// The default limit is SPEC §5's million, checked on a real feature one vertex over it.
    @Test func theDefaultLimitIsOneMillionVertices() throws {
        #expect(ImportOptions(layer: "parcels").maxVertices == 1_000_000)
        let path = try Self.file(bigRing: 1_000_001)
        let started = ContinuousClock.now
        do {
            _ = try Importer(store: ImportFixtures.store()).run([path], ImportOptions(layer: "parcels"))
            Issue.record("a feature of 1 000 001 vertices must be refused by default")
        } catch let refused as ImportRefused {
            #expect(refused.report.errors.map(\.kind) == [.tooManyVertices])
            #expect(refused.report.errors.first?.message.contains("1000001 vertices, more than the limit of 1000000") == true)
        }
        print("refused a 1 000 001-vertex feature in \(ContinuousClock.now - started)")
    }
}
