@testable import GeoPackage
import Backends
import Features
import Foundation
import Geometry
import PostGIS
import Store
import Testing
import TestSupport

/// `landmap copy` through PostgreSQL: the sample with its edits, GeoPackage → PostGIS →
/// GeoPackage, the same at every step. Needs `LANDMAP_TEST_PG` (a URL to a cluster's
/// `postgres` database); skipped, saying so, without it.
@Suite struct CopyPostGISTests {
    static let server: PostgresURL? = ProcessInfo.processInfo.environment["LANDMAP_TEST_PG"].flatMap { try? PostgresURL($0) }

    /// A fresh database for `body`, dropped afterwards.
    static func withDatabase(_ body: (PostgresURL) throws -> Void) throws {
        guard let server else { return }
        let name = "t_copy_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        try PostgresAdmin.execute(server, ["CREATE DATABASE \(name)"])
        defer { try? PostgresAdmin.execute(server, ["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"]) }
        try body(server.with(database: name))
    }

    static func expectSame(_ a: any LandMapStore, _ b: any LandMapStore, ids: [String]) throws {
        #expect(try a.versionCounts() == b.versionCounts())
        #expect(try a.dataVersions() == b.dataVersions())
        for layer in try a.layers() {
            let other = try #require(try b.layer(layer.schema.name))
            #expect(other.featureCount == layer.featureCount && other.dataVersion == layer.dataVersion)
            #expect(other.schema == layer.schema && other.geometryTypes == layer.geometryTypes && other.lastChange == layer.lastChange)
            #expect(other.sourceFields == layer.sourceFields && other.largestArea == layer.largestArea)
            let e = try #require(layer.extent), f = try #require(other.extent)
            #expect(abs(e.minX - f.minX) < 1e-9 && abs(e.maxY - f.maxY) < 1e-9)
            #expect(try LayerFingerprint.of(layer: layer.schema.name, in: a) == LayerFingerprint.of(layer: layer.schema.name, in: b), "layer \(layer.schema.name)")
        }
        for id in ids { #expect(try a.history(layer: "parcels", id: id) == b.history(layer: "parcels", id: id), "parcel \(id)") }
        #expect(try a.tokens() == b.tokens())
        #expect(try a.auditLog(limit: 10_000, actor: nil, action: nil) == b.auditLog(limit: 10_000, actor: nil, action: nil))
    }

    @Test(.enabled(if: server != nil, "set LANDMAP_TEST_PG to a PostgreSQL URL (…/postgres) to copy through PostGIS"))
    func copiesGeoPackageToPostGISAndBack() throws {
        let source = try GeoPackageStore(path: try CopyTests.source().path, readOnly: true)
        let ids = try CopyTests.edited()
        try Self.withDatabase { url in
            let dir = try SharedData.temporaryDirectory("copy-pg")
            let back = try GeoPackageStore(path: dir.appendingPathComponent("back.gpkg").path)
            do {
                let pg = try PostGISStore(url: url)
                let there = try StoreCopy.copy(from: source, to: pg, layers: nil)
                #expect(there.batches == 7 && there.tokens == 2)
                try Self.expectSame(source, pg, ids: ids)

                // A second copy into it is refused and changes nothing.
                #expect(throws: StoreError.self) { try StoreCopy.copy(from: source, to: pg, layers: ["admin"]) }
                #expect(try pg.versionCounts() == source.versionCounts())

                let home = try StoreCopy.copy(from: pg, to: back, layers: nil)
                #expect(home == there)
                #expect(try back.layers() == source.layers())
                try Self.expectSame(source, back, ids: ids)

                // The copy goes on where the source stopped: batch, token and audit ids follow.
                let next = try pg.write(BatchRequest(layer: "parcels", mode: .upsert, source: "after", actor: "tests")) { w in
                    var f = try #require(try pg.feature(layer: "parcels", id: ids[1], asOf: nil))
                    f.properties["land_use"] = "ONT"
                    try w.put(f)
                }
                #expect(next.batchID == 8)
                #expect(try pg.history(layer: "parcels", id: ids[1]).map(\.version) == [1, 2, 3])
                let token = try pg.addToken(key: "abcdefabcdef", name: "later", role: "reader", hash: [UInt8](repeating: 1, count: 32), actor: "tests")
                #expect(token.id == 3)
            }
        }
    }

    /// A small store with every stewardship record: scoped tokens, audit entries with units, a
    /// batch that applied an approved proposal, a rejected and a pending proposal, in two layers.
    static func stewardshipSource() throws -> GeoPackageStore {
        let dir = try SharedData.temporaryDirectory("copy-steward")
        let store = try GeoPackageStore(path: dir.appendingPathComponent("steward.gpkg").path)
        _ = try store.write(BatchRequest(layer: "parcels", mode: .append, source: "seed", actor: "tests")) { w in
            for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) }
        }
        _ = try store.addToken(key: "aaaaaaaaaaaa", name: "steward", role: "editor", scope: TokenScope(unit: "so-tnmt", layers: ["parcels"]),
                               hash: [UInt8](repeating: 1, count: 32), actor: "tests")
        _ = try store.addToken(key: "bbbbbbbbbbbb", name: "ward", role: "contributor", scope: TokenScope(unit: "phuong-tan-phong", wards: ["26734"]),
                               hash: [UInt8](repeating: 2, count: 32), actor: "tests")
        let approved = try store.addChange(layer: "parcels", kind: "replace", proposer: "token:ward", unit: "phuong-tan-phong",
                                           summary: "replace 26734-12-1", content: #"{"features":[],"ghi_chu":"Đo lại"}"#)
        _ = try store.write(BatchRequest(layer: "parcels", mode: .upsert, source: "change \(approved.id)", actor: "token:steward", unit: "so-tnmt",
                                         proposer: "token:ward", approves: approved.id)) { w in
            try w.put(StoreFixtures.parcel(0, landUse: "TMD"))
        }
        let rejected = try store.addChange(layer: "parcels", kind: "delete", proposer: "token:ward", unit: "phuong-tan-phong", summary: "delete 26734-12-2", content: "{}")
        _ = try store.reject(id: rejected.id, by: "token:steward", unit: "so-tnmt", reason: "không đúng")
        _ = try store.write(BatchRequest(layer: "zoning", mode: .append, source: "seed", actor: "tests")) { w in
            try w.put(Feature(id: "z1", geometry: StoreFixtures.parcel(9).geometry, properties: ["zone_code": "R1"]))
        }
        _ = try store.addChange(layer: "zoning", kind: "import", proposer: "token:ward", unit: "phuong-tan-phong", summary: "upload z.zip", content: "{}")
        try store.audit(actor: "token:ward", unit: "phuong-tan-phong", action: "token.use", target: "parcels/26734-12-1", detail: "GET")
        return store
    }

