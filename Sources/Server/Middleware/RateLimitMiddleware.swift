import Access
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!  // safe: a constant, valid field name
}

/// Sets `context.client`: the TCP peer, or, only when the peer is a trusted proxy, the client
/// its `X-Forwarded-For` names (`TrustedProxies.client`). Nothing else reads that header.
/// `X-Forwarded-Host` and `-Proto` (which `Request.baseURL` puts in every link) are removed from
/// a request whose peer is not a trusted proxy: from anyone else they would let a client write
/// the links of an answer a shared cache then hands to others.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = LandMapContext
    let trusted: TrustedProxies

    func handle(_ request: Request, context: LandMapContext, next: (Request, LandMapContext) async throws -> Response) async throws -> Response {
        guard let peer = context.client, trusted.contains(peer) else {
            guard request.headers[.forwardedHost] != nil || request.headers[.forwardedProto] != nil else { return try await next(request, context) }
            var head = request.head
            head.headerFields[.forwardedHost] = nil
            head.headerFields[.forwardedProto] = nil
            return try await next(Request(head: head, body: request.body), context)
        }
        var context = context
        context.client = trusted.client(peer: peer, forwardedFor: request.headers[values: .xForwardedFor])
        return try await next(request, context)
    }
}

/// Refuses a caller over its limit (`RateLimits`, counted by `RateLimiter`) with 429, a
/// `Retry-After` and a problem document. Runs after `AuthMiddleware`: a token holder is counted
/// per token, anyone else per client address. `/health` and `/metrics` are never limited.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = LandMapContext
    let state: ServerState

    func handle(_ request: Request, context: LandMapContext, next: (Request, LandMapContext) async throws -> Response) async throws -> Response {
        try state.chargeRate(identity: context.identity, client: context.client, path: request.uri.path)
        return try await next(request, context)
    }
}

extension ServerState {
    /// Counts one request of the caller against its limit; throws the 429 when it is over.
    func chargeRate(identity: Identity?, client: IPAddress?, path: String) throws {
        let limits = configuration.rateLimits
        let key: RateKey, perMinute: Int
        if let identity {
            guard let n = identity.rateLimit ?? limits.tokens else { return }
            (key, perMinute) = (.token(identity.tokenID), n)
        } else {
            guard let n = limits.anonymous else { return }
            (key, perMinute) = (.address(client), n)
        }
        guard path != "/health", path != "/metrics" else { return }
        let decision = limiter.admit(key, perMinute: perMinute)
        guard decision != .allowed else { return }
        (identity == nil ? rateLimited.anonymous : rateLimited.token).increment()
        let who = identity.map { "token \($0.key)" } ?? "this address"
        var problem = Problem(.tooManyRequests, "more than \(perMinute) requests a minute from \(who): try again in \(decision.retryAfterSeconds) s",
                              title: "Too Many Requests")
        problem.headers[.retryAfter] = String(decision.retryAfterSeconds)
        problem.extra["limit_per_minute"] = .integer(Int64(perMinute))
        throw problem
    }
}
