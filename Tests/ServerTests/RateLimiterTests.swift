import Foundation
@testable import Server
import Synchronization
import Testing

/// A clock the test moves by hand, in nanoseconds.
final class ManualClock: Sendable {
    private let now = Mutex<UInt64>(1_000_000_000_000)
    var read: @Sendable () -> UInt64 { { [self] in now.withLock { $0 } } }
    func advance(seconds: Double) { now.withLock { $0 += UInt64(seconds * 1e9) } }
}

@Suite struct RateLimiterTests {
    let a = RateKey.address(IPAddress("203.0.113.7")), b = RateKey.address(IPAddress("203.0.113.8"))

    @Test func theNPlusFirstRequestWithinAMinuteIsRefused() {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock.read)
        for i in 1...60 { #expect(limiter.admit(a, perMinute: 60) == .allowed, "request \(i)") }
        let refused = limiter.admit(a, perMinute: 60)
        #expect(refused == .refused(retryAfterNanos: 1_000_000_000) && refused.retryAfterSeconds == 1)
        // Another caller has its own bucket.
        #expect(limiter.admit(b, perMinute: 60) == .allowed)
        // Refusals cost nothing: after the second the bucket holds exactly one more request.
        for _ in 0..<100 { _ = limiter.admit(a, perMinute: 60) }
        clock.advance(seconds: 0.999)
        #expect(limiter.admit(a, perMinute: 60) != .allowed)
        clock.advance(seconds: 0.001)
        #expect(limiter.admit(a, perMinute: 60) == .allowed)
        #expect(limiter.admit(a, perMinute: 60) != .allowed)
        // A minute of quiet: a full bucket again.
        clock.advance(seconds: 60)
        for _ in 1...60 { #expect(limiter.admit(a, perMinute: 60) == .allowed) }
        #expect(limiter.admit(a, perMinute: 60) != .allowed)
    }

    @Test func retryAfterIsWholeSecondsUntilTheNextRequest() {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock.read)
        for _ in 1...3 { #expect(limiter.admit(a, perMinute: 3) == .allowed) }
        clock.advance(seconds: 5)
        let refused = limiter.admit(a, perMinute: 3)
        #expect(refused == .refused(retryAfterNanos: 15_000_000_000) && refused.retryAfterSeconds == 15)
        #expect(RateLimiter.Decision.refused(retryAfterNanos: 1).retryAfterSeconds == 1)
        #expect(RateLimiter.Decision.refused(retryAfterNanos: 1_000_000_001).retryAfterSeconds == 2)
    }

    @Test func ipv6IsCountedPerSlash64AndIPv4PerAddress() {
        let limiter = RateLimiter(clock: ManualClock().read)
        #expect(limiter.admit(.address(IPAddress("2001:db8:1:2::1")), perMinute: 1) == .allowed)
        // Another address in the same /64: the same bucket.
        #expect(limiter.admit(.address(IPAddress("2001:db8:1:2:ffff:ffff:ffff:ffff")), perMinute: 1) != .allowed)
        #expect(limiter.admit(.address(IPAddress("2001:db8:1:3::1")), perMinute: 1) == .allowed)
        #expect(limiter.admit(.address(IPAddress("10.0.0.1")), perMinute: 1) == .allowed)
        #expect(limiter.admit(.address(IPAddress("10.0.0.2")), perMinute: 1) == .allowed)
        // An IPv4-mapped peer of a dual-stack socket is that IPv4 address.
        #expect(limiter.admit(.address(IPAddress("::ffff:10.0.0.1")), perMinute: 1) != .allowed)
        // Tokens and addresses never share a bucket.
        #expect(limiter.admit(.token(1), perMinute: 1) == .allowed && limiter.admit(.token(2), perMinute: 1) == .allowed)
    }

    @Test func memoryIsBoundedUnderAFloodOfAddressesAndIdleCallersAreForgotten() {
        let clock = ManualClock()
        let limiter = RateLimiter(capacity: 1_000, clock: clock.read)
        // A flood of new IPv6 /64s, each at its limit: the table never holds more than its capacity.
        var most = 0
        for i in 0..<100_000 {
            let key = RateKey.address(IPAddress(high: 0x2001_0db8_0000_0000 | UInt64(i), low: 1))
            _ = limiter.admit(key, perMinute: 1)
            if i % 97 == 0 { most = max(most, limiter.count) }
        }
        #expect(most <= 1_000 && limiter.count <= 1_000)
        // A caller active during the flood keeps its state: still refused.
        let busy = RateKey.address(IPAddress("198.51.100.1"))
        #expect(limiter.admit(busy, perMinute: 1) == .allowed)
        for i in 0..<5_000 {
            _ = limiter.admit(.address(IPAddress(high: 0x2001_0db9_0000_0000 | UInt64(i), low: 1)), perMinute: 1)
            if i % 100 == 0 { #expect(limiter.admit(busy, perMinute: 1) != .allowed) }
        }
        // Idle callers go: two quiet minutes later only the newcomer is kept.
        clock.advance(seconds: 121)
        #expect(limiter.admit(busy, perMinute: 1) == .allowed)
        #expect(limiter.count == 1)
    }

    @Test func manyThreadsGetExactlyTheLimit() async {
        let limiter = RateLimiter(clock: ManualClock().read)
        let allowed = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { (0..<500).reduce(0) { n, _ in n + (limiter.admit(.token(9), perMinute: 1000) == .allowed ? 1 : 0) } } }
            return await group.reduce(0, +)
        }
        #expect(allowed == 1000)
    }
}

