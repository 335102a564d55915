@testable import GeoPackage
import Backends
import Crypto
import Features
import Foundation
import Geometry
import Import
import Store
import Testing
import TestSupport

/// `landmap copy` (SPEC §7) between GeoPackages, and the per-layer fingerprint it is checked by.
@Suite struct CopyTests {
    /// The sample with a few edit batches, tokens and audit on top, made once for the suite.
    static let made: Result<(url: URL, edited: [String]), any Error> = Result { try makeSource() }

    /// The source file.
    static func source() throws -> URL { try made.get().url }

    /// Parcels the edits touched: three updated (the first twice, its geometry moved), the
    /// fourth deleted and made again, two untouched.
    static func edited() throws -> [String] { try made.get().edited }

    static func makeSource() throws -> (url: URL, edited: [String]) {
        let dir = try SharedData.temporaryDirectory("copy-source")
        let url = dir.appendingPathComponent("source.gpkg")
        let store = try GeoPackageStore(path: url.path)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        var parcels = [Feature]()
        try store.forEachFeature(layer: "parcels", asOf: nil) { if parcels.count < 6 { parcels.append($0) } }
        // Updates, then a delete, then the same parcel back (a re-created id), in separate batches.
        _ = try store.write(BatchRequest(layer: "parcels", mode: .upsert, source: "edit-1", actor: "tests")) { w in
            for var f in parcels.prefix(3) {
                f.properties["land_use"] = "TMD"
                f.properties["ghi_chu"] = .string("sửa \(f.id)")
                try w.put(f)
            }
        }
        _ = try store.write(BatchRequest(layer: "parcels", mode: .upsert, source: "edit-2", actor: "tests")) { w in
            try w.delete(id: parcels[3].id)
            var moved = parcels[0]
            moved.geometry = moved.geometry?.mapCoordinates { Coordinate($0.x + 1e-6, $0.y) }
            try w.put(moved)
        }
        _ = try store.write(BatchRequest(layer: "parcels", mode: .upsert, source: "edit-3", actor: "tests")) { w in try w.put(parcels[3]) }
        // A replace of zoning that drops two plots and changes one.
        var zoning = [Feature]()
        try store.forEachFeature(layer: "zoning", asOf: nil) { zoning.append($0) }
        _ = try store.write(BatchRequest(layer: "zoning", mode: .replace, source: "replace", actor: "tests")) { w in
            for (i, var f) in zoning.dropFirst(2).enumerated() {
                if i == 0 { f.properties["zone_code"] = "CHANGED" }
                try w.put(f)
            }
        }
        try store.setMetadata(LayerMetadata(privateFields: ["ghi_chu"]), of: "parcels", actor: "tests")
        let made = try store.addToken(key: "a1b2c3d4e5f6", name: "qgis-office", role: "editor", scope: .unlimited,
                                      terms: TokenTerms(expires: Date(timeIntervalSince1970: 1_900_000_000.5), rateLimit: 600),
                                      hash: Array(SHA256.hash(data: Data("secret".utf8))), actor: "tests")
        try store.markUsed(tokenID: made.id, at: Date(), address: "2001:db8::7")
        _ = try store.addToken(key: "0f0f0f0f0f0f", name: "old-app", role: "reader", hash: [UInt8](repeating: 7, count: 32), actor: "tests")
        _ = try store.revokeToken("old-app", actor: "tests")
        try store.audit(actor: "tests", action: "backup", target: "/tmp/x.gpkg", detail: "12 bytes")
        // Everything in the file itself before tests take its digest: the audit entry's pages
        // would otherwise wait in the WAL until this store's connections close, at a time of
        // ARC's choosing, and change the file under a test that checks the copy only read it.
        guard store.checkpoint() else { throw StoreError.notAGeoPackage(path: url.path, detail: "the source's WAL could not be checkpointed") }
        return (url, parcels.map(\.id))
    }

    static func fileDigest(_ url: URL) throws -> String {
        SHA256.hash(data: try Data(contentsOf: url)).description
    }

