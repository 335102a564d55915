import Backends
import Features
import Foundation
@testable import GeoPackage
import Geometry
import GRDB
import Store
import Synchronization
import Testing
import TestSupport

/// SPEC §12: the audit log's hash chain, on both backends — appends seal every entry, a hand
/// edit, removal or insertion is named exactly, old logs are sealed on upgrade, copies verify,
/// concurrent appends do not fork it.
@Suite struct AuditChainTests {
    /// SQL run on the database by the tools a person at the server would use: the `sqlite3`
    /// shell on a GeoPackage, `psql` on PostgreSQL.
    static func tamper(_ t: TestStore, _ sql: String) throws {
        switch t.backend {
        case .geoPackage:
            let sqlite3 = try #require(SharedData.which("sqlite3"), "the sqlite3 shell is needed (apt install sqlite3)")
            let (status, output) = try SharedData.run(sqlite3, [t.location, sql])
            #expect(status == 0, "\(output)")
        case .postGIS:
            try TestPostgres.psql(t.location, sql)
        }
    }

    /// A store holding `n` plain entries (ids 1…n) and nothing else.
    static func logOf(_ n: Int, _ backend: Backend, _ label: String) throws -> TestStore {
        let t = try StoreFixtures.make(backend, label)
        for i in 1...n { try t.store.audit(actor: "cli:ana", unit: "so-tnmt", action: "token.use", target: "k\(i)", detail: "GET /collections \(i)") }
        return t
    }

    static func broken(_ verdict: AuditChainVerdict) -> AuditChainBreak? {
        if case .broken(let b) = verdict { b } else { nil }
    }

    @Test func theHashCoversEveryFieldUnambiguously() {
        let a = AuditRow(id: 7, at: "2026-11-30T10:00:00.000Z", actor: "ab", action: "write", target: "parcels", detail: "d", unit: "c")
        var b = a
        b.actor = "a"
        b.unit = "bc"
        #expect(AuditChain.hash(a, prev: AuditChain.genesis) != AuditChain.hash(b, prev: AuditChain.genesis))
        let h = AuditChain.hash(a, prev: AuditChain.genesis)
        #expect(h.count == 64 && h.allSatisfy { "0123456789abcdef".contains($0) })
        let edits: [(inout AuditRow) -> Void] = [{ $0.id = 8 }, { $0.at = "2026-11-30T10:00:00.001Z" }, { $0.action = "writes" },
                                                 { $0.target = "zoning" }, { $0.detail = "" }]
        for changed in edits {
            var r = a
            changed(&r)
            #expect(AuditChain.hash(r, prev: AuditChain.genesis) != h)
        }
        #expect(AuditChain.hash(a, prev: h) != h)
    }

