import Features
import Foundation

/// What a change did to a feature (SPEC §9's change feed).
public enum ChangeOp: String, Hashable, Sendable {
    /// The id did not exist just before the batch.
    case insert
    /// The batch replaced the version present before it.
    case update
    /// The batch ended the feature as deleted.
    case delete
}

/// One feature's net change in one batch: what a copy must do to follow the layer.
public struct FeatureChange: Hashable, Sendable {
    public var op: ChangeOp
    public var id: String
    /// The version the batch left (insert, update), or the version it deleted.
    public var version: Int
    /// The layer's data version after the batch.
    public var dataVersion: Int64
    /// The feature as the batch left it; nil for a delete (the id and deleted version say all).
    public var feature: Feature?
    public init(op: ChangeOp, id: String, version: Int, dataVersion: Int64, feature: Feature?) {
        self.op = op
        self.id = id
        self.version = version
        self.dataVersion = dataVersion
        self.feature = feature
    }
}

/// A page of a layer's changes, read from one snapshot.
public struct ChangePage: Hashable, Sendable {
    public var changes: [FeatureChange]
    /// The data version the page brings a reader to: every change at or before it has been
    /// read. Mid-batch (`resumeAfter` set) that is the version before the unfinished batch.
    public var to: Int64
    /// True when changes follow this page.
    public var more: Bool
    /// When the next page resumes inside a batch: pass `since: to, after: resumeAfter`.
    public var resumeAfter: String?
    /// The layer's present data version.
    public var current: Int64
    /// The oldest `since` the store can answer (0 when it holds every batch's data version).
    public var oldest: Int64
    public init(changes: [FeatureChange], to: Int64, more: Bool, resumeAfter: String?, current: Int64, oldest: Int64) {
        self.changes = changes
        self.to = to
        self.more = more
        self.resumeAfter = resumeAfter
        self.current = current
        self.oldest = oldest
    }
}

/// A layer's changes after a data version (SPEC §9: `/collections/{layer}/changes`, `landmap sync`).
public protocol ChangeFeed: Sendable {
    /// Every change after data version `since`, in order of data version, then id, at most
    /// `limit`. With `after`, the first batch past `since` is resumed after that id (the
    /// cursor of a page that ended mid-batch). When `since` is outside `oldest...current`
    /// the page is empty and says so through `oldest` and `current`. Throws
    /// `StoreError.unknownLayer` for a layer that does not exist.
    func changes(layer: String, since: Int64, after: String?, limit: Int) throws -> ChangePage
    /// The records of a layer's batches, oldest first (`landmap sync` reads where it left off,
    /// and whether anything else wrote the layer, from their sources).
    func batchRecords(layer: String) throws -> [BatchRecord]
}

/// What a backend reads for `ChangeFeedPlanner`, all from one read snapshot.
public protocol ChangeFeedSource {
    /// The layer's present data version and the oldest one it can answer; nil for no layer.
    func versions() throws -> (current: Int64, oldest: Int64)?
    /// Batches that changed the layer with a data version above `dataVersion`, in order, at most `limit`.
    func changingBatches(after dataVersion: Int64, limit: Int) throws -> [(batch: Int64, dataVersion: Int64)]
    /// Versions written by `batch` that it did not end itself, by id (at most one per id), ids above `afterID`.
    func survivors(batch: Int64, afterID: String?, limit: Int) throws -> [(id: String, version: Int, feature: Feature)]
    /// Versions written before `batch` that it ended, by id (at most one per id), ids above `afterID`.
    func ended(batch: Int64, afterID: String?, limit: Int) throws -> [(id: String, version: Int, deleted: Bool)]
}

/// The change feed's one algorithm, over either backend's `ChangeFeedSource`. Per batch and id,
/// the net change: a surviving version with one it ended is an update, a surviving version alone
/// an insert, an ended version alone a delete; an id the batch made and ended itself is skipped.
public enum ChangeFeedPlanner {
    public static func page(_ source: some ChangeFeedSource, layer: String, since: Int64, after: String?, limit: Int) throws -> ChangePage {
        guard let (current, oldest) = try source.versions() else { throw StoreError.unknownLayer(layer) }
        let limit = max(1, limit)
        guard since >= oldest, since <= current else {
            return ChangePage(changes: [], to: since, more: false, resumeAfter: nil, current: current, oldest: oldest)
        }
        var out = [FeatureChange]()
        var resume = after
        var cursor = since
        // One more than asked, to know whether (and where) the next page starts.
        let want = limit + 1
        outer: while out.count < want {
            let batches = try source.changingBatches(after: cursor, limit: 64)
            if batches.isEmpty { break }
            for (batch, dv) in batches {
                while out.count < want {
                    let n = want - out.count
                    let kept = try source.survivors(batch: batch, afterID: resume, limit: n)
                    let gone = try source.ended(batch: batch, afterID: resume, limit: n)
                    if kept.isEmpty && gone.isEmpty { break }
                    // Ids complete in both lists: up to the smaller of the last ids of a full list.
                    var bound: String?
                    if kept.count == n, let last = kept.last?.id { bound = last }
                    if gone.count == n, let last = gone.last?.id { bound = bound.map { min($0, last) } ?? last }
                    var keptByID = [String: (Int, Feature)]()
                    for k in kept where bound == nil || k.id <= bound! { keptByID[k.id] = (k.version, k.feature) }
                    var goneByID = [String: (Int, Bool)]()
                    for g in gone where bound == nil || g.id <= bound! { goneByID[g.id] = (g.version, g.deleted) }
                    let ids = Set(keptByID.keys).union(goneByID.keys).sorted()
                    for id in ids {
                        if let (version, feature) = keptByID[id] {
                            out.append(FeatureChange(op: goneByID[id] == nil ? .insert : .update, id: id, version: version, dataVersion: dv, feature: feature))
                        } else if let (version, _) = goneByID[id] {
                            out.append(FeatureChange(op: .delete, id: id, version: version, dataVersion: dv, feature: nil))
                        }
                    }
                    resume = ids.last
                    if bound == nil { break }
                }
                resume = nil
                cursor = dv
                if out.count >= want { break outer }
            }
        }
        if out.count <= limit {
            return ChangePage(changes: out, to: current, more: false, resumeAfter: nil, current: current, oldest: oldest)
        }
        let next = out[limit]
        out.removeLast(out.count - limit)
        let last = out[limit - 1]
        if last.dataVersion == next.dataVersion {
            return ChangePage(changes: out, to: next.dataVersion - 1, more: true, resumeAfter: last.id, current: current, oldest: oldest)
        }
        return ChangePage(changes: out, to: next.dataVersion - 1, more: true, resumeAfter: nil, current: current, oldest: oldest)
    }
}
