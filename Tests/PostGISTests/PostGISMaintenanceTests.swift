import Features
import Foundation
import Geometry
@testable import PostGIS
import Store
import Testing

@Suite(.enabled(if: PGTest.available, "set LANDMAP_TEST_PG to run"))
struct PostGISMaintenanceTests {
    @Test func maintenanceAnswersForAServer() throws {
        try PGTest.withDatabase { url in
            var withPassword = url
            withPassword.password = "s3cret"
            #expect(!withPassword.description.contains("s3cret"))
            let store: any LandMapStore = try PostGISStore(url: url)
            #expect(store.localFile == nil)
            #expect(store.displayLocation == url.description)
            #expect(!store.upkeepPending && store.upkeep())
            let check = store.integrityCheck(limit: 10)
            #expect(check.isOK && check.duplicateKeys.isEmpty)
            #expect {
                try store.backup(to: "/tmp/copy.gpkg")
            } throws: { error in "\(error)".contains("landmap copy URL file.gpkg") && "\(error)".contains("pg_dump") }
        }
    }

    @Test func duplicateKeysAlreadyInTheDatabaseAreReported() throws {
        try PGTest.withDatabase { url in
            let store = try PostGISStore(url: url)
            _ = try store.write(PGTest.request(.append)) { w in for i in 0..<3 { try w.put(PGTest.parcel(i)) } }
            // Rows written behind LandMap's back (as an older tool might have): two share a key.
            try PostgresAdmin.execute(url, ["UPDATE parcels SET number = 1 WHERE id = '26734-12-3'"])
            let found = try store.duplicateKeys(limit: 10)
            #expect(found == [DuplicateKey(layer: "parcels", key: "ward_code 26734, sheet 12, number 1", ids: ["26734-12-1", "26734-12-3"])])
            #expect(store.integrityCheck(limit: 10).duplicateKeys == found)
            #expect(store.integrityCheck(limit: 10).isOK)
        }
    }

    @Test func serverErrorsSayWhatToDo() {
        let full = PostGISError.server(sqlState: "53100", message: "could not extend file", detail: nil)
        #expect(DiskFull.cause(of: full) == "PostgreSQL: disk full (could not extend file)")
        #expect(DiskFull.cause(of: PostGISError.server(sqlState: "23505", message: "duplicate", detail: nil)) == nil)
        #expect("\(PostGISError.unreachable(server: "db:5432", detail: "connection refused"))"
            .hasPrefix("cannot reach PostgreSQL at db:5432: is it running?"))
        #expect("\(PostGISError.noPostGIS(database: "hcm", detail: "x"))"
            .hasPrefix("PostGIS is not installed in database hcm: run `CREATE EXTENSION postgis;` as its owner, or install postgresql-15-postgis-3"))
    }

    @Test func badCanonicalValuesAreRefusedNamingTheField() throws {
        try PGTest.withDatabase { url in
            let store = try PostGISStore(url: url)
            var f = PGTest.parcel(0)
            f.properties["sheet"] = "12a"
            #expect(throws: StoreError.invalidFeature(layer: "parcels", id: f.id, detail: "field 'sheet' must be a whole number, not '12a'")) {
                try store.write(PGTest.request(.append)) { w in try w.put(f) }
            }
            f.properties["sheet"] = " 12 "
            f.properties["declared_area_m2"] = "390,5"
            _ = try store.write(PGTest.request(.append)) { w in try w.put(f) }
            let back = try store.feature(layer: "parcels", id: f.id, asOf: nil)
            #expect(back?.properties["sheet"] == .integer(12))
            #expect(back?.properties["declared_area_m2"] == .number(390.5))
            // Non-finite coordinates never reach the server.
            #expect(throws: StoreError.self) {
                try store.write(PGTest.request(.append, layer: "things")) { w in
                    try w.put(Feature(id: "nan", geometry: .point(Coordinate(.nan, 10))))
                }
            }
            // The layer a failed first batch would have made does not exist either.
            #expect(try store.layer("things") == nil)
        }
    }
}
