import Features
import Foundation
import Geometry
import Store

/// What a proposal would do to its layer (SPEC §8), as a `ChangeRecord` keeps it: the features
/// after the change, the ids it deletes, and the revision each feature it touches had when it
/// was proposed, so that approval can tell whether someone changed them since.
public struct Proposal: Sendable, Hashable {
    /// The features as the proposal leaves them (WGS 84, checked as an import checks them).
    public var features: [Feature]
    /// Ids the proposal deletes.
    public var deletions: [String]
    /// Each touched id's revision tag (`FeatureRevision.tag`) when proposed; nil: it did not exist.
    public var base: [String: String?]
    /// The QA report of the proposed data (an upload's, or one feature's warnings).
    public var qa: JSONValue
    /// Where the features came from: a file name, or `api`.
    public var source: String

    public init(features: [Feature], deletions: [String] = [], base: [String: String?], qa: JSONValue = .null, source: String) {
        self.features = features
        self.deletions = deletions
        self.base = base
        self.qa = qa
        self.source = source
    }

    /// Every id the proposal touches, in a stable order.
    public var touched: [String] { base.keys.sorted() }

    /// As stored in `ChangeRecord.content`.
    public var json: String {
        JSONValue.object([
            "source": .string(source),
            "features": .array(features.map { $0.geoJSON() }),
            "deletions": .array(deletions.map { .string($0) }),
            "base": .object(base.mapValues { $0.map { .string($0) } ?? .null }),
            "qa": qa,
        ]).jsonText
    }

    /// Reads a stored proposal; throws when the text is not one (a damaged record).
    public init(json text: String) throws {
        let v = try JSONValue.parse(text)
        guard let items = v["features"]?.arrayValue, let base = v["base"]?.objectValue else {
            throw ReviewError.damaged("the stored proposal has no features or base")
        }
        features = try items.map { item in
            guard let id = item["id"]?.stringValue else { throw ReviewError.damaged("a proposed feature has no id") }
            let geometry = try item["geometry"].flatMap { $0 == .null ? nil : try GeoJSONGeometry.decode($0) }
            return Feature(id: id, geometry: geometry, properties: item["properties"]?.objectValue ?? [:])
        }
        deletions = (v["deletions"]?.arrayValue ?? []).compactMap(\.stringValue)
        self.base = base.mapValues { $0.stringValue }
        qa = v["qa"] ?? .null
        source = v["source"]?.stringValue ?? ""
    }
}

/// Why a proposal cannot be made, shown or decided; each says what to do.
public enum ReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Its features changed since it was proposed (HTTP 409).
    case stale(change: Int64, ids: [String])
    case tooLarge(features: Int, limit: Int)
    case damaged(String)

    public var description: String {
        switch self {
        case .stale(let change, let ids):
            let shown = ids.prefix(20).map { "'\($0)'" }.joined(separator: ", ") + (ids.count > 20 ? " and \(ids.count - 20) more" : "")
            return "change \(change) cannot be approved: \(ids.count == 1 ? "feature" : "features") \(shown) changed since it was proposed; reject it and propose again from the present data"
        case .tooLarge(let features, let limit):
            return "a proposal may hold at most \(limit) features, this one has \(features): split the file, or ask an editor to import it"
        case .damaged(let what):
            return "the proposal cannot be read: \(what)"
        }
    }
}
