import Features
import Foundation
import Geometry
@testable import PostGIS
import Store
import Testing
import TestSupport

/// SPEC §7's `--read-db`: reads from a streaming replica (the one `Tools/postgres run` starts
/// beside the primary, `LANDMAP_TEST_PG_REPLICA`), never keyed by a version the replica has not
/// replayed; token holders' reads from the primary; failover both ways.
@Suite(.serialized, .enabled(if: PGTest.available && PGTest.replica != nil, "set LANDMAP_TEST_PG and LANDMAP_TEST_PG_REPLICA (Tools/postgres run does)"))
struct ReplicaTests {
    static var replica: PostgresURL? { PGTest.replica }
    static let everywhere = BoundingBox(minX: 106, minY: 10, maxX: 108, maxY: 12)

    /// A fresh database on the primary and its URL on the replica, once the replica has it.
    static func withReplica<T>(_ body: (PostgresURL, PostgresURL) throws -> T) throws -> T {
        try PGTest.withDatabase { url in
            let mirror = try #require(replica).with(database: url.database)
            try waitFor("the replica to have database \(url.database)") {
                (try? TestPostgres.psql(mirror.description, "SELECT 1")) == "1"
            }
            return try body(url, mirror)
        }
    }

    static func waitFor(_ what: String, within limit: Duration = .seconds(5), _ done: () throws -> Bool) throws {
        let start = ContinuousClock.now
        while try !done() {
            guard ContinuousClock.now - start < limit else { throw Timeout(what: what) }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    struct Timeout: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    static func landUse(_ store: PostGISStore, _ id: String) throws -> String? {
        try store.feature(layer: "parcels", id: id, asOf: nil)?.properties["land_use"]?.stringValue
    }

    @Test func readsGoToTheReplicaAndFollowThePrimary() throws {
        try Self.withReplica { url, mirror in
            let store = try PostGISStore(url: url, readURL: mirror)
            let summary = try store.write(PGTest.request(.append)) { w in for i in 0..<10 { try w.put(PGTest.parcel(i)) } }
            try Self.waitFor("version \(summary.dataVersion) on the replica", within: .seconds(10)) {
                try store.dataVersions()["parcels"] == summary.dataVersion
            }
            #expect(try store.features(layer: "parcels", intersecting: Self.everywhere, asOf: nil, limit: 100, offset: 0).count == 10)
            #expect(try store.count(layer: "parcels", matching: ["land_use": "ODT"], asOf: nil) == 10)
            let status = try #require(store.replicationStatus())
            #expect(status.replicaUp)
            #expect(status.replicaReads >= 3)
            // Other tests write to the same cluster meanwhile: some lag may show.
            #expect(try #require(status.lagBytes) >= 0)
            #expect(try #require(status.lagSeconds) >= 0)
            #expect(!status.replica.contains("password"))
        }
    }

    /// Replay paused: anonymous reads keep the replica's version and its data together (no new
    /// key on old data); a token holder's reads (`ReadConsistency.latest`) see the write at once;
    /// once replay resumes, the new version is taken up within a second.
    @Test func aLaggingReplicaNeverKeysOldDataByANewVersion() throws {
        try Self.withReplica { url, mirror in
            let store = try PostGISStore(url: url, readURL: mirror)
            let first = try store.write(PGTest.request(.append)) { w in for i in 0..<10 { try w.put(PGTest.parcel(i)) } }
            try Self.waitFor("the replica to catch up") { try store.dataVersions()["parcels"] == first.dataVersion }
            try TestPostgres.psql(mirror.description, "SELECT pg_wal_replay_pause()")
            defer { try? TestPostgres.resumeReplay(mirror.description) }
            let id = PGTest.parcel(3).id
            let second = try store.write(PGTest.request(.upsert)) { w in try w.put(PGTest.parcel(3, landUse: "TMD")) }
            #expect(second.dataVersion > first.dataVersion)

            for _ in 0..<20 {
                #expect(try store.dataVersions()["parcels"] == first.dataVersion)
                #expect(try Self.landUse(store, id) == "ODT")
                Thread.sleep(forTimeInterval: 0.01)
            }
            let reader = try store.reader()
            // A snapshot's versions and data come from one server: the version and the land use agree.
            func seen(_ s: any FeatureSnapshot) throws -> (Int64?, String?) {
                let key = try #require(try s.keys(layer: "parcels", intersecting: Self.everywhere).first { k in
                    try s.feature(layer: "parcels", key: k)?.id == id
                })
                return (try s.dataVersions()["parcels"], try s.feature(layer: "parcels", key: key)?.properties["land_use"]?.stringValue)
            }
            let anonymous = try reader.snapshot(seen)
            #expect(anonymous.0 == first.dataVersion)
            #expect(anonymous.1 == "ODT")

            try ReadConsistency.$latest.withValue(true) {
                #expect(try store.dataVersions()["parcels"] == second.dataVersion)
                #expect(try Self.landUse(store, id) == "TMD")
                let latest = try reader.snapshot(seen)
                #expect(latest.0 == second.dataVersion)
                #expect(latest.1 == "TMD")
            }

            try TestPostgres.resumeReplay(mirror.description)
            // SPEC §7's second is Tools/cluster-lag's to measure; under the whole suite, 10 s.
            try Self.waitFor("the new version after replay resumed", within: .seconds(10)) {
                try store.dataVersions()["parcels"] == second.dataVersion
            }
            #expect(try Self.landUse(store, id) == "TMD")
            let after = try reader.snapshot(seen)
            #expect(after.0 == second.dataVersion)
            #expect(after.1 == "TMD")
        }
    }

