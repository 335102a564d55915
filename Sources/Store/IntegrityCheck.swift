import Foundation

/// What SQLite's `PRAGMA quick_check` found in the database file: b-tree pages, records, the
/// free list (not the UNIQUE indexes `integrity_check` adds, at several times the cost).
public struct IntegrityCheck: Hashable, Sendable {
    /// SQLite's words for each problem, at most the limit asked for; empty when the file is sound.
    public var problems: [String]
    public var checkedAt: Date
    public var seconds: Double
    /// Keys that several present features share: a file written before keys were checked
    /// (`StoreError.duplicateKey`) may hold some. The file is sound; its data needs fixing.
    public var duplicateKeys: [DuplicateKey] = []

    public var isOK: Bool { problems.isEmpty }

    public init(problems: [String], checkedAt: Date, seconds: Double, duplicateKeys: [DuplicateKey] = []) {
        self.problems = problems
        self.checkedAt = checkedAt
        self.seconds = seconds
        self.duplicateKeys = duplicateKeys
    }
}

/// A key held by more than one present feature of a layer whose key is unique.
public struct DuplicateKey: Hashable, Sendable {
    public var layer: String
    /// `ward_code 27484, sheet 1, number 2`
    public var key: String
    public var ids: [String]

    public init(layer: String, key: String, ids: [String]) {
        self.layer = layer
        self.key = key
        self.ids = ids
    }
}
