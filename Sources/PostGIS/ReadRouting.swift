import Foundation
import Store
import Synchronization

/// Which server a read is sent to.
enum Endpoint: Sendable, Hashable {
    case primary, replica
}

/// One try of a read on one server. A read whose body has handed anything to its caller (a row
/// to `forEachFeature`'s callback, a snapshot to a tile renderer) marks it `started`: it is
/// never run again on the other server, since the caller would see its first part twice.
final class Attempt {
    var started = false
}

/// Where a store's reads go when it has a streaming replica (SPEC §7 `--read-db`).
///
/// - Reads go where the cached data versions were read from (`DataVersionCache`), so a tile or
///   an ETag is never keyed by a version its data does not have: the replica while it answers,
///   the primary while it does not.
/// - A caller that may have written (`ReadConsistency.latest`: token holders) reads from the
///   primary, so it sees its own write at once on any node.
/// - A read the chosen server cannot answer (down, connection cut, shutting down; on the replica
///   also a query cancelled by recovery, a full connection table, a missing database) is sent
///   once to the other, unless it had started answering. A server that failed is left alone for
///   a second; then one caller probes it while the others keep away until the probe is answered
///   (or its connect times out), so a server that swallows packets costs one caller the connect
///   timeout, not every request.
/// Writes never come here: they go to the primary's pool only.
final class ReadRouting: Sendable {
    let primary: ConnectionPool
    let replica: ConnectionPool?
    /// Until when each failed server is left alone.
    private let downUntil = Mutex<[Endpoint: ContinuousClock.Instant]>([:])
    private let primaryReads = Atomic<Int>(0)
    private let replicaReads = Atomic<Int>(0)
    static let retry: Duration = .seconds(1)
    /// How long a probe may take before another caller probes again: past the connect timeout.
    static let probeWindow: Duration = .seconds(6)

    init(primary: ConnectionPool, replica: ConnectionPool?) {
        self.primary = primary
        self.replica = replica
    }

    func pool(_ endpoint: Endpoint) -> ConnectionPool {
        endpoint == .replica ? (replica ?? primary) : primary
    }

    /// Whether to send a read to `endpoint` now. True unless it failed in the last second; the
    /// first caller after that becomes its prober (and true), the others get false meanwhile.
    func usable(_ endpoint: Endpoint) -> Bool {
        if endpoint == .replica, replica == nil { return false }
        return downUntil.withLock { all in
            guard let until = all[endpoint] else { return true }
            guard ContinuousClock.now >= until else { return false }
            all[endpoint] = .now + Self.probeWindow
            return true
        }
    }

    /// True while `endpoint` is being left alone after a failure (no probe claimed).
    func markedDown(_ endpoint: Endpoint) -> Bool {
        downUntil.withLock { all in all[endpoint].map { ContinuousClock.now < $0 } ?? false }
    }

    var replicaMarkedDown: Bool { replica != nil && markedDown(.replica) }

    func markDown(_ endpoint: Endpoint) {
        downUntil.withLock { $0[endpoint] = .now + Self.retry }
    }

    func markUp(_ endpoint: Endpoint) {
        downUntil.withLock { all in
            if all[endpoint] != nil { all[endpoint] = nil }
        }
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

    /// What a failure of a read on `endpoint` means for routing.
    enum Failure {
        /// The server cannot answer now: leave it alone a while, try the other.
        case down
        /// This query was refused, the server is fine: try the other once.
        case elsewhere
        /// The read's own failure: the same everywhere.
        case final
    }

    static func failure(_ error: any Error, on endpoint: Endpoint) -> Failure {
        let wrapped = PostGISError.wrap(error) as? PostGISError
        if wrapped?.unavailableCause != nil { return .down }
        guard endpoint == .replica, let wrapped else { return .final }
        switch wrapped {
        case .busy, .noDatabase, .authentication, .noPostGIS:
            return .down
        case .server(let state, _, _) where state == "40001" || state == "40P01":
            // A hot standby cancels a query that conflicts with replaying the primary's changes.
            return .elsewhere
        default:
            return .final
        }
    }

    /// Whether `error` means the server could not answer, so the other may.
    static func unavailable(_ error: any Error) -> Bool {
        (PostGISError.wrap(error) as? PostGISError)?.unavailableCause != nil
    }

    /// Runs a read on `first`; when that server cannot answer and the read had not started
    /// answering, once on the other (when there is one). `onFailover` hears of a replica that
    /// failed (the version cache forgets what it read from it).
    func run<T>(_ first: Endpoint, onFailover: () -> Void = {}, _ body: (ConnectionPool, Endpoint, Attempt) throws -> T) throws -> T {
        guard let replica else {
            counted(.primary)
            return try body(primary, .primary, Attempt())
        }
        let order: [Endpoint] = first == .replica ? [.replica, .primary] : [.primary, .replica]
        var lastError: (any Error)?
        for endpoint in order where usable(endpoint) {
            let attempt = Attempt()
            do {
                counted(endpoint)
                let result = try body(endpoint == .replica ? replica : primary, endpoint, attempt)
                markUp(endpoint)
                return result
            } catch {
                let failure = Self.failure(error, on: endpoint)
                if failure == .final { throw error }
                if failure == .down { markDown(endpoint) }
                if endpoint == .replica { onFailover() }
                if attempt.started { throw error }
                lastError = error
            }
        }
        throw lastError ?? PostGISError.unreachable(server: "\(primary.url.serverDescription) and \(replica.url.serverDescription)",
                                                    detail: "both failed in the last second")
    }
}
