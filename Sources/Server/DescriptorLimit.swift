#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit. Every connection holds a descriptor, and many systems start
/// a process at a soft limit of 1 024 with a hard limit far higher: `serve` raises the soft
/// limit to the hard one so thousands of idle clients do not lock others out. When the limit is
/// reached anyway, NIO's accept backoff pauses accepting instead of spinning.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard limit; the limits before and after, nil if they
    /// cannot be read. The caller logs them.
    public static func raise() -> (before: UInt64, after: UInt64)? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let before = UInt64(limit.rlim_cur)
        guard limit.rlim_cur < limit.rlim_max else { return (before, before) }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (before, before) }
        return (before, UInt64(limit.rlim_cur))
    }
}
