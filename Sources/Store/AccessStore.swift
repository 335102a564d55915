import Foundation

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

    public init(id: Int64, key: String, name: String, role: String, hash: [UInt8], created: Date, revoked: Date? = nil, lastUsed: Date? = nil) {
        self.id = id
        self.key = key
        self.name = name
        self.role = role
        self.hash = hash
        self.created = created
        self.revoked = revoked
        self.lastUsed = lastUsed
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

    public init(id: Int64, at: Date, actor: String, action: String, target: String, detail: String) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
    }
}

/// Tokens and the audit log, kept beside the features (SPEC §2). A PostGIS store implements it too.
public protocol AccessStore: Sendable {
    func addToken(key: String, name: String, role: String, hash: [UInt8], actor: String) throws -> TokenRecord
    func tokens() throws -> [TokenRecord]
    func token(key: String) throws -> TokenRecord?
    /// Revokes by key or by name; nil when no active token matches.
    func revokeToken(_ keyOrName: String, actor: String) throws -> TokenRecord?
    func markUsed(tokenID: Int64, at: Date) throws
    func audit(actor: String, action: String, target: String, detail: String) throws
    /// The newest entries first.
    func auditLog(limit: Int, actor: String?, action: String?) throws -> [AuditEntry]
}
