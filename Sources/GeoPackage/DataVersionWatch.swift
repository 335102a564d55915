import GRDB
import Store
import Synchronization

/// Each layer's data version for callers that ask on every request (tile cache keys, ETags).
/// The pool's read costs 20 µs, most of a cached tile's answer; this reads the layer table
/// again only when SQLite's `PRAGMA data_version` says another connection has committed, so a
/// write — by this process or any other — is seen by the next call.
final class DataVersionWatch: Sendable {
    private let queue: DatabaseQueue
    private let cached = Mutex<(marker: Int64, versions: [String: Int64])?>(nil)

    init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        queue = try DatabaseQueue(path: path, configuration: config)
    }

    func versions() throws -> [String: Int64] {
        try queue.inDatabase { db in
            let marker = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? -1
            if let known = cached.withLock({ $0 }), known.marker == marker { return known.versions }
            let versions = try GeoPackageStore.dataVersions(db)
            cached.withLock { $0 = (marker, versions) }
            return versions
        }
    }
}
