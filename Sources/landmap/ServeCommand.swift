import Access
import ArgumentParser
import Backends
import Foundation
import Import
import Logging
import Prometheus
import Server
import Store

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP service: OGC API – Features, parcel lookup, health and metrics.",
        discussion: """
            With an empty database it first imports the sample in GeoData/ (HCMC wards, District 7 \
            zoning, generated parcels). Stops cleanly on SIGTERM or Ctrl-C. Logs one line per \
            request to stderr.

            Examples:
              landmap serve                        http://127.0.0.1:8080/
              landmap serve --host 0.0.0.0 --port 9000 --db /data/hcmc.gpkg
              landmap serve --db 'postgresql://landmap:secret@db.internal:5432/hcmc'
              landmap serve --db 'postgresql://landmap@primary.internal/hcmc' \\
                --read-db 'postgresql://landmap@replica.internal/hcmc'
              landmap serve --basemap-attribution '© OpenStreetMap contributors' \\
                --basemap-url 'https://tile.openstreetmap.org/{z}/{x}/{y}.png'
              landmap serve --rate-limit 1200/min --token-rate-limit 6000/min
              landmap serve --host 127.0.0.1 --trusted-proxy 127.0.0.1,::1   (behind nginx on this machine)
              curl 'http://127.0.0.1:8080/parcels/at?lon=106.7483&lat=10.7348'

            Rate limits: callers without a token are limited per client address (IPv6 per /64), \
            6000/min by default, which the web map never reaches; token holders only when their \
            token has its own limit (token create --rate-limit) or --token-rate-limit is set. Each \
            caller has a bucket of N requests refilled at N a minute (one every 60/N s), so N may \
            come at once; a request finding it empty gets 429 with Retry-After (seconds until it \
            holds one). /health and /metrics are never limited. Limits are per node: behind a \
            load balancer over K nodes a client may get up to K times the limit.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("A streaming replica of --db (PostgreSQL) to read from; also $LANDMAP_READ_DB.",
                               discussion: """
                                   Items, lookups, tiles and downloads are read from it; writes, tokens and the change feed go to --db. \
                                   Token holders (the only callers who write) read from --db, so each sees its own writes at once. \
                                   While the replica cannot be reached, reads go to --db; while --db cannot, writes answer 503 and reads go on.
                                   """, valueName: "url"))
    var readDb: String?
    @Option(help: "Address to listen on (0.0.0.0 for every interface).") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Where the sample data is (default: GeoData/ here or beside the binary).") var sampleDir: String?
    @Option(help: "Log level: trace, debug, info (one line per request), notice, warning, error.") var logLevel = "info"
    @Option(help: ArgumentHelp("How log lines are written to stderr: text, or json (one object per line, for log collection).",
                               valueName: "format"))
    var logFormat = "text"
    @Option(help: ArgumentHelp("An XYZ raster basemap drawn under the layers (none by default: the map works offline).",
                               discussion: "e.g. 'https://tile.openstreetmap.org/{z}/{x}/{y}.png'; also $LANDMAP_BASEMAP_URL."))
    var basemapUrl: String?
    @Option(help: "The basemap's attribution, shown on the map (e.g. '© OpenStreetMap contributors').") var basemapAttribution = ""
    @Option(help: ArgumentHelp("Seconds a request may run before it is stopped and answered 503.",
                               discussion: "Long reads (low-zoom tiles over big layers) stop at the limit; uploads to POST /imports are exempt."))
    var requestTimeout = 30.0
    @Option(help: "Refuse uploaded and edited features with more vertices than this (SPEC §5).")
    var maxVertices = ImportOptions.defaultMaxVertices
    @Option(help: ArgumentHelp("Seconds a connection may sit idle, or take to send its request headers, before it is closed.",
                               discussion: "Idle keep-alive connections and slow (or stalled) clients hold a descriptor each; SPEC §5's default is 60."))
    var idleTimeout = 60.0
    @Option(help: ArgumentHelp("The folder GET /downloads/… keeps its files in.",
                               discussion: "Default: beside a GeoPackage (landmap.gpkg → landmap.gpkg.downloads/); for PostgreSQL, landmap-downloads-<hash of the URL> in the temporary folder. Emptied at start."))
    var downloadCache: String?
    @Option(help: "The most bytes of download files kept on disk (least recently used removed first).")
    var downloadCacheBytes = 2 << 30
    @Option(help: ArgumentHelp("Threads that read and write connections (default: half the cores, at least one).",
                               discussion: "Requests are answered on Swift's own threads, one per core; more connection threads than half the cores made them trade places with those under load, and lengthened the slowest answers."))
    var eventLoops: Int?
    @Option(help: ArgumentHelp("Requests a minute per client address for callers without a token, or 'off'.",
                               discussion: "Exceeding it answers 429 with Retry-After. /health and /metrics are exempt. Benchmarks and load tests from one address: off.",
                               valueName: "N/min|off"))
    var rateLimit = "\(RateLimits.serveDefaultAnonymous)/min"
    @Option(help: ArgumentHelp("Requests a minute per token for tokens without their own limit, or 'off' (the default).",
                               discussion: "A token's own limit (token create --rate-limit) applies whatever this is, also with --rate-limit off.",
                               valueName: "N/min|off"))
    var tokenRateLimit = "off"
    @Option(help: ArgumentHelp("A proxy (address or CIDR range, IPv4 or IPv6) whose X-Forwarded-For names the client; repeat or comma-separate.",
                               discussion: """
                                   Only a request whose TCP peer is in these ranges has its X-Forwarded-For read: the client is the right-most \
                                   address in it that is not itself a trusted proxy. From anyone else the header is ignored, so a client cannot \
                                   choose the address it is limited and logged by. Behind nginx on this machine: --trusted-proxy 127.0.0.1,::1.
                                   """, valueName: "cidr,…"))
    var trustedProxy: [String] = []

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown log level '\(logLevel)'") }
        switch logFormat {
        case "text": break
        case "json": LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        default: throw ValidationError("--log-format must be text or json, not '\(logFormat)'")
        }
        let limits = try Self.rateLimits(anonymous: rateLimit, tokens: tokenRateLimit, trustedProxies: trustedProxy)
        var logger = Logger(label: "landmap")
        logger.logLevel = level
        let replica = (readDb ?? ProcessInfo.processInfo.environment["LANDMAP_READ_DB"]).flatMap { $0.isEmpty ? nil : $0 }
        let store = try options.openStore(create: true, replica: replica)
        if try store.layers().isEmpty {
            guard let dir = sampleDir.map({ URL(fileURLWithPath: $0) }) ?? SampleLoader.locate() else {
                throw CLIError("the database is empty and no GeoData/ sample was found: import data, or pass --sample-dir")
            }
            logger.info("empty database: importing the sample", metadata: ["from": .string(dir.path)])
            do {
                for report in try SampleLoader.load(from: dir, into: store, actor: "serve:sample") {
                    logger.info("imported", metadata: ["layer": .string(report.layer), "features": .string("\(report.written?.inserted ?? 0)")])
                }
            } catch where (try? store.layers().isEmpty) == false {
                // Several servers started together on one empty PostgreSQL: one loads the sample.
                logger.info("another process has loaded the database meanwhile; serving it", metadata: ["because": .string("\(error)")])
            }
        }
        let registry = PrometheusCollectorRegistry()
        LandMapServer.bootstrapMetrics(registry)
        var configuration = ServerConfiguration()
        guard requestTimeout > 0, requestTimeout <= 86_400 else { throw ValidationError("--request-timeout must be between 0 and 86400 seconds, not \(requestTimeout)") }
        configuration.requestTimeout = .milliseconds(Int64(requestTimeout * 1000))
        guard maxVertices > 0 else { throw ValidationError("--max-vertices must be a positive number, not \(maxVertices)") }
        configuration.maxVertices = maxVertices
        guard idleTimeout > 0, idleTimeout <= 86_400 else { throw ValidationError("--idle-timeout must be between 0 and 86400 seconds, not \(idleTimeout)") }
        configuration.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        guard downloadCacheBytes >= 0 else { throw ValidationError("--download-cache-bytes must not be negative, not \(downloadCacheBytes)") }
        configuration.downloadCacheBytes = downloadCacheBytes
        configuration.downloadCacheFolder = downloadCache
        if let eventLoops {
            guard (1...256).contains(eventLoops) else { throw ValidationError("--event-loops must be between 1 and 256, not \(eventLoops)") }
            configuration.eventLoops = eventLoops
        }
        configuration.rateLimits = limits
        if let files = DescriptorLimit.raise() {
            logger.info("open files limit", metadata: ["before": .stringConvertible(files.before), "now": .stringConvertible(files.after)])
        }
        if let url = basemapUrl ?? ProcessInfo.processInfo.environment["LANDMAP_BASEMAP_URL"], !url.isEmpty {
            // Its origin goes into the web map's Content-Security-Policy: a plain host, no {s}.
            guard SecurityHeaders.origin(of: url) != nil, url.contains("{z}"), url.contains("{x}"), url.contains("{y}") else {
                throw ValidationError("--basemap-url must be an http(s) URL on a plain host with {z}, {x} and {y} in it, got '\(url)'")
            }
            configuration.basemap = .init(url: url, attribution: basemapAttribution)
        }
        let state = try ServerState(store: store, configuration: configuration, metrics: registry)
        var place: Logger.Metadata = ["url": .string("http://\(host):\(port)/"), "db": .string(StoreLocation.redacted(options.db)),
                                      "rate_limit": .string(rateLimit), "token_rate_limit": .string(tokenRateLimit)]
        if !trustedProxy.isEmpty { place["trusted_proxies"] = .string(configuration.rateLimits.trustedProxies.ranges.map(\.description).joined(separator: ",")) }
        if let replica { place["read_db"] = .string(StoreLocation.redacted(replica)) }
        logger.info("serving", metadata: place)
        try await LandMapServer.run(state, host: host, port: port, logger: logger)
    }
}

extension ServeCommand {
    /// `--rate-limit`, `--token-rate-limit` (`N/min` or `off`) and `--trusted-proxy` as `RateLimits`.
    static func rateLimits(anonymous: String, tokens: String, trustedProxies: [String]) throws -> RateLimits {
        func limit(_ text: String, _ option: String) throws -> Int? {
            if text.trimmingCharacters(in: .whitespaces).lowercased() == "off" { return nil }
            do { return try TermsText.perMinute(text, option: option) } catch { throw ValidationError(error.description + ", or off") }
        }
        var limits = RateLimits(anonymous: try limit(anonymous, "--rate-limit"), tokens: try limit(tokens, "--token-rate-limit"))
        do { limits.trustedProxies = try TrustedProxies(parsing: trustedProxies) } catch { throw ValidationError(error.description) }
        return limits
    }
}

struct LoadSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-sample",
        abstract: "Import the sample in GeoData/ (wards, District 7 zoning, generated parcels) and print the reports.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Where the sample data is (default: GeoData/ here or beside the binary).") var sampleDir: String?

    func run() throws {
        guard let dir = sampleDir.map({ URL(fileURLWithPath: $0) }) ?? SampleLoader.locate() else {
            throw CLIError("no GeoData/ sample found: run from the LandMap folder, or pass --sample-dir")
        }
        let store = try options.openStore(create: true)
        for report in try SampleLoader.load(from: dir, into: store, actor: "cli:load-sample") {
            print("== \(report.layer)")
            print(report.text(limit: 5))
            print(ImportCommand.outcome(report))
        }
    }
}
