import NIOCore
import PostgresNIO

/// Statements sent without waiting for their answers, and the queries that must wait.
///
/// A batch's writes need no answer, so they go out back to back; a query that needs one
/// (is this id present? who holds this key?) is answered after every write sent before it,
/// since a connection answers in order. When a write failed, the transaction is aborted and
/// every later statement fails too: the write's own error is the one reported.
final class Pipeline {
    let session: PGSession
    private var pending = [EventLoopFuture<Void>]()

    init(_ session: PGSession) {
        self.session = session
    }

    func send(_ sql: String, _ binds: Binds = Binds(), prepared: Bool = false) {
        let future: EventLoopFuture<Void>
        if prepared {
            do { future = try session.sendPrepared(sql, binds).map { _ in } } catch {
                future = session.connection.eventLoop.makeFailedFuture(error)
            }
        } else {
            future = session.send(sql, binds.bindings).map { _ in }
        }
        pending.append(future)
        // Bounded: a long run of writes with no query between them is checked now and then.
        if pending.count >= 1000 { _ = try? drainQuietly() }
    }

    /// Waits for every write sent; throws the first one's error.
    func drain() throws {
        let futures = pending
        pending = []
        var first: (any Error)?
        for f in futures {
            do { _ = try f.wait() } catch { if first == nil { first = PostGISError.wrap(error) } }
        }
        if let first { throw first }
    }

    private var deferred: (any Error)?

    private func drainQuietly() throws {
        do { try drain() } catch { if deferred == nil { deferred = error } }
    }

    /// Runs a query after the writes sent before it; a write's failure wins over the query's.
    func query(_ sql: String, _ binds: Binds = Binds(), prepared: Bool = false) throws -> [[PostgresCell]] {
        let result: Result<[[PostgresCell]], any Error>
        do {
            if prepared {
                result = .success(try session.sendPrepared(sql, binds).wait())
            } else {
                result = .success(try session.send(sql, binds.bindings).wait().rows.map { Array($0) })
            }
        } catch {
            result = .failure(PostGISError.wrap(error))
        }
        try drain()
        if let deferred { throw deferred }
        return try result.get()
    }

    /// Everything sent has succeeded (before the batch commits).
    func finish() throws {
        try drain()
        if let deferred { throw deferred }
    }
}
