import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// One PostgreSQL session for blocking callers: each call sends its query on the store's own
/// event loop and waits for the answer on the caller's thread. Callers are never threads of
/// that event loop group (the store owns it privately), so waiting cannot deadlock it.
final class PGSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    var isClosed: Bool { connection.isClosed }

    /// Connects and authenticates within `timeout`; failures become one line saying what to do.
    static func connect(_ url: PostgresURL, group: any EventLoopGroup, timeout: TimeAmount, logger: Logger) throws -> PGSession {
        var config: PostgresConnection.Configuration
        if let socket = url.socketPath {
            config = .init(unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch url.sslMode {
            case .disable:
                tls = .disable
            case .prefer, .require:
                // Like libpq's prefer/require: encrypted, the certificate not verified.
                var tlsConfig = TLSConfiguration.makeClientConfiguration()
                tlsConfig.certificateVerification = .none
                let context = try NIOSSLContext(configuration: tlsConfig)
                tls = url.sslMode == .require ? .require(context) : .prefer(context)
            }
            config = .init(host: url.host ?? "localhost", port: url.port, username: url.user, password: url.password,
                           database: url.database, tls: tls)
        }
        config.options.connectTimeout = timeout
        // Long enough for a big batch's statements, short enough that nothing hangs for ever.
        config.options.additionalStartupParameters = [
            ("statement_timeout", "300000"), ("lock_timeout", "120000"),
            ("idle_in_transaction_session_timeout", "600000"), ("TimeZone", "UTC"), ("DateStyle", "ISO, YMD"),
            ("application_name", "landmap"),
        ]
        let future = PostgresConnection.connect(on: group.any(), configuration: config, id: nextID(), logger: logger)
        do {
            return PGSession(connection: try future.wait(), logger: logger)
        } catch {
            throw connectError(error, url: url)
        }
    }

    private static let ids = Mutex(0)
    private static func nextID() -> Int {
        ids.withLock { $0 += 1; return $0 }
    }

    static func connectError(_ error: any Error, url: PostgresURL) -> any Error {
        if let e = error as? PSQLError, let state = e.serverInfo?[.sqlState] {
            switch state {
            case "28P01", "28000": return PostGISError.authentication(user: url.user, server: url.serverDescription)
            case "3D000": return PostGISError.noDatabase(database: url.database, server: url.serverDescription)
            case "53300": return PostGISError.busy("too many connections at \(url.serverDescription)")
            case "57P03": return PostGISError.unreachable(server: url.serverDescription, detail: "the server is starting up or shutting down")
            default: return PostGISError.wrap(error)
            }
        }
        if let e = error as? PSQLError {
            if e.code == .authMechanismRequiresPassword {
                return PostGISError.authentication(user: url.user, server: url.serverDescription)
            }
            let detail = e.underlying.map { "\($0)" } ?? "\(e.code)"
            return PostGISError.unreachable(server: url.serverDescription, detail: detail)
        }
        return PostGISError.unreachable(server: url.serverDescription, detail: "\(error)")
    }

    // MARK: Queries

    /// Runs one statement and collects its rows.
    @discardableResult
    func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws -> [PostgresRow] {
        try run(sql, binds).rows
    }

    /// Runs one statement; the number of rows it changed or returned.
    @discardableResult
    func execute(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws -> Int {
        try run(sql, binds).metadata.rows ?? 0
    }

    private func run(_ sql: String, _ binds: PostgresBindings) throws -> PostgresQueryResult {
        do {
            return try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).wait()
        } catch {
            throw PostGISError.wrap(error)
        }
    }

    /// Named statements prepared on this connection, by SQL text (bounded).
    private let statements = Mutex<[String: PreparedQuery]>([:])
    static let maxStatements = 256

    /// The statement prepared once on this connection (waiting for the server the first time,
    /// so that later requests stay in order); nil when the cache is full.
    private func statement(_ sql: String) throws -> PreparedQuery? {
        if let known = statements.withLock({ $0[sql] }) { return known }
        guard statements.withLock({ $0.count }) < Self.maxStatements else { return nil }
        let prepared: PreparedQuery
        do { prepared = try connection.prepare(query: sql).wait() } catch { throw PostGISError.wrap(error) }
        statements.withLock { $0[sql] = prepared }
        return prepared
    }

    /// Runs a statement prepared once per connection (no parsing or planning after the first
    /// runs): for queries made thousands of times. Each row's cells, decodable.
    func prepared(_ sql: String, _ binds: Binds) throws -> [[PostgresCell]] {
        try sendPrepared(sql, binds).wait()
    }

    /// The same, without waiting.
    func sendPrepared(_ sql: String, _ binds: Binds) throws -> EventLoopFuture<[[PostgresCell]]> {
        guard let statement = try statement(sql) else {
            return send(sql, binds.bindings).map { result in result.rows.map { Array($0) } }
        }
        // postgres-nio labels a prepared statement's columns text, though the rows it asks for
        // come back binary: relabelled before anything is decoded.
        return statement.execute(binds.data).map { rows in rows.map { row in row.map(\.relabelledBinary) } }
    }

    /// Sends a statement without waiting: the connection answers its requests in order, so a
    /// later `query` sees its effect. The caller checks the future later (`Pipeline`).
    func send(_ sql: String, _ binds: PostgresBindings) -> EventLoopFuture<PostgresQueryResult> {
        connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    /// Closes, waiting for it unless called on the connection's own event loop (where the
    /// close happens at once, and waiting would deadlock).
    func close() {
        let done: EventLoopFuture<Void> = connection.close()
        if !connection.eventLoop.inEventLoop { _ = try? done.wait() }
    }
}

/// Bound parameters built up in order: `add` returns the placeholder, cast to the value's
/// type (`$3::int8`), so a statement prepared without parameter types infers exactly the types
/// sent — both for unnamed statements (`bindings`) and prepared ones (`data`).
struct Binds {
    var bindings = PostgresBindings()
    var data = [PostgresData]()
    /// The placeholder of the value just added.
    private(set) var last = ""

    private mutating func placed(_ type: String) -> String {
        last = type.isEmpty ? "$\(data.count)" : "$\(data.count)::\(type)"
        return last
    }

    mutating func add(_ value: String) -> String { bindings.append(value); data.append(PostgresData(string: value)); return placed("text") }
    mutating func add(_ value: Int64) -> String { bindings.append(value); data.append(PostgresData(int64: value)); return placed("int8") }
    mutating func add(_ value: Int) -> String { add(Int64(value)) }
    mutating func add(_ value: Double) -> String { bindings.append(value); data.append(PostgresData(double: value)); return placed("float8") }
    mutating func add(_ value: Bool) -> String { bindings.append(value); data.append(PostgresData(bool: value)); return placed("bool") }
    mutating func add(bytes: [UInt8]) -> String {
        let buffer = ByteBuffer(bytes: bytes)
        bindings.append(buffer)
        data.append(PostgresData(type: .bytea, formatCode: .binary, value: buffer))
        return placed("bytea")
    }
    mutating func addNull() -> String { bindings.appendNull(); data.append(.null); return placed("") }
    mutating func add(_ value: String?) -> String { value.map { add($0) } ?? addNull() }
    mutating func add(_ value: Double?) -> String { value.map { add($0) } ?? addNull() }
    mutating func add(_ value: Int64?) -> String { value.map { add($0) } ?? addNull() }
}

