import Prometheus
import Store
import Synchronization

/// The replica's state in `/metrics` (SPEC §7 `--read-db`), asked of the store at each scrape:
/// whether it answers, its lag in bytes and seconds, and the reads each server answered.
/// Nothing is exported for a store without a replica.
final class ReplicationMetrics: Sendable {
    private let store: any LandMapStore
    private let registry: PrometheusCollectorRegistry
    private struct Exported {
        let up: Gauge
        let lagBytes: Gauge
        let lagSeconds: Gauge
        let replicaReads: Prometheus.Counter
        let primaryReads: Prometheus.Counter
        /// The store's totals at the last scrape: counters go up by the difference.
        var counted = (replica: 0, primary: 0)
    }
    /// Made at the first scrape that finds a replica.
    private let exported = Mutex<Exported?>(nil)

    init(store: any LandMapStore, metrics: PrometheusCollectorRegistry) {
        self.store = store
        registry = metrics
    }

    /// Asks the store (two round trips, off the event loops) and sets the metrics.
    func refresh() async {
        let store = self.store
        guard let status = try? await Blocking.run({ store.replicationStatus() }) else { return }
        let registry = self.registry
        exported.withLock { e in
            var m = e ?? Exported(
                up: registry.makeGauge(name: "landmap_replica_up", labels: [], help: "1 while the read replica (--read-db) answers, 0 while reads fall back to the primary"),
                lagBytes: registry.makeGauge(name: "landmap_replica_lag_bytes", labels: [], help: "WAL the read replica has not replayed yet, in bytes (-1: unknown)"),
                lagSeconds: registry.makeGauge(name: "landmap_replica_lag_seconds", labels: [], help: "0 when the read replica has replayed everything, else the age of the last transaction it replayed (-1: unknown)"),
                replicaReads: registry.makeCounter(name: "landmap_store_reads_total", labels: [("server", "replica")], help: "Reads sent to each database server (primary, replica)"),
                primaryReads: registry.makeCounter(name: "landmap_store_reads_total", labels: [("server", "primary")], help: "Reads sent to each database server (primary, replica)"))
            m.up.set(status.replicaUp ? 1.0 : 0.0)
            m.lagBytes.set(status.lagBytes.map(Double.init) ?? -1)
            m.lagSeconds.set(status.lagSeconds ?? -1)
            if status.replicaReads > m.counted.replica { m.replicaReads.increment(by: Int64(status.replicaReads - m.counted.replica)) }
            if status.primaryReads > m.counted.primary { m.primaryReads.increment(by: Int64(status.primaryReads - m.counted.primary)) }
            m.counted = (status.replicaReads, status.primaryReads)
            e = m
        }
    }
}
