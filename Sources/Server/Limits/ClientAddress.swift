import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as 128 bits; IPv4 is kept in its IPv4-mapped form (`::ffff:a.b.c.d`),
/// so an IPv4 peer of a dual-stack socket and the same address in a header are one address.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The first and last 64 bits, in network order.
    public let high: UInt64
    public let low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// `127.0.0.1`, `2001:db8::1` or `::ffff:127.0.0.1`; nil for anything else (zones, ports, names).
    public init?(_ text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let string = String(text)
        var v4 = in_addr()
        if string.contains("."), !string.contains(":") {
            guard inet_pton(AF_INET, string, &v4) == 1 else { return nil }
            self.init(v4: UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, string, &v6) == 1 else { return nil }
        self.init(v6)
    }

    init(v4: UInt32) {
        self.init(high: 0, low: 0xffff_0000_0000 | UInt64(v4))
    }

    /// Read in place: no allocation on the request path.
    init(_ v6: in6_addr) {
        let (high, low) = withUnsafeBytes(of: v6) { raw in
            (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
        self.init(high: high, low: low)
    }

    /// The address of a connected socket; nil for a Unix socket or none (in-process tests).
    public init?(_ socket: SocketAddress?) {
        switch socket {
        case .v4(let a)?: self.init(v4: UInt32(bigEndian: a.address.sin_addr.s_addr))
        case .v6(let a)?: self.init(a.address.sin6_addr)
        default: return nil
        }
    }

    public var isV4: Bool { high == 0 && low >> 32 == 0xffff }

    public var description: String {
        if isV4 {
            let v = UInt32(truncatingIfNeeded: low)
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        }
        var bytes = [UInt8]()
        for word in [high, low] { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) } }
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &text, socklen_t(text.count)) != nil else { return "::" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address range, `10.0.0.0/8`, `2001:db8::/32`, or one address (`127.0.0.1`, `::1`).
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    let base: IPAddress
    /// Leading bits that must match, of the 128 (an IPv4 /8 is 96 + 8).
    let bits: Int
    public let description: String

    /// Host bits set in the base are ignored (`10.1.2.3/8` is `10.0.0.0/8`), as nginx does.
    public init?(_ text: some StringProtocol) {
        let t = text.trimmingCharacters(in: .whitespaces)
        let parts = t.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let width = address.isV4 ? 32 : 128
        var prefix = width
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(parts[1]), n <= width else { return nil }
            prefix = n
        }
        bits = prefix + (128 - width)
        base = Self.masked(address, bits)
        description = t
    }

    public func contains(_ address: IPAddress) -> Bool {
        Self.masked(address, bits) == base
    }

    static func masked(_ a: IPAddress, _ bits: Int) -> IPAddress {
        func mask(_ n: Int) -> UInt64 { n <= 0 ? 0 : n >= 64 ? .max : ~(UInt64.max >> UInt64(n)) }
        return IPAddress(high: a.high & mask(bits), low: a.low & mask(bits - 64))
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`landmap serve --trusted-proxy`). The
/// client is the TCP peer, unless the peer is a trusted proxy: then it is the right-most
/// address of `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the
/// address it got the request from; what lies left of that was written by the client and is
/// never read). With no trusted proxies, the header is ignored: anyone can send it.
public struct TrustedProxies: Sendable, Equatable {
    public let ranges: [AddressRange]

    public static let none = TrustedProxies(ranges: [])

    public init(ranges: [AddressRange]) {
        self.ranges = ranges
    }

    /// From `--trusted-proxy` values, each one range or a comma list; throws naming the bad one.
    public init(parsing values: [String]) throws(TrustedProxyError) {
        var ranges = [AddressRange]()
        for value in values {
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let range = AddressRange(item) else {
                    throw TrustedProxyError(description: "--trusted-proxy '\(item.trimmingCharacters(in: .whitespaces))' is not an address or range (CIDR): e.g. 127.0.0.1, 10.0.0.0/8, ::1, fd00::/8")
                }
                ranges.append(range)
            }
        }
        self.init(ranges: ranges)
    }

    public func contains(_ address: IPAddress) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    /// The most `X-Forwarded-For` hops read from the right: a longer chain of trusted proxies is
    /// not a real deployment, and the walk stays cheap whatever the header holds.
    static let maxHops = 16

    /// Who sent the request: see the type's comment. `forwardedFor` are the header's field
    /// values in order (several fields are one comma list). An entry that is not an address
    /// (a trusted proxy wrote it, so it is not the client's doing) ends the walk at the last good hop.
    public func client(peer: IPAddress?, forwardedFor: [String]) -> IPAddress? {
        guard let peer, !ranges.isEmpty, contains(peer), !forwardedFor.isEmpty else { return peer }
        var client = peer
        var hops = 0
        // Read from the right without splitting the whole field: a client behind the proxy may
        // send tens of KiB of it, and only the last few entries matter.
        for field in forwardedFor.reversed() {
            var end = field.endIndex
            while true {
                let comma = field[..<end].lastIndex(of: ",")
                let start = comma.map { field.index(after: $0) } ?? field.startIndex
                hops += 1
                guard hops <= Self.maxHops, let address = Self.address(field[start..<end]) else { return client }
                client = address
                if !contains(address) { return client }
                guard let comma else { break }
                end = comma
            }
        }
        return client
    }

    /// An entry of `X-Forwarded-For`: an address, optionally `[v6]:port` or `v4:port` as some proxies write.
    static func address(_ entry: Substring) -> IPAddress? {
        let t = entry.trimmingCharacters(in: .whitespaces)
        if let direct = IPAddress(t) { return direct }
        if t.hasPrefix("["), let close = t.firstIndex(of: "]") { return IPAddress(t[t.index(after: t.startIndex)..<close]) }
        let parts = t.split(separator: ":")
        if parts.count == 2, parts[0].contains("."), parts[1].allSatisfy(\.isNumber) { return IPAddress(parts[0]) }
        return nil
    }
}

/// A `--trusted-proxy` value that is not an address or range.
public struct TrustedProxyError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
