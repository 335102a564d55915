import Store

extension GeoPackageStore: StoreMaintenance {
    public var displayLocation: String { path }
    public var localFile: String? { path }
    public var engineVersion: String { "SQLite \(Self.sqliteVersion)" }
    public func integrityCheck(limit: Int) -> IntegrityCheck { quickCheck(limit: limit) }
    public var upkeepPending: Bool { checkpointPending }
    @discardableResult public func upkeep() -> Bool { checkpoint() }
}
