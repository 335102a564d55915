import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One structured log line per request: request id (Hummingbird's, in the logger's metadata),
/// method, path, status and duration.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        func log(_ status: HTTPResponse.Status) {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            context.logger.info("request", metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(status.code), "duration_ms": .string(String(format: "%.2f", ms)),
            ])
        }
        do {
            let response = try await next(request, context)
            log(response.status)
            return response
        } catch {
            log((error as? any HTTPResponseError)?.status ?? .internalServerError)
            throw error
        }
    }
}
