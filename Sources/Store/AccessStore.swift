import Foundation
import Geometry

/// An API token as stored: its public key (shown in lists and logs) and the SHA-256 of the
/// whole secret, never the secret itself.
public struct TokenRecord: Hashable, Sendable {
    public var id: Int64
    /// A short random public part of the token, e.g. `3f9c1a7e20b4`: how a person names it.
    public var key: String
    public var name: String
    public var role: String
    public var hash: [UInt8]
    public var created: Date
    public var revoked: Date?
    public var lastUsed: Date?
    /// What the token's rights are limited to (SPEC §8): its unit, layers and wards.
    public var scope: TokenScope
    /// From this instant on the token is refused (SPEC §12); nil: it never expires.
    public var expires: Date?
    /// The client address of its last recorded use (`markUsed`), for `token list`.
    public var lastAddress: String?
    /// The token's own limit in requests per minute; nil: the server's default for tokens.
    public var rateLimit: Int?

    public init(id: Int64, key: String, name: String, role: String, hash: [UInt8], created: Date, revoked: Date? = nil, lastUsed: Date? = nil,
                scope: TokenScope = .unlimited, expires: Date? = nil, lastAddress: String? = nil, rateLimit: Int? = nil) {
        self.id = id
        self.scope = scope
        self.expires = expires
        self.lastAddress = lastAddress
        self.rateLimit = rateLimit
        self.key = key
        self.name = name
        self.role = role
        self.hash = hash
        self.created = created
        self.revoked = revoked
        self.lastUsed = lastUsed
    }

    /// Whether the token has expired at `now`: its expiry is reached (the expiry instant itself counts).
    public func isExpired(at now: Date = Date()) -> Bool {
        expires.map { $0 <= now } ?? false
    }
}

/// What a token is made with beyond its name, role and scope (SPEC §12).
public struct TokenTerms: Hashable, Sendable {
    /// Refused from this instant on; nil: never expires.
    public var expires: Date?
    /// Its own requests-per-minute limit; nil: the server's default for tokens.
    public var rateLimit: Int?

    public init(expires: Date? = nil, rateLimit: Int? = nil) {
        self.expires = expires
        self.rateLimit = rateLimit
    }

    public static let none = TokenTerms()

    /// A stored expiry; text that is not an instant throws: a damaged expiry must not read as none.
    public static func expiry(_ text: String) throws -> Date {
        guard let date = Timestamp.date(text) else { throw StoreError.unsupported("a token's expires_at must be an instant, not '\(text.prefix(40))'") }
        return date
    }

    /// For the audit log: `expires 2027-03-01T00:00:00Z; 600/min`, empty when neither is set.
    public var summary: String {
        var parts = [String]()
        if let expires { parts.append("expires \(Timestamp.string(expires))") }
        if let rateLimit { parts.append("\(rateLimit)/min") }
        return parts.joined(separator: "; ")
    }
}

/// One line of the audit log: who did what, when.
public struct AuditEntry: Hashable, Sendable {
    public var id: Int64
    public var at: Date
    /// `cli:<user>`, `token:<name>` or `anonymous`.
    public var actor: String
    /// `write`, `token.create`, `token.revoke`, `token.use`, `auth.refused`, `import`, `backup`, …
    public var action: String
    public var target: String
    public var detail: String
    /// The unit the actor acts for (a token's `--unit`); empty when none.
    public var unit: String

    public init(id: Int64, at: Date, actor: String, action: String, target: String, detail: String, unit: String = "") {
        self.id = id
        self.unit = unit
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
    }
}

/// What a token's rights are limited to (SPEC §8's `token create --unit --layers --wards`):
/// nil means no limit. Stored as JSON beside the token.
public struct TokenScope: Hashable, Sendable {
    /// The unit the holder acts for (`phuong-tan-phong`, `so-tnmt`): a steward reviews the layers
    /// whose steward is this unit; audit entries carry it.
    public var unit: String?
    /// Every right of the token holds only in these layers.
    public var layers: [String]?
    /// Writes and proposals only for features inside these wards (by code).
    public var wards: [String]?

    public init(unit: String? = nil, layers: [String]? = nil, wards: [String]? = nil) {
        self.unit = unit
        self.layers = layers
        self.wards = wards
    }

    public static let unlimited = TokenScope()

