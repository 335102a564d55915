import Access
import Prometheus
import Synchronization

/// Features answered per caller, for a security operator watching for bulk reads (SPEC §12):
/// `landmap_features_served_total{caller}`, where `caller` is a token's public key or
/// `anonymous` for everyone without one. The label set is bounded by the tokens the city has
/// made (a key is never a secret: it is what `token list` and the audit log show), not by the
/// callers' addresses, which an anonymous scraper controls; an anonymous scraper shows up in
/// the rate limiter's counts instead. Items pages, single items, lookups, key searches,
/// histories, change feeds and vector tiles count the features they carry; downloads, which
/// are whole layers by design, count in the request metrics by route.
final class ServedFeatures: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let anonymous: Counter
    private let byToken = Mutex<[String: Counter]>([:])
    static let help = "Features answered (items, lookups, key searches, histories, change feeds, tile features), by caller: a token's key or anonymous"

    init(metrics: PrometheusCollectorRegistry) {
        registry = metrics
        anonymous = metrics.makeCounter(name: "landmap_features_served_total", labels: [("caller", "anonymous")], help: Self.help)
    }

    /// Counts `n` features answered to `identity` (nil: anonymous).
    func add(_ n: Int, to identity: Identity?) {
        guard n > 0 else { return }
        guard let identity else { anonymous.increment(by: Int64(n)); return }
        let counter = byToken.withLock { counters in
            if let c = counters[identity.key] { return c }
            let c = registry.makeCounter(name: "landmap_features_served_total", labels: [("caller", identity.key)], help: Self.help)
            counters[identity.key] = c
            return c
        }
        counter.increment(by: Int64(n))
    }
}
