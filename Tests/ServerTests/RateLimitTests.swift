import Access
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
@testable import Server
import Store
import Testing
import TestSupport

/// SPEC §12: rate limits per client address (anonymous) or per token, 429 with Retry-After and
/// a problem document, /health and /metrics exempt; X-Forwarded-For only from trusted proxies;
/// expired tokens refused; the last address of a token recorded.
@Suite struct RateLimitTests {
    /// A server state of its own over the shared sample, with `limits` and its own metrics.
    func state(_ limits: RateLimits, store: (any LandMapStore)? = nil) throws -> ServerState {
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        configuration.rateLimits = limits
        // Time stands still: however slow the machine, no bucket refills during a test.
        configuration.rateLimits.clock = ManualClock().read
        configuration.downloadCacheFolder = try SharedData.temporaryDirectory("ratelimit-downloads").path
        return try ServerState(store: try store ?? ServerFixture.shared.get().store, configuration: configuration, metrics: PrometheusCollectorRegistry())
    }

    func from(_ address: String) -> HTTPFields { [.xForwardedFor: address] }

    func metrics(_ client: some TestClientProtocol) async throws -> String {
        try await client.execute(uri: "/metrics", method: .get) { $0.text }
    }

    @Test func theNPlusFirstRequestIs429ForOneClientWhileAnotherIsServed() async throws {
        var limits = RateLimits(anonymous: 3)
        limits.trustedProxies = try TrustedProxies(parsing: ["127.0.0.1,::1"])
        let state = try state(limits)
        try await LandMapServer.application(state, host: "127.0.0.1", port: 0).test(.live) { client in
            for i in 1...3 {
                try await client.execute(uri: "/collections", method: .get, headers: from("203.0.113.7")) { #expect($0.status == .ok, "request \(i)") }
            }
            try await client.execute(uri: "/collections", method: .get, headers: from("203.0.113.7")) { r in
                #expect(r.status == .tooManyRequests)
                let wait = try #require(r.headers[.retryAfter].flatMap { Int($0) })
                #expect(wait == 20)  // 3 a minute: one every 20 s
                #expect(r.headers[.contentType] == "application/problem+json")
                #expect(r.json.value?["status"]?.doubleValue == 429 && r.json.value?["title"]?.stringValue == "Too Many Requests")
                #expect(r.json.value?["detail"]?.stringValue?.contains("3 requests a minute") == true)
            }
            // Another client behind the same proxy is served.
            try await client.execute(uri: "/collections", method: .get, headers: from("203.0.113.8")) { #expect($0.status == .ok) }
            // Writing the limited address further left changes nothing: the proxy appended it last.
            try await client.execute(uri: "/collections", method: .get, headers: from("203.0.113.8, 203.0.113.7")) { #expect($0.status == .tooManyRequests) }
            // /health and /metrics are never limited.
            for _ in 0..<5 {
                try await client.execute(uri: "/health", method: .get, headers: from("203.0.113.7")) { #expect($0.status == .ok) }
                try await client.execute(uri: "/metrics", method: .get, headers: from("203.0.113.7")) { #expect($0.status == .ok) }
            }
            let text = try await metrics(client)
            #expect(text.contains(#"landmap_rate_limited_total{caller="anonymous"} 2"#), "\(text.split(separator: "\n").filter { $0.contains("rate_limited") })")
            #expect(text.contains(#"landmap_rate_limited_total{caller="token"} 0"#))
        }
    }

    @Test func forwardedForFromAnUntrustedPeerIsIgnored() async throws {
        let state = try state(RateLimits(anonymous: 2))
        try await LandMapServer.application(state, host: "127.0.0.1", port: 0).test(.live) { client in
            // Each request claims another address; all come from 127.0.0.1, which is what counts.
            for (i, claimed) in ["198.51.100.1", "198.51.100.2"].enumerated() {
                try await client.execute(uri: "/conformance", method: .get, headers: from(claimed)) { #expect($0.status == .ok, "request \(i + 1)") }
            }
            try await client.execute(uri: "/conformance", method: .get, headers: from("198.51.100.3")) { #expect($0.status == .tooManyRequests) }
            try await client.execute(uri: "/conformance", method: .get) { #expect($0.status == .tooManyRequests) }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func forwardedHostAndProtoShapeLinksOnlyFromATrustedProxy() async throws {
        let headers: HTTPFields = [.forwardedHost: "evil.example", .forwardedProto: "https"]
        // Untrusted (here no peer at all): the links name the Host the request was sent to.
        try await Application(router: LandMapServer.router(try state(RateLimits()))).test(.router) { client in
            try await client.execute(uri: "/?f=json", method: .get, headers: headers) { r in
                #expect(r.status == .ok && !r.text.contains("evil.example") && !r.text.contains("https://"), "\(r.text.prefix(300))")
            }
        }
        var limits = RateLimits()
        limits.trustedProxies = try TrustedProxies(parsing: ["127.0.0.1", "::1"])
        try await LandMapServer.application(try state(limits), host: "127.0.0.1", port: 0).test(.live) { client in
            try await client.execute(uri: "/?f=json", method: .get, headers: headers) { r in
                #expect(r.status == .ok && r.text.contains("https://evil.example/"), "\(r.text.prefix(300))")
            }
        }
    }

    @Test func aTokensOwnLimitAppliesToItAndATokenWithoutOneIsNotLimited() async throws {
        let state = try state(RateLimits(anonymous: 2, tokens: nil))
        let tokens = AccessTokens(store: state.store)
        let limited = try tokens.create(name: "rate-test-app-\(UUID().uuidString.prefix(8))", role: .reader, terms: TokenTerms(rateLimit: 3), actor: "tests").token
        let free = try tokens.create(name: "rate-test-gis-\(UUID().uuidString.prefix(8))", role: .reader, actor: "tests").token
        try await Application(router: LandMapServer.router(state)).test(.router) { client in
            for _ in 1...3 { try await client.execute(uri: "/collections", method: .get, headers: bearer(limited)) { #expect($0.status == .ok) } }
            try await client.execute(uri: "/collections", method: .get, headers: bearer(limited)) { r in
                #expect(r.status == .tooManyRequests && r.headers[.retryAfter] != nil)
                #expect(r.json.value?["detail"]?.stringValue?.contains("from token") == true)
            }
            // The token's count is its own: anonymous callers are not affected by it, nor it by theirs.
            for _ in 1...2 { try await client.execute(uri: "/collections", method: .get) { #expect($0.status == .ok) } }
            try await client.execute(uri: "/collections", method: .get) { #expect($0.status == .tooManyRequests) }
            // No limit of its own and no server default for tokens: never limited.
            for _ in 1...20 { try await client.execute(uri: "/conformance", method: .get, headers: bearer(free)) { #expect($0.status == .ok) } }
            let text = try await metrics(client)
            #expect(text.contains(#"landmap_rate_limited_total{caller="token"} 1"#) && text.contains(#"landmap_rate_limited_total{caller="anonymous"} 1"#))
        }
        // A server default for tokens applies to tokens without their own limit.
        let strict = try self.state(RateLimits(anonymous: nil, tokens: 2))
        try await Application(router: LandMapServer.router(strict)).test(.router) { client in
            for _ in 1...2 { try await client.execute(uri: "/conformance", method: .get, headers: bearer(free)) { #expect($0.status == .ok) } }
            try await client.execute(uri: "/conformance", method: .get, headers: bearer(free)) { #expect($0.status == .tooManyRequests) }
            // Its own limit (3) wins over the default (2), higher or lower.
            for _ in 1...3 { try await client.execute(uri: "/conformance", method: .get, headers: bearer(limited)) { #expect($0.status == .ok) } }
            for _ in 1...5 { try await client.execute(uri: "/conformance", method: .get) { #expect($0.status == .ok) } }  // anonymous: off
        }
    }

    @Test func refusedTokensCountAgainstTheAddress() async throws {
        let state = try state(RateLimits(anonymous: 2))
        try await Application(router: LandMapServer.router(state)).test(.router) { client in
            let guess = bearer("lm_000000000000_" + String(repeating: "A", count: 43))
            for _ in 1...2 { try await client.execute(uri: "/collections", method: .get, headers: guess) { #expect($0.status == .unauthorized) } }
            try await client.execute(uri: "/collections", method: .get, headers: guess) { #expect($0.status == .tooManyRequests) }
            try await client.execute(uri: "/collections", method: .get, headers: [.authorization: "Basic eDp5"]) { #expect($0.status == .tooManyRequests) }
            let text = try await metrics(client)
            #expect(text.contains(#"landmap_auth_failures_total{reason="unknown"} 2"#))
        }
    }

    /// A refused token's audit entry names the client's address (a trusted proxy's
    /// X-Forwarded-For), so an operator answering the token-guessing alert knows whom to block.
    @Test func aRefusedTokenIsAuditedWithTheClientsAddress() async throws {
        let (_, store) = try ServerFixture.sampleCopy("refused-address", .geoPackage)
        var limits = RateLimits()
        limits.trustedProxies = try TrustedProxies(parsing: ["127.0.0.1", "::1"])
        let state = try state(limits, store: store)
        try await LandMapServer.application(state, host: "127.0.0.1", port: 0).test(.live) { client in
            var headers = bearer("lm_000000000000_" + String(repeating: "A", count: 43))
            headers[.xForwardedFor] = "203.0.113.77"
            try await client.execute(uri: "/collections", method: .get, headers: headers) { #expect($0.status == .unauthorized) }
        }
        state.audit.flush()
        let entries = try store.auditLog(limit: 5, actor: nil, action: "auth.refused")
        #expect(entries.first?.detail == "no such token from 203.0.113.77", "\(entries.map(\.detail))")
    }

    @Test func anExpiredTokenIs401AuditedCountedAndListedExpired() async throws {
        let (db, store) = try ServerFixture.sampleCopy("expired-token", .geoPackage)
        let state = try state(RateLimits(), store: store)
        let tokens = AccessTokens(store: store)
        // One that expired a moment ago, one that expires in an hour (no sleeping: a loaded machine
        // could let a short-lived token expire before its first request).
        let (record, token) = try tokens.create(name: "contractor", role: .reader, terms: TokenTerms(expires: Date().addingTimeInterval(-0.5)), actor: "tests")
        let current = try tokens.create(name: "contractor-2", role: .reader, terms: TokenTerms(expires: Date().addingTimeInterval(3600)), actor: "tests").token
        try await Application(router: LandMapServer.router(state)).test(.router) { client in
            try await client.execute(uri: "/collections", method: .get, headers: bearer(current)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/collections", method: .get, headers: bearer(token)) { r in
                #expect(r.status == .unauthorized)
                #expect(r.json.value?["detail"]?.stringValue?.contains("token \(record.key) has expired") == true)
                #expect(r.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
            }
            try await client.execute(uri: "/collections", method: .get, headers: [.authorization: "Bearer nonsense"]) { #expect($0.status == .unauthorized) }
            let text = try await metrics(client)
            #expect(text.contains(#"landmap_auth_failures_total{reason="expired"} 1"#) && text.contains(#"landmap_auth_failures_total{reason="malformed"} 1"#))
            #expect(text.contains(#"landmap_auth_failures_total{reason="revoked"} 0"#) && text.contains(#"landmap_refusals_total{reason="unauthenticated"} 2"#))
        }
        state.audit.flush()
        #expect(try store.auditLog(limit: 5, actor: nil, action: "auth.refused").contains { $0.detail.contains("has expired") })
        // `token list` says so, in text and JSON.
        let landmap = try #require(SharedData.product("landmap"), "no landmap binary beside the tests: swift build --build-tests builds it")
        let list = try SharedData.run(landmap, ["token", "list", "--db", db])
        let line = { (name: String) in list.output.split(separator: "\n").first { $0.contains(" \(name) ") }.map(String.init) ?? "" }
        #expect(list.status == 0 && line("contractor").contains("expired 20") && !line("contractor-2").contains("expired"), "\(list.output)")
        let json = try SharedData.run(landmap, ["token", "list", "--db", db, "--json"])
        #expect(json.output.contains(#""expired":true"#) && json.output.contains(#""expired":false"#) && json.output.contains(#""expires":"20"#), "\(json.output)")
    }

    @Test func theLastAddressOfATokenIsRecordedAndAChangeAtOnce() async throws {
        let (db, store) = try ServerFixture.sampleCopy("last-address", .geoPackage)
        var limits = RateLimits()
        limits.trustedProxies = try TrustedProxies(parsing: ["127.0.0.1", "::1"])
        let state = try state(limits, store: store)
        let (record, token) = try AccessTokens(store: store).create(name: "field-tablet", role: .reader, actor: "tests")
        try await LandMapServer.application(state, host: "127.0.0.1", port: 0).test(.live) { client in
            var headers = bearer(token)
            headers[.xForwardedFor] = "198.51.100.23"
            try await client.execute(uri: "/collections", method: .get, headers: headers) { #expect($0.status == .ok) }
            state.audit.flush()
            #expect(try store.token(key: record.key)?.lastAddress == "198.51.100.23")
            // Within the minute from the same address: nothing new. From another one (a second on): recorded at once.
            try await Task.sleep(for: .seconds(1.1))
            headers[.xForwardedFor] = "2001:db8:7::5"
            try await client.execute(uri: "/collections", method: .get, headers: headers) { #expect($0.status == .ok) }
            state.audit.flush()
            #expect(try store.token(key: record.key)?.lastAddress == "2001:db8:7::5")
            // Without a trusted proxy's header, the TCP peer is the address.
            try await Task.sleep(for: .seconds(1.1))
            try await client.execute(uri: "/collections", method: .get, headers: bearer(token)) { #expect($0.status == .ok) }
            state.audit.flush()
            #expect(try store.token(key: record.key)?.lastAddress == "127.0.0.1")
        }
        #expect(try store.auditLog(limit: 10, actor: "token:field-tablet", action: "token.use").map(\.detail)
                == ["reader from 127.0.0.1", "reader from 2001:db8:7::5", "reader from 198.51.100.23"])
        let landmap = try #require(SharedData.product("landmap"))
        let list = try SharedData.run(landmap, ["token", "list", "--db", db])
        #expect(list.output.contains("127.0.0.1"), "\(list.output)")
    }
}
