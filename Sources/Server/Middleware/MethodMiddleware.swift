import HTTPTypes
import Hummingbird
import Synchronization

/// The routes as the router resolves them, to tell "no such path" (404) from "this path does
/// not take that method" (405 with `Allow`, SPEC §11). Hummingbird keeps its route table
/// private, so the table asks the built router itself: a probe request runs the router with
/// `probing` set, and `RouteProbeMiddleware`, outermost on every route, answers at once,
/// without running a handler, whether the router found an endpoint.
final class RouteTable: Sendable {
    @TaskLocal static var probing = false
    private let responder = Mutex<RouterResponder<LandMapContext>?>(nil)

    /// The methods probed: every one a LandMap route may take.
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]

    /// Set once the router has all its routes.
    func use(_ built: RouterResponder<LandMapContext>) { responder.withLock { $0 = built } }

    /// The methods `path` takes; empty when no route has this path.
    func allowedMethods(_ path: String, context: LandMapContext) async -> [HTTPRequest.Method] {
        guard let router = responder.withLock({ $0 }) else { return [] }
        var allowed: [HTTPRequest.Method] = []
        for method in Self.methods {
            let request = Request(head: HTTPRequest(method: method, scheme: nil, authority: nil, path: path), body: .init(buffer: .init()))
            var probe = context
            probe.coreContext.endpointPath = EndpointPath()
            let found = try? await Self.$probing.withValue(true) { try await router.respond(to: request, context: probe) }
            if found?.status == .noContent { allowed.append(method) }
        }
        return allowed
    }
}

/// Outermost on every route and on the not-found responder: under a probe, answers 204 when
/// the router matched an endpoint (it names the endpoint before calling it) and 404 otherwise.
struct RouteProbeMiddleware: RouterMiddleware {
    typealias Context = LandMapContext
    func handle(_ request: Request, context: LandMapContext, next: (Request, LandMapContext) async throws -> Response) async throws -> Response {
        guard RouteTable.probing else { return try await next(request, context) }
        return Response(status: context.endpointPath == nil ? .notFound : .noContent)
    }
}

/// Turns the router's own 404 (no endpoint for this method) into 405 with `Allow` when the path
/// takes other methods. A handler's 404 (no such feature) is left alone.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = LandMapContext
    let routes: RouteTable

    func handle(_ request: Request, context: LandMapContext, next: (Request, LandMapContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            let allowed = await routes.allowedMethods(request.uri.path, context: context)
            guard !allowed.isEmpty else { throw error }
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            var problem = Problem(.methodNotAllowed, "\(request.uri.path) does not take \(request.method.rawValue); it takes \(list)")
            problem.headers[.allow] = list
            throw problem
        }
    }
}
