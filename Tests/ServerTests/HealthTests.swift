import GeoPackage
import Features
import Foundation
import Geometry
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport

/// `/health` tells a damaged database from a sound one, from the background integrity check.
@Suite(.serialized) struct HealthTests {
    /// A copy of the sample database, and the same copy with a page of the parcels table
    /// overwritten (its b-tree page header and first cells), as a torn write would leave it.
    static func copies() throws -> (sound: String, damaged: String) {
        let dir = try SharedData.temporaryDirectory("health")
        let sound = dir.appendingPathComponent("sound.gpkg").path, damaged = dir.appendingPathComponent("damaged.gpkg").path
        try ServerFixture.shared.get().store.backup(to: sound)
        try FileManager.default.copyItem(atPath: sound, toPath: damaged)
        let (pageSize, root) = try DatabaseQueue(path: damaged).read { db in
            (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096,
             try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'parcels'") ?? 0)
        }
        #expect(root > 1)
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: damaged))
        try file.seek(toOffset: UInt64((root - 1) * pageSize))
        try file.write(contentsOf: Data(repeating: 0xA5, count: 512))
        try file.close()
        return (sound, damaged)
    }

    static func state(_ path: String) throws -> ServerState {
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        return try ServerState(store: GeoPackageStore(path: path), configuration: configuration)
    }

    static func get(_ state: ServerState, _ uri: String) async throws -> (HTTPResponse.Status, String, String?) {
        try await Application(router: LandMapServer.router(state)).test(.router) { client in
            try await client.execute(uri: uri, method: .get) { r in (r.status, r.text, r.headers[.contentType]) }
        }
    }

    @Test func aDamagedDatabaseIsUnhealthyAndSaysWhy() async throws {
        let (soundPath, damagedPath) = try Self.copies()
        let damaged = try Self.state(damagedPath)
        // The damage is real: the parcels cannot be read.
        let (itemsStatus, _, _) = try await Self.get(damaged, "/collections/parcels/items?limit=5000")
        #expect(itemsStatus == .internalServerError)
        let check = await damaged.health.refresh()
        #expect(!check.isOK, "quick_check found nothing to report")
        let (status, body, type) = try await Self.get(damaged, "/health")
        #expect(status == .serviceUnavailable && type == "application/problem+json", "\(status) \(body)")
        #expect(body.contains("integrity check") && body.contains("\"status\":503") && body.contains("Page "), "\(body)")
        #expect(check.problems.allSatisfy { !$0.contains("\n") && !$0.hasPrefix("***") }, "\(check.problems)")
        let (_, metrics, _) = try await Self.get(damaged, "/metrics")
        #expect(metrics.contains("landmap_db_quick_check_ok 0"), "\(metrics)")

        let sound = try Self.state(soundPath)
        let (before, beforeBody, _) = try await Self.get(sound, "/health")
        #expect(before == .ok && beforeBody.contains("\"quick_check\":\"pending\""), "\(beforeBody)")
        #expect(await sound.health.refresh().isOK)
        let (after, afterBody, _) = try await Self.get(sound, "/health")
        #expect(after == .ok && afterBody.contains("\"quick_check\":\"ok\""), "\(afterBody)")
        let (_, soundMetrics, _) = try await Self.get(sound, "/metrics")
        #expect(soundMetrics.contains("landmap_db_quick_check_ok 1") && soundMetrics.contains("landmap_db_quick_check_duration_seconds"), "\(soundMetrics)")
    }

    /// The check walks the audit chain too: a broken chain is said in `/health` (still 200:
    /// the data is served) and in `landmap_audit_chain_ok`, which alerts watch.
    @Test func aBrokenAuditChainIsReportedNotFatal() async throws {
        let (soundPath, _) = try Self.copies()
        let state = try Self.state(soundPath)
        for i in 1...3 { try state.store.audit(actor: "token:t", action: "token.use", target: "k", detail: "\(i)") }
        let before = try state.store.auditEntries(after: 0, limit: 10_000)
        await state.health.refresh()
        var (status, body, _) = try await Self.get(state, "/health")
        #expect(status == .ok && body.contains("\"audit_chain\":{") && body.contains("\"status\":\"whole\""), "\(body)")
        #expect(body.contains("\"entries\":\(before.count)") && body.contains("\"head\":\"\(before.last?.hash ?? "?")\""), "\(body)")
        var (_, metrics, _) = try await Self.get(state, "/metrics")
        #expect(metrics.contains("landmap_audit_chain_ok 1") && metrics.contains("landmap_audit_chain_entries \(before.count)"), "\(metrics)")

        let changed = try #require(before.dropLast().last?.id)
        try await DatabaseQueue(path: soundPath).write { db in try db.execute(sql: "UPDATE landmap_audit SET detail = 'edited' WHERE id = ?", arguments: [changed]) }
        await state.health.refresh()
        (status, body, _) = try await Self.get(state, "/health")
        #expect(status == .ok && body.contains("\"status\":\"broken\"") && body.contains("entry \(changed) was changed"), "\(body)")
        (_, metrics, _) = try await Self.get(state, "/metrics")
        #expect(metrics.contains("landmap_audit_chain_ok 0") && metrics.contains("landmap_audit_chain_entries \(before.count - 2)"), "\(metrics)")
    }

    /// The monitor checks at start, and again after a batch, not on every poll.
    @Test func theMonitorChecksAgainAfterABatch() async throws {
        let (soundPath, _) = try Self.copies()
        let state = try Self.state(soundPath)
        let monitor = Task { await state.health.monitor(poll: .milliseconds(20), gap: 0) }
        defer { monitor.cancel() }
        func waitForCheck(after: Date?) async throws -> IntegrityCheck? {
            for _ in 0..<500 {
                if let c = state.health.latest, c.checkedAt > (after ?? .distantPast) { return c }
                try await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }
        let first = try #require(try await waitForCheck(after: nil))
        try await Task.sleep(for: .milliseconds(200))
        #expect(state.health.latest == first, "checked again with nothing written")
        _ = try state.store.write(BatchRequest(layer: "notes", mode: .append, source: "test", actor: "tests")) { w in
            try w.put(Feature(id: "n1", geometry: .point(Coordinate(106.7, 10.78))))
        }
        let second = try await waitForCheck(after: first.checkedAt)
        #expect(second?.isOK == true)
    }
}