    /// Tokens with their scopes, audit entries with their units, batches with their proposers,
    /// and every proposal with its content and decision.
    static func expectSameStewardship(_ a: any LandMapStore, _ b: any LandMapStore) throws {
        #expect(try a.tokens() == b.tokens())
        #expect(try a.auditLog(AuditQuery(limit: 10_000)) == b.auditLog(AuditQuery(limit: 10_000)))
        let ids = try a.changes(layer: nil, status: nil, limit: 1000).map(\.id)
        #expect(try ids.map { try a.change(id: $0) } == ids.map { try b.change(id: $0) })
        #expect(try a.changes(layer: nil, status: nil, limit: 1000) == b.changes(layer: nil, status: nil, limit: 1000))
        #expect(try a.batches(ids: Array(1...20)) == b.batches(ids: Array(1...20)))
    }

    @Test(.enabled(if: server != nil, "set LANDMAP_TEST_PG to a PostgreSQL URL (…/postgres) to copy through PostGIS"))
    func copiesScopesUnitsProposersAndProposalsThroughPostGIS() throws {
        let source = try Self.stewardshipSource()
        #expect(try source.tokens().map(\.scope.unit) == ["so-tnmt", "phuong-tan-phong"])
        #expect(try source.batches(ids: [2])[2]?.proposer == "token:ward")
        try Self.withDatabase { url in
            let dir = try SharedData.temporaryDirectory("copy-steward-back")
            let back = try GeoPackageStore(path: dir.appendingPathComponent("back.gpkg").path)
            do {
                let pg = try PostGISStore(url: url)
                let there = try StoreCopy.copy(from: source, to: pg, layers: nil)
                #expect(there.changes == 3 && there.tokens == 2 && there.batches == 3)
                try Self.expectSameStewardship(source, pg)
                #expect(try pg.change(id: 1)?.status == .approved && pg.change(id: 1)?.batchID == 2)

                let home = try StoreCopy.copy(from: pg, to: back, layers: nil)
                #expect(home == there)
                try Self.expectSameStewardship(source, back)

                // Proposals go on numbering after the copied ones.
                let next = try pg.addChange(layer: "parcels", kind: "create", proposer: "token:ward", unit: "", summary: "later", content: "{}")
                #expect(next.id == 4)
            }
            // Only the named layers' proposals.
            let some = try GeoPackageStore(path: dir.appendingPathComponent("some.gpkg").path)
            let summary = try StoreCopy.copy(from: source, to: some, layers: ["zoning"])
            #expect(summary.changes == 1)
            #expect(try some.changes(layer: nil, status: nil, limit: 10).map(\.layer) == ["zoning"])
        }
    }
}
