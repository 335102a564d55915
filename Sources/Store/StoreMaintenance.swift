import Foundation

/// What a deployment needs of its database beyond features and access: where it is, whether
/// it is sound, its upkeep. Each backend implements it; the server and the CLI know only this.
public protocol StoreMaintenance: Sendable {
    /// Where the data lives, for people: a file path, or a PostgreSQL URL without its password.
    var displayLocation: String { get }
    /// The local file the data lives in, which GDAL must never open (`SourcePolicy`); nil for a
    /// database server.
    var localFile: String? { get }
    /// The engine and its version, for `landmap --version` and `/health`.
    var engineVersion: String { get }
    /// Checks that the stored data is sound (SQLite's `quick_check`; reachability on a server)
    /// and finds keys shared by several features. Its time grows with the data: background work.
    func integrityCheck(limit: Int) -> IntegrityCheck
    /// Keys shared by several present features in layers whose key is unique, at most `limit`.
    func duplicateKeys(limit: Int) throws -> [DuplicateKey]
    /// True when upkeep was left for later (a WAL checkpoint a reader held back).
    var upkeepPending: Bool { get }
    /// Does the pending upkeep now; true when nothing is left. Never throws: data is committed either way.
    @discardableResult func upkeep() -> Bool
    /// A consistent copy of the whole database in one file at `path`, made while others write.
    func backup(to path: String) throws
    /// Layers whose present or past features hold this id (`landmap history ID`).
    func layers(containing id: String) throws -> [String]
    /// The streaming replica reads come from, with its lag; nil for a store without one.
    func replicationStatus() -> ReplicationStatus?
}

extension StoreMaintenance {
    public func replicationStatus() -> ReplicationStatus? { nil }
}

/// Everything LandMap asks of a database: features, tokens and audit, proposals, upkeep, and copying
/// everything in and out (`landmap copy`).
public typealias LandMapStore = FeatureStore & AccessStore & ChangeStore & StoreMaintenance & StoreTransfer & ChangeFeed & SearchStore