    /// As stored: `{"unit": …, "layers": […], "wards": […]}`, members left out when unlimited.
    public var json: String {
        var o = [String: JSONValue]()
        if let unit { o["unit"] = .string(unit) }
        if let layers { o["layers"] = .array(layers.map { .string($0) }) }
        if let wards { o["wards"] = .array(wards.map { .string($0) }) }
        return JSONValue.object(o).jsonText
    }

    /// From the stored JSON; `{}` is unlimited. Text that is not a scope throws: a damaged
    /// scope must not turn into no limits.
    public init(json: String) throws {
        guard json != "{}" else { self.init(); return }
        let v = try JSONValue.parse(json)
        guard v.objectValue != nil else { throw StoreError.unsupported("a token scope must be a JSON object, not \(json.prefix(80))") }
        self.init(unit: v["unit"]?.stringValue, layers: v["layers"]?.arrayValue?.compactMap(\.stringValue),
                  wards: v["wards"]?.arrayValue?.compactMap(\.stringValue))
    }

    /// For people: `unit so-tnmt, layers parcels, wards 26734, 26737`, or `no limits`.
    public var summary: String {
        var parts = [String]()
        if let unit { parts.append("unit \(unit)") }
        if let layers { parts.append("layers \(layers.joined(separator: ", "))") }
        if let wards { parts.append("wards \(wards.joined(separator: ", "))") }
        return parts.isEmpty ? "no limits" : parts.joined(separator: "; ")
    }
}

/// Which audit entries to show, newest first.
public struct AuditQuery: Sendable {
    public var limit: Int
    public var actor: String?
    public var action: String?
    /// Entries whose unit is this one.
    public var unit: String?
    /// Entries whose target is this layer, or starts with `layer/` (a feature of it) or names a change of it.
    public var layer: String?
    /// Entries at or after this instant.
    public var since: Date?

    public init(limit: Int = 50, actor: String? = nil, action: String? = nil, unit: String? = nil, layer: String? = nil, since: Date? = nil) {
        self.limit = limit
        self.actor = actor
        self.action = action
        self.unit = unit
        self.layer = layer
        self.since = since
    }
}

/// Tokens and the audit log, kept beside the features (SPEC §2). A PostGIS store implements it too.
public protocol AccessStore: Sendable {
    func addToken(key: String, name: String, role: String, scope: TokenScope, terms: TokenTerms, hash: [UInt8], actor: String) throws -> TokenRecord
    func tokens() throws -> [TokenRecord]
    func token(key: String) throws -> TokenRecord?
    /// Revokes by key or by name; nil when no active token matches.
    func revokeToken(_ keyOrName: String, actor: String) throws -> TokenRecord?
    /// Records a use: its time, and the client address when one is given (nil keeps the last one).
    func markUsed(tokenID: Int64, at: Date, address: String?) throws
    /// Appends an entry; `unit` is the actor's unit, empty when none.
    func audit(actor: String, unit: String, action: String, target: String, detail: String) throws
    /// The entries `query` selects, newest first.
    func auditLog(_ query: AuditQuery) throws -> [AuditEntry]
    /// Up to `limit` entries with ids above `id`, oldest first, as stored (timestamp text and
    /// chain hashes): what verification, `audit export` and its `--follow` page through. An
    /// entry becomes visible only after every entry with a smaller id (appends are serialised
    /// and take the next id), so a reader resuming after the last id it saw misses none.
    func auditEntries(after id: Int64, limit: Int) throws -> [AuditRow]
}

extension AccessStore {
    public func addToken(key: String, name: String, role: String, hash: [UInt8], actor: String) throws -> TokenRecord {
        try addToken(key: key, name: name, role: role, scope: .unlimited, terms: .none, hash: hash, actor: actor)
    }

    public func addToken(key: String, name: String, role: String, scope: TokenScope, hash: [UInt8], actor: String) throws -> TokenRecord {
        try addToken(key: key, name: name, role: role, scope: scope, terms: .none, hash: hash, actor: actor)
    }

    public func markUsed(tokenID: Int64, at date: Date) throws {
        try markUsed(tokenID: tokenID, at: date, address: nil)
    }

    public func audit(actor: String, action: String, target: String, detail: String) throws {
        try audit(actor: actor, unit: "", action: action, target: target, detail: detail)
    }

    public func auditLog(limit: Int, actor: String?, action: String?) throws -> [AuditEntry] {
        try auditLog(AuditQuery(limit: limit, actor: actor, action: action))
    }
}
