import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client over POSIX sockets, for what an HTTP client library will not do: stay
/// idle, trickle a request head, send a request line of 100 KB, watch the server close.
/// Waits run on a thread of their own: a blocked `poll` must not take one of the few threads
/// the server under test answers on.
final class RawConnection: Sendable {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
    }

    deinit { close(fd) }

    /// Sends all of `text`; false once the server has closed the connection.
    @discardableResult func send(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            bytes = bytes.dropFirst(n)
        }
        return true
    }

    /// Reads until the server closes the connection or `seconds` pass: what was read, and
    /// whether the server closed.
    func read(for seconds: Double) async -> (text: String, closed: Bool) {
        await withCheckedContinuation { done in
            Thread.detachNewThread { done.resume(returning: self.blockingRead(for: seconds)) }
        }
    }

    private func blockingRead(for seconds: Double) -> (text: String, closed: Bool) {
        let end = Date().addingTimeInterval(seconds)
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let left = end.timeIntervalSinceNow
            guard left > 0 else { return (String(decoding: data, as: UTF8.self), false) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (String(decoding: data, as: UTF8.self), true) }
            data += buffer[..<n]
        }
    }

    /// Seconds until the server closes the connection, nil if it is still open after `seconds`.
    func secondsUntilClosed(within seconds: Double) async -> Double? {
        let start = Date()
        return await read(for: seconds).closed ? Date().timeIntervalSince(start) : nil
    }
}