    /// After a replica failure the versions came from the primary; the node must not go back to a
    /// replica that has not replayed them (new keys over old data), only once it has.
    @Test func backToTheReplicaOnlyOnceItHasCaughtUp() throws {
        try Self.withReplica { url, mirror in
            let store = try PostGISStore(url: url, readURL: mirror)
            let first = try store.write(PGTest.request(.append)) { w in for i in 0..<4 { try w.put(PGTest.parcel(i)) } }
            try Self.waitFor("the replica to catch up") { try store.dataVersions()["parcels"] == first.dataVersion }
            store.reads.markDown(.replica)
            store.versions.invalidate()
            #expect(try store.versions.current().source == .primary)
            try TestPostgres.psql(mirror.description, "SELECT pg_wal_replay_pause()")
            defer { try? TestPostgres.resumeReplay(mirror.description) }
            let second = try store.write(PGTest.request(.upsert)) { w in try w.put(PGTest.parcel(2, landUse: "TMD")) }
            #expect(try store.dataVersions()["parcels"] == second.dataVersion)
            Thread.sleep(forTimeInterval: 1.2)  // the replica may be asked again
            for _ in 0..<10 {
                let (versions, source) = try store.versions.current()
                #expect(versions["parcels"] == second.dataVersion && source == .primary)
                #expect(try Self.landUse(store, PGTest.parcel(2).id) == "TMD")
                Thread.sleep(forTimeInterval: 0.01)
            }
            try TestPostgres.resumeReplay(mirror.description)
            try Self.waitFor("reads from the replica again") { try store.versions.current().source == .replica }
            #expect(try store.dataVersions()["parcels"] == second.dataVersion)
            #expect(try Self.landUse(store, PGTest.parcel(2).id) == "TMD")
        }
    }

    @Test func anUnreachableReplicaSendsReadsToThePrimary() throws {
        try PGTest.withDatabase { url in
            let nowhere = try PostgresURL("postgresql://landmap@localhost/\(url.database)?host=/tmp/no-such-replica-here")
            let store = try PostGISStore(url: url, readURL: nowhere)
            _ = try store.write(PGTest.request(.append)) { w in for i in 0..<5 { try w.put(PGTest.parcel(i)) } }
            #expect(try store.features(layer: "parcels", intersecting: Self.everywhere, asOf: nil, limit: 100, offset: 0).count == 5)
            #expect(try store.reader().snapshot { s in try s.keys(layer: "parcels", intersecting: Self.everywhere).count } == 5)
            let status = try #require(store.replicationStatus())
            #expect(!status.replicaUp)
            #expect(status.lagBytes == nil)
            #expect(status.primaryReads >= 2)
        }
    }

    /// A pair of this test's own: the replica stopped (reads go on from the primary, and back to
    /// the replica once it is up), then the primary stopped (reads go on from the replica, token
    /// lookups too; a write fails as unavailable — the server answers it 503).
    @Test func eitherServerMayStopWhileReadsGoOn() throws {
        let pair = try TestPostgres.startPrimaryAndReplica()
        defer { TestPostgres.stopCluster(at: pair.directory) }
        // A replica of another cluster is refused at start, saying so.
        try PGTest.withDatabase { url in
            #expect {
                _ = try PostGISStore(url: url, readURL: try PostgresURL(pair.replica))
            } throws: { error in "\(error)".contains("is not a replica of") && "\(error)".contains("another PostgreSQL cluster") }
        }
        let store = try PostGISStore(url: try PostgresURL(pair.primary), readURL: try PostgresURL(pair.replica))
        let written = try store.write(PGTest.request(.append)) { w in for i in 0..<8 { try w.put(PGTest.parcel(i)) } }
        _ = try store.addToken(key: "5c0ffee1e7a1", name: "gis", role: "editor", scope: TokenScope(), hash: [1, 2], actor: "tests")
        try Self.waitFor("the replica to catch up") { try store.dataVersions()["parcels"] == written.dataVersion }
        let reader = try store.reader()
        #expect(try reader.snapshot { s in try s.keys(layer: "parcels", intersecting: Self.everywhere).count } == 8)

        TestPostgres.stopServer("\(pair.directory)/r")
        #expect(try store.features(layer: "parcels", intersecting: Self.everywhere, asOf: nil, limit: 100, offset: 0).count == 8)
        #expect(try reader.snapshot { s in try s.keys(layer: "parcels", intersecting: Self.everywhere).count } == 8)
        #expect(store.replicationStatus()?.replicaUp == false)
        let more = try store.write(PGTest.request(.append)) { w in try w.put(PGTest.parcel(8)) }
        #expect(try store.dataVersions()["parcels"] == more.dataVersion)

        TestPostgres.stopServer("\(pair.directory)/p")
        // The replica was stopped before the last write: restarted with no primary, it has 8.
        try TestPostgres.restartServer("\(pair.directory)/r")
        try Self.waitFor("reads from the replica with the primary down", within: .seconds(10)) {
            (try? store.features(layer: "parcels", intersecting: Self.everywhere, asOf: nil, limit: 100, offset: 0).count) == 8
        }
        #expect(try reader.snapshot { s in try s.keys(layer: "parcels", intersecting: Self.everywhere).count } == 8)
        #expect(try store.token(key: "5c0ffee1e7a1")?.name == "gis")
        let refused = #expect(throws: (any Error).self) { try store.write(PGTest.request(.append)) { w in try w.put(PGTest.parcel(9)) } }
        #expect((refused as? any UnavailableError)?.unavailableCause != nil, "\(String(describing: refused))")
    }
}
