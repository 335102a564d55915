import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Prometheus

/// Liveness/readiness and Prometheus metrics.
struct OperationsRoutes {
    let state: ServerState

    func add(to router: Router<LandMapContext>) {
        router.get("/health") { _, _ in try self.health() }
        router.get("/metrics") { _, _ in
            Reply.text(self.state.metrics.emitToString(), contentType: "text/plain; version=0.0.4", cache: "no-store")
        }
    }

    func health() throws -> Response {
        do {
            let versions = try state.store.dataVersions()
            return Reply.json(.object([
                "status": "ok",
                "layers": .object(versions.mapValues { .integer($0) }),
                "uptime_s": .number((Date().timeIntervalSince(state.started) * 10).rounded() / 10),
            ]), cache: "no-store")
        } catch {
            return Reply.text(JSONValue.object(["status": "unavailable", "detail": .string("\(error)")]).jsonText,
                              contentType: "application/json", cache: "no-store", status: .serviceUnavailable)
        }
    }
}
