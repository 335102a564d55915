import Foundation

/// What a copy carried.
public struct CopySummary: Hashable, Sendable {
    public var layers = 0
    /// Present features.
    public var features = 0
    /// Every version, present and past.
    public var versions = 0
    public var batches = 0
    public var tokens = 0
    public var auditEntries = 0
    public var changes = 0

    public init() {}
}

/// `landmap copy` without the command line: streams one store's records into another's single
/// write transaction, for any two backends. The source is only read.
public enum StoreCopy {
    /// Copies the named layers (nil: all) with their batches, history, tokens, audit and proposals.
    /// `progress` is told how many versions are done, every 1 000 and at the end.
    @discardableResult
    public static func copy(from source: any StoreTransfer, to target: any StoreTransfer, layers: [String]?,
                            progress: (Int) -> Void = { _ in }) throws -> CopySummary {
        var summary = CopySummary()
        try target.load { loader in
            try source.read(layers: layers) { record in
                try loader.add(record)
                switch record {
                case .layer: summary.layers += 1
                case .batch: summary.batches += 1
                case .version(let v):
                    summary.versions += 1
                    if v.isPresent { summary.features += 1 }
                    if summary.versions % 1000 == 0 { progress(summary.versions) }
                case .token: summary.tokens += 1
                case .audit: summary.auditEntries += 1
                case .change: summary.changes += 1
                }
            }
        }
        progress(summary.versions)
        return summary
    }
}
