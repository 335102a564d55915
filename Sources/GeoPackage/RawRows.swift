import Foundation
import Geometry
import GRDB
import GRDBSQLite

/// A cached statement stepped through SQLite's C API, for the hot loops over many rows. GRDB's
/// `Row` cursor builds an index of column names for each cursor and checks every value's type
/// before converting it: for the couple of hundred candidates of an items page in a box, that
/// cost more than SQLite's own work. Columns are read by index, as the statement orders them.
struct RawRows {
    let statement: Statement

    init(_ statement: Statement, _ arguments: StatementArguments) throws {
        try statement.setArguments(arguments)
        self.statement = statement
    }

    /// A statement of one parameter, a key, bound straight through the C API: for reads by key
    /// made dozens of times a page, where GRDB's argument checks cost more than the read. GRDB
    /// does not know of this binding: such a statement must be run only through `RawRows` (or
    /// with its arguments given), never by GRDB with the arguments it last set.
    init(_ statement: Statement, key: Int64) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        let code = sqlite3_bind_int64(handle, 1, key)
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))), sql: statement.sql)
        }
        self.statement = statement
    }

    private var handle: OpaquePointer { statement.sqliteStatement }

    /// Steps to the next row: false past the last (the statement reset for its next use).
    func next() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        let message = code == SQLITE_DONE ? nil : String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
        sqlite3_reset(handle)
        if let message { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql) }
        return false
    }

    /// Leaves the statement wherever it is: every use ends with it (`defer`), since a statement
    /// left mid-row keeps its connection's read transaction open.
    func reset() {
        sqlite3_reset(handle)
    }

    func isInteger(_ column: Int) -> Bool {
        sqlite3_column_type(handle, Int32(column)) == SQLITE_INTEGER
    }

    /// A blob column's bytes in place, valid until the next step; nil for NULL or no bytes.
    func blob(_ column: Int) -> UnsafeRawBufferPointer? {
        guard let start = sqlite3_column_blob(handle, Int32(column)) else { return nil }
        return UnsafeRawBufferPointer(start: start, count: Int(sqlite3_column_bytes(handle, Int32(column))))
    }
}

extension RawRows: FeatureColumns {
    func int64(_ column: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(column))
    }

    func text(_ column: Int) -> String? {
        guard let start = sqlite3_column_text(handle, Int32(column)) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: start, count: Int(sqlite3_column_bytes(handle, Int32(column)))), as: UTF8.self)
    }

    func json(_ column: Int) -> JSONValue {
        switch sqlite3_column_type(handle, Int32(column)) {
        case SQLITE_INTEGER: .integer(int64(column))
        case SQLITE_FLOAT: .number(sqlite3_column_double(handle, Int32(column)))
        case SQLITE_TEXT: text(column).map(JSONValue.string) ?? .null
        case SQLITE_BLOB: .string(Data(blob(column) ?? UnsafeRawBufferPointer(start: nil, count: 0)).base64EncodedString())
        default: .null
        }
    }

    func withBlob<T>(_ column: Int, _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T {
        try body(blob(column))
    }
}
