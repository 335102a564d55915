import GeoPackage
import Foundation
import GRDB
@testable import Import
@testable import Store
import Testing
import TestSupport

/// `kill -9` of a real `landmap import` while it writes: the database must be as it was.
/// (Tools/kill9-import.sh does the same with 1 M parcels.)
@Suite struct CrashSafetyTests {
    static let landmap = SharedData.product("landmap")

    @Test(.enabled(if: landmap != nil, Comment(rawValue: "skipped: the landmap executable is not built")))
    func killNineDuringAnImportLeavesTheDatabaseAsItWas() throws {
        let dir = try SharedData.temporaryDirectory("kill9")
        let db = dir.appendingPathComponent("k.gpkg").path
        let small = try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: 30), name: "small.geojson")
        _ = try Importer(store: GeoPackageStore(path: db)).run([small], ImportOptions(layer: "parcels"))

        // 60 000 parcels on other sheets: enough work to be caught in the middle.
        var big = ImportFixtures.parcelsGeoJSON(count: 60_000)
        big = big.replacingOccurrences(of: #""SoTo":7"#, with: #""SoTo":8"#)
        let bigPath = dir.appendingPathComponent("big.geojson").path
        try Data(big.utf8).write(to: URL(fileURLWithPath: bigPath))

        func state() throws -> [String] {
            let q = try DatabaseQueue(path: db)
            return try q.read { db in
                try ["PRAGMA integrity_check", "SELECT count(*) FROM parcels", "SELECT count(*) FROM rtree_parcels_geom",
                     "SELECT data_version FROM landmap_layers WHERE name = 'parcels'", "SELECT count(*) FROM landmap_batches"]
                    .map { try String.fetchOne(db, sql: $0) ?? "NULL" }
            }
        }
        let before = try state()
        #expect(before[0] == "ok" && before[1] == "30")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.landmap))
        process.arguments = ["import", bigPath, "--layer", "parcels", "--db", db]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill once the transaction has spilled pages into the WAL (or after 20 s at most).
        let wal = db + "-wal"
        let deadline = Date().addingTimeInterval(20)
        var walBytes = 0
        while process.isRunning, Date() < deadline {
            walBytes = ((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? Int) ?? 0
            if walBytes > 2 << 20 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(process.isRunning, "the import ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(walBytes > 2 << 20, "killed with \(walBytes) bytes in the WAL")

        #expect(try state() == before)
    }
}
