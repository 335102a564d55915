import HTTPTypes
import Hummingbird

/// Answers `304 Not Modified` when the client's `If-None-Match` names the response's ETag, and
/// gives every response a `Cache-Control` (routes set their own; the default is `no-cache`).
struct ConditionalGetMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-cache" }
        guard request.method == .get || request.method == .head, response.status == .ok,
              let etag = response.headers[.eTag], let wanted = request.headers[.ifNoneMatch] else { return response }
        let tags = wanted.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") }
        guard tags.contains(etag) || tags.contains("*") else { return response }
        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.cacheControl] = response.headers[.cacheControl]
        return Response(status: .notModified, headers: headers)
    }
}
