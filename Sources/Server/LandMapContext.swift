import Access
import Hummingbird

/// The per-request context: Hummingbird's core storage, and who is asking (set by
/// `AuthMiddleware` from a bearer token; nil for an anonymous caller).
public struct LandMapContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
    }

    /// 401 without a token, 403 with one whose role is too low.
    func require(_ role: Role, to action: String) throws -> Identity {
        guard let identity else { throw Problem.unauthorized("\(action) needs a token with the \(role) role: send 'Authorization: Bearer <token>' (landmap token create)") }
        guard identity.role >= role else {
            throw Problem(.forbidden, "\(action) needs the \(role) role; token \(identity.key) ('\(identity.name)') is a \(identity.role)")
        }
        return identity
    }
}
