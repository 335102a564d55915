import HTTPTypes
import Hummingbird
import Logging

/// Turns every error a route throws into an RFC 9457 problem document; unexpected ones are
/// logged with the request, never shown to the client.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem.from(error)
            if problem.status == .internalServerError {
                context.logger.error("request failed", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            }
            return try problem.response(from: request, context: context)
        }
    }
}
