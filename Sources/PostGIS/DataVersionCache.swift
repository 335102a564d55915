import Foundation
import PostgresNIO
import Store
import Synchronization

/// Each layer's data version for callers that ask on every request (tile cache keys, ETags),
/// kept in memory. A connection of its own LISTENs on `landmap_data` on the primary, which
/// every committed change NOTIFYs (from any process): a notification marks the cache stale, and
/// the next call reads the versions again. While that listener is down the cache is trusted for
/// 250 ms at most, and the listener is reconnected (at most once a second).
///
/// With a replica (`ReadRouting`) the versions are read from the replica, whose data reads go
/// to: a version never leads the data it keys. A notification often arrives before the replica
/// has replayed the commit; the primary's versions are then read too, and while the replica's
/// are behind them the cache lives 5 ms, so the new version is taken up as soon as the replica
/// has it — never an old tile kept under a new key, nor an old key kept once it caught up.
final class DataVersionCache: Sendable {
    private struct State {
        var versions: [String: Int64]?
        /// The server `versions` were read from, where reads keyed by them go.
        var source: Endpoint = .primary
        /// The server of the last versions handed out, kept across invalidations.
        var lastSource: Endpoint?
        /// How the replica's versions compared with the primary's when read.
        var target = Target.caughtUp
        /// Bumped by every notification and invalidation: a read that started before one
        /// does not make the cache fresh.
        var generation: UInt64 = 0
        var readAt: ContinuousClock.Instant = .now
        var listener: PGSession?
        var lastListenAttempt: ContinuousClock.Instant?
        var stopped = false
    }

    enum Target {
        /// Equal (or no replica): fresh until the next notification.
        case caughtUp
        /// The replica has not replayed everything the primary has: read again in 5 ms.
        case behind
        /// The primary could not be asked: read again in 250 ms.
        case unknown
    }

    static let maxAgeWithoutListener: Duration = .milliseconds(250)
    static let maxAgeWhileBehind: Duration = .milliseconds(5)
    private let routing: ReadRouting
    private var pool: ConnectionPool { routing.primary }
    private let state = Mutex(State())
    /// The database, as the registry of this process's caches names it.
    private let database: String

    /// Every cache of this process, by database: a commit through one store invalidates the
    /// others at once, before its NOTIFY comes back (stores of one process agree immediately;
    /// other processes within the notification's delay).
    private struct Weak {
        weak var cache: DataVersionCache?
        init(_ cache: DataVersionCache) { self.cache = cache }
    }
    private static let registry = Mutex<[String: [Weak]]>([:])

    init(routing: ReadRouting, shared: Bool) {
        self.routing = routing
        let pool = routing.primary
        database = shared ? "\(pool.url.serverDescription)/\(pool.url.database)" : UUID().uuidString
        Self.registry.withLock { all in
            all[database, default: []].removeAll { $0.cache == nil }
            all[database, default: []].append(Weak(self))
        }
        startListener()
    }

    /// Invalidates every cache of this process on this database (after a commit).
    func invalidateAll() {
        let caches = Self.registry.withLock { $0[database]?.compactMap(\.cache) ?? [] }
        for cache in caches { cache.invalidate() }
    }

    func versions() throws -> [String: Int64] {
        try current().versions
    }

