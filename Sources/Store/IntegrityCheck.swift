import Foundation
import GRDB

/// What SQLite's `PRAGMA quick_check` found in the database file: b-tree pages, records, the
/// free list (not the UNIQUE indexes `integrity_check` adds, at several times the cost).
public struct IntegrityCheck: Hashable, Sendable {
    /// SQLite's words for each problem, at most the limit asked for; empty when the file is sound.
    public var problems: [String]
    public var checkedAt: Date
    public var seconds: Double

    public var isOK: Bool { problems.isEmpty }

    public init(problems: [String], checkedAt: Date, seconds: Double) {
        self.problems = problems
        self.checkedAt = checkedAt
        self.seconds = seconds
    }
}

extension GeoPackageStore {
    /// Runs `PRAGMA quick_check` on a reader's snapshot (writers go on meanwhile). Its time grows
    /// with the file, so it belongs in the background, never on a request's path. A file SQLite
    /// cannot read at all is a failed check with SQLite's message.
    public func quickCheck(limit: Int = 10) -> IntegrityCheck {
        let start = Date()
        var problems: [String]
        do {
            // One row per problem, or one row holding them all under a "*** in database" line.
            problems = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(\(max(1, limit)))") }
                .flatMap { $0.split(separator: "\n").map(String.init) }
                .filter { !$0.hasPrefix("*** in database") }
            if problems == ["ok"] { problems = [] } else if problems.isEmpty { problems = ["quick_check gave no answer"] }
        } catch {
            problems = ["\(error)"]
        }
        return IntegrityCheck(problems: problems, checkedAt: start, seconds: Date().timeIntervalSince(start))
    }
}
