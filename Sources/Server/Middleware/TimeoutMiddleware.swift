import HTTPTypes
import Hummingbird
import Store

/// SPEC §5's per-request time limit. Each request runs with a `Deadline`; the loops that can
/// run long (reading features for tiles, pages and exports, thinning a tile) stop there, and
/// the request is answered 503 with a problem document instead of holding a thread. Uploads to
/// `POST /imports` are exempt: importing a large file takes minutes by nature, and its body
/// size is limited instead; so are `GET /downloads/…` (a first request makes the file, which
/// for a large layer takes minutes, and a slow client takes long to receive it).
struct TimeoutMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .post, request.uri.path == "/imports" { return try await next(request, context) }
        if request.uri.path.hasPrefix("/downloads/") { return try await next(request, context) }
        do {
            return try await Deadline.$current.withValue(.now + limit) { try await next(request, context) }
        } catch is DeadlinePassed {
            var problem = Problem(.serviceUnavailable, "the request took longer than the server's limit of \(limit.seconds) s and was stopped; "
                                  + "ask for less (a smaller bbox, a higher zoom, a lower limit) or try again later", title: "Request timed out")
            problem.headers[.retryAfter] = "5"
            throw problem
        }
    }
}

extension Duration {
    /// Whole and fractional seconds, for messages.
    var seconds: String {
        let (s, attos) = components
        return attos == 0 ? "\(s)" : String(Double(s) + Double(attos) / 1e18)
    }
}
