import HTTPTypes
import Hummingbird
import Logging

/// SPEC §12's response headers. Every answer gets `X-Content-Type-Options: nosniff`; documents
/// a browser renders (HTML, SVG) also get the Content-Security-Policy the web map works under,
/// `Referrer-Policy` and `X-Frame-Options`. Outermost, so errors thrown past every other
/// middleware become problem documents here and carry the headers too.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: String

    init(basemap: ServerConfiguration.Basemap?) {
        policy = SecurityHeaders.contentSecurityPolicy(basemapOrigin: basemap.flatMap { SecurityHeaders.origin(of: $0.url) })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let problem = Problem.from(error)
            if problem.status == .internalServerError {
                context.logger.error("request failed", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            }
            response = try problem.response(from: request, context: context)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        if SecurityHeaders.isDocument(response.headers[.contentType]) {
            response.headers[.contentSecurityPolicy] = policy
            response.headers[.referrerPolicy] = SecurityHeaders.referrerPolicy
            response.headers[.xFrameOptions] = "DENY"
        }
        return response
    }
}

/// The values of the security headers, for the middleware, `serve`'s checks and the tests.
public enum SecurityHeaders {
    /// The page's own URL goes to LandMap; other hosts (a basemap, whose usage policy may ask
    /// for a Referer) see only the origin, never the path, query or map position.
    public static let referrerPolicy = "strict-origin-when-cross-origin"

    /// Scripts, styles, fonts and fetches from LandMap only, with no inline script or style;
    /// MapLibre's worker is a `blob:` and its control icons `data:` images; nothing may frame
    /// a page (the steward's approve and reject buttons cannot be clickjacked). A basemap's
    /// origin is added where its tiles load (MapLibre fetches them, or uses an image).
    public static func contentSecurityPolicy(basemapOrigin: String?) -> String {
        let basemap = basemapOrigin.map { " \($0)" } ?? ""
        return [
            "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:\(basemap)",
            "connect-src 'self'\(basemap)", "worker-src 'self' blob:", "child-src 'self' blob:", "object-src 'none'",
            "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }

    /// `scheme://host[:port]` of an http(s) URL template such as
    /// `https://tile.openstreetmap.org/{z}/{x}/{y}.png`; nil when its host is not a plain host
    /// name or address that can go into a CSP source list (e.g. `{s}`, user info, spaces, `;`).
    public static func origin(of url: String) -> String? {
        let lower = url.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lower.hasPrefix($0) }) else { return nil }
        let authority = lower.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-:[]")
        guard !authority.isEmpty, authority.allSatisfy({ allowed.contains($0) }), !authority.hasPrefix(":"), !authority.hasPrefix(".") else { return nil }
        return scheme + authority
    }

    /// Whether a response of this content type is a document a browser runs scripts in.
    static func isDocument(_ contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return type == "text/html" || type == "application/xhtml+xml" || type == "image/svg+xml"
    }
}

extension HTTPField.Name {
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!  // safe: a constant, valid field name
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!  // safe: as above
}
