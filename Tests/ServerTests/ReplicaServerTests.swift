import Access
import Backends
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Import
import Prometheus
@testable import Server
import Store
import Testing
import TestSupport

/// `landmap serve --db PRIMARY --read-db REPLICA` (SPEC §7) on a primary and a streaming replica
/// of this test's own: a token holder sees its write on the next request; with the replica
/// stopped every read is answered from the primary; with the primary stopped reads go on from
/// the replica and writes answer 503 with a problem and `Retry-After`.
@Suite(.serialized, .enabled(if: TestPostgres.isAvailable, "needs PostgreSQL binaries (Tools/setup.sh)"))
struct ReplicaServerTests {
    @Test func readsGoOnWhileEitherServerIsDown() async throws {
        let pair = try TestPostgres.startPrimaryAndReplica()
        defer { TestPostgres.stopCluster(at: pair.directory) }
        let store = try StoreLocation(pair.primary).open(create: true, replica: pair.replica)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        let editor = try AccessTokens(store: store).create(name: "replica-editor", role: .editor, actor: "tests").token
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        let metrics = PrometheusCollectorRegistry()
        let state = try ServerState(store: store, configuration: configuration, metrics: metrics)
        let lookup = "/parcels/at?lon=106.7483&lat=10.7348"
        let tile = "/tiles/parcels/16/52203/30794.mvt"

        try await Application(router: LandMapServer.router(state)).test(.router) { client in
            // Anonymous reads are the replica's: the sample is there once it has replayed the load.
            var first: String?
            let loaded = ContinuousClock.now
            while first == nil, ContinuousClock.now - loaded < .seconds(10) {
                first = try await client.execute(uri: "/collections/parcels/items?limit=1", method: .get) { r in
                    r.json.value?["features"]?.arrayValue?.first?["id"]?.stringValue
                }
                if first == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let id = try #require(first, "the replica did not show the sample within 10 s")
            // Written through this server by a token holder, read back at once (the primary's),
            // while the replica has stopped replaying: anonymous readers still see the old value.
            try TestPostgres.psql(pair.replica, "SELECT pg_wal_replay_pause()")
            var anonymousBefore: String?
            try await client.execute(uri: "/collections/parcels/items/\(id)", method: .get) { r in
                anonymousBefore = r.json.value?["properties"]?["land_use"]?.stringValue
            }
            for use in ["TMD", "ODT", "TMD"] {
                let (etag, body) = try await client.execute(uri: "/collections/parcels/items/\(id)", method: .get, headers: bearer(editor)) { r in
                    (try #require(r.headers[.eTag]), r.text)
                }
                let edited = try Self.withLandUse(body, use)
                try await client.execute(uri: "/collections/parcels/items/\(id)", method: .put,
                                         headers: bearer(editor) + [.ifMatch: etag, .contentType: "application/geo+json"],
                                         body: ByteBuffer(string: edited)) { r in #expect(r.status == .ok, "\(r.text)") }
                try await client.execute(uri: "/collections/parcels/items/\(id)", method: .get, headers: bearer(editor)) { r in
                    #expect(r.json.value?["properties"]?["land_use"]?.stringValue == use)
                }
                try await client.execute(uri: "/collections/parcels/items/\(id)", method: .get) { r in
                    #expect(r.json.value?["properties"]?["land_use"]?.stringValue == anonymousBefore)
                }
            }
            try TestPostgres.resumeReplay(pair.replica)
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.text.contains("landmap_replica_up 1.0"), "\(r.text.prefix(300))")
                #expect(!r.text.contains("landmap_store_reads_total{server=\"replica\"} 0\n"))
            }

            TestPostgres.stopServer("\(pair.directory)/r")
            for uri in ["/collections/parcels/items?limit=5", "/collections/parcels/items/\(id)", lookup, tile] {
                try await client.execute(uri: uri, method: .get) { r in #expect(r.status == .ok, "replica down: \(uri) → \(r.status)") }
            }
            try await client.execute(uri: "/metrics", method: .get) { r in #expect(r.text.contains("landmap_replica_up 0.0")) }

            TestPostgres.stopServer("\(pair.directory)/p")
            try TestPostgres.restartServer("\(pair.directory)/r")
            // Within the replica's retry (1 s) reads come back, from the replica alone. A replica
            // restarted after an immediate stop opens at its consistent point and then replays the
            // rest of its own WAL: for a moment it may show an older state (the layers as they were
            // before the sample's load, a 404), so the wait is for the collection itself.
            let start = ContinuousClock.now
            var answered = false
            while !answered, ContinuousClock.now - start < .seconds(10) {
                answered = try await client.execute(uri: "/collections/parcels/items/\(id)", method: .get) { r in r.status == .ok }
                if !answered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(answered, "no read answered from the replica within 10 s of the primary stopping")
            for uri in ["/collections/parcels/items?limit=5", "/collections/parcels/items/\(id)", lookup, tile, "/health"] {
                try await client.execute(uri: uri, method: .get) { r in #expect(r.status == .ok, "primary down: \(uri) → \(r.status)") }
            }
            let (etag, body) = try await client.execute(uri: "/collections/parcels/items/\(id)", method: .get, headers: bearer(editor)) { r in
                #expect(r.status == .ok, "a token holder reads from the replica while the primary is down")
                return (r.headers[.eTag] ?? "*", r.text)
            }
            try await client.execute(uri: "/collections/parcels/items/\(id)", method: .put,
                                     headers: bearer(editor) + [.ifMatch: etag, .contentType: "application/geo+json"],
                                     body: ByteBuffer(string: try Self.withLandUse(body, "ODT"))) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(r.headers[.retryAfter] == "5")
                #expect(r.headers[.contentType] == "application/problem+json")
                #expect(r.json.value?["title"]?.stringValue == "Database unavailable")
            }
        }
    }

    /// A write whose outcome nobody knows (the connection broke during its COMMIT) is a 503 that
    /// says it may have been saved, never "nothing was written".
    @Test func aWriteThatMayHaveLandedSaysSo() {
        struct CutDuringCommit: UnavailableError {
            var unavailableCause: String? { "the connection was lost while the write was being committed" }
            var writeMayHaveLanded: Bool { true }
        }
        struct Refused: UnavailableError {
            var unavailableCause: String? { "PostgreSQL cannot be reached" }
        }
        let unknown = Problem.from(CutDuringCommit())
        #expect(unknown.status == .serviceUnavailable)
        #expect(unknown.detail.contains("may have been saved") && !unknown.detail.contains("nothing was written"))
        let refused = Problem.from(Refused())
        #expect(refused.status == .serviceUnavailable && refused.headers[.retryAfter] == "5")
        #expect(refused.detail.contains("nothing was written"))
    }

    static func withLandUse(_ body: String, _ use: String) throws -> String {
        guard case .object(var feature) = try JSONValue.parse(Data(body.utf8)), case .object(var properties) = feature["properties"] ?? .null else {
            throw Problem.badRequest("not a feature")
        }
        properties["land_use"] = .string(use)
        feature["properties"] = .object(properties)
        return JSONValue.object(feature).jsonText
    }
}
