import Crypto
import Foundation

/// The audit log's hash chain (SPEC §12), the one definition both backends use.
///
/// Each entry stores `prev_hash`, the hash of the entry before it (`genesis` for the first),
/// and `hash`, the SHA-256 of `prev_hash` and its own fields. Editing an entry breaks its own
/// hash; removing one breaks its successor's link; inserting one leaves it outside the links.
/// Whoever can write the database can also recompute every later hash, so a rewrite is found
/// only against a copy kept elsewhere (`landmap audit export`, checked with `verify --against`).
public enum AuditChain {
    /// The `prev_hash` of the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// The hash of `entry` following `prev`: lower-case hex SHA-256 over a tag and the fields
    /// prev_hash, id, at, actor, unit, action, target and detail, each as its UTF-8 byte count
    /// (8 bytes, big-endian) and bytes, so no two different entries encode alike. `at` is the
    /// text as stored, so the hash survives any backend and copy.
    public static func hash(_ entry: AuditRow, prev: String) -> String {
        var hasher = SHA256()
        for var field in ["landmap-audit-v1", prev, String(entry.id), entry.at, entry.actor, entry.unit, entry.action, entry.target, entry.detail] {
            field.withUTF8 { utf8 in
                withUnsafeBytes(of: UInt64(utf8.count).bigEndian) { hasher.update(bufferPointer: $0) }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(utf8))
            }
        }
        return hex(hasher.finalize())
    }

    /// `entry` sealed after `prev`: its `prevHash` and `hash` set.
    public static func sealed(_ entry: AuditRow, after prev: String) -> AuditRow {
        var e = entry
        e.prevHash = prev
        e.hash = hash(entry, prev: prev)
        return e
    }

    /// True when the entry's stored hash is the hash of its stored content.
    public static func isIntact(_ entry: AuditRow) -> Bool {
        guard let h = entry.hash, let p = entry.prevHash else { return false }
        return hash(entry, prev: p) == h
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What a walk of the chain found.
public enum AuditChainVerdict: Hashable, Sendable {
    /// Every entry is intact and linked: how many, and the last one's hash (the genesis value
    /// for an empty log).
    case whole(entries: Int, head: String)
    /// The first place the chain breaks.
    case broken(AuditChainBreak)

    public var isWhole: Bool { if case .whole = self { true } else { false } }
}

/// The first broken place of the chain, named for people.
public struct AuditChainBreak: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The entry's hash is not the hash of its content: it was edited.
        case changed
        /// An entry (or several) between `after` and `entry` is gone.
        case removed
        /// The entry is not part of the chain: the links around it pass it by, or it has no hash.
        case inserted
    }

    public var kind: Kind
    /// The entry changed or inserted, or the one after the gap when entries were removed.
    public var entry: Int64
    /// The last intact, linked entry before it; nil at the start of the log.
    public var after: Int64?
    /// Intact, linked entries before the break.
    public var verified: Int
    /// Why, in a few words.
    public var reason: String

    public init(kind: Kind, entry: Int64, after: Int64?, verified: Int, reason: String) {
        self.kind = kind
        self.entry = entry
        self.after = after
        self.verified = verified
        self.reason = reason
    }

    /// `entry 57 was changed (its hash does not match its content)`.
    public var description: String {
        switch kind {
        case .changed: "entry \(entry) was changed (\(reason))"
        case .inserted: "entry \(entry) was inserted (\(reason))"
        case .removed:
            if let after { "an entry between \(after) and \(entry) was removed (\(reason))" } else { "an entry before \(entry) was removed (\(reason))" }
        }
    }
}

/// Walks the chain one entry at a time, in id order, holding only a few hashes (a log of any
/// size streams through it): `add` each entry, then `finish`. It stops at the first break.
///
/// A broken entry is judged with the entry after it: when that one links to the last good
/// entry, the broken one was inserted; else an entry whose hash is wrong was changed, and one
/// that is intact but does not link to the last good entry follows a removal. When the entry
/// before an intact one was itself intact but is skipped by it, that entry was inserted.
public struct AuditChainVerifier: Sendable {
    private var expected = AuditChain.genesis
    /// The hash of the good entry before the last good one, and their ids.
    private var beforeExpected: String?
    private var lastGood: Int64?
    private var beforeLastGood: Int64?
    private var count = 0
    private var pending: AuditRow?
    /// Set at the first break; later entries are ignored.
    public private(set) var failure: AuditChainBreak?