    @Test func copiesTheSampleWithItsHistoryTokensAndAudit() throws {
        let url = try Self.source()
        let before = try Self.fileDigest(url)
        let source = try GeoPackageStore(path: url.path, readOnly: true)
        let dir = try SharedData.temporaryDirectory("copy-target")
        let target = try GeoPackageStore(path: dir.appendingPathComponent("copy.gpkg").path)

        let summary = try StoreCopy.copy(from: source, to: target, layers: nil)
        #expect(summary.layers == 3)
        #expect(summary.batches == 7)
        #expect(summary.tokens == 2)

        #expect(try target.layers() == source.layers())
        #expect(try target.dataVersions() == source.dataVersions())
        #expect(try target.versionCounts() == source.versionCounts())
        #expect(try target.versionCounts().values.reduce(0, +) == summary.versions)
        for layer in ["admin", "zoning", "parcels"] {
            let a = try LayerFingerprint.of(layer: layer, in: source), b = try LayerFingerprint.of(layer: layer, in: target)
            #expect(a == b && a.hex == b.hex, "layer \(layer)")
            #expect(a.count == (try source.layer(layer)?.featureCount))
        }
        let edited = try Self.edited()
        var zoning = [String]()
        try source.forEachFeature(layer: "zoning", asOf: nil) { if zoning.count < 2 { zoning.append($0.id) } }
        for id in edited {
            #expect(try target.history(layer: "parcels", id: id) == source.history(layer: "parcels", id: id), "parcel \(id)")
        }
        #expect(try source.history(layer: "parcels", id: edited[3]).map(\.endedByDeletion) == [true, false])
        for id in zoning { #expect(try target.history(layer: "zoning", id: id) == source.history(layer: "zoning", id: id)) }
        #expect(try target.history(layer: "parcels", id: edited[0]).count == 3)
        #expect(try target.tokens() == source.tokens())
        #expect(try target.tokens().contains { $0.revoked != nil && $0.name == "old-app" })
        // Expiry, own limit and last address travel with the token.
        #expect(try target.tokens().contains { $0.rateLimit == 600 && $0.lastAddress == "2001:db8::7" && $0.expires != nil })
        #expect(try target.auditLog(limit: 10_000, actor: nil, action: nil) == source.auditLog(limit: 10_000, actor: nil, action: nil))
        #expect(try target.schema(of: "parcels")?.metadata.privateFields == ["ghi_chu"])
        // The source was only read.
        #expect(try Self.fileDigest(url) == before)

        // The copy goes on where the source stopped: the next batch and version follow.
        let next = try target.write(BatchRequest(layer: "parcels", mode: .upsert, source: "after", actor: "tests")) { w in
            var f = try #require(try target.feature(layer: "parcels", id: edited[0], asOf: nil))
            f.properties["land_use"] = "ONT"
            try w.put(f)
        }
        #expect(next.batchID == 8)
        #expect(next.dataVersion == (try source.dataVersions()["parcels"] ?? 0) + 1)
        #expect(try target.history(layer: "parcels", id: edited[0]).map(\.version) == [1, 2, 3, 4])
        // The copy is a sound file.
        #expect(target.integrityCheck(limit: 5).problems.isEmpty)
    }

    @Test func refusesATargetThatHoldsData() throws {
        let url = try Self.source()
        let source = try GeoPackageStore(path: url.path, readOnly: true)
        let (target, _) = try StoreFixtures.store()
        _ = try target.write(StoreFixtures.request(.append, layer: "notes")) { w in try w.put(StoreFixtures.parcel(0)) }
        let layers = try target.layers(), versions = try target.dataVersions(), audit = try target.auditLog(limit: 100, actor: nil, action: nil)
        #expect(throws: StoreError.notEmpty(location: target.path, what: "1 batch, 1 audit entry")) {
            try StoreCopy.copy(from: source, to: target, layers: nil)
        }
        #expect(try target.layers() == layers)
        #expect(try target.dataVersions() == versions)
        #expect(try target.auditLog(limit: 100, actor: nil, action: nil) == audit)

        // A layer made but never written is in the way too; and nothing of the copy stays.
        let (empty, _) = try StoreFixtures.store()
        try empty.createLayer(.zoning)
        #expect(throws: StoreError.notEmpty(location: empty.path, what: "layer 'zoning'")) {
            try StoreCopy.copy(from: source, to: empty, layers: nil)
        }
        #expect(try empty.layers().map(\.schema.name) == ["zoning"])
        #expect(try empty.tokens().isEmpty)
        #expect(try StoreError.notEmpty(location: "x.gpkg", what: "layer 'zoning'").description.contains("new GeoPackage file"))
    }

    @Test func copiesOnlyTheNamedLayers() throws {
        let url = try Self.source()
        let source = try GeoPackageStore(path: url.path, readOnly: true)
        let (target, _) = try StoreFixtures.store()
        let summary = try StoreCopy.copy(from: source, to: target, layers: ["zoning"])
        #expect(summary.layers == 1 && summary.batches == 2)
        #expect(try target.layers() == source.layers().filter { $0.schema.name == "zoning" })
        #expect(try LayerFingerprint.of(layer: "zoning", in: target) == LayerFingerprint.of(layer: "zoning", in: source))
        #expect(try target.tokens() == source.tokens())
        #expect(throws: StoreError.unknownLayer("roads")) {
            try StoreCopy.copy(from: source, to: try StoreFixtures.store().0, layers: ["roads"])
        }
        // A later batch in the copy gets an id of its own after the copied ones.
        let next = try target.write(StoreFixtures.request(.append, layer: "notes")) { w in try w.put(StoreFixtures.parcel(1)) }
        #expect(next.batchID == 8)
        #expect(try target.versionCounts()["zoning"] == source.versionCounts()["zoning"])
    }

    @Test func fingerprintIgnoresOrderAndSeesEveryChange() throws {
        let features = (0..<40).map { StoreFixtures.parcel($0, owner: $0 % 3 == 0 ? "Trần Thị \($0)" : nil) }
        func fingerprint(_ batches: [[Feature]]) throws -> LayerFingerprint {
            let (store, _) = try StoreFixtures.store()
            for batch in batches {
                _ = try store.write(StoreFixtures.request(.upsert)) { w in for f in batch { try w.put(f) } }
            }
            return try LayerFingerprint.of(layer: "parcels", in: store)
        }
        let inOrder = try fingerprint([features])
        #expect(inOrder.count == 40 && inOrder.hex.count == 64)
        #expect(try fingerprint([Array(features.reversed())]) == inOrder)
        #expect(try fingerprint([Array(features[20...]), Array(features[..<20].shuffled())]) == inOrder)
        // A null canonical field is left out, as the stores leave it out.
        var withNull = features
        withNull[5].properties["land_use"] = .null
        var without = features
        without[5].properties.removeValue(forKey: "land_use")
        #expect(try fingerprint([withNull]) == fingerprint([without]))

        var property = features
        property[17].properties["declared_area_m2"] = .number(390.25)
        var source = features
        source[17].properties["SoHieu"] = "TĐ-x"
        var geometry = features
        geometry[17].geometry = geometry[17].geometry?.mapCoordinates { Coordinate($0.x, $0.y + 1e-9) }
        var renamed = features
        renamed[17].id = "26734-12-999"
        let changed = try [property, source, geometry, renamed, Array(features.dropLast())].map { try fingerprint([$0]) }
        for c in changed { #expect(c != inOrder) }
        #expect(Set(changed.map(\.hex)).count == changed.count)
        #expect(LayerFingerprint().hex == String(repeating: "0", count: 64))
    }

    /// The command itself: a copy, the refusal of a second one, and `layers --json` on both sides.
    @Test func theCopyCommand() throws {
        // The test build builds the CLI too: its absence is a failure, not a pass.
        let landmap = try #require(SharedData.product("landmap"), "no landmap binary beside the tests: swift build --build-tests builds it")
        let url = try Self.source()
        let dir = try SharedData.temporaryDirectory("copy-cli")
        let out = dir.appendingPathComponent("out.gpkg").path
        let copied = try SharedData.run(landmap, ["copy", url.path, out, "--verify"])
        #expect(copied.status == 0, "\(copied.output)")
        #expect(copied.output.contains("copied") && copied.output.contains("fingerprints match"))
        let again = try SharedData.run(landmap, ["copy", url.path, out])
        #expect(again.status != 0)
        #expect(again.output.contains("already holds LandMap data"))
        let missing = dir.appendingPathComponent("never.gpkg").path
        let failed = try SharedData.run(landmap, ["copy", url.path, missing, "--layers", "roads"])
        #expect(failed.status != 0 && failed.output.contains("no layer named 'roads'"))
        #expect(!FileManager.default.fileExists(atPath: missing))

        func layers(_ db: String) throws -> [JSONValue] {
            let r = try SharedData.run(landmap, ["layers", "--db", db, "--json"])
            return try JSONValue.parse(r.output).arrayValue ?? []
        }
        let a = try layers(url.path), b = try layers(out)
        #expect(a.count == 3)
        #expect(a.map { $0["fingerprint"] } == b.map { $0["fingerprint"] })
        #expect(a.map { $0["versions"] } == b.map { $0["versions"] })
        #expect(a.map { $0["feature_count"] } == b.map { $0["feature_count"] })
        #expect(a.allSatisfy { ($0["fingerprint"]?.stringValue?.count ?? 0) == 64 })
        for id in try Self.edited().prefix(4) {
            let history = try SharedData.run(landmap, ["history", id, "--db", url.path])
            #expect(history.status == 0 && history.output.contains("version"))
            #expect(history.output == (try SharedData.run(landmap, ["history", id, "--db", out]).output))
        }
    }
}
