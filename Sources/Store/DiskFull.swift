import Foundation
import GRDB

/// Whether an error means the disk is full: SQLite's `SQLITE_FULL` (a write that needed a new
/// page; SQLite rolls the statement back and the batch's transaction is rolled back), or
/// `ENOSPC`/`EDQUOT` from a file write. The server answers these 507, naming the cause, not 500.
public enum DiskFull {
    /// The cause in a few words, or nil when `error` is not a full disk.
    public static func cause(of error: any Error) -> String? {
        if let db = error as? DatabaseError {
            return db.resultCode == .SQLITE_FULL ? "SQLite: database or disk is full" : nil
        }
        if let posix = error as? POSIXError, posix.code == .ENOSPC || posix.code == .EDQUOT {
            return "no space left on device"
        }
        if let cocoa = error as? CocoaError, cocoa.code == .fileWriteOutOfSpace { return "no space left on device" }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain, ns.code == Int(ENOSPC) || ns.code == Int(EDQUOT) { return "no space left on device" }
        return nil
    }
}