    public init() {}

    /// False once the chain is known to be broken: the caller may stop reading.
    @discardableResult
    public mutating func add(_ entry: AuditRow) -> Bool {
        guard failure == nil else { return false }
        if let pending {
            failure = judge(pending, next: entry)
            return false
        }
        let intact = AuditChain.isIntact(entry)
        if intact && entry.prevHash == expected {
            beforeExpected = expected
            beforeLastGood = lastGood
            expected = entry.hash ?? expected
            lastGood = entry.id
            count += 1
            return true
        }
        if intact, let beforeExpected, let lastGood, entry.prevHash == beforeExpected {
            // It links past the entry before it, which itself linked well: that one was slipped in.
            failure = AuditChainBreak(kind: .inserted, entry: lastGood, after: beforeLastGood, verified: count - 1,
                                      reason: "entry \(entry.id) links to the entry before it")
            return false
        }
        pending = entry
        return true
    }

    /// The verdict once every entry was added.
    public mutating func finish() -> AuditChainVerdict {
        if failure == nil, let pending { failure = judge(pending, next: nil) }
        if let failure { return .broken(failure) }
        return .whole(entries: count, head: expected)
    }

    private func judge(_ e: AuditRow, next: AuditRow?) -> AuditChainBreak {
        if let next, next.prevHash == expected, AuditChain.isIntact(next) {
            return AuditChainBreak(kind: .inserted, entry: e.id, after: lastGood, verified: count,
                                   reason: "entry \(next.id) links to \(lastGood.map { "entry \($0)" } ?? "the start of the log") past it")
        }
        guard e.hash != nil, e.prevHash != nil else {
            return AuditChainBreak(kind: .inserted, entry: e.id, after: lastGood, verified: count, reason: "it has no hash")
        }
        if !AuditChain.isIntact(e) {
            return AuditChainBreak(kind: .changed, entry: e.id, after: lastGood, verified: count, reason: "its hash does not match its content")
        }
        return AuditChainBreak(kind: .removed, entry: e.id, after: lastGood, verified: count,
                               reason: "entry \(e.id) does not link to \(lastGood.map { "entry \($0)" } ?? "the start of the log")")
    }
}

/// A line `landmap audit export` wrote that the database no longer holds as it was.
public struct AuditExportMismatch: Hashable, Sendable, CustomStringConvertible {
    public var entry: Int64
    /// True when the database has no entry with that id; else its hash differs.
    public var missing: Bool

    public var description: String {
        missing ? "entry \(entry) of the exported copy is missing from the database"
            : "entry \(entry) differs from the exported copy (its hash is not the one exported)"
    }
}

extension AccessStore {
    /// Walks the whole chain in id order, `pageSize` entries per read, stopping at the first
    /// break. Memory stays a page whatever the log's length; 100 000 entries take 0.5–0.8 s
    /// (release build; figures in `DatabaseHealth.refreshChain`).
    public func verifyAuditChain(pageSize: Int = 2000) throws -> AuditChainVerdict {
        var verifier = AuditChainVerifier()
        var after: Int64 = 0
        while true {
            let page = try auditEntries(after: after, limit: pageSize)
            for entry in page where !verifier.add(entry) { return verifier.finish() }
            guard let last = page.last, page.count == pageSize else { break }
            after = last.id
        }
        return verifier.finish()
    }

    /// Checks exported entries (`(id, hash)` in ascending id order, as `landmap audit export`
    /// writes them) against the database: the first one it no longer holds with that hash.
    /// This is what finds a truncated tail or a log rewritten with recomputed hashes.
    public func firstMismatch<S: Sequence>(against exported: S, pageSize: Int = 2000) throws -> AuditExportMismatch?
    where S.Element == (id: Int64, hash: String) {
        var page = [AuditRow]()
        var index = 0
        for line in exported {
            while index < page.count, page[index].id < line.id { index += 1 }
            if index == page.count {
                page = try auditEntries(after: line.id - 1, limit: pageSize)
                index = 0
            }
            guard index < page.count, page[index].id == line.id else { return AuditExportMismatch(entry: line.id, missing: true) }
            guard page[index].hash == line.hash else { return AuditExportMismatch(entry: line.id, missing: false) }
        }
        return nil
    }
}
