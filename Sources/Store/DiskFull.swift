import Foundation

/// An error a backend knows to mean "the disk is full": SQLite's `SQLITE_FULL`, PostgreSQL's
/// `disk_full`. Each backend conforms its own error type.
public protocol DiskFullError: Error {
    /// The cause in a few words, or nil when this error is something else.
    var diskFullCause: String? { get }
}

/// Whether an error means the disk is full: a backend's own error (`DiskFullError`: the batch's
/// transaction is rolled back), or `ENOSPC`/`EDQUOT` from a file write. The server answers
/// these 507, naming the cause, not 500.
public enum DiskFull {
    /// The cause in a few words, or nil when `error` is not a full disk.
    public static func cause(of error: any Error) -> String? {
        if let backend = error as? any DiskFullError { return backend.diskFullCause }
        if let posix = error as? POSIXError, posix.code == .ENOSPC || posix.code == .EDQUOT {
            return "no space left on device"
        }
        if let cocoa = error as? CocoaError, cocoa.code == .fileWriteOutOfSpace { return "no space left on device" }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain, ns.code == Int(ENOSPC) || ns.code == Int(EDQUOT) { return "no space left on device" }
        return nil
    }
}
