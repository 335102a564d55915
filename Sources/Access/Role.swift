import Store

/// What a token lets its holder do (SPEC §8). Each role includes the ones before it.
public enum Role: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Reads the layers it is granted, private fields (owners' names and ids) included.
    case reader
    /// Also proposes changes: its writes and uploads wait for a steward's approval.
    case contributor
    /// Also writes directly: creates, replaces and deletes features, imports over HTTP.
    case editor
    /// Also approves or rejects proposals to the layers its unit stewards.
    case steward
    /// Everything, every layer; reserved for those who run the service.
    case admin

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
    var rank: Int { Role.allCases.firstIndex(of: self) ?? 0 }
    public var description: String { rawValue }

    /// The roles as `--help` and errors list them.
    public static let names = allCases.map(\.rawValue).joined(separator: ", ")
}

/// Who is asking: the holder of a valid, unrevoked token, with its role and scope.
public struct Identity: Sendable, Hashable {
    public var tokenID: Int64
    public var key: String
    public var name: String
    public var role: Role
    public var scope: TokenScope
    /// The token's own requests-per-minute limit; nil: the server's default for tokens.
    public var rateLimit: Int?

    public init(tokenID: Int64, key: String, name: String, role: Role, scope: TokenScope = .unlimited, rateLimit: Int? = nil) {
        self.tokenID = tokenID
        self.rateLimit = rateLimit
        self.key = key
        self.name = name
        self.role = role
        self.scope = scope
    }

    /// How the audit log and the batch records name this caller.
    public var actor: String { "token:\(name)" }

    /// The unit the caller acts for, for audit entries; empty when none.
    public var unit: String { scope.unit ?? "" }

    /// For messages: `token 3f9c1a7e20b4 ('ward-clerk', contributor; unit phuong-7, wards 26734)`.
    public var described: String { "token \(key) ('\(name)', \(role); \(scope.summary))" }
}
