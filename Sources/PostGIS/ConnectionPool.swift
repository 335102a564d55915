import Dispatch
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// At most `maxConnections` sessions, opened on demand and reused. A caller blocks (up to
/// `checkoutTimeout`) when all are in use. A session whose connection broke, or that failed
/// in a way that leaves it unusable, is closed instead of returned.
final class ConnectionPool: Sendable {
    let url: PostgresURL
    let maxConnections: Int
    private let group: any EventLoopGroup
    private let logger: Logger
    private let connectTimeout: TimeAmount
    private let idle = Mutex<[PGSession]>([])
    /// One permit per connection that may exist.
    private let permits: DispatchSemaphore
    private let checkoutTimeout: Double = 60

    init(url: PostgresURL, maxConnections: Int, group: any EventLoopGroup, connectTimeout: TimeAmount, logger: Logger) {
        self.url = url
        self.maxConnections = max(1, maxConnections)
        self.group = group
        self.connectTimeout = connectTimeout
        self.logger = logger
        permits = DispatchSemaphore(value: max(1, maxConnections))
    }

    /// A new session outside the pool (listeners and readers own theirs).
    func connect() throws -> PGSession {
        try PGSession.connect(url, group: group, timeout: connectTimeout, logger: logger)
    }

    /// Runs `body` with a session of the pool, returned afterwards unless it broke.
    func with<T>(_ body: (PGSession) throws -> T) throws -> T {
        guard permits.wait(timeout: .now() + checkoutTimeout) == .success else {
            throw PostGISError.busy("all \(maxConnections) connections to \(url.serverDescription) stayed in use for \(Int(checkoutTimeout)) s")
        }
        var session: PGSession?
        defer {
            if let session {
                if session.isClosed { session.close() } else { idle.withLock { $0.append(session) } }
            }
            permits.signal()
        }
        while let candidate = idle.withLock({ $0.popLast() }) {
            if candidate.isClosed { candidate.close() } else { session = candidate; break }
        }
        if session == nil { session = try connect() }
        guard let s = session else { throw PostGISError.connectionLost("no connection") }
        do {
            return try body(s)
        } catch let error as PostGISError where error.breaksConnection {
            session = nil
            s.close()
            throw error
        }
    }

    /// Every write's BEGIN: READ COMMITTED whatever the server's `default_transaction_isolation`,
    /// since writes rely on it — a statement after an advisory lock sees what the lock's
    /// previous holder committed (batches, the audit chain's head).
    static let write = "BEGIN ISOLATION LEVEL READ COMMITTED"

    /// Runs `body` in one transaction (`begin` says which kind): committed when it returns,
    /// rolled back when it throws. A session whose rollback fails is discarded.
    func transaction<T>(_ begin: String = ConnectionPool.write, _ body: (PGSession) throws -> T) throws -> T {
        try with { s in try Self.transaction(s, begin, body) }
    }

    static func transaction<T>(_ s: PGSession, _ begin: String, _ body: (PGSession) throws -> T) throws -> T {
        // A read-only BEGIN goes out without waiting (the connection answers in order, so the
        // body's first query runs inside it); a write's BEGIN is confirmed before anything is
        // written, so that nothing could ever run outside its transaction.
        let pipelined = begin.hasSuffix("READ ONLY") ? s.send(begin, PostgresBindings()) : nil
        if pipelined == nil { try s.execute(begin) }
        do {
            let result = try body(s)
            if let pipelined { do { _ = try pipelined.wait() } catch { throw PostGISError.wrap(error) } }
            do {
                try s.execute("COMMIT")
            } catch let e as PostGISError where pipelined == nil && e.breaksConnection {
                // The server may have committed before the connection broke: nobody can tell.
                throw PostGISError.commitOutcomeUnknown("\(e)")
            }
            return result
        } catch {
            if let pipelined { _ = try? pipelined.wait() }
            do { try s.execute("ROLLBACK") } catch { s.close() }
            throw error
        }
    }

    /// Runs a read: in one REPEATABLE READ snapshot when it takes several statements, else
    /// straight on a pooled session (one round trip).
    func read<T>(snapshot: Bool, _ body: (PGSession) throws -> T) throws -> T {
        snapshot ? try transaction(PostGISStore.readOnly, body) : try with(body)
    }

    func close() {
        let sessions = idle.withLock { all in defer { all = [] }; return all }
        for s in sessions { s.close() }
    }
}
