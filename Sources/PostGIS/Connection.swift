import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

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

    func close() {
        _ = try? connection.close().wait()
    }
}

/// Bound parameters built up in order: `$1`, `$2`, … as `next` names them.
struct Binds {
    var bindings = PostgresBindings()

    /// The placeholder of the value just added.
    var last: String { "$\(bindings.count)" }

    mutating func add(_ value: String) -> String { bindings.append(value); return last }
    mutating func add(_ value: Int64) -> String { bindings.append(value); return last }
    mutating func add(_ value: Int) -> String { bindings.append(Int64(value)); return last }
    mutating func add(_ value: Double) -> String { bindings.append(value); return last }
    mutating func add(_ value: Bool) -> String { bindings.append(value); return last }
    mutating func add(bytes: [UInt8]) -> String { bindings.append(ByteBuffer(bytes: bytes)); return last }
    mutating func addNull() -> String { bindings.appendNull(); return last }
    mutating func add(_ value: String?) -> String { value.map { add($0) } ?? addNull() }
    mutating func add(_ value: Double?) -> String { value.map { add($0) } ?? addNull() }
}

import Synchronization
