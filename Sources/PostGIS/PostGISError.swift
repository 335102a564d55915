import Foundation
import PostgresNIO
import Store

/// Failures of the PostGIS store, each one line that says what to do.
public enum PostGISError: Error, Hashable, Sendable, CustomStringConvertible {
    case badURL(String)
    case unreachable(server: String, detail: String)
    case authentication(user: String, server: String)
    case noDatabase(database: String, server: String)
    case noPostGIS(database: String, detail: String)
    case readOnly(database: String)
    case newerSchema(database: String, version: Int, known: Int)
    case foreignTable(database: String, table: String)
    case busy(String)
    case backupUnsupported(database: String)
    /// What PostgreSQL said, with its SQLSTATE.
    case server(sqlState: String, message: String, detail: String?)
    case connectionLost(String)
    /// The connection broke while a write's COMMIT was under way: it may have been saved.
    case commitOutcomeUnknown(String)
    case decoding(String)

    public var description: String {
        switch self {
        case .badURL(let why):
            "not a usable PostgreSQL URL: \(why)"
        case .unreachable(let server, let detail):
            "cannot reach PostgreSQL at \(server): is it running? (check the host, port or ?host=/socket/dir of --db; \(detail))"
        case .authentication(let user, let server):
            "PostgreSQL at \(server) refused user '\(user)': check the user and password in --db (percent-encode special characters)"
        case .noDatabase(let database, let server):
            "no database '\(database)' on PostgreSQL at \(server): create it (`createdb \(database)`) or fix the name in --db"
        case .noPostGIS(let database, let detail):
            "PostGIS is not installed in database \(database): run `CREATE EXTENSION postgis;` as its owner, or install postgresql-15-postgis-3 (\(detail))"
        case .readOnly(let database):
            "database \(database) is a read-only replica: give the primary as --db (a replica goes in --read-db)"
        case .newerSchema(let database, let version, let known):
            "database \(database) has LandMap schema version \(version); this landmap knows up to \(known): upgrade landmap"
        case .foreignTable(let database, let table):
            "database \(database) has a table named '\(table)' that is not a LandMap layer: choose another layer name"
        case .busy(let what):
            "PostgreSQL is busy: \(what); try again"
        case .backupUnsupported(let database):
            "backup writes a GeoPackage file only from a GeoPackage database; for PostgreSQL database \(database) use `landmap copy URL file.gpkg` or pg_dump"
        case .server(let state, let message, let detail):
            "PostgreSQL: \(message)\(detail.map { " (\($0))" } ?? "") [SQLSTATE \(state)]"
        case .connectionLost(let detail):
            "the connection to PostgreSQL was lost: \(detail); try again"
        case .commitOutcomeUnknown(let detail):
            "the connection to PostgreSQL was lost while the write was being committed (\(detail)): it may have been saved; read it back before sending it again"
        case .decoding(let detail):
            "unexpected data from PostgreSQL: \(detail)"
        }
    }

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(of error: any Error) -> String? {
        if let e = error as? PostGISError, case .server(let state, _, _) = e { return state }
        if let e = error as? PSQLError { return e.serverInfo?[.sqlState] }
        return nil
    }

    /// postgres-nio's error in LandMap's words (`PSQLError`'s own description hides the
    /// server's message on purpose; ours names no secrets, only the server's message).
    static func wrap(_ error: any Error) -> any Error {
        if let d = error as? PostgresDecodingError {
            return PostGISError.decoding("column \(d.columnName) as \(d.targetType) (\(d.code))")
        }
        guard let e = error as? PSQLError else { return error }
        if let info = e.serverInfo, let state = info[.sqlState] {
            return PostGISError.server(sqlState: state, message: info[.message] ?? "error", detail: info[.detail])
        }
        switch e.code {
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .connectionError:
            return PostGISError.connectionLost(e.underlying.map { "\($0)" } ?? "\(e.code)")
        default:
            return PostGISError.connectionLost("\(e.code)\(e.underlying.map { ": \($0)" } ?? "")")
        }
    }

    /// Whether the connection that threw this can still be used.
    var breaksConnection: Bool {
        switch self {
        case .connectionLost, .commitOutcomeUnknown, .decoding: true
        default: false
        }
    }
}

/// A full disk on the server (SQLSTATE class 53: `disk_full`, `insufficient_resources`) is
/// answered 507, as SQLite's `SQLITE_FULL` is.
extension PostGISError: DiskFullError {
    public var diskFullCause: String? {
        guard case .server(let state, let message, _) = self else { return nil }
        return PostGISError.diskFullCause(sqlState: state, message: message)
    }

    static func diskFullCause(sqlState: String, message: String) -> String? {
        switch sqlState {
        case "53100": "PostgreSQL: disk full (\(message))"
        case "53000": "PostgreSQL: insufficient resources (\(message))"
        default: nil
        }
    }
}

extension PSQLError: DiskFullError {
    public var diskFullCause: String? {
        guard let state = serverInfo?[.sqlState] else { return nil }
        return PostGISError.diskFullCause(sqlState: state, message: serverInfo?[.message] ?? "")
    }
}

/// A server that cannot be reached or cannot take the request now is answered 503: a read may go
/// to the other server (replica or primary), a write must wait for the primary.
extension PostGISError: UnavailableError {
    public var unavailableCause: String? {
        switch self {
        case .unreachable(let server, _): "PostgreSQL at \(server) cannot be reached"
        case .connectionLost: "the connection to PostgreSQL was lost"
        case .commitOutcomeUnknown: "the connection to PostgreSQL was lost while the write was being committed"
        case .readOnly(let database): "database \(database) is read-only now (a replica, or a primary in recovery)"
        case .server(let state, let message, _) where PostGISError.isUnavailable(sqlState: state):
            "PostgreSQL cannot take requests now (\(message))"
        default: nil
        }
    }

    public var writeMayHaveLanded: Bool {
        if case .commitOutcomeUnknown = self { return true }
        return false
    }

    /// SQLSTATE classes 08 (connection exception) and 57 (operator intervention: shut down, starting
    /// up, administrator's cancel) but not 57014 (a statement that ran past its timeout: slow, not
    /// unavailable), and 25006 (a write on a read-only server).
    static func isUnavailable(sqlState state: String) -> Bool {
        state.hasPrefix("08") || (state.hasPrefix("57") && state != "57014") || state == "25006"
    }
}

extension PSQLError: UnavailableError {
    public var unavailableCause: String? { (PostGISError.wrap(self) as? PostGISError)?.unavailableCause }
}
