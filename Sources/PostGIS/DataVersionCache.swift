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
        /// The replica's versions were behind the primary's when read.
        var behind = false
        /// Bumped by every notification and invalidation: a read that started before one
        /// does not make the cache fresh.
        var generation: UInt64 = 0
        var readAt: ContinuousClock.Instant = .now
        var listener: PGSession?
        var lastListenAttempt: ContinuousClock.Instant?
        var stopped = false
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

    /// The versions and the server they were read from. `ReadConsistency.latest` reads the
    /// primary's now (the replica's only when the primary cannot answer), bypassing the cache.
    func current() throws -> (versions: [String: Int64], source: Endpoint) {
        if ReadConsistency.latest {
            return try routing.run(.primary) { pool, endpoint in
                (try pool.with { s in try PostGISStore.readDataVersions(s) }, endpoint)
            }
        }
        if listenerDown { startListener() }
        let (cached, generation) = state.withLock { st -> ((versions: [String: Int64], source: Endpoint)?, UInt64) in
            guard let v = st.versions else { return (nil, st.generation) }
            let listening = st.listener.map { !$0.isClosed } ?? false
            let age = ContinuousClock.now - st.readAt
            let maxAge: Duration? = if st.behind {
                Self.maxAgeWhileBehind
            } else if !listening {
                Self.maxAgeWithoutListener
            } else if st.source == .primary, routing.replica != nil {
                ReadRouting.replicaRetry  // back to the replica once it may answer again
            } else {
                nil
            }
            if maxAge.map({ age < $0 }) ?? true { return ((v, st.source), st.generation) }
            return (nil, st.generation)
        }
        if let cached { return cached }
        let start = ContinuousClock.now
        let (fresh, source, behind) = try read()
        state.withLock { st in
            // Only a read that no notification overtook may be kept as the answer.
            if st.generation == generation {
                st.versions = fresh
                st.source = source
                st.behind = behind
                st.readAt = start
            }
        }
        return (fresh, source)
    }

    /// The replica's versions (and whether the primary has newer ones), or the primary's when
    /// there is no replica or it cannot answer.
    private func read() throws -> (versions: [String: Int64], source: Endpoint, behind: Bool) {
        if let replica = routing.replica, routing.replicaUsable {
            do {
                routing.counted(.replica)
                let mirrored = try replica.with { s in try PostGISStore.readDataVersions(s) }
                routing.markReplicaUp()
                // The primary's, to know whether the replica has caught up; when the primary
                // cannot answer, the replica's are all there is.
                let target = try? pool.with { s in try PostGISStore.readDataVersions(s) }
                let behind = target.map { t in t.contains { name, version in (mirrored[name] ?? -1) < version } } ?? false
                return (mirrored, .replica, behind)
            } catch where ReadRouting.unavailable(error) {
                routing.markReplicaDown()
            }
        }
        routing.counted(.primary)
        return (try pool.with { s in try PostGISStore.readDataVersions(s) }, .primary, false)
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
