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
}
