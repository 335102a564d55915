@testable import GeoPackage
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
@testable import Store
import Testing

/// SPEC §5: a full disk answers 507 with a problem naming it, and nothing is half-written.
/// Simulated in process: the database's writer connection gets `PRAGMA max_page_count` at its
/// current size, so any write needing a new page fails with SQLITE_FULL exactly as on a full
/// disk; the upload's temporary file is `/dev/full`, where every write fails with ENOSPC.
@Suite(.serialized) struct DiskFullTests {
    /// Caps the database at its current number of pages (or lifts the cap).
    static func cap(_ store: any LandMapStore, full: Bool) throws {
        let store = try #require(store as? GeoPackageStore)
        try store.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(full ? pages : 1 << 30)")
        }
    }

    /// `count` points with a long note each, as GeoJSON.
    static func points(_ count: Int) -> String {
        let features = (0..<count).map { i in
            #"{"type":"Feature","id":"p\#(i)","geometry":{"type":"Point","coordinates":[106.7\#(i % 10),10.7\#(i / 10)]},"properties":{"note":"\#(String(repeating: "n", count: 2_000))"}}"#
        }
        return #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#
    }

    @Test func aFullDatabaseAnswers507AndWritesNothing() async throws {
        let server = try EditableServer.make("disk-full")
        let store = server.state.store
        let parcels = try #require(try store.layer("parcels")).featureCount
        try Self.cap(store, full: true)
        try await server.test { client in
            // A Part 4 create whose row needs new pages.
            let ring = "[[106.80,10.80],[106.8002,10.80],[106.8002,10.8002],[106.80,10.8002],[106.80,10.80]]"
            let feature = #"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[\#(ring)]},"properties":{"ward_code":"27484","sheet":998,"number":7,"land_use":"ODT","note":"\#(String(repeating: "x", count: 200_000))"}}"#
            try await client.execute(uri: "/collections/parcels/items", method: .post, headers: bearer(server.editor), body: ByteBuffer(string: feature)) { r in
                #expect(r.status.code == 507, "\(r.status) \(r.text.prefix(300))")
                #expect(r.headers[.contentType] == "application/problem+json")
                #expect(r.json.value?["detail"]?.stringValue?.contains("disk is full") == true, "\(r.text)")
            }
            // An import into a new layer.
            try await client.execute(uri: "/imports?layer=full_points", method: .post, headers: bearer(server.editor) + [.contentType: "application/geo+json"],
                                     body: ByteBuffer(string: Self.points(200))) { r in
                #expect(r.status.code == 507, "\(r.status) \(r.text.prefix(300))")
                #expect(r.json.value?["detail"]?.stringValue?.contains("SQLite: database or disk is full") == true, "\(r.text)")
            }
        }
        // Nothing half-written: the parcel count as before, no new layer; with room again, the same import succeeds.
        #expect(try store.layer("parcels")?.featureCount == parcels)
        #expect(try store.layer("full_points") == nil)
        try Self.cap(store, full: false)
        try await server.test { client in
            try await client.execute(uri: "/imports?layer=full_points", method: .post, headers: bearer(server.editor) + [.contentType: "application/geo+json"],
                                     body: ByteBuffer(string: Self.points(200))) { r in
                #expect(r.status == .created, "\(r.text.prefix(300))")
            }
        }
        #expect(try store.layer("full_points")?.featureCount == 200)
    }

    @Test func aFullUploadFolderAnswers507() async throws {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        defer { try? full.close() }
        let body = RequestBody(buffer: ByteBuffer(repeating: 0x41, count: 100_000))
        do {
            _ = try await ImportRoutes.write(body, to: full, limit: 1 << 20)
            Issue.record("writing to a full disk succeeded")
        } catch let problem as Problem {
            #expect(problem.status.code == 507)
            #expect(problem.detail.contains("temporary folder is full (no space left on device)"), "\(problem.detail)")
        }
        // Whatever layer reports it, a full disk maps to 507, not 500.
        #expect(Problem.from(POSIXError(.ENOSPC)).status.code == 507)
        #expect(Problem.from(CocoaError(.fileWriteOutOfSpace)).status.code == 507)
    }
}
