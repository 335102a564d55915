import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

/// SPEC §5: idle and slow-header connections are closed; a request head too large for the
/// decoder is answered with a problem document. A live server on a loopback port.
@Suite struct ConnectionTests {
    /// Runs `body` with the port of a live server whose idle timeout is `idle`.
    func live(idle: Duration, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        configuration.idleTimeout = idle
        let state = try ServerState(store: try ServerFixture.shared.get().store, configuration: configuration)
        try await LandMapServer.application(state, host: "127.0.0.1", port: 0).test(.live) { client in
            try await body(try #require(client.port))
        }
    }

    @Test func idleAndSlowHeaderConnectionsAreClosed() async throws {
        try await live(idle: .seconds(1)) { port in
            // Connected, silent: closed after about a second.
            let idle = try RawConnection(port: port)
            // (Generous bounds: a loaded two-core machine delays the timer — by 10 s once, with
            // the whole suite's 400 tests running beside it —, never by minutes.)
            let idleClosed = try #require(await idle.secondsUntilClosed(within: 30), "an idle connection stayed open")
            #expect(idleClosed > 0.8 && idleClosed < 30)
            // A request head trickled a header line every 200 ms: activity, but no request, so closed too.
            let slow = try RawConnection(port: port)
            slow.send("GET /health HTTP/1.1\r\nHost: localhost\r\n")
            let start = Date()
            var open = true
            while open, Date().timeIntervalSince(start) < 10 {
                open = slow.send("X-Slow: \(Int(Date().timeIntervalSince(start) * 1000))\r\n") 
                if open { open = await !slow.read(for: 0.2).closed }
            }
            #expect(!open, "a slow-header connection stayed open for 10 s")
            // A keep-alive connection after its answer: answered, then closed once idle.
            let kept = try RawConnection(port: port)
            kept.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let (answer, closed) = await kept.read(for: 30)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")
            #expect(closed, "\(answer)")
        }
    }

    @Test func busyConnectionsWithinTheTimeoutStayOpen() async throws {
        try await live(idle: .seconds(60)) { port in
            let idle = try RawConnection(port: port)
            #expect(await idle.secondsUntilClosed(within: 1.5) == nil)
            // Others are answered meanwhile.
            let other = try RawConnection(port: port)
            other.send("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            let (answer, closed) = await other.read(for: 30)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "closed: \(closed), \(answer.prefix(300))")
        }
    }

    @Test func aRequestHeadOverTheLimitIsAnsweredWithAProblem() async throws {
        try await live(idle: .seconds(60)) { port in
            let c = try RawConnection(port: port)
            c.send("GET /collections/parcels/items?q=\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let (answer, closed) = await c.read(for: 30)
            #expect(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large"), "\(answer.prefix(300))")
            #expect(answer.lowercased().contains("content-type: application/problem+json"))
            #expect(answer.lowercased().contains("x-content-type-options: nosniff"))  // SPEC §12, before the router too
            #expect(answer.contains("\"status\":431") && answer.contains("80 KiB"), "\(answer)")
            #expect(closed)
            // Not HTTP at all: 400 with a problem document.
            let junk = try RawConnection(port: port)
            junk.send("GET /\u{1}bad HTTP/1.1\r\n\r\n")
            let bad = await junk.read(for: 30).text
            #expect(bad.hasPrefix("HTTP/1.1 400"), "\(bad.prefix(300))")
            #expect(bad.contains("\"status\":400"))
        }
    }
}
