import Access
import Backends
import Features
import Foundation
import Geometry
import Store
import Testing
import TestSupport

/// `landmap sync` end to end (SPEC §9): a `landmap serve` over one database, `landmap sync` into
/// another, both real processes, on each backend.
@Suite(.serialized) struct SyncTests {
    static func shop(_ i: Int, name: String = "Cửa hàng", floors: Int = 1) -> Feature {
        let x = 106.70 + Double(i % 100) * 0.0007, y = 10.78 + Double(i / 100) * 0.0007
        return Feature(id: "s\(i)", geometry: .polygon([[Coordinate(x, y), Coordinate(x + 0.0005, y), Coordinate(x + 0.0005, y + 0.0005), Coordinate(x, y)]]),
                       properties: ["name": .string("\(name) \(i)"), "owner": .string("Lê Văn \(i)"), "floors": .integer(Int64(floors)), "rent": .number(12.5)])
    }

    /// A `landmap serve` process on `location`, stopped with the returned closure.
    static func serve(_ location: String) throws -> (url: String, stop: () -> Void) {
        let landmap = try #require(SharedData.product("landmap"))
        let port = Int.random(in: 30_000..<40_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: landmap)
        process.arguments = ["serve", "--db", location, "--port", "\(port)", "--log-level", "warning"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let url = "http://127.0.0.1:\(port)"
        for _ in 0..<240 {
            if try SharedData.run("/usr/bin/curl", ["-sf", "-o", "/dev/null", "\(url)/health"]).status == 0 { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        return (url, { process.terminate(); process.waitUntilExit() })
    }

    static func sync(_ arguments: [String], token: String?) throws -> (status: Int32, output: String) {
        try SharedData.run(try #require(SharedData.product("landmap")), ["sync"] + arguments, environment: ["LANDMAP_TOKEN": token])
    }

    static func same(_ a: any LandMapStore, _ b: any LandMapStore, _ layer: String) throws -> Bool {
        try LayerFingerprint.of(layer: layer, in: a) == LayerFingerprint.of(layer: layer, in: b)
    }

    @Test(arguments: Backend.allCases)
    func syncKeepsACopyIdentical(_ backend: Backend) throws {
        let sourceLocation = try backend.freshLocation("sync-source"), copyLocation = try backend.freshLocation("sync-copy")
        let source = try StoreLocation(sourceLocation).open(create: true)
        let copy = try StoreLocation(copyLocation).open(create: true)
        let token = try AccessTokens(store: source).create(name: "sync-reader", role: .reader, actor: "tests").token
        let request = { BatchRequest(layer: "shops", mode: .upsert, source: "test", actor: "tests") }
        try source.write(request()) { w in for i in 0..<300 { try w.put(Self.shop(i)) } }
        try source.write(BatchRequest(layer: "parcels", mode: .append, source: "test", actor: "tests")) { w in
            var f = Self.shop(1)
            f.properties = ["ward_code": "27484", "sheet": 1, "number": 1, "land_use": "ODT"]
            try w.put(f)
        }
        let (url, stop) = try Self.serve(sourceLocation)
        defer { stop() }
        let args = ["--from", url, "--layer", "shops", "--db", copyLocation, "--page-size", "70"]

        var run = try Self.sync(args, token: token)
        #expect(run.status == 0 && run.output.contains("300 changes"), "\(run.output)")
        #expect(try Self.same(source, copy, "shops"))
        #expect(!run.output.contains(token))

        // Updates, deletes, an id made again, inserts: the copy follows.
        try source.write(request()) { w in
            for i in stride(from: 0, to: 300, by: 7) { try w.put(Self.shop(i, name: "Tiệm", floors: 3)) }
            for i in stride(from: 1, to: 300, by: 11) { try w.delete(id: "s\(i)") }
        }
        try source.write(request()) { w in
            try w.put(Self.shop(12, name: "Lại mở"))
            try w.put(Self.shop(7, name: "Lần hai"))  // updated in both batches: one run applies it once
            for i in 300..<340 { try w.put(Self.shop(i)) }
        }
        run = try Self.sync(args, token: token)
        #expect(run.status == 0, "\(run.output)")
        #expect(try Self.same(source, copy, "shops"))
        #expect(try copy.layer("shops")?.featureCount == source.layer("shops")?.featureCount)
        let batches = try copy.batchRecords(layer: "shops")
        #expect(batches.count == 2 && batches.allSatisfy { $0.source.hasPrefix("sync \(url)/collections/shops@") })

        // Nothing new: nothing transferred, nothing written.
        run = try Self.sync(args, token: token)
        #expect(run.status == 0 && run.output.contains("already up to date"), "\(run.output)")
        #expect(try copy.batchRecords(layer: "shops").count == 2)

        // A built-in layer into another name: made with the built-in schema.
        run = try Self.sync(["--from", url, "--layer", "parcels", "--to-layer", "parcels_q7", "--db", copyLocation], token: token)
        #expect(run.status == 0, "\(run.output)")
        #expect(try copy.schema(of: "parcels_q7")?.keyFields == ["ward_code", "sheet", "number"])
        // A key that moves to another feature in one batch (its insert listed before the delete, and
        // on another page): the copy takes the batch whole.
        try source.write(BatchRequest(layer: "parcels", mode: .upsert, source: "test", actor: "tests")) { w in
            try w.delete(id: "s1")
            var f = Self.shop(1)
            f.id = "a0"
            f.properties = ["ward_code": "27484", "sheet": 1, "number": 1, "land_use": "ONT"]
            try w.put(f)
        }
        run = try Self.sync(["--from", url, "--layer", "parcels", "--to-layer", "parcels_q7", "--db", copyLocation, "--page-size", "1"], token: token)
        #expect(run.status == 0, "\(run.output)")
        #expect(try LayerFingerprint.of(layer: "parcels_q7", in: copy) == LayerFingerprint.of(layer: "parcels", in: source))

        // A layer with local edits is refused unless --force.
        try copy.write(BatchRequest(layer: "shops", mode: .upsert, source: "local.geojson", actor: "tests")) { w in try w.put(Self.shop(999)) }
        try source.write(request()) { w in try w.delete(id: "s2") }
        run = try Self.sync(args, token: token)
        #expect(run.status != 0 && run.output.contains("local.geojson") && run.output.contains("--force"), "\(run.output)")
        run = try Self.sync(args + ["--force"], token: token)
        #expect(run.status == 0, "\(run.output)")
        #expect(try copy.feature(layer: "shops", id: "s2", asOf: nil) == nil)

        // Errors name the URL and the cause.
        run = try Self.sync(["--from", url, "--layer", "nothing", "--db", copyLocation], token: nil)
        #expect(run.status != 0 && run.output.contains("\(url)/collections/nothing") && run.output.contains("404"), "\(run.output)")
        run = try Self.sync(["--from", url, "--layer", "shops", "--to-layer", "shops2", "--db", copyLocation], token: "lm_bad_token")
        #expect(run.status != 0 && run.output.contains("401") && !run.output.contains("lm_bad_token"), "\(run.output)")
        run = try Self.sync(["--from", "http://127.0.0.1:9", "--layer", "shops", "--to-layer", "shops3", "--db", copyLocation], token: nil)
        #expect(run.status != 0 && run.output.contains("cannot reach http://127.0.0.1:9"), "\(run.output)")
    }

    /// A sync killed with SIGKILL midway leaves the copy as it was; run again it ends the same.
    @Test(arguments: Backend.allCases)
    func syncKilledMidwayEndsTheSameWhenRunAgain(_ backend: Backend) throws {
        let sourceLocation = try backend.freshLocation("sync9-source"), copyLocation = try backend.freshLocation("sync9-copy")
        let source = try StoreLocation(sourceLocation).open(create: true)
        let copy = try StoreLocation(copyLocation).open(create: true)
        try source.write(BatchRequest(layer: "shops", mode: .upsert, source: "test", actor: "tests")) { w in for i in 0..<100 { try w.put(Self.shop(i)) } }
        let (url, stop) = try Self.serve(sourceLocation)
        defer { stop() }
        let token = try AccessTokens(store: source).create(name: "sync9", role: .reader, actor: "tests").token
        let args = ["--from", url, "--layer", "shops", "--db", copyLocation]
        #expect(try Self.sync(args, token: token).status == 0)
        try source.write(BatchRequest(layer: "shops", mode: .upsert, source: "test", actor: "tests")) { w in
            for i in 0..<6000 { try w.put(Self.shop(i, name: "Lớn", floors: i % 9)) }
        }
        let before = try LayerFingerprint.of(layer: "shops", in: copy)
        let batchesBefore = try copy.batchRecords(layer: "shops")

        var killed = false
        for attempt in 0..<3 where !killed {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(SharedData.product("landmap")))
            process.arguments = ["sync"] + args + ["--page-size", "20"]
            process.environment = ProcessInfo.processInfo.environment.merging(["LANDMAP_TOKEN": token]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: 0.8 + Double(attempt) * 0.4)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed = true
            }
            process.waitUntilExit()
        }
        #expect(killed, "every sync finished before it could be killed")
        let afterKill = try StoreLocation(copyLocation).open()
        #expect(try LayerFingerprint.of(layer: "shops", in: afterKill) == before)
        #expect(try afterKill.batchRecords(layer: "shops") == batchesBefore)

        let run = try Self.sync(args, token: token)
        #expect(run.status == 0 && run.output.contains("6000 changes"), "\(run.output)")
        #expect(try Self.same(source, afterKill, "shops"))
    }
}