    /// The verifier alone, on rows made here: each kind of break is named at the right entry.
    @Test func theVerifierNamesEachKindOfBreak() {
        var rows = [AuditRow]()
        var prev = AuditChain.genesis
        for i in 1...6 {
            let r = AuditChain.sealed(AuditRow(id: Int64(i), at: "2026-11-30T10:00:0\(i).000Z", actor: "a", action: "x", target: "t", detail: "\(i)"),
                                      after: prev)
            rows.append(r)
            prev = r.hash ?? ""
        }
        func verdict(_ rows: [AuditRow]) -> AuditChainVerdict {
            var v = AuditChainVerifier()
            for r in rows { v.add(r) }
            return v.finish()
        }
        #expect(verdict(rows) == .whole(entries: 6, head: prev))
        #expect(verdict([]) == .whole(entries: 0, head: AuditChain.genesis))

        var changed = rows
        changed[2].detail = "edited"
        #expect(Self.broken(verdict(changed)).map { ($0.kind, $0.entry, $0.verified) } ?? (.removed, 0, 0) == (.changed, 3, 2))

        var removed = rows
        removed.remove(at: 2)
        let r = Self.broken(verdict(removed))
        #expect(r?.kind == .removed && r?.entry == 4 && r?.after == 2, "\(String(describing: r))")
        #expect(r?.description == "an entry between 2 and 4 was removed (entry 4 does not link to entry 2)")
        #expect(Self.broken(verdict(Array(rows.dropFirst())))?.description == "an entry before 2 was removed (entry 2 does not link to the start of the log)")
        let lastButOne = Self.broken(verdict(rows.enumerated().filter { $0.offset != 4 }.map(\.element)))
        #expect(lastButOne?.kind == .removed && lastButOne?.entry == 6)

        // Slipped in without a hash, with a copied hash, or sealed properly after the entry before it.
        var noHash = rows
        noHash.insert(AuditRow(id: 35, at: "2026-11-30T10:00:03.500Z", actor: "a", action: "x", target: "t", detail: "new"), at: 3)
        #expect(Self.broken(verdict(noHash)).map { ($0.kind, $0.entry) } ?? (.changed, 0) == (.inserted, 35))
        var replayed = rows
        var copy = rows[1]
        copy.id = 35
        replayed.insert(copy, at: 3)
        #expect(Self.broken(verdict(replayed)).map { ($0.kind, $0.entry) } ?? (.changed, 0) == (.inserted, 35))
        var sealedIn = rows
        sealedIn.insert(AuditChain.sealed(AuditRow(id: 35, at: "2026-11-30T10:00:03.500Z", actor: "a", action: "x", target: "t", detail: "new"),
                                          after: rows[2].hash ?? ""), at: 3)
        let s = Self.broken(verdict(sealedIn))
        #expect(s?.kind == .inserted && s?.entry == 35 && s?.verified == 3, "\(String(describing: s))")
        var atTheEnd = rows
        atTheEnd.append(AuditRow(id: 7, at: "2026-11-30T10:00:07.000Z", actor: "a", action: "x", target: "t", detail: "new"))
        #expect(Self.broken(verdict(atTheEnd)).map { ($0.kind, $0.entry) } ?? (.changed, 0) == (.inserted, 7))
    }

