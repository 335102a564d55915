import Crypto
import Foundation
import Store

/// Why a presented token was refused: always answered 401, the reason goes to the audit log.
public enum TokenRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed
    case unknown
    case revoked(key: String)
    /// Past its `--expires` (SPEC §12).
    case expired(key: String)

    public var description: String {
        switch self {
        case .malformed: "the token is not a LandMap token (lm_<key>_<secret>)"
        case .unknown: "no such token"
        case .revoked(let key): "token \(key) has been revoked"
        case .expired(let key): "token \(key) has expired"
        }
    }

    /// A bounded label for `/metrics` (`landmap_auth_failures_total{reason}`): no keys in it.
    public var reason: String {
        switch self {
        case .malformed: "malformed"
        case .unknown: "unknown"
        case .revoked: "revoked"
        case .expired: "expired"
        }
    }

    /// Every `reason`, for making the metric's counters up front.
    public static let reasons = ["malformed", "unknown", "revoked", "expired"]
}

/// API tokens: `lm_<key>_<secret>`, where the key (12 hex digits) names the token in lists and
/// logs and the secret is 256 random bits. Only the SHA-256 of the whole token is stored, and a
/// presented token is found by its key, then compared with the stored hash in constant time,
/// so neither the lookup nor the comparison reveals anything about the secret.
public struct AccessTokens: Sendable {
    let store: any AccessStore

    public init(store: any AccessStore) {
        self.store = store
    }

    /// Makes a token and stores its hash; the returned secret is shown once and never again.
    public func create(name: String, role: Role, scope: TokenScope = .unlimited, terms: TokenTerms = .none,
                       actor: String) throws -> (record: TokenRecord, token: String) {
        var generator = SystemRandomNumberGenerator()  // getrandom(2): the kernel's CSPRNG
        let key = (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = "lm_\(key)_\(Self.base64URL(secret))"
        let record = try store.addToken(key: key, name: name, role: role.rawValue, scope: scope, terms: terms, hash: Self.hash(token), actor: actor)
        return (record, token)
    }

    /// The identity a bearer token stands for at `now`; throws `TokenRefusal` for anything else.
    /// Revocation is reported before expiry: it is the stronger fact.
    public func authenticate(_ token: String, at now: Date = Date()) throws -> Identity {
        guard let key = Self.key(of: token) else { throw TokenRefusal.malformed }
        guard let record = try store.token(key: key), Self.constantTimeEqual(record.hash, Self.hash(token)) else {
            throw TokenRefusal.unknown
        }
        guard record.revoked == nil else { throw TokenRefusal.revoked(key: key) }
        guard !record.isExpired(at: now) else { throw TokenRefusal.expired(key: key) }
        guard let role = Role(rawValue: record.role) else { throw TokenRefusal.unknown }
        return Identity(tokenID: record.id, key: record.key, name: record.name, role: role, scope: record.scope, rateLimit: record.rateLimit)
    }

    /// The key part of `lm_<12 hex>_<43 base64url>`, or nil if the token has another shape.
    static func key(of token: String) -> String? {
        let parts = token.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "lm", parts[1].count == 12, parts[1].allSatisfy(\.isHexDigit),
              parts[2].count == 43, parts[2].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        return parts[1].lowercased()
    }

    public static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// Compares every byte whatever the first difference: the time does not depend on where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
