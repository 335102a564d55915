import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
@testable import Server
import TestSupport
import Testing

/// SPEC §12: the alert rules in Tools/monitoring are valid and do what their unit tests say, and
/// a real Prometheus (Debian `prometheus`, installed by Tools/setup.sh) scraping a live LandMap
/// with those rules loaded sees the token-guessing alert once 50 requests carry wrong tokens.
@Suite(.serialized) struct MonitoringTests {
    static let folder = SharedData.packageRoot.appendingPathComponent("Tools/monitoring")

    static func tool(_ name: String) throws -> String {
        try #require(SharedData.which(name), "\(name) is not installed: run Tools/setup.sh (Debian package prometheus)")
    }

    @Test func theRulesAreValidAndPassTheirUnitTests() throws {
        let promtool = try Self.tool("promtool")
        let check = try SharedData.run(promtool, ["check", "rules", Self.folder.appendingPathComponent("alerts.yml").path])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("SUCCESS"), "\(check.output)")
        let unit = try SharedData.run(promtool, ["test", "rules", Self.folder.appendingPathComponent("alerts.test.yml").path])
        #expect(unit.status == 0, "\(unit.output)")
    }

    /// Every alert the rules raise has its entry in the runbook, and every metric they read is
    /// one LandMap exports (or Prometheus's own `up`), so a renamed metric cannot silence one.
    @Test func everyAlertHasARunbookEntryAndReadsMetricsLandMapExports() throws {
        let rules = try String(contentsOf: Self.folder.appendingPathComponent("alerts.yml"), encoding: .utf8)
        let operations = try String(contentsOf: SharedData.packageRoot.appendingPathComponent("Docs/OPERATIONS.md"), encoding: .utf8)
        let alerts = rules.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("- alert: ") ? String(t.dropFirst("- alert: ".count)) : nil
        }
        #expect(alerts.count >= 10, "\(alerts)")
        for alert in alerts {
            #expect(operations.contains("### \(alert)"), "Docs/OPERATIONS.md has no section for \(alert)")
            #expect(rules.contains("Docs/OPERATIONS.md#\(alert.lowercased())"), "\(alert) does not link its runbook entry")
        }
        let exported = ["landmap_auth_failures_total", "landmap_rate_limited_total", "landmap_features_served_total", "landmap_refusals_total",
                        "landmap_audit_chain_ok", "landmap_db_quick_check_ok", "landmap_db_quick_check_timestamp_seconds",
                        "landmap_replica_up", "landmap_replica_lag_seconds", "hb_requests", "http_server_request_duration_count",
                        "http_server_request_duration_bucket", "up"]
        let read = Set(rules.matches(of: /\b([a-z_]+)\{/).map { String($0.output.1) })
            .union(rules.matches(of: /\b(landmap_[a-z_]+)\b/).map { String($0.output.1) })
        for name in read { #expect(exported.contains(name), "alerts.yml reads \(name), which nothing exports") }
    }

    @Test func prometheusSeesTokenGuessingAgainstALiveServer() async throws {
        let prometheus = try Self.tool("prometheus")
        // A registry of its own: other suites' refused tokens must not be what raises the alert.
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        let state = try ServerState(store: try ServerFixture.shared.get().store, configuration: configuration, metrics: PrometheusCollectorRegistry())
        try await LandMapServer.application(state, host: "127.0.0.1", port: 0).test(.live) { client in
            let port = try #require(client.port)
            let folder = try SharedData.temporaryDirectory("prometheus")
            defer { try? FileManager.default.removeItem(at: folder) }
            let promPort = try Self.freePort()
            try """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files:
                  - \(Self.folder.appendingPathComponent("alerts.yml").path)
                scrape_configs:
                  - job_name: landmap
                    static_configs:
                      - targets: ["127.0.0.1:\(port)"]
                """.write(to: folder.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: prometheus)
            process.arguments = ["--config.file=\(folder.appendingPathComponent("prometheus.yml").path)",
                                 "--storage.tsdb.path=\(folder.appendingPathComponent("data").path)",
                                 "--web.listen-address=127.0.0.1:\(promPort)", "--log.level=warn"]
            let log = folder.appendingPathComponent("prometheus.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            defer { process.terminate(); process.waitUntilExit() }
            let api = "http://127.0.0.1:\(promPort)"
            func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)).map { String($0.suffix(2000)) } ?? "" }

            // Prometheus up, scraping LandMap, and holding at least two samples of the counter
            // before any failure, so `increase` has a baseline.
            let samples = try await Self.poll(seconds: 60) { () -> Int? in
                let result = try await Self.json("\(api)/api/v1/query?query=" + Self.encoded("count_over_time(landmap_auth_failures_total{reason=\"unknown\"}[1m])"))
                let value = result?["data"]?["result"]?.arrayValue?.first?["value"]?.arrayValue?.last?.stringValue
                return value.flatMap { Int($0) }.flatMap { $0 >= 2 ? $0 : nil }
            }
            try #require(samples != nil, "Prometheus never scraped landmap_auth_failures_total: \(logText())")
            #expect(try await Self.alert("LandMapTokenGuessing", api) == nil, "the alert was raised before any wrong token")

            // 50 requests with wrong tokens: 25 that are no LandMap token, 25 that name no token.
            for i in 0..<50 {
                let token = i.isMultiple(of: 2) ? "not-a-token-\(i)" : "lm_\(String(format: "%012x", i))_\(String(repeating: "A", count: 43))"
                let response = try await client.execute(uri: "/collections", method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(response.status == .unauthorized)
            }
            let state = try await Self.poll(seconds: 60) { try await Self.alert("LandMapTokenGuessing", api) }
            #expect(state == "pending" || state == "firing", "the token-guessing alert was not raised within 60 s: \(logText())")
        }
    }

    /// `landmap_features_served_total{caller}` counts what each caller was answered: a token by
    /// its key, everyone else as `anonymous`; a cached tile counts again at every answer.
    @Test func featuresServedAreCountedPerCaller() async throws {
        let server = try EditableServer.make("served")
        let key = try #require(server.reader.split(separator: "_").dropFirst().first).lowercased()
        @Sendable func served(_ caller: String) -> Int {
            let line = server.state.metrics.emitToString().split(separator: "\n")
                .first { $0.hasPrefix("landmap_features_served_total{caller=\"\(caller)\"}") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }.map { Int($0) } ?? 0
        }
        #expect(served("anonymous") == 0 && served(key) == 0)
        try await server.test { client in
            let page = try await client.execute(uri: "/collections/parcels/items?limit=7", method: .get, headers: [.authorization: "Bearer \(server.reader)"])
            #expect(page.status == .ok)
            #expect(served(key) == 7 && served("anonymous") == 0)
            _ = try await client.execute(uri: "/collections/parcels/items?limit=3", method: .get)
            let lookup = try await client.execute(uri: "/parcels/at?lon=106.7483377&lat=10.734784", method: .get)
            let zones = lookup.json.value?["zoning"]?.arrayValue?.count ?? 0
            let parcel = lookup.json.value?["parcel"].map { $0 == .null ? 0 : 1 } ?? 0
            #expect(served("anonymous") == 3 + parcel + zones)
            // A tile: its features, each time it is answered, cached or not.
            let before = served("anonymous")
            let tile = try await client.execute(uri: "/tiles/parcels/16/52200/30802.mvt", method: .get)
            #expect(tile.status == .ok)
            let drawn = served("anonymous") - before
            #expect(drawn > 0, "a z16 tile in District 7 drew no parcels")
            _ = try await client.execute(uri: "/tiles/parcels/16/52200/30802.mvt", method: .get)
            #expect(served("anonymous") == before + 2 * drawn)
            #expect(served(key) == 7)
        }
    }

    /// The state (`pending`, `firing`) of an active alert by name, nil when it is not active.
    static func alert(_ name: String, _ api: String) async throws -> String? {
        let alerts = try await json("\(api)/api/v1/alerts")?["data"]?["alerts"]?.arrayValue ?? []
        return alerts.first { $0["labels"]?["alertname"]?.stringValue == name }?["state"]?.stringValue
    }

    /// A Prometheus API answer; nil while Prometheus is not answering yet.
    static func json(_ url: String) async throws -> JSONValue? {
        guard let curl = SharedData.which("curl") else { throw POSIXError(.ENOENT) }
        let answer = try SharedData.run(curl, ["-sf", "--max-time", "5", url])
        return answer.status == 0 ? try? JSONValue.parse(Data(answer.output.utf8)) : nil
    }

    static func encoded(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }

    /// Calls `body` every 250 ms until it gives a value or `seconds` pass.
    static func poll<T>(seconds: Double, _ body: () async throws -> T?) async throws -> T? {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if let v = try await body() { return v }
            try await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }

    /// A loopback port nothing listens on now (bound, read, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
