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
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func unreachableTCPPortFailsWithinTheTimeout() throws {
        // A TEST-NET-1 address: packets go nowhere, so only the connect timeout ends the wait.
        let start = ContinuousClock.now
        #expect {
            _ = try PostGISStore(url: try PostgresURL("postgresql://landmap@192.0.2.1:5432/x?sslmode=disable"), connectTimeout: .seconds(1))
        } throws: { error in "\(error)".hasPrefix("cannot reach PostgreSQL at 192.0.2.1:5432") }
        #expect(ContinuousClock.now - start < .seconds(3))
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
