import Access
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Store
import Synchronization

/// Reads `Authorization: Bearer <token>` and sets `context.identity`. No header: anonymous.
/// A header that is not a valid, unrevoked LandMap token: 401 at once, whatever the route, so a
/// client never mistakes a revoked token for anonymous access. Responses to a token holder may
/// carry private fields: they are marked `Cache-Control: private`, and every response varies by
/// `Authorization`, so no shared cache hands one caller's answer to another.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = LandMapContext
    let state: ServerState

    func handle(_ request: Request, context: LandMapContext, next: (Request, LandMapContext) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                // Counted against the address like any refused token, so guessing costs requests.
                try state.chargeRate(identity: nil, client: context.client, path: request.uri.path)
                state.authFailures[TokenRefusal.malformed.reason]?.increment()
                throw Problem.unauthorized("the Authorization header must be 'Bearer <token>'", invalidToken: true)
            }
            let token = parts[1].trimmingCharacters(in: .whitespaces)
            do {
                let identity = try state.tokens.authenticate(token)
                state.audit.used(identity, from: context.client)
                context.identity = identity
            } catch let refusal as TokenRefusal {
                // A refused token is an anonymous request: over the address's limit it is a 429.
                try state.chargeRate(identity: nil, client: context.client, path: request.uri.path)
                state.refused(.unauthenticated)
                state.authFailures[refusal.reason]?.increment()
                state.audit.refused(refusal, path: request.uri.path, from: context.client)
                throw Problem.unauthorized("the token was refused: \(refusal)", invalidToken: true)
            }
        }
        // Only token holders write: their reads must see their own writes on any node, so they
        // read what the primary has (`ReadConsistency`), not a replica's or a cached view.
        var response = try await ReadConsistency.$latest.withValue(context.identity != nil) {
            try await next(request, context)
        }
        if context.identity != nil {
            // A token holder's answer may hold what others may not see: no shared cache keeps it.
            let cache = response.headers[.cacheControl] ?? ""
            if cache.contains("public") {
                response.headers[.cacheControl] = cache.replacingOccurrences(of: "public", with: "private")
            } else if !cache.contains("private"), !cache.contains("no-store") {
                response.headers[.cacheControl] = cache.isEmpty ? "private" : "private, " + cache
            }
        }
        response.headers[.vary] = response.headers[.vary].map { $0 + ", Authorization" } ?? "Authorization"
        return response
    }
}

/// Writes the audit log off the request path, on one serial queue: a write batch that holds the
/// database for minutes must not hold up requests. Token use is recorded once a minute per
/// token (with `last_used_at` and `last_address`), and sooner when the client address changes
/// (at most once a second, so a token shared by many devices cannot turn requests into
/// writes); refusals at most once a second (with a count of the rest), so a flood of bad
/// tokens cannot turn into a flood of writes.
final class AuditTrail: Sendable {
    private let store: any AccessStore
    private let queue = DispatchQueue(label: "landmap.audit")
    private let logger: Logger
    private struct Use { var at: Date; var address: IPAddress? }
    private struct Marks { var used: [Int64: Use] = [:]; var lastRefusal = Date.distantPast; var unrecorded = 0 }
    private let marks = Mutex(Marks())

    init(store: any AccessStore, logger: Logger = Logger(label: "landmap.audit")) {
        self.store = store
        self.logger = logger
    }

    func used(_ identity: Identity, from address: IPAddress? = nil) {
        let now = Date()
        let due = marks.withLock { m -> Bool in
            if let last = m.used[identity.tokenID] {
                let since = now.timeIntervalSince(last.at)
                guard since >= 60 || (last.address != address && since >= 1) else { return false }
            }
            m.used[identity.tokenID] = Use(at: now, address: address)
            return true
        }
        guard due else { return }
        let text = address?.description
        record(identity.actor, "token.use", identity.key, identity.role.rawValue + (text.map { " from \($0)" } ?? ""), unit: identity.unit) {
            try $0.markUsed(tokenID: identity.tokenID, at: now, address: text)
        }
    }

    func refused(_ refusal: TokenRefusal, path: String, from address: IPAddress? = nil) {
        let now = Date()
        let skipped = marks.withLock { m -> Int? in
            guard now.timeIntervalSince(m.lastRefusal) >= 1 else { m.unrecorded += 1; return nil }
            m.lastRefusal = now
            defer { m.unrecorded = 0 }
            return m.unrecorded
        }
        guard let skipped else { return }
        record("anonymous", "auth.refused", path, "\(refusal)" + (address.map { " from \($0)" } ?? "") + (skipped > 0 ? " (and \(skipped) more refusals since the last entry)" : ""))
    }

    func record(_ actor: String, _ action: String, _ target: String, _ detail: String, unit: String = "",
                also: (@Sendable (any AccessStore) throws -> Void)? = nil) {
        let store = store, logger = logger
        queue.async {
            do {
                try also?(store)
                try store.audit(actor: actor, unit: unit, action: action, target: target, detail: detail)
            } catch {
                logger.error("could not write the audit log", metadata: ["action": .string(action), "error": .string("\(error)")])
            }
        }
    }

    /// Waits until every entry queued so far is written (tests, shutdown).
    func flush() { queue.sync {} }
}
