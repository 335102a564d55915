import Features
import Formats
import Foundation
import Geometry
import Store

/// One problem found in the input, naming the file, the feature and the cause.
public struct Finding: Hashable, Sendable {
    public enum Severity: String, Sendable {
        /// Blocks the import unless `--fix` or `--skip-invalid` deals with it.
        case error
        /// Reported, never blocks.
        case warning
    }

    public enum Kind: String, Sendable {
        case invalidGeometry = "invalid_geometry"
        case fixedGeometry = "fixed_geometry"
        case emptyGeometry = "empty_geometry"
        case unreadableGeometry = "unreadable_geometry"
        case wrongGeometryType = "wrong_geometry_type"
        case outOfRange = "out_of_range"
        case duplicateKey = "duplicate_key"
        case areaMismatch = "area_mismatch"
        case sliver
        case badValue = "bad_value"
        case invalidGeoJSON = "invalid_geojson"
        case overlap
        case tooManyVertices = "too_many_vertices"
        /// Coordinates outside the area of use of the CRS they are read in.
        case wrongCRS = "wrong_crs"
        /// Read as VN-2000 / UTM where the province draws its cadastral maps in a TM-3 zone.
        case cadastralZone = "cadastral_zone"
        /// A CAD sheet's shape without a text for a `--label` field.
        case missingLabel = "missing_label"
        /// A text on a `--label` level inside no shape.
        case strayLabel = "stray_label"
        /// Different texts for one field inside one shape.
        case conflictingLabels = "conflicting_labels"
        /// A shape drawn inside another, cut out of it.
        case nestedShape = "nested_shape"
    }

    public var severity: Severity
    public var kind: Kind
    public var file: String
    /// 1-based position of the feature in its file.
    public var index: Int
    public var key: String?
    public var message: String
    /// Where the problem is, in WGS 84 lon/lat, when known.
    public var location: Coordinate?

    public var json: JSONValue {
        .object([
            "severity": .string(severity.rawValue), "kind": .string(kind.rawValue), "file": .string(file),
            "feature": .integer(Int64(index)), "key": key.map { .string($0) } ?? .null, "message": .string(message),
            "location": location.map { .array([.number($0.x), .number($0.y)]) } ?? .null,
        ])
    }

    public var line: String {
        let name = FormatError.displayName(file)
        let at = location.map { String(format: " at %.7f, %.7f", $0.x, $0.y) } ?? ""
        let which = index > 0 ? ", feature \(index)" : ""
        return "\(severity.rawValue): \(name)\(which)\(key.map { " (\($0))" } ?? ""): \(message)\(at)"
    }
}

/// What one input file was and how it was read.
public struct FileSummary: Hashable, Sendable {
    public var path: String
    public var layerName: String
    public var features: Int
    /// The CRS used, and what the file declared when `--crs` overrode it.
    public var crs: String
    public var declaredCRS: String?
    public var encoding: String
    /// Source field → canonical field.
    public var mapping: [String: String]
    /// What had to be done to read the file.
    public var notes: [String] = []
    /// A CAD sheet's levels (DGN) or layers (DXF) and what each holds.
    public var survey: SheetSurvey?
}

/// The quality report of a validation or an import: per file, the findings, and what was written.
public struct QAReport: Sendable {
    public var layer: String
    public var files: [FileSummary] = []
    public var findings: [Finding] = []
    public var read = 0
    public var accepted = 0
    public var skipped = 0
    public var fixed = 0
    /// Set when the batch was committed.
    public var written: BatchSummary?
    public var dryRun = false

    public var errors: [Finding] { findings.filter { $0.severity == .error } }
    public var warnings: [Finding] { findings.filter { $0.severity == .warning } }

    public var json: JSONValue {
        .object([
            "layer": .string(layer),
            "files": .array(files.map { f in
                .object([
                    "path": .string(f.path), "source_layer": .string(f.layerName), "features": .integer(Int64(f.features)),
                    "crs": .string(f.crs), "declared_crs": f.declaredCRS.map { .string($0) } ?? .null,
                    "encoding": .string(f.encoding), "field_mapping": .object(f.mapping.mapValues { .string($0) }),
                    "notes": .array(f.notes.map { .string($0) }),
                    "levels": f.survey?.json ?? .null,
                ])
            }),
            "read": .integer(Int64(read)), "accepted": .integer(Int64(accepted)),
            "skipped": .integer(Int64(skipped)), "fixed": .integer(Int64(fixed)),
            "errors": .integer(Int64(errors.count)), "warnings": .integer(Int64(warnings.count)),
            "findings": .array(findings.map(\.json)),
            "dry_run": .bool(dryRun),
            "written": written.map { w in
                .object(["batch_id": .integer(w.batchID), "inserted": .integer(Int64(w.inserted)), "updated": .integer(Int64(w.updated)),
                         "unchanged": .integer(Int64(w.unchanged)), "deleted": .integer(Int64(w.deleted)), "data_version": .integer(w.dataVersion)])
            } ?? .null,
        ])
    }

    /// The report as a person reads it: files, mapping, findings (the first `limit`), outcome.
    public func text(limit: Int = 50) -> String {
        var out = [String]()
        for f in files {
            out.append("\(FormatError.displayName(f.path)): \(f.features) features, CRS \(f.crs)\(f.declaredCRS.map { " (file declares \($0); overridden by --crs)" } ?? ""), text \(f.encoding)")
            for note in f.notes { out.append("  note: \(note)") }
            if let survey = f.survey {
                out.append("  \(survey.unit)s:")
                for l in survey.levels { out.append("    \(l.name): \(l.line)") }
            }
            if !f.mapping.isEmpty {
                out.append("  fields: " + f.mapping.keys.sorted().map { "\($0) → \(f.mapping[$0] ?? "")" }.joined(separator: ", "))
            }
        }
        for finding in (errors + warnings).prefix(limit) { out.append("  " + finding.line) }
        if findings.count > limit { out.append("  … and \(findings.count - limit) more (use --json for all)") }
        out.append("\(read) read, \(accepted) accepted, \(skipped) skipped, \(fixed) fixed; \(errors.count) errors, \(warnings.count) warnings")
        return out.joined(separator: "\n")
    }
}
