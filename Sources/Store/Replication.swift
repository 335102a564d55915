import Foundation

/// How fresh a read must be. A store that reads from a streaming replica (SPEC §7 `--read-db`)
/// answers from the replica, which may be a few milliseconds behind the primary; a caller that
/// may have just written — the server sets this for every token holder, since only token
/// holders write — reads what the primary has, so its next request sees its own write on any
/// node, whatever the replica's delay and whether or not that node has heard of the commit.
/// Stores without a replica read fresh data versions instead of cached ones.
public enum ReadConsistency {
    @TaskLocal public static var latest = false
}

/// A replica-fed store's view of its replica, for `/metrics` and `/health`.
public struct ReplicationStatus: Sendable, Equatable {
    /// The replica, as it may be shown (no password).
    public var replica: String
    /// False while the replica cannot be reached: reads go to the primary meanwhile.
    public var replicaUp: Bool
    /// WAL the replica has not replayed yet, in bytes; nil when either server cannot be asked.
    public var lagBytes: Int64?
    /// How old the replica's view is: 0 when it has replayed everything, else the time since the
    /// last transaction it replayed; nil when it cannot be asked.
    public var lagSeconds: Double?
    /// Reads answered by each server since the store was opened.
    public var replicaReads: Int
    public var primaryReads: Int

    public init(replica: String, replicaUp: Bool, lagBytes: Int64?, lagSeconds: Double?, replicaReads: Int, primaryReads: Int) {
        self.replica = replica
        self.replicaUp = replicaUp
        self.lagBytes = lagBytes
        self.lagSeconds = lagSeconds
        self.replicaReads = replicaReads
        self.primaryReads = primaryReads
    }
}

/// An error a backend knows to mean "the database cannot be reached or cannot take this now"
/// (a server down, a connection cut, a primary that became read-only). The server answers these
/// 503 with `Retry-After`, naming the cause, not 500: nothing was written.
public protocol UnavailableError: Error {
    /// The cause in a few words, or nil when this error is something else.
    var unavailableCause: String? { get }
    /// True when a write failed in a way that may have saved it anyway (the connection broke
    /// during its commit): the client must read it back before sending it again.
    var writeMayHaveLanded: Bool { get }
}

extension UnavailableError {
    public var writeMayHaveLanded: Bool { false }
}
