import Foundation
import Store
import Synchronization

/// Which server a read is sent to.
enum Endpoint: Sendable, Equatable {
    case primary, replica
}

/// Where a store's reads go when it has a streaming replica (SPEC §7 `--read-db`).
///
/// - Reads go where the cached data versions were read from (`DataVersionCache`), so a tile or
///   an ETag is never keyed by a version its data does not have: the replica while it answers,
///   the primary while it does not.
/// - A caller that may have written (`ReadConsistency.latest`: token holders) reads from the
///   primary, so it sees its own write at once on any node.
/// - A read the chosen server cannot answer (down, connection cut, shutting down) is sent once to
///   the other: reads are idempotent. A replica that failed is left alone for a second.
/// Writes never come here: they go to the primary's pool only.
final class ReadRouting: Sendable {
    let primary: ConnectionPool
    let replica: ConnectionPool?
    private let replicaDownUntil = Mutex<ContinuousClock.Instant?>(nil)
    private let primaryReads = Atomic<Int>(0)
    private let replicaReads = Atomic<Int>(0)
    static let replicaRetry: Duration = .seconds(1)

    init(primary: ConnectionPool, replica: ConnectionPool?) {
        self.primary = primary
        self.replica = replica
    }

    func pool(_ endpoint: Endpoint) -> ConnectionPool {
        endpoint == .replica ? (replica ?? primary) : primary
    }

    /// False while a replica that failed is being left alone (and when there is none).
    var replicaUsable: Bool {
        guard replica != nil else { return false }
        return replicaDownUntil.withLock { until in until.map { ContinuousClock.now >= $0 } ?? true }
    }

    var replicaMarkedDown: Bool {
        replica != nil && !replicaUsable
    }

    func markReplicaDown() {
        replicaDownUntil.withLock { $0 = .now + Self.replicaRetry }
    }

    func markReplicaUp() {
        replicaDownUntil.withLock { $0 = nil }
    }

    func counted(_ endpoint: Endpoint) {
        if endpoint == .replica, replica != nil {
            replicaReads.add(1, ordering: .relaxed)
        } else {
            primaryReads.add(1, ordering: .relaxed)
        }
    }

    var reads: (primary: Int, replica: Int) {
        (primaryReads.load(ordering: .relaxed), replicaReads.load(ordering: .relaxed))
    }

    /// Whether `error` means the server could not answer, so the other may.
    static func unavailable(_ error: any Error) -> Bool {
        (PostGISError.wrap(error) as? PostGISError)?.unavailableCause != nil
    }

    /// Runs a read on `first`; when that server cannot answer, once on the other (when there is
    /// one). `onFailover` hears of a replica that failed (the version cache forgets what it
    /// read from it).
    func run<T>(_ first: Endpoint, onFailover: () -> Void = {}, _ body: (ConnectionPool, Endpoint) throws -> T) throws -> T {
        guard let replica else {
            counted(.primary)
            return try body(primary, .primary)
        }
        let order: [Endpoint] = first == .replica && replicaUsable ? [.replica, .primary] : (replicaUsable ? [.primary, .replica] : [.primary])
        var lastError: (any Error)?
        for endpoint in order {
            do {
                counted(endpoint)
                let result = try body(endpoint == .replica ? replica : primary, endpoint)
                if endpoint == .replica { markReplicaUp() }
                return result
            } catch where Self.unavailable(error) {
                lastError = error
                if endpoint == .replica {
                    markReplicaDown()
                    onFailover()
                }
            }
        }
        throw lastError ?? PostGISError.connectionLost("no server to read from")
    }
}
