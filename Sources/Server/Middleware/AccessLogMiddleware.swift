import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One structured log line per request: request id (Hummingbird's, in the logger's metadata),
/// client address (`ClientAddressMiddleware` runs before it), method, path, query (secrets
/// redacted), status and duration.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = LandMapContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        func log(_ status: HTTPResponse.Status) {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            context.logger.info("request", metadata: [
                "client": .string(context.client?.description ?? "-"), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "query": .string(LoggedQuery.redacting(request.uri.query ?? "")),
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

/// A query string as the access log shows it: what a client asked, without its credentials.
enum LoggedQuery {
    /// Parameters whose values are credentials: logged as `REDACTED`, whatever their case.
    static let secretParameters: Set<String> = ["token", "access_token", "key", "api_key", "apikey", "password", "secret"]

    /// The query string as logged: every parameter kept in order, secret values replaced.
    static func redacting(_ query: String) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
            guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
            let name = pair[..<eq]
            let decoded = (name.removingPercentEncoding ?? String(name)).lowercased()
            return secretParameters.contains(decoded) ? "\(name)=REDACTED" : String(pair)
        }.joined(separator: "&")
    }
}
