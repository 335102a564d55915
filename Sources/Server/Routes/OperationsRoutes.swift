import Access
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Prometheus
import Store

/// Liveness/readiness and Prometheus metrics.
struct OperationsRoutes {
    let state: ServerState

    func add(to router: Router<LandMapContext>) {
        router.get("/health") { _, context in try self.health(context.identity) }
        router.get("/metrics") { _, _ in
            await self.state.replication.refresh()
            return Reply.text(self.state.metrics.emitToString(), contentType: "text/plain; version=0.0.4", cache: "no-store")
        }
    }

    /// 200 while the database answers and its last integrity check found nothing; else 503 with
    /// a problem document saying what is wrong. Never runs the check itself (`DatabaseHealth`).
    /// Layers (and duplicate keys) are those the caller may read: `/health` names no layer
    /// that does not exist for it.
    /// `{"status": "whole", "entries": …, "head": …}`, `{"status": "broken", "entry": …, "problem": …}`,
    /// `{"status": "unchecked", "problem": …}` when the walk could not run, or `pending`.
    static func auditChain(_ check: AuditChainCheck?) -> JSONValue {
        guard let check else { return .object(["status": "pending"]) }
        var o: [String: JSONValue] = ["checked_at": .string(check.checkedAt.formatted(.iso8601)),
                                      "seconds": .number((check.seconds * 1000).rounded() / 1000)]
        switch check.verdict {
        case .whole(let entries, let head)?:
            o["status"] = "whole"
            o["entries"] = .integer(Int64(entries))
            o["head"] = .string(head)
        case .broken(let b)?:
            o["status"] = "broken"
            o["entry"] = .integer(b.entry)
            o["kind"] = .string(b.kind.rawValue)
            o["entries"] = .integer(Int64(b.verified))
            o["problem"] = .string("\(b); see landmap audit verify")
        case nil:
            o["status"] = "unchecked"
            o["problem"] = .string(check.error ?? "the walk did not run")
        }
        return .object(o)
    }

    func health(_ identity: Identity?) throws -> Response {
        var versions: [String: Int64]
        do {
            let known = try state.store.schemas(of: nil)
            versions = known.versions
            for (name, schema) in known.schemas where !state.access(schema, for: identity).canRead { versions[name] = nil }
        } catch {
            throw Problem(.serviceUnavailable, "the database cannot be read: \(error)", title: "Database unavailable")
        }
        let check = state.health.latest
        let at = check.map { $0.checkedAt.formatted(.iso8601) } ?? ""
        var database: [String: JSONValue] = ["quick_check": check.map { $0.isOK ? "ok" : "failed" } ?? "pending",
                                             "engine": .string(state.store.engineVersion)]
        if let check {
            database["checked_at"] = .string(at)
            database["seconds"] = .number((check.seconds * 1000).rounded() / 1000)
            if !check.isOK { database["problems"] = .array(check.problems.map { .string($0) }) }
            let duplicates = check.duplicateKeys.filter { versions[$0.layer] != nil }
            if !duplicates.isEmpty {
                database["duplicate_keys"] = .array(duplicates.map { d in
                    .object(["layer": .string(d.layer), "key": .string(d.key), "ids": .array(d.ids.map { .string($0) })])
                })
            }
        }
        // A broken chain is said, not a 503: the data is still served (alerts watch landmap_audit_chain_ok).
        database["audit_chain"] = Self.auditChain(state.health.latestChain)
        if let check, !check.isOK {
            var problem = Problem(.serviceUnavailable,
                                  "the database failed its integrity check at \(at): "
                                  + check.problems.prefix(3).joined(separator: "; ") + "; restore it from a backup (landmap backup)",
                                  title: "Database damaged")
            problem.extra["database"] = .object(database)
            throw problem
        }
        return Reply.json(.object([
            "status": "ok",
            "database": .object(database),
            "layers": .object(versions.mapValues { .integer($0) }),
            "uptime_s": .number((Date().timeIntervalSince(state.started) * 10).rounded() / 10),
        ]), cache: "no-store")
    }
}
