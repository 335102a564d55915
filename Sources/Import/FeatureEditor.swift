import Features
import Formats
import Foundation
import Geometry
import Projection
import Store

/// Why an edit was refused: the same findings an import reports, for one feature.
public struct EditRefused: Error, Sendable, CustomStringConvertible {
    public let findings: [Finding]
    public var description: String {
        findings.filter { $0.severity == .error }.map(\.message).joined(separator: "; ")
    }
}

/// Single-feature writes (OGC API – Features Part 4 create and replace) through the import's
/// checks: field values, geometry type and validity, coordinates in range, reprojection to
/// storage, the computed area and its mismatch and sliver warnings, overlaps with neighbours.
///
/// Not thread-safe (it owns a GEOS context and PROJ transformers): one per request or per actor.
public final class FeatureEditor {
    let run: Run
    private var transformers: [CRS: Transformer] = [:]

    /// `maxVertices`: SPEC §5's limit, as the server is configured.
    public init(layer: String, maxVertices: Int = ImportOptions.defaultMaxVertices) throws {
        var options = ImportOptions(layer: layer)
        options.maxVertices = maxVertices
        run = try Run(options: options)
    }

    /// The feature as it would be stored (WGS 84, canonical values, `area_m2` computed), and the
    /// warnings; throws `EditRefused` when an import would refuse it.
    public func prepare(id: String, geometry: Geometry?, properties: [String: JSONValue], crs: CRS) throws -> (Feature, [Finding]) {
        let toStorage: Transformer
        if let known = transformers[crs] { toStorage = known } else {
            toStorage = try Transformer(from: crs, to: .wgs84)
            transformers[crs] = toStorage
        }
        var findings = [Finding]()
        func add(_ severity: Finding.Severity, _ kind: Finding.Kind, _ message: String, _ at: Coordinate? = nil) {
            findings.append(Finding(severity: severity, kind: kind, file: "request", index: 1, key: id, message: message, location: at))
        }
        var clean = run.normaliseValues(properties)
        // The server computes the area; a client cannot declare it.
        clean["area_m2"] = nil
        let stored = run.check(SourceFeature(index: 1, geometry: geometry, fields: [:]), crs: crs, toStorage: toStorage, add: add)
        var feature = Feature(id: id, geometry: stored, properties: clean)
        if let stored, run.schema.name == "parcels" || run.schema.name == "zoning" {
            run.measure(&feature, stored, add: add)
        }
        for field in run.schema.fields {
            if let v = feature.properties[field.name], let problem = Run.problem(v, field) { add(.error, .badValue, problem) }
        }
        if findings.contains(where: { $0.severity == .error }) || (stored == nil && run.schema.isAreal) {
            throw EditRefused(findings: findings)
        }
        return (feature, findings)
    }

    /// Overlap warnings against what the layer holds, inside the writing transaction.
    public func overlaps(_ feature: Feature, in writer: any FeatureBatchWriter) throws -> [Finding] {
        guard run.schema.name == "parcels" else { return [] }
        var findings = [Finding]()
        try run.overlaps(feature, writer) { severity, kind, message, at in
            findings.append(Finding(severity: severity, kind: kind, file: "request", index: 1, key: feature.id, message: message, location: at))
        }
        return findings
    }
}
