import Foundation
@testable import PostGIS
import Store
import Testing

/// Each way of failing to open a database ends in one line saying what to do, in time.
@Suite(.enabled(if: PGTest.available, "set LANDMAP_TEST_PG to run"))
struct ConnectionErrorTests {
    @Test func unreachableSocketFailsFastWithAHint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("no-pg-\(UUID().uuidString)").path
        let start = ContinuousClock.now
        #expect {
            _ = try PostGISStore(url: try PostgresURL("postgresql://landmap@localhost/x?host=\(dir)"))
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("cannot reach PostgreSQL at socket \(dir)/.s.PGSQL.5432: is it running?") && !text.contains("\n")
        }
        #expect(ContinuousClock.now - start < .seconds(10))  // not the OS's minutes-long wait
    }

    @Test func unreachableTCPPortFailsWithinTheTimeout() throws {
        // A TEST-NET-1 address: packets go nowhere, so only the connect timeout ends the wait.
        let start = ContinuousClock.now
        #expect {
            _ = try PostGISStore(url: try PostgresURL("postgresql://landmap@192.0.2.1:5432/x?sslmode=disable"), connectTimeout: .seconds(1))
        } throws: { error in "\(error)".hasPrefix("cannot reach PostgreSQL at 192.0.2.1:5432") }
        #expect(ContinuousClock.now - start < .seconds(10))  // the 1 s timeout, not the OS's minutes
    }

    @Test func missingDatabaseIsNamed() throws {
        let server = try #require(PGTest.server)
        #expect {
            _ = try PostGISStore(url: server.with(database: "no_such_db_lm"))
        } throws: { error in
            "\(error)".hasPrefix("no database 'no_such_db_lm' on PostgreSQL at ")
        }
    }

    @Test func newerSchemaIsRefused() throws {
        try PGTest.withDatabase { url in
            do { _ = try PostGISStore(url: url) }
            try PostgresAdmin.execute(url, ["INSERT INTO landmap_migrations VALUES (99, 'later', 'from the future')"])
            #expect(throws: PostGISError.newerSchema(database: url.database, version: 99, known: Migrations.latest)) {
                _ = try PostGISStore(url: url)
            }
            #expect("\(PostGISError.newerSchema(database: "d", version: 99, known: 1))" ==
                "database d has LandMap schema version 99; this landmap knows up to 1: upgrade landmap")
        }
    }

    @Test func migrationsRunOnceAndAreRecorded() throws {
        try PGTest.withDatabase { url in
            let a = try PostGISStore(url: url)
            let b = try PostGISStore(url: url)  // a second open applies nothing
            #expect(a.engineVersion.hasPrefix("PostgreSQL 1") && a.engineVersion.contains("PostGIS 3"))
            #expect(try b.layers().isEmpty)
            let count = try a.pool.with { s in try s.query("SELECT count(*) FROM landmap_migrations").scalar(Int64.self) }
            #expect(count == Int64(Migrations.all.count))
        }
    }

    /// A database at schema version 1 (tokens, audit and batches already in it) gains token
    /// scopes, audit units, batch proposers and proposals when a store opens it.
    @Test func aVersion1DatabaseGainsStewardshipOnOpen() throws {
        try PGTest.withDatabase { url in
            let first = try #require(Migrations.all.first { $0.version == 1 })
            try PostgresAdmin.execute(url, ["CREATE EXTENSION IF NOT EXISTS postgis",
                                            "CREATE TABLE landmap_migrations (version integer PRIMARY KEY, applied_at text NOT NULL, description text NOT NULL)"]
                + first.sql + [
                    "INSERT INTO landmap_migrations VALUES (1, '2026-01-01T00:00:00.000Z', '\(first.description)')",
                    "INSERT INTO landmap_tokens (key, name, role, hash, created_at) VALUES ('k1', 'old', 'reader', '\\x00', '2026-01-01T00:00:00.000Z')",
                    "INSERT INTO landmap_audit (at, actor, action, target) VALUES ('2026-01-01T00:00:00.000Z', 'cli:old', 'token.create', 'k1')",
                    "INSERT INTO landmap_batches (layer, mode, source, actor, started_at) VALUES ('parcels', 'append', 'old', 'cli:old', '2026-01-01T00:00:00.000Z')",
                ])
            let store = try PostGISStore(url: url)
            #expect(try store.token(key: "k1")?.scope == .unlimited)
            #expect(try store.auditLog(AuditQuery(limit: 5)).map(\.unit) == [""])
            #expect(try store.batches(ids: [1])[1].map { $0.actor == "cli:old" && $0.proposer == nil } == true)
            let change = try store.addChange(layer: "parcels", kind: "create", proposer: "token:old", unit: "", summary: "s", content: "{}")
            #expect(try store.change(id: change.id)?.status == .pending)
            // The old entry was sealed into the audit chain at open; the proposal's follows it.
            let entries = try store.auditEntries(after: 0, limit: 5)
            #expect(entries.map(\.action) == ["token.create", "change.propose"] && entries.first?.prevHash == AuditChain.genesis)
            #expect(try store.verifyAuditChain() == .whole(entries: 2, head: try #require(entries.last?.hash)))
            let versions = try store.pool.with { s in try s.query("SELECT count(*) FROM landmap_migrations").scalar(Int64.self) }
            #expect(versions == Int64(Migrations.latest))
        }
    }

    @Test func databaseWithoutPostGISThatCannotGetIt() throws {
        // A role that may connect but not create extensions (PostGIS is not a trusted extension).
        try PGTest.withDatabase { url in
            let role = "lm_plain_\(UUID().uuidString.prefix(6).lowercased())"
            try PostgresAdmin.execute(url, ["CREATE ROLE \(role) LOGIN", "GRANT CREATE ON SCHEMA public TO \(role)"])
            defer { try? PostgresAdmin.execute(url, ["DROP OWNED BY \(role)", "DROP ROLE \(role)"]) }
            var plain = url
            plain.user = role
            #expect {
                _ = try PostGISStore(url: plain)
            } throws: { error in
                "\(error)".hasPrefix("PostGIS is not installed in database \(url.database): run `CREATE EXTENSION postgis;` as its owner")
            }
        }
    }

    @Test func readOnlyServerIsSentToReadDB() throws {
        try PGTest.withDatabase { url in
            try PostgresAdmin.execute(url, ["CREATE EXTENSION postgis", "ALTER DATABASE \(url.database) SET default_transaction_read_only = on"])
            #expect(throws: PostGISError.readOnly(database: url.database)) { _ = try PostGISStore(url: url) }
            #expect("\(PostGISError.readOnly(database: "x"))".contains("give the primary as --db (a replica goes in --read-db)"))
        }
    }
}
