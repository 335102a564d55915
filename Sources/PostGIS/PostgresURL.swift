import Foundation

/// A PostgreSQL connection URL as `--db` takes it (SPEC §7):
/// `postgresql://user[:password]@host[:port]/dbname[?host=/socket/dir&sslmode=…]`, also
/// `postgres://`. A `host` query parameter naming a directory means a Unix socket there
/// (`.s.PGSQL.<port>`), as libpq reads it.
public struct PostgresURL: Hashable, Sendable, CustomStringConvertible {
    public enum SSLMode: String, Hashable, Sendable {
        case disable, prefer, require
    }

    public var user: String
    public var password: String?
    /// The TCP host; nil when connecting through a socket directory.
    public var host: String?
    public var port: Int
    /// The directory that holds the server's socket, when connecting through one.
    public var socketDirectory: String?
    public var database: String
    public var sslMode: SSLMode

    /// The socket file inside `socketDirectory`.
    public var socketPath: String? {
        socketDirectory.map { ($0.hasSuffix("/") ? $0 : $0 + "/") + ".s.PGSQL.\(port)" }
    }

    /// True when `text` looks like a PostgreSQL URL rather than a file path.
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    public init(_ text: String) throws {
        func bad(_ why: String) -> PostGISError { .badURL(why) }
        guard Self.isPostgresURL(text) else {
            throw bad("it must start with postgresql:// or postgres://")
        }
        guard let components = URLComponents(string: text) else {
            throw bad("it is not a valid URL (percent-encode special characters in the password, e.g. @ as %40)")
        }
        guard let rawUser = components.percentEncodedUser, !rawUser.isEmpty, let user = rawUser.removingPercentEncoding else {
            throw bad("it names no user: postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME")
        }
        self.user = user
        if let rawPassword = components.percentEncodedPassword {
            guard let password = rawPassword.removingPercentEncoding else { throw bad("its password is not valid percent-encoding") }
            self.password = password
        }
        var path = components.percentEncodedPath
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.isEmpty, !path.contains("/"), let database = path.removingPercentEncoding else {
            throw bad("it names no database: postgresql://USER@HOST/DBNAME")
        }
        self.database = database
        var port = components.port ?? 5432
        var socketDirectory: String?
        var sslMode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "host":
                if value.hasPrefix("/") { socketDirectory = value } else if !value.isEmpty { self.host = value }
            case "port":
                guard let p = Int(value), (1...65535).contains(p) else { throw bad("port '\(value)' is not a port number") }
                port = p
            case "sslmode":
                switch value {
                case "disable", "allow": sslMode = .disable
                case "prefer": sslMode = .prefer
                case "require", "verify-ca", "verify-full": sslMode = .require
                default: throw bad("sslmode '\(value)' is not one of disable, prefer, require")
                }
            case "application_name", "connect_timeout":
                continue
            default:
                throw bad("the parameter '\(item.name)' is not supported (host, port, sslmode are)")
            }
        }
        guard (1...65535).contains(port) else { throw bad("port \(port) is not a port number") }
        self.port = port
        self.socketDirectory = socketDirectory
        if socketDirectory == nil, host == nil {
            let h = components.host ?? ""
            guard !h.isEmpty else { throw bad("it names no host (or ?host=/socket/dir for a Unix socket)") }
            // IPv6 literals come bracketed.
            host = h.hasPrefix("[") && h.hasSuffix("]") ? String(h.dropFirst().dropLast()) : h
        }
        self.sslMode = sslMode
    }

    /// Where the server is, for messages: `host:port` or the socket file.
    public var serverDescription: String {
        if let socketPath { return "socket \(socketPath)" }
        return "\(host ?? "localhost"):\(port)"
    }

    /// The URL without its password: safe for logs and `--version`-like output.
    public var description: String {
        var out = "postgresql://\(Self.encode(user))@"
        if socketDirectory == nil {
            let h = host ?? "localhost"
            out += h.contains(":") ? "[\(h)]" : h
            if port != 5432 { out += ":\(port)" }
        } else {
            out += "localhost"
        }
        out += "/\(Self.encode(database))"
        var query = [String]()
        if let socketDirectory { query.append("host=\(socketDirectory)") }
        if socketDirectory != nil, port != 5432 { query.append("port=\(port)") }
        if sslMode != .prefer { query.append("sslmode=\(sslMode.rawValue)") }
        if !query.isEmpty { out += "?" + query.joined(separator: "&") }
        return out
    }

    /// The same server and credentials with another database (tests create and drop theirs).
    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }

    private static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
