import Access
import Features
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import Logging
import Metrics
import Prometheus

/// The HTTP service: the routes of SPEC §4 behind security-header, problem, caching,
/// compression, CORS, logging and metrics middleware. Routes hold no geometry code; they call the use cases.
public enum LandMapServer {
    /// The router with every route and middleware, for `serve` and for tests.
    public static func router(_ state: ServerState) -> Router<LandMapContext> {
        // HEAD wherever GET: Hummingbird runs the GET route and drops the body, keeping its headers.
        let router = Router(context: LandMapContext.self, options: .autoGenerateHeadEndpoints)
        let routes = RouteTable()
        // Outermost: every answer, errors included, gets nosniff (and HTML its CSP).
        router.add(middleware: SecurityHeadersMiddleware(basemap: state.configuration.basemap))
        router.add(middleware: RouteProbeMiddleware())
        // Before the access log, so each line names the client (a trusted proxy's X-Forwarded-For).
        router.add(middleware: ClientAddressMiddleware(trusted: state.configuration.rateLimits.trustedProxies))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: AccessLogMiddleware())
        // Any origin may read, and write with a bearer token (no cookies: no cross-site forgery).
        router.add(middleware: CORSMiddleware(allowOrigin: .all, allowHeaders: [.accept, .contentType, .ifNoneMatch, .ifMatch, .authorization, .contentCrs, .range, .ifRange],
                                              allowMethods: [.get, .head, .options, .post, .put, .delete],
                                              exposedHeaders: ["ETag", "Content-Crs", "Location", "Content-Disposition", "Content-Range", "Accept-Ranges"]))
        router.add(middleware: GzipMiddleware())
        router.add(middleware: ConditionalGetMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(routes: routes))
        router.add(middleware: TimeoutMiddleware(limit: state.configuration.requestTimeout))
        router.add(middleware: AuthMiddleware(state: state))
        router.add(middleware: RateLimitMiddleware(state: state))

        let ogc = OGCFeaturesRoutes(state: state)
        let styles = StyleRoutes(state: state)
        router.get("/") { request, _ in
            // Browsers get the web map; f=html without it installed, a page of links.
            if request.wantsHTML {
                if request.query("f") == nil, let viewer = styles.viewer() { return viewer }
                return Reply.text(htmlPage(title: "LandMap", json: ogc.landingJSON(request)), contentType: "text/html; charset=utf-8")
            }
            return Reply.json(ogc.landingJSON(request))
        }
        styles.add(to: router)
        // The layers the caller may read with their public properties, read without counting or reading features.
        @Sendable func apiLayers(_ identity: Identity?) throws -> [OpenAPIDocument.Layer] {
            try state.readableLayers(for: identity).keys.sorted().compactMap { name in
                try state.publicProperties(of: name).map { OpenAPIDocument.Layer(name: name, properties: $0.properties) }
            }
        }
        router.get("/api") { request, context in
            let doc = OpenAPIDocument.make(base: request.baseURL, layers: try apiLayers(context.identity), crs: state.crs.uris)
            return Reply.json(doc, contentType: "application/vnd.oai.openapi+json;version=3.0")
        }
        router.get("/api.html") { request, context in
            return Reply.text(htmlPage(title: "LandMap API", json: OpenAPIDocument.make(base: request.baseURL, layers: try apiLayers(context.identity), crs: state.crs.uris)),
                              contentType: "text/html; charset=utf-8")
        }
        ogc.add(to: router)
        ParcelRoutes(state: state).add(to: router)
        SearchRoutes(state: state).add(to: router)
        OperationsRoutes(state: state).add(to: router)
        let tiles = TileRoutes(state: state)
        tiles.add(to: router)
        OGCTilesRoutes(state: state, tiles: tiles).add(to: router)
        FontRoutes(folder: styles.folder?.appendingPathComponent("fonts")).add(to: router)
        FeatureEditRoutes(state: state).add(to: router)
        ImportRoutes(state: state).add(to: router)
        ChangeRoutes(state: state).add(to: router)
        CatalogRoutes(state: state).add(to: router)
        ChangeFeedRoutes(state: state).add(to: router)
        DownloadRoutes(state: state).add(to: router)
        routes.use(router.buildResponder())
        return router
    }

    /// Sends swift-metrics (the request counters and latency histograms of Hummingbird's
    /// metrics middleware) to the Prometheus registry that `/metrics` renders. Once per process.
    public static func bootstrapMetrics(_ registry: PrometheusCollectorRegistry) {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// Runs until SIGTERM or SIGINT, then finishes the requests in flight and stops.
    public static func run(_ state: ServerState, host: String, port: Int, logger: Logger) async throws {
        ImportRoutes.removeAbandonedUploads()
        // The integrity check runs beside the server, for as long as it runs.
        let monitor = Task { await state.health.monitor() }
        defer { monitor.cancel() }
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, state.configuration.eventLoops))
        do {
            try await application(state, host: host, port: port, logger: logger, eventLoops: loops).runService()
        } catch {
            try? await loops.shutdownGracefully()
            throw error
        }
        try await loops.shutdownGracefully()
    }

    /// The application `run` serves: the router over LandMap's HTTP/1.1 channel (idle and
    /// slow-header connections closed, bad request heads answered with a problem document).
    /// `eventLoops`: the caller's, which it shuts down after; NIO's shared ones when nil (tests).
    static func application(_ state: ServerState, host: String, port: Int, logger: Logger? = nil,
                            eventLoops: (any EventLoopGroup)? = nil) -> some ApplicationProtocol {
        Application(
            router: router(state),
            server: LandMapHTTP1Channel.builder(idleTimeout: state.configuration.idleTimeout),
            configuration: .init(address: .hostname(host, port: port), serverName: "LandMap"),
            eventLoopGroupProvider: eventLoops.map { .shared($0) } ?? .singleton,
            logger: logger)
    }
}