    /// Every kind of append — batches, tokens made and revoked, metadata, proposals decided,
    /// plain entries — is sealed; the head is the last entry's hash.
    @Test(arguments: Backend.allCases)
    func aSeriesOfAppendsVerifies(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend, "chain")
        let store = t.store
        #expect(try store.verifyAuditChain() == .whole(entries: 0, head: AuditChain.genesis))
        _ = try store.write(StoreFixtures.request(.upsert)) { w in for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) } }
        _ = try store.addToken(key: "k1", name: "office", role: "editor", hash: Array(repeating: 1, count: 32), actor: "cli:ana")
        try store.setMetadata(LayerMetadata(privateFields: ["SoHieu"]), of: "parcels", actor: "cli:ana")
        let change = try store.addChange(layer: "parcels", kind: "create", proposer: "token:ward", unit: "phuong-1", summary: "+1", content: "{}")
        _ = try store.reject(id: change.id, by: "token:office", unit: "so-tnmt", reason: "không đúng thửa")
        let approved = try store.addChange(layer: "parcels", kind: "create", proposer: "token:ward", unit: "phuong-1", summary: "+1", content: "{}")
        var request = StoreFixtures.request(.upsert)
        request.approves = approved.id
        _ = try store.write(request) { w in try w.put(StoreFixtures.parcel(5)) }
        _ = try store.revokeToken("k1", actor: "cli:ana")
        try store.audit(actor: "anonymous", action: "auth.refused", target: "", detail: "bad token ×3")

        let entries = try store.auditEntries(after: 0, limit: 100)
        #expect(entries.map(\.action) == ["write", "token.create", "layer.set", "change.propose", "change.reject", "change.propose",
                                          "change.approve", "write", "token.revoke", "auth.refused"])
        #expect(entries.allSatisfy(AuditChain.isIntact))
        #expect(entries.first?.prevHash == AuditChain.genesis)
        #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.hash == $1.prevHash })
        #expect(try store.verifyAuditChain(pageSize: 3) == .whole(entries: 10, head: try #require(entries.last?.hash)))
        // Another instance (another server) appends after them.
        try t.another().audit(actor: "cli:binh", action: "backup", target: "x.gpkg", detail: "")
        #expect(try store.verifyAuditChain() == .whole(entries: 11, head: try #require(try store.auditEntries(after: 10, limit: 1).first?.hash)))
    }

    @Test(arguments: Backend.allCases)
    func aChangedEntryIsNamed(_ backend: Backend) throws {
        let t = try Self.logOf(6, backend, "changed")
        #expect(try t.store.verifyAuditChain().isWhole)
        try Self.tamper(t, "UPDATE landmap_audit SET detail = 'GET /nothing' WHERE id = 3")
        let b = try #require(Self.broken(try t.store.verifyAuditChain()))
        #expect(b.kind == .changed && b.entry == 3 && b.verified == 2, "\(b)")
        #expect(b.description == "entry 3 was changed (its hash does not match its content)")
    }

    @Test(arguments: Backend.allCases)
    func aRemovedEntryIsNamed(_ backend: Backend) throws {
        let t = try Self.logOf(6, backend, "removed")
        try Self.tamper(t, "DELETE FROM landmap_audit WHERE id = 3")
        let b = try #require(Self.broken(try t.store.verifyAuditChain()))
        #expect(b.kind == .removed && b.entry == 4 && b.after == 2, "\(b)")
        #expect(b.description.hasPrefix("an entry between 2 and 4 was removed"))
        // Appends go on; the break stays where it is.
        try t.store.audit(actor: "cli:ana", action: "backup", target: "", detail: "")
        #expect(Self.broken(try t.store.verifyAuditChain())?.entry == 4)
    }

    @Test(arguments: Backend.allCases)
    func anInsertedEntryIsNamed(_ backend: Backend) throws {
        let t = try Self.logOf(4, backend, "inserted")
        try Self.tamper(t, "INSERT INTO landmap_audit (at, actor, unit, action, target, detail) VALUES ('2026-11-30T10:00:00.000Z', 'token:ghost', '', 'write', 'parcels', 'nothing to see')")
        var b = try #require(Self.broken(try t.store.verifyAuditChain()))
        #expect(b.kind == .inserted && b.entry == 5 && b.verified == 4, "\(b)")
        // Later appends chain past it: it stays named, now in the middle of the log.
        try t.store.audit(actor: "cli:ana", action: "backup", target: "", detail: "")
        try t.store.audit(actor: "cli:ana", action: "backup", target: "", detail: "")
        b = try #require(Self.broken(try t.store.verifyAuditChain()))
        #expect(b.kind == .inserted && b.entry == 5, "\(b)")
        #expect(b.description == "entry 5 was inserted (entry 6 links to entry 4 past it)")
    }

    /// A log written before the chain (no hash columns at all) is sealed when the store is
    /// opened by this version, and verifies; an unsealed entry after that is not sealed later.
    @Test(arguments: Backend.allCases)
    func anUpgradedLogIsSealedAndVerifies(_ backend: Backend) throws {
        let t = try Self.logOf(5, backend, "upgrade")
        switch backend {
        case .geoPackage:
            try Self.tamper(t, "ALTER TABLE landmap_audit DROP COLUMN prev_hash; ALTER TABLE landmap_audit DROP COLUMN hash")
        case .postGIS:
            // Back to schema 3, as a database last opened by the version before the chain.
            try Self.tamper(t, """
                ALTER TABLE landmap_audit DROP COLUMN prev_hash, DROP COLUMN hash;
                ALTER TABLE landmap_tokens DROP COLUMN expires_at, DROP COLUMN last_address, DROP COLUMN rate_limit;
                DROP TABLE landmap_search; DELETE FROM landmap_migrations WHERE version >= 4
                """)
        }
        let reopened = try t.another()
        let entries = try reopened.auditEntries(after: 0, limit: 10)
        #expect(entries.count == 5 && entries.allSatisfy(AuditChain.isIntact))
        #expect(try reopened.verifyAuditChain() == .whole(entries: 5, head: try #require(entries.last?.hash)))
        try reopened.audit(actor: "cli:ana", action: "backup", target: "", detail: "")
        #expect(try reopened.verifyAuditChain().isWhole)

        try Self.tamper(t, "INSERT INTO landmap_audit (at, actor, action, target, detail) VALUES ('2026-11-30T10:00:00.000Z', 'cli:old', 'backup', '', '')")
        let again = try t.another()
        #expect(Self.broken(try again.verifyAuditChain()).map { ($0.kind, $0.entry) } ?? (.changed, 0) == (.inserted, 7))
    }

    /// GeoPackage → PostgreSQL → GeoPackage: the chain travels with the entries and verifies
    /// at each step, with the same head; appends go on after it.
    @Test func aCopyThroughPostGISVerifies() throws {
        let source = try StoreFixtures.make(.geoPackage, "copy-src")
        _ = try source.store.write(StoreFixtures.request(.upsert)) { w in try w.put(StoreFixtures.parcel(0)) }
        _ = try source.store.addToken(key: "k1", name: "office", role: "editor", hash: Array(repeating: 1, count: 32), actor: "cli:ana")
        try source.store.audit(actor: "token:office", action: "token.use", target: "k1", detail: "GET /")
        let verdict = try source.store.verifyAuditChain()
        guard case .whole(3, _) = verdict else { Issue.record("\(verdict)"); return }

        let pg = try StoreFixtures.make(.postGIS, "copy-pg")
        _ = try StoreCopy.copy(from: source.store, to: pg.store, layers: nil)
        #expect(try pg.store.verifyAuditChain() == verdict)
        let back = try StoreFixtures.make(.geoPackage, "copy-back")
        _ = try StoreCopy.copy(from: pg.store, to: back.store, layers: nil)
        #expect(try back.store.verifyAuditChain() == verdict)
        #expect(try back.store.auditEntries(after: 0, limit: 10) == source.store.auditEntries(after: 0, limit: 10))
        try pg.store.audit(actor: "cli:ana", action: "backup", target: "", detail: "")
        try back.store.audit(actor: "cli:ana", action: "backup", target: "", detail: "")
        #expect(try pg.store.verifyAuditChain().isWhole && back.store.verifyAuditChain().isWhole)

        // A copy from a file made before the chain is sealed as it is loaded.
        let old = try Self.logOf(3, .geoPackage, "copy-old")
        try Self.tamper(old, "ALTER TABLE landmap_audit DROP COLUMN prev_hash; ALTER TABLE landmap_audit DROP COLUMN hash")
        let readOnly = try GeoPackageStore(path: old.location, readOnly: true)
        let sealed = try StoreFixtures.make(.postGIS, "copy-sealed")
        _ = try StoreCopy.copy(from: readOnly, to: sealed.store, layers: nil)
        guard case .whole(3, _) = try sealed.store.verifyAuditChain() else { Issue.record("not sealed"); return }
    }

    /// Several servers appending at once (each a store of its own, several threads each) make
    /// one chain: every entry sealed after the one before it, none lost, no fork.
    @Test(arguments: Backend.allCases)
    func concurrentAppendsDoNotForkTheChain(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend, "concurrent")
        let stores = [t.store, try t.another(), try t.another()]
        let perThread = 25, threads = 6
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { i in
            let store = stores[i % stores.count]
            for j in 0..<perThread {
                do {
                    if j % 10 == 9 {
                        _ = try store.addToken(key: "k\(i)-\(j)", name: "t\(i)-\(j)", role: "reader", hash: Array(repeating: 2, count: 32), actor: "cli:\(i)")
                    } else {
                        try store.audit(actor: "token:t\(i)", action: "token.use", target: "k\(i)", detail: "\(j)")
                    }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let entries = try t.store.auditEntries(after: 0, limit: 1000)
        #expect(entries.count == perThread * threads)
        #expect(Set(entries.compactMap(\.prevHash)).count == entries.count, "two entries follow the same one: the chain forked")
        #expect(try t.store.verifyAuditChain() == .whole(entries: perThread * threads, head: try #require(entries.last?.hash)))
    }
}

/// `landmap audit verify` and `audit export` as a person runs them: the real binary.
@Suite struct AuditCommandTests {
    static func landmap(_ arguments: String...) throws -> (status: Int32, output: String) {
        try SharedData.run(try #require(SharedData.product("landmap"), "build the landmap product first"), arguments)
    }

    /// The chain alone cannot see the last entries removed, nor a log rewritten with every
    /// hash recomputed; the exported copy can.
    @Test(arguments: Backend.allCases)
    func verifyAgainstAnExportFindsATruncatedTailAndARewrite(_ backend: Backend) throws {
        let t = try AuditChainTests.logOf(6, backend, "cli-against")
        var (status, output) = try Self.landmap("audit", "verify", "--db", t.location)
        #expect(status == 0 && output.hasPrefix("audit log whole: 6 entries, head "), "\(output)")
        let exported = try Self.landmap("audit", "export", "--db", t.location)
        #expect(exported.status == 0)
        let lines = exported.output.split(separator: "\n")
        #expect(lines.count == 6 && lines[0].hasPrefix("{\"id\":1,\"at\":\"") && lines[0].contains("\"prev_hash\":\"\(AuditChain.genesis)\""))
        let file = try SharedData.temporaryDirectory("cli-against").appendingPathComponent("audit.jsonl")
        try exported.output.write(to: file, atomically: true, encoding: .utf8)
        (status, output) = try Self.landmap("audit", "verify", "--db", t.location, "--against", file.path)
        #expect(status == 0 && output.contains("all 6 entries of \(file.path) are in the database, unchanged"), "\(output)")
        let since = try Self.landmap("audit", "export", "--db", t.location, "--since-id", "4")
        #expect(since.output.split(separator: "\n").map(String.init) == lines.suffix(2).map(String.init))

        try AuditChainTests.tamper(t, "DELETE FROM landmap_audit WHERE id >= 5")
        (status, output) = try Self.landmap("audit", "verify", "--db", t.location)
        #expect(status == 0, "a truncated tail leaves a whole chain: \(output)")
        (status, output) = try Self.landmap("audit", "verify", "--db", t.location, "--against", file.path)
        #expect(status == 1 && output.contains("entry 5 of the exported copy is missing from the database"), "\(output)")

        // Rewritten: entry 2 edited, every hash dropped and sealed again (as at an upgrade).
        try AuditChainTests.tamper(t, "UPDATE landmap_audit SET detail = 'rewritten' WHERE id = 2")
        try AuditChainTests.tamper(t, "UPDATE landmap_audit SET prev_hash = NULL, hash = NULL")
        (status, output) = try Self.landmap("audit", "verify", "--db", t.location)
        #expect(status == 0 && output.hasPrefix("audit log whole: 4 entries"), "the rewrite is self-consistent: \(output)")
        (status, output) = try Self.landmap("audit", "verify", "--db", t.location, "--against", file.path, "--json")
        #expect(status == 1 && output.contains("entry 2 differs from the exported copy"), "\(output)")
    }

    @Test func verifyNamesTheChangedEntryAndExitsOne() throws {
        let t = try AuditChainTests.logOf(4, .geoPackage, "cli-changed")
        try AuditChainTests.tamper(t, "UPDATE landmap_audit SET actor = 'cli:someone-else' WHERE id = 2")
        let (status, output) = try Self.landmap("audit", "verify", "--db", t.location)
        #expect(status == 1, "\(output)")
        #expect(output == "audit log broken: entry 2 was changed (its hash does not match its content); the 1 entry before it is whole\n")
        let json = try Self.landmap("audit", "verify", "--db", t.location, "--json")
        let value = try JSONValue.parse(json.output)
        #expect(json.status == 1 && value["ok"] == .bool(false) && value["broken"]?["kind"] == .string("changed") && value["broken"]?["entry"] == .integer(2))
        // The listing is still `landmap audit`.
        let listed = try Self.landmap("audit", "--db", t.location, "--limit", "1")
        #expect(listed.status == 0 && listed.output.contains("token.use  k4"), "\(listed.output)")
    }

    /// `--follow` writes entries appended after it started, within its polling interval.
    @Test func exportFollowsNewEntries() throws {
        let t = try AuditChainTests.logOf(2, .geoPackage, "cli-follow")
        let out = try SharedData.temporaryDirectory("cli-follow").appendingPathComponent("follow.jsonl")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(SharedData.product("landmap")))
        process.arguments = ["audit", "export", "--follow", "--interval", "0.1", "--since-id", "1", "--db", t.location]
        process.standardOutput = try FileHandle(forWritingTo: out)
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        func lines() throws -> [String] { try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map(String.init) }
        func waitFor(_ n: Int) throws -> Bool {
            for _ in 0..<100 where try lines().count < n { Thread.sleep(forTimeInterval: 0.05) }
            return try lines().count >= n
        }
        #expect(try waitFor(1))
        try t.store.audit(actor: "cli:ana", action: "backup", target: "b.gpkg", detail: "")
        #expect(try waitFor(2))
        let all = try lines()
        #expect(all.count == 2 && all[0].hasPrefix("{\"id\":2,") && all[1].hasPrefix("{\"id\":3,") && all[1].contains("\"action\":\"backup\""), "\(all)")
    }
}

/// Measurements, not checks: LANDMAP_AUDIT_BENCH=1 prints how long a walk of 100 000 entries
/// takes on each backend, and sealing as many at an upgrade (the figures in `DatabaseHealth`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LANDMAP_AUDIT_BENCH"] != nil, "set LANDMAP_AUDIT_BENCH=1 to measure"))
struct AuditChainBenchmark {
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    @Test func walk100000Entries() throws {
        let n = 100_000
        let gpkg = try StoreFixtures.make(.geoPackage, "bench")
        try DatabaseQueue(path: gpkg.location).write { db in
            var prev = AuditChain.genesis
            let insert = try db.makeStatement(sql: "INSERT INTO landmap_audit (id, at, actor, unit, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for i in 1...n {
                let e = AuditChain.sealed(AuditRow(id: Int64(i), at: "2026-11-30T10:00:00.000Z", actor: "token:citizen-app", action: "token.use",
                                                   target: "3f9c1a7e20b4", detail: "GET /collections/parcels/items", unit: "so-tnmt"), after: prev)
                try insert.execute(arguments: [e.id, e.at, e.actor, e.unit, e.action, e.target, e.detail, e.prevHash, e.hash])
                prev = e.hash ?? prev
            }
        }
        var verdict = AuditChainVerdict.whole(entries: 0, head: "")
        let g = try seconds { verdict = try gpkg.store.verifyAuditChain() }
        guard case .whole(n, _) = verdict else { Issue.record("\(verdict)"); return }
        let pg = try StoreFixtures.make(.postGIS, "bench")
        _ = try StoreCopy.copy(from: gpkg.store, to: pg.store, layers: nil)
        let p = try seconds { verdict = try pg.store.verifyAuditChain() }
        guard case .whole(n, _) = verdict else { Issue.record("\(verdict)"); return }
        try AuditChainTests.tamper(gpkg, "UPDATE landmap_audit SET prev_hash = NULL, hash = NULL")
        let sealG = try seconds { _ = try gpkg.another() }
        try AuditChainTests.tamper(pg, "UPDATE landmap_audit SET prev_hash = NULL, hash = NULL")
        let sealP = try seconds { _ = try pg.another() }
        #expect(try gpkg.store.verifyAuditChain().isWhole && pg.store.verifyAuditChain().isWhole)
        print(String(format: "audit chain, %d entries: walk GeoPackage %.2f s, PostgreSQL %.2f s; seal at open GeoPackage %.2f s, PostgreSQL %.2f s", n, g, p, sealG, sealP))
    }
}
