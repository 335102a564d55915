import Access
import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage, who is asking (set by `AuthMiddleware`
/// from a bearer token; nil for an anonymous caller) and from where.
public struct LandMapContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    /// The TCP peer; nil in process (router tests) or over a Unix socket.
    public let remoteAddress: SocketAddress?
    /// The client: the peer, or what a trusted proxy says in `X-Forwarded-For`
    /// (set by `ClientAddressMiddleware`).
    public var client: IPAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress
        client = IPAddress(remoteAddress)
    }
}