@Suite struct ClientAddressTests {
    @Test func addressesParseAndPrint() {
        #expect(IPAddress("127.0.0.1")?.description == "127.0.0.1" && IPAddress("127.0.0.1")?.isV4 == true)
        #expect(IPAddress("::ffff:127.0.0.1") == IPAddress("127.0.0.1"))
        #expect(IPAddress("2001:DB8::1")?.description == "2001:db8::1" && IPAddress("::1")?.isV4 == false)
        for bad in ["", "localhost", "1.2.3", "1.2.3.256", "1.2.3.4:80", "fe80::1%eth0", "[::1]", "::1::2", " 1.2.3.4", String(repeating: "1", count: 100)] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func rangesMatchTheirPrefix() throws {
        func ip(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }
        func range(_ text: String) throws -> AddressRange { try #require(AddressRange(text)) }
        #expect(try range("10.1.2.3/8").contains(ip("10.255.0.1")) && !range("10.0.0.0/8").contains(ip("11.0.0.1")))
        #expect(try range("127.0.0.1").contains(ip("127.0.0.1")) && !range("127.0.0.1").contains(ip("127.0.0.2")))
        #expect(try range("fd00::/8").contains(ip("fd12::9")) && !range("fd00::/8").contains(ip("fe80::1")))
        // An IPv4 range never matches an IPv6 address outside the mapped block; ::/0 matches all.
        #expect(try range("0.0.0.0/0").contains(ip("1.2.3.4")) && !range("0.0.0.0/0").contains(ip("2001:db8::1")))
        #expect(try range("::/0").contains(ip("1.2.3.4")))
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "::/129", "example.org", "10.0.0.0/ 8", "/8", ""] {
            #expect(AddressRange(bad) == nil, "\(bad)")
        }
        #expect(throws: TrustedProxyError.self) { try TrustedProxies(parsing: ["127.0.0.1,,::1"]) }
        #expect(try TrustedProxies(parsing: ["127.0.0.1, ::1", "10.0.0.0/8"]).ranges.count == 3)
    }

    @Test func forwardedForIsReadOnlyFromTrustedProxiesRightToLeft() throws {
        let proxies = try TrustedProxies(parsing: ["127.0.0.1", "10.0.0.0/8"])
        let peer = IPAddress("127.0.0.1"), stranger = IPAddress("198.51.100.9")
        func client(_ peer: IPAddress?, _ header: [String]) -> String? { proxies.client(peer: peer, forwardedFor: header)?.description }
        #expect(client(peer, ["203.0.113.7"]) == "203.0.113.7")
        // What the client wrote is left of what the proxy appended: never read.
        #expect(client(peer, ["1.1.1.1, 203.0.113.7"]) == "203.0.113.7")
        // Trusted hops are skipped, over several fields too.
        #expect(client(peer, ["203.0.113.7, 10.0.0.5", "10.0.0.6"]) == "203.0.113.7")
        // Not from a trusted proxy: the header is ignored.
        #expect(client(stranger, ["203.0.113.7"]) == "198.51.100.9")
        #expect(TrustedProxies.none.client(peer: peer, forwardedFor: ["203.0.113.7"]) == peer)
        // No header, or only trusted hops: the last trusted hop.
        #expect(client(peer, []) == "127.0.0.1" && client(peer, ["10.0.0.5"]) == "10.0.0.5")
        // Garbage a proxy passed on ends the walk at the last good hop; ports and brackets are read.
        #expect(client(peer, ["203.0.113.7, garbage"]) == "127.0.0.1")
        #expect(client(peer, ["[2001:db8::5]:443"]) == "2001:db8::5" && client(peer, ["203.0.113.7:5120"]) == "203.0.113.7")
        // A long chain of trusted hops is read only so far.
        #expect(client(peer, [(["203.0.113.7"] + Array(repeating: "10.0.0.1", count: 50)).joined(separator: ",")]) == "10.0.0.1")
        #expect(client(nil, ["203.0.113.7"]) == nil)
        // A client's 20 000 entries in front of the proxy's: only the right end is read.
        #expect(client(peer, [String(repeating: "6.6.6.6, ", count: 20_000) + "203.0.113.7"]) == "203.0.113.7")
        #expect(client(peer, [String(repeating: "6.6.6.6, ", count: 20_000) + "203.0.113.7", ""]) == "127.0.0.1")
    }
}