    /// The versions and the server they were read from. With a replica,
    /// `ReadConsistency.latest` reads the primary's now (the replica's only when the primary
    /// cannot answer), bypassing the cache. (Without one, the cache is the primary's and NOTIFY
    /// keeps it within a few milliseconds, which a writer's next request never beats.)
    func current() throws -> (versions: [String: Int64], source: Endpoint) {
        if ReadConsistency.latest, routing.replica != nil {
            return try routing.run(.primary) { pool, endpoint, _ in
                (try pool.with { s in try PostGISStore.readDataVersions(s) }, endpoint)
            }
        }
        if listenerDown { startListener() }
        let (cached, generation, previous) = state.withLock { st -> ((versions: [String: Int64], source: Endpoint)?, UInt64, Endpoint?) in
            guard let v = st.versions else { return (nil, st.generation, st.lastSource) }
            let listening = st.listener.map { !$0.isClosed } ?? false
            let age = ContinuousClock.now - st.readAt
            let maxAge: Duration? = switch st.target {
            case .behind: Self.maxAgeWhileBehind
            case .unknown: Self.maxAgeWithoutListener
            case .caughtUp where !listening: Self.maxAgeWithoutListener
            // Back to the replica once it may answer again.
            case .caughtUp where st.source == .primary && routing.replica != nil: ReadRouting.retry
            case .caughtUp: nil
            }
            if maxAge.map({ age < $0 }) ?? true { return ((v, st.source), st.generation, st.lastSource) }
            return (nil, st.generation, st.lastSource)
        }
        if let cached { return cached }
        let start = ContinuousClock.now
        let (fresh, source, target) = try read(previous: previous)
        state.withLock { st in
            st.lastSource = source
            // Only a read that no notification overtook may be kept as the answer.
            if st.generation == generation {
                st.versions = fresh
                st.source = source
                st.target = target
                st.readAt = start
            }
        }
        return (fresh, source)
    }

    /// The replica's versions, or the primary's when there is no replica, it cannot answer, or
    /// it is behind versions already handed out from the primary (going back to it then would
    /// key new tiles by versions newer than its data). Also whether the replica has caught up
    /// with the primary: the primary's versions are read too, and when that fails the answer
    /// is "unknown", kept only briefly.
    private func read(previous: Endpoint?) throws -> (versions: [String: Int64], source: Endpoint, target: Target) {
        if let replica = routing.replica, routing.usable(.replica) {
            do {
                routing.counted(.replica)
                let mirrored = try replica.with { s in try PostGISStore.readDataVersions(s) }
                routing.markUp(.replica)
                guard !routing.markedDown(.primary), let primary = try? pool.with({ s in try PostGISStore.readDataVersions(s) }) else {
                    if !routing.markedDown(.primary) { routing.markDown(.primary) }
                    return (mirrored, .replica, .unknown)
                }
                routing.markUp(.primary)
                let behind = primary.contains { name, version in (mirrored[name] ?? -1) < version }
                if behind, previous == .primary { return (primary, .primary, .behind) }
                return (mirrored, .replica, behind ? .behind : .caughtUp)
            } catch where ReadRouting.failure(error, on: .replica) != .final {
                routing.markDown(.replica)
            }
        }
        routing.counted(.primary)
        return (try pool.with { s in try PostGISStore.readDataVersions(s) }, .primary, .caughtUp)
    }

    /// Forgets the cached versions (after this process's own commits, before the NOTIFY is back).
    func invalidate() {
        state.withLock { st in
            st.generation &+= 1
            st.versions = nil
        }
    }

    private var listenerDown: Bool {
        state.withLock { st in !st.stopped && (st.listener?.isClosed ?? true) }
    }

    /// Opens the listening connection unless one is up or an attempt was made in the last second.
    private func startListener() {
        let go = state.withLock { st -> Bool in
            if st.stopped { return false }
            if let l = st.listener, !l.isClosed { return false }
            if let last = st.lastListenAttempt, ContinuousClock.now - last < .seconds(1) { return false }
            st.lastListenAttempt = .now
            return true
        }
        guard go else { return }
        do {
            let session = try pool.connect()
            session.connection.addListener(channel: "landmap_data") { [weak self] _, _ in
                self?.invalidate()
            }
            try session.execute("LISTEN landmap_data")
            let keep = state.withLock { st -> Bool in
                guard !st.stopped else { return false }
                st.listener = session
                // Commits made before LISTEN took effect were not announced to us.
                st.generation &+= 1
                st.versions = nil
                return true
            }
            if !keep { session.close() }
        } catch {
            // Stays down: the cache then lives 250 ms at most, and the next call retries.
        }
    }

    func stop() {
        let listener = state.withLock { st -> PGSession? in
            st.stopped = true
            defer { st.listener = nil }
            return st.listener
        }
        listener?.close()
    }
}
