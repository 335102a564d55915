import GRDB
import Store

extension DatabaseError: DiskFullError {
    /// SQLite's `SQLITE_FULL`: a write needed a page the disk could not give.
    public var diskFullCause: String? {
        resultCode == .SQLITE_FULL ? "SQLite: database or disk is full" : nil
    }
}
