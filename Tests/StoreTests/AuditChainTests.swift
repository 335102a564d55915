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
                DELETE FROM landmap_migrations WHERE version = 4
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
