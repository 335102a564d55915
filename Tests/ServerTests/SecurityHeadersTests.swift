import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

/// SPEC §12: every answer is `nosniff`; HTML answers carry the Content-Security-Policy the web
/// map works under (Tools/csp-check.mjs proves that in Chromium), `Referrer-Policy`,
/// `frame-ancestors` and `X-Frame-Options`.
@Suite struct SecurityHeadersTests {
    static let html: HTTPFields = [.accept: "text/html,application/xhtml+xml"]
    static let pages = ["/", "/?f=html", "/api.html", "/collections?f=html", "/collections/parcels?f=html",
                        "/collections/parcels/items?f=html&limit=2", "/collections/parcels/items/27484-15-51?f=html",
                        "/catalog?f=html", "/catalog/datasets/parcels?f=html", "/catalog/units/so-nnmt?f=html"]

    /// The directives of a policy, by name.
    static func directives(_ policy: String?) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for part in (policy ?? "").split(separator: ";") {
            let words = part.split(separator: " ").map(String.init)
            if let name = words.first { out[name] = Array(words.dropFirst()) }
        }
        return out
    }

    @Test func everyHTMLPageCarriesTheStrictPolicy() async throws {
        try await ServerFixture.test { client in
            for uri in Self.pages {
                try await client.execute(uri: uri, method: .get, headers: Self.html) { r in
                    #expect(r.status == .ok, "\(uri): \(r.status)")
                    #expect(r.headers[.contentType]?.hasPrefix("text/html") == true, "\(uri): \(r.headers[.contentType] ?? "no type")")
                    let csp = Self.directives(r.headers[.contentSecurityPolicy])
                    #expect(csp["default-src"] == ["'self'"], "\(uri): \(r.headers[.contentSecurityPolicy] ?? "no CSP")")
                    #expect(csp["script-src"] == ["'self'"] && csp["style-src"] == ["'self'"], "\(uri): inline script or style allowed")
                    #expect(csp["connect-src"] == ["'self'"] && csp["img-src"] == ["'self'", "data:", "blob:"], "\(uri)")
                    #expect(csp["worker-src"]?.contains("blob:") == true && csp["object-src"] == ["'none'"] && csp["base-uri"] == ["'none'"], "\(uri)")
                    #expect(csp["frame-ancestors"] == ["'none'"] && csp["form-action"] == ["'self'"], "\(uri)")
                    #expect(r.headers[.xFrameOptions] == "DENY", "\(uri)")
                    #expect(r.headers[.referrerPolicy] == "strict-origin-when-cross-origin", "\(uri)")
                    #expect(r.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                    // The policy refuses inline scripts and style attributes: the pages have none.
                    let body = r.text
                    #expect(!body.contains("<script>") && !body.contains("style=\"") && !body.contains("<style"), "\(uri): inline script or style")
                    #expect(body.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil, "\(uri): an inline event handler")
                }
            }
            // HEAD gets the same headers as GET.
            try await client.execute(uri: "/", method: .head, headers: Self.html) { r in
                #expect(r.headers[.contentSecurityPolicy] != nil && r.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    @Test func otherAnswersAndProblemsAreNosniff() async throws {
        let body = ByteBuffer(string: #"{"type":"Feature","geometry":null,"properties":{}}"#)
        let cases: [(String, HTTPRequest.Method, HTTPResponse.Status?)] = [
            ("/collections", .get, .ok), ("/collections/parcels/items?limit=1", .get, .ok), ("/api", .get, .ok),
            ("/styles/landmap.json", .get, .ok), ("/tiles/parcels.json", .get, .ok), ("/tiles/parcels/16/52201/30802.mvt", .get, nil),
            ("/assets/app.js", .get, .ok), ("/health", .get, nil),
            ("/nope", .get, .notFound), ("/collections/nope/items", .get, .notFound), ("/catalog?f=bogus", .get, .badRequest),
            ("/collections/parcels/items?limit=abc", .get, .badRequest), ("/collections/parcels/items", .post, .unauthorized),
            ("/health", .delete, .methodNotAllowed),
        ]
        try await ServerFixture.test { client in
            for (uri, method, status) in cases {
                try await client.execute(uri: uri, method: method, body: method == .post ? body : nil) { r in
                    if let status { #expect(r.status == status, "\(method) \(uri): \(r.status)") }
                    #expect(r.headers[.xContentTypeOptions] == "nosniff", "\(method) \(uri): \(r.status)")
                    // Not a document: no page policy (a JSON viewer or a tile is not a page).
                    #expect(r.headers[.contentSecurityPolicy] == nil, "\(method) \(uri)")
                }
            }
            // A problem asked for by a browser is JSON, not a page, and nosniff.
            try await client.execute(uri: "/nope", method: .get, headers: Self.html) { r in
                #expect(r.status == .notFound && r.headers[.contentType] == "application/problem+json" && r.headers[.xContentTypeOptions] == "nosniff")
            }
        }
    }

    /// Alone in a router with no problem middleware: a thrown error still becomes a problem
    /// document with nosniff (as one thrown past LandMap's other middleware would).
    @Test func errorsThrownPastEveryOtherMiddlewareCarryTheHeaders() async throws {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware(basemap: nil))
        router.get("/refused") { _, _ -> Response in throw Problem(.tooManyRequests, "slow down") }
        router.get("/page") { _, _ in Reply.text("<!doctype html><p>hi</p>", contentType: "text/html; charset=utf-8") }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/refused", method: .get) { r in
                #expect(r.status == .tooManyRequests && r.headers[.contentType] == "application/problem+json")
                #expect(r.headers[.xContentTypeOptions] == "nosniff" && r.headers[.contentSecurityPolicy] == nil)
            }
            try await client.execute(uri: "/nowhere", method: .get) { r in
                #expect(r.status == .notFound && r.headers[.xContentTypeOptions] == "nosniff")
            }
            try await client.execute(uri: "/page", method: .get) { r in
                #expect(r.headers[.contentSecurityPolicy] == SecurityHeaders.contentSecurityPolicy(basemapOrigin: nil))
            }
        }
    }

    @Test func aConfiguredBasemapsOriginIsAllowedWhereItsTilesLoad() async throws {
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        configuration.basemap = .init(url: "https://tile.example.org:8443/osm/{z}/{x}/{y}.png?key=k", attribution: "© Example")
        let state = try ServerState(store: try ServerFixture.shared.get().store, configuration: configuration)
        try await Application(router: LandMapServer.router(state)).test(.router) { client in
            for uri in ["/", "/catalog?f=html"] {
                try await client.execute(uri: uri, method: .get, headers: Self.html) { r in
                    let csp = Self.directives(r.headers[.contentSecurityPolicy])
                    #expect(csp["img-src"] == ["'self'", "data:", "blob:", "https://tile.example.org:8443"], "\(uri): \(r.headers[.contentSecurityPolicy] ?? "")")
                    #expect(csp["connect-src"] == ["'self'", "https://tile.example.org:8443"], "\(uri)")
                    #expect(csp["script-src"] == ["'self'"] && csp["default-src"] == ["'self'"], "\(uri): the basemap may not give scripts")
                }
            }
        }
    }

    @Test func basemapOriginsThatCannotGoInAPolicyAreRefused() {
        #expect(SecurityHeaders.origin(of: "https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://tile.openstreetmap.org")
        #expect(SecurityHeaders.origin(of: "HTTP://Tiles.Example.org:8080/{z}/{x}/{y}.png") == "http://tiles.example.org:8080")
        #expect(SecurityHeaders.origin(of: "http://[::1]:9000/{z}/{x}/{y}") == "http://[::1]:9000")
        for bad in ["https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://a.org; script-src *;/{z}", "https://user@a.org/{z}",
                    "ftp://a.org/{z}/{x}/{y}", "https:///{z}/{x}/{y}", "https://a.org 'unsafe-inline'/{z}", "javascript:alert(1)"] {
            #expect(SecurityHeaders.origin(of: bad) == nil, "\(bad)")
        }
    }

    @Test func documentsAreRecognisedByTheirType() {
        for type in ["text/html", "text/html; charset=utf-8", "TEXT/HTML;charset=UTF-8", "image/svg+xml", "application/xhtml+xml"] {
            #expect(SecurityHeaders.isDocument(type), "\(type)")
        }
        for type in [nil, "", "application/json", "application/problem+json", "text/plain", "application/vnd.mapbox-vector-tile", "text/htmlx"] {
            #expect(!SecurityHeaders.isDocument(type), "\(type ?? "nil")")
        }
    }
}
