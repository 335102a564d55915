import Features
import Formats
import Foundation
import Geometry
import Projection
import Store

/// What an import or validation is asked to do.
public struct ImportOptions: Sendable {
    public var layer: String
    /// Overrides what files declare (`--crs`).
    public var crs: CRS?
    public var encoding: TextEncoding = .auto
    /// The layer of a file that holds several (a GeoPackage's table); nil reads its first.
    public var sourceLayer: String?
    public var mode: WriteMode = .append
    /// The source field holding each feature's id (`--key`).
    public var keyField: String?
    /// `--map SRC=CANONICAL` entries.
    public var mappings: [String: String] = [:]
    /// Repair invalid geometry with make-valid and report what changed.
    public var fix = false
    /// Import the valid features and list the skipped ones, instead of refusing the batch.
    public var skipInvalid = false
    /// Validate and report, write nothing.
    public var dryRun = false
    /// Relative difference between computed and declared area that is reported (5 %).
    public var areaTolerance = 0.05
    /// Parcels smaller than this (m²) are reported as slivers.
    public var sliverArea = 1.0
    /// Overlaps between parcels larger than this (m²) are reported.
    public var overlapArea = 0.5
    /// Features with more vertices are refused (`--max-vertices`; SPEC §5).
    public var maxVertices = ImportOptions.defaultMaxVertices
    /// For CAD sheets (DGN, DXF): the level of the shapes and the levels of their labels
    /// (`--shapes`, `--label`); nil reads every element as a feature.
    public var sheet: SheetLayout?
    /// `--set FIELD=VALUE`: a value every feature of the files gets, over what the file says.
    public var constants: [String: String] = [:]
    public var actor = "cli"
    /// The actor's unit (a token's `--unit`), for the audit entry of the batch.
    public var unit = ""

    /// SPEC §5's vertex limit per feature.
    public static let defaultMaxVertices = 1_000_000

    public init(layer: String) {
        self.layer = layer
    }
}

/// Why an import wrote nothing. The report says what was found.
public struct ImportRefused: Error, Sendable, CustomStringConvertible {
    public let report: QAReport
    public init(report: QAReport) {
        self.report = report
    }
    public var description: String {
        "nothing written: \(report.errors.count) error\(report.errors.count == 1 ? "" : "s") in the input (see the report; --fix repairs geometry, --skip-invalid imports the rest)"
    }
}

/// Why an import wrote nothing: its `--key` field is private in the layer (SPEC §8), and a
/// feature id is served to everyone, so the owner's name or id would become public.
public struct PrivateKeyField: Error, Sendable, CustomStringConvertible {
    public let layer: String
    public let field: String
    public var description: String {
        "nothing written: --key \(field) is a private field in layer '\(layer)' (an owner's name or id, or marked private); feature ids are public, so it cannot be the id: choose another key field"
    }
}

/// Read → map fields → decode text → check → reproject → one write batch, with a QA report.
///
/// Streams: one feature in memory at a time; duplicate ids are found by the store's unique index.
/// All files of one call go into one transaction: all of them are written, or none.
public final class Importer {
    public typealias Progress = (_ done: Int, _ total: Int?) -> Void

    let store: any FeatureStore

    /// The store's file, if it has one, is protected from GDAL from now on in this process
    /// (`SourcePolicy`): no file given to an import may be it.
    public init(store: any FeatureStore) {
        self.store = store
        if let file = (store as? any StoreMaintenance)?.localFile { SourcePolicy.protect(database: file) }
    }

    /// Makes a throw-away store in an empty folder: the caller picks the backend.
    public typealias ScratchStore = (_ directory: String) throws -> any FeatureStore

    /// Validates the files without writing (`landmap validate`): the same pipeline as an import,
    /// into a throw-away database made by `scratch`, so duplicates and overlaps are found as well.
    public static func validate(_ paths: [String], _ options: ImportOptions, scratch: ScratchStore, progress: Progress? = nil) throws -> QAReport {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("landmap-validate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var dry = options
        dry.dryRun = true
        return try Importer(store: scratch(dir.path)).run(paths, dry, progress: progress)
    }

    /// Imports the files as one batch, or throws `ImportRefused` with the report. A dry run
    /// goes through the same transaction and rolls it back.
    ///
    /// `admit` sees each feature before it is written and may refuse the whole import by
    /// throwing (a token's scope); `accepted` is told of each feature the batch took (a
    /// proposal collects them from a dry run). Both run on the calling thread.
    public func run(_ paths: [String], _ options: ImportOptions, progress: Progress? = nil,
                    admit: ((Feature) throws -> Void)? = nil, accepted: ((Feature) -> Void)? = nil) throws -> QAReport {
        var report = QAReport(layer: options.layer)
        report.dryRun = options.dryRun
        let run = try Run(options: options)
        if let key = options.keyField {
            // The id is public in every output: an owner's name or id may not become it.
            let schema = try store.schema(of: options.layer) ?? run.schema
            if schema.isPrivate(key) { throw PrivateKeyField(layer: options.layer, field: key) }
        }
        let request = BatchRequest(layer: options.layer, mode: options.mode,
                                   source: paths.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "), actor: options.actor, unit: options.unit)
        let sources = try Self.sources(paths)
        do {
            let summary = try store.write(request) { writer in
                for path in sources {
                    try run.process(path, into: &report, progress: progress, writer: writer, admit: admit, accepted: accepted)
                }
                if options.dryRun { throw DryRunRollback() }
                if !report.errors.isEmpty, !options.skipInvalid { throw ImportRefused(report: report) }
            }
            report.written = summary
            return report
        } catch is DryRunRollback {
            return report
        }
    }
}

/// Thrown inside a dry run's transaction so that it rolls back.
struct DryRunRollback: Error {}

extension Importer {
    /// Every file to read: the vector files inside each `.zip`, the others as given.
    static func sources(_ paths: [String]) throws -> [String] {
        try paths.flatMap { try OGRReader.sources($0) }
    }
}

/// The state of one import: GEOS and PROJ contexts and the schema.
final class Run {
    let options: ImportOptions
    let schema: LayerSchema
    let geos: GeosContext
    let area: CadastralArea
    /// Area-of-use checks per CRS met (PROJ transformers inside: made once).
    private var areaChecks: [CRS: AreaOfUseCheck] = [:]
    /// TM-3 zones already suggested for UTM data: one warning per zone and file.
    private var suggestedZones: Set<Int> = []

    /// `--set` values, typed by the layer's fields.
    let constants: [String: JSONValue]

    init(options: ImportOptions) throws {
        guard LayerSchema.isValidName(options.layer) else { throw StoreError.invalidLayerName(options.layer) }
        self.options = options
        schema = LayerSchema.builtIn(named: options.layer) ?? .custom(options.layer)
        constants = try Self.typed(options.constants, schema)
        geos = try GeosContext()
        area = try CadastralArea()
    }

    static let geoJSONExtensions: Set<String> = ["geojson", "json", "geojsons", "geojsonl", "geojsonseq"]

    /// `--set` values as the layer's fields take them: numbers as written on sheets
    /// (`SheetNumber`), whole numbers for integer fields; a value a field cannot take is refused.
    static func typed(_ constants: [String: String], _ schema: LayerSchema) throws -> [String: JSONValue] {
        var out = [String: JSONValue]()
        for (field, text) in constants {
            guard !field.isEmpty else { throw SheetLayoutError("--set takes FIELD=VALUE, e.g. --set ward_code=27484") }
            switch schema.fields.first(where: { $0.name == field })?.type {
            case .integer?:
                guard let d = SheetNumber.parse(text), d == d.rounded(), abs(d) < 9e15 else {
                    throw SheetLayoutError("--set \(field)=\(text): '\(field)' takes a whole number")
                }
                out[field] = .integer(Int64(d))
            case .real?:
                guard let d = SheetNumber.parse(text) else { throw SheetLayoutError("--set \(field)=\(text): '\(field)' takes a number") }
                out[field] = .number(d)
            default:
                out[field] = .string(text)
            }
        }
        return out
    }

    func process(_ path: String, into report: inout QAReport, progress: Importer.Progress?, writer: any FeatureBatchWriter,
                 admit: ((Feature) throws -> Void)? = nil, accepted: ((Feature) -> Void)? = nil) throws {
        let lintProblems = try lint(path)
        let fileLevel = lintProblems.filter { $0.feature == nil && !$0.isAdvice }
        if let first = fileLevel.first {
            throw FormatError(file: path, first.message + (fileLevel.count > 1 ? " (and \(fileLevel.count - 1) more problems)" : ""))
        }
        let badFeatures = Set(lintProblems.filter { !$0.isAdvice }.compactMap(\.feature))
        // Reading, checking and measuring run on a thread of their own (see `ReadingStage`);
        // this thread, which holds the transaction, checks overlaps and writes.
        let pipe = ReadingStage.start(path: path, options: options, lintRefused: badFeatures)
        var ended = false
        defer { if !ended { ReadingStage.stop(pipe) } }
        var summary: FileSummary, total: Int?
        switch pipe.take() {
        case .opened(let opened, let count): (summary, total) = (opened, count)
        case .failed(let error): ended = true; throw error
        case .finished: ended = true; return
        case .features, .findings: throw FormatError(file: path, "the reader sent features before opening the file")
        }
        for p in lintProblems where !p.isAdvice {
            report.findings.append(Finding(severity: .error, kind: .invalidGeoJSON, file: path, index: p.feature ?? 0,
                                           key: nil, message: p.message, location: nil))
        }
        // Advice (winding, extra ordinates) once per kind and file, with a count.
        for (message, group) in Dictionary(grouping: lintProblems.filter(\.isAdvice), by: \.message).sorted(by: { $0.key < $1.key }) {
            let count = group.count > 1 ? " (\(group.count) places, first shown)" : ""
            report.findings.append(Finding(severity: .warning, kind: .invalidGeoJSON, file: path, index: group[0].feature ?? 0,
                                           key: nil, message: message + count, location: nil))
        }
        reading: while true {
            let batch: [ReadingStage.Ready]
            switch pipe.take() {
            case .features(let ready): batch = ready
            case .findings(let found): report.findings += found; continue
            case .finished: ended = true; break reading
            case .failed(let error): ended = true; throw error
            case .opened: continue
            }
            for item in batch {
                summary.features += 1
                report.read += 1
                if let progress, report.read % 1000 == 0 { progress(summary.features, total) }
                var findings = item.findings
                let feature = item.feature, id = feature.id
                func add(_ severity: Finding.Severity, _ kind: Finding.Kind, _ message: String, _ at: Coordinate? = nil) {
                    findings.append(Finding(severity: severity, kind: kind, file: path, index: item.index, key: id, message: message, location: at))
                }
                report.fixed += findings.filter { $0.kind == .fixedGeometry }.count
                if item.refused {
                    report.skipped += 1
                    report.findings += findings
                    continue
                }
                if schema.name == "parcels" { try overlaps(feature, writer, add: add) }
                try admit?(feature)
                // Duplicate ids are found by the database's unique index inside the transaction, so
                // memory does not grow with the file (a set of 3 M ids would take ~100 MB).
                do {
                    try writer.put(feature)
                } catch StoreError.duplicateID {
                    add(.error, .duplicateKey, options.mode == .append
                        ? "the id '\(id)' appears more than once, or is in the layer already (--mode upsert updates it)"
                        : "the id '\(id)' appears more than once in this import")
                    report.skipped += 1
                    report.findings += findings
                    continue
                } catch StoreError.duplicateKey(_, _, let key, let holder) {
                    add(.error, .duplicateKey, "\(key) is the key of feature '\(holder)' already (in the layer or earlier in this import); a key names one parcel")
                    report.skipped += 1
                    report.findings += findings
                    continue
                }
                report.findings += findings
                report.accepted += 1
                accepted?(feature)
            }
        }
        report.files.append(summary)
        progress?(summary.features, total)
    }

    /// RFC 7946 problems of a GeoJSON file small enough to parse whole; none for other formats.
    func lint(_ path: String) throws -> [GeoJSONLint.Problem] {
        let ext = (path as NSString).pathExtension.lowercased()
        guard ext == "geojson" || ext == "json", !path.contains(".zip/"),
              let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size <= GeoJSONLint.maxBytes,
              let data = FileManager.default.contents(atPath: path) else { return [] }
        do {
            return try GeoJSONLint.check(data)
        } catch {
            throw FormatError(file: path, "\(error)")
        }
    }

    /// Reads, checks and reprojects the geometry; nil when it cannot be imported.
    func check(_ source: SourceFeature, crs: CRS, toStorage: Transformer,
               add: (Finding.Severity, Finding.Kind, String, Coordinate?) -> Void) -> Geometry? {
        if let error = source.geometryError {
            add(.error, .unreadableGeometry, "the geometry cannot be read: \(error)", nil)
            return nil
        }
        if let n = source.tooManyVertices ?? source.geometry.map(\.coordinateCount), n > options.maxVertices {
            add(.error, .tooManyVertices, Self.tooManyVertices(n, options.maxVertices), nil)
            return nil
        }
        guard var g = source.geometry, !g.isEmpty else {
            // Built-in layers are maps of areas; other layers may hold unlocated features.
            add(schema.isAreal ? .error : .warning, .emptyGeometry, "the geometry is empty or NULL", nil)
            return nil
        }
        if schema.isAreal, !g.isAreal {
            add(.error, .wrongGeometryType, "layer '\(schema.name)' holds polygons, this is a \(g.typeName)", nil)
            return nil
        }
        if let bad = Self.outOfRange(g, crs) {
            let hint = g.boundingBox.flatMap { box in areaCheck(crs).map { ";" + $0.suggestion(box) } } ?? ""
            add(.error, .outOfRange, bad + hint, nil)
            return nil
        }
        if let box = g.boundingBox, let problem = areaCheck(crs)?.problem(box) {
            add(.error, .wrongCRS, problem, nil)
            return nil
        }
        do {
            let native = try geos.geometry(g)
            if case .invalid(let reason, let location) = try native.validity() {
                let at = try location.map { try toStorage.transform($0) }
                if options.fix {
                    let repaired = try native.makeValid()
                    let before = try native.area(), after = try repaired.area()
                    g = try repaired.value()
                    if schema.isAreal, !g.isAreal {
                        // make-valid can return a collection: keep its polygons.
                        g = Self.polygonalPart(g)
                    }
                    let change = before > 0 ? String(format: "%+.3f %%", (after - before) / before * 100) : "n/a"
                    add(.warning, .fixedGeometry, "repaired with make-valid (\(reason)); area changed by \(change)", at)
                } else {
                    add(.error, .invalidGeometry, "invalid geometry: \(reason)", at)
                    return nil
                }
            }
            let stored = try toStorage.transform(g)
            adviseTM3(g, stored, crs: crs, toStorage: toStorage, add: add)
            return stored
        } catch {
            add(.error, .outOfRange, "cannot be transformed to WGS 84: \(error)", nil)
            return nil
        }
    }

    func areaCheck(_ crs: CRS) -> AreaOfUseCheck? {
        if let known = areaChecks[crs] { return known }
        let made = try? AreaOfUseCheck(crs: crs)
        areaChecks[crs] = made
        return made
    }

    /// Cadastral sheets are drawn in their province's VN-2000 TM-3 zone, yet files often declare
    /// VN-2000 / UTM (EPSG:3405/3406); in Hà Nội the two readings lie ~700 m apart. Data read as
    /// UTM that lies in a province gets a warning naming the zone to try, once per zone and file.
    func adviseTM3(_ source: Geometry, _ stored: Geometry, crs: CRS, toStorage: Transformer,
                   add: (Finding.Severity, Finding.Kind, String, Coordinate?) -> Void) {
        guard crs.epsg == 3405 || crs.epsg == 3406, let box = stored.boundingBox, let from = source.boundingBox else { return }
        let here = Coordinate((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2)
        guard let province = CadastralZones.province(at: here), !suggestedZones.contains(province.epsg) else { return }
        suggestedZones.insert(province.epsg)
        let centre = Coordinate((from.minX + from.maxX) / 2, (from.minY + from.maxY) / 2)
        var apart = ""
        if let zone = try? CRS.resolve(epsg: province.epsg), let other = try? Transformer(from: zone, to: .wgs84).transform(centre),
           let read = try? toStorage.transform(centre) {
            let dx = (other.x - read.x) * 111_320 * cos(read.y * .pi / 180), dy = (other.y - read.y) * 110_574
            apart = " (read that way, the data moves \(Int((dx * dx + dy * dy).squareRoot().rounded())) m here)"
        }
        let meridian = CadastralZones.meridianText(province.meridian)
        add(.warning, .cadastralZone,
            "read as \(crs.description), but the cadastral maps of \(province.name) are drawn in VN-2000 / TM-3 \(meridian) (EPSG:\(province.epsg), central meridian \(meridian)E): if these are cadastral sheets, try --crs EPSG:\(province.epsg)\(apart)",
            here)
    }

    /// Parcels already in the layer (or earlier in this batch) whose interiors overlap this one
    /// by more than `overlapArea`: R-tree candidates, then GEOS on a prepared geometry.
    ///
    /// An overlap can be no larger than the overlap of the two bounding boxes, so a neighbour
    /// whose box overlaps this one's by less than `overlapArea` (with a 2 % margin on the metres
    /// per degree) is skipped without decoding its geometry: that is every neighbour that only
    /// shares an edge, which is most of them. Profiled: the check was 41 % of an import.
    func overlaps(_ feature: Feature, _ writer: any FeatureBatchWriter, add: (Finding.Severity, Finding.Kind, String, Coordinate?) -> Void) throws {
        guard let g = feature.geometry, let box = g.boundingBox else { return }
        let limit = options.overlapArea
        let metresPerDegreeLat = 110_950.0 * 1.02
        let metresPerDegreeLon = 111_320.0 * cos(min(abs(box.minY), abs(box.maxY)) * .pi / 180) * 1.02
        let neighbours = try writer.geometries(intersecting: box) { other in
            let w = min(box.maxX, other.maxX) - max(box.minX, other.minX)
            let h = min(box.maxY, other.maxY) - max(box.minY, other.minY)
            return w > 0 && h > 0 && w * metresPerDegreeLon * h * metresPerDegreeLat > limit
        }.filter { $0.id != feature.id }
        guard !neighbours.isEmpty else { return }
        let mine = try geos.geometry(g)
        let prepared = try mine.prepared()
        for n in neighbours {
            let other = try geos.geometry(n.geometry)
            guard try prepared.intersects(other), try !prepared.touches(other) else { continue }
            let shared = try mine.intersection(other).value()
            let m2 = try area.squareMetres(of: shared)
            if m2 > limit {
                let at = shared.boundingBox.map { Coordinate(($0.minX + $0.maxX) / 2, ($0.minY + $0.maxY) / 2) }
                add(.warning, .overlap, "overlaps parcel \(n.id) by \(Self.format(m2)) m²", at)
            }
        }
    }

    /// Computed area in EPSG:9210, and the checks that need it.
    func measure(_ feature: inout Feature, _ g: Geometry, add: (Finding.Severity, Finding.Kind, String, Coordinate?) -> Void) {
        guard let m2 = try? area.squareMetres(of: g) else { return }
        feature.properties["area_m2"] = .number((m2 * 100).rounded() / 100)
        guard schema.name == "parcels" else { return }
        if m2 < options.sliverArea { add(.warning, .sliver, "a sliver of \(Self.format(m2)) m²", nil) }
        if let declared = feature.properties["declared_area_m2"].flatMap(Self.number), declared > 0 {
            let diff = abs(m2 - declared) / declared
            if diff > options.areaTolerance {
                add(.warning, .areaMismatch, "computed area \(Self.format(m2)) m² differs from the declared \(Self.format(declared)) m² by \(String(format: "%.1f", diff * 100)) %", nil)
            }
        }
    }

    /// The feature id: `--key`, else `{ward_code}-{sheet}-{number}` for parcels, else the
    /// layer's key field, else `{file}-{index}`.
    func identifier(_ p: [String: JSONValue], source: [String: JSONValue], index: Int, stem: String) -> String {
        if let key = options.keyField, let v = source[key] ?? p[key], v != .null { return Self.text(v) }
        let keys = schema.keyFields.compactMap { p[$0] }.filter { $0 != .null }
        if !keys.isEmpty, keys.count == schema.keyFields.count { return keys.map(Self.text).joined(separator: "-") }
        return "\(stem)-\(index)"
    }

    /// Canonical values cleaned: admin levels in the contract's words, numbers from text.
    func normaliseValues(_ p: [String: JSONValue]) -> [String: JSONValue] {
        var p = p
        if schema.name == "admin", let level = p["level"]?.stringValue {
            let lower = level.lowercased()
            let map = ["phường": "ward", "xã": "commune", "đặc khu": "special_zone", "thành phố": "province", "tỉnh": "province", "thị trấn": "ward"]
            if let v = map[lower] { p["level"] = .string(v) }
        }
        for field in schema.fields where field.type == .integer {
            if case .number(let d) = p[field.name], d == d.rounded(), abs(d) < 9e15 { p[field.name] = .integer(Int64(d)) }
        }
        return p
    }

    static func problem(_ v: JSONValue, _ field: FieldDefinition) -> String? {
        switch (field.type, v) {
        case (_, .null): return nil
        case (.integer, .string(let s)) where Int64(s.trimmingCharacters(in: .whitespaces)) == nil && !s.trimmingCharacters(in: .whitespaces).isEmpty:
            return "field '\(field.name)' must be a whole number, not '\(s)'"
        case (.real, .string(let s)) where number(.string(s)) == nil && !s.trimmingCharacters(in: .whitespaces).isEmpty:
            return "field '\(field.name)' must be a number, not '\(s)'"
        default: return nil
        }
    }

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespaces)
            return Double(t) ?? Double(t.replacingOccurrences(of: ",", with: "."))
        default: return nil
        }
    }

    static func text(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): s
        case .integer(let i): String(i)
        case .number(let d): WKT.number(d)
        default: v.jsonText
        }
    }

    static func format(_ v: Double) -> String { String(format: "%.2f", v) }

    /// Degrees past ±180/±90 still taken as on the edge (about 0.1 mm).
    static let edgeTolerance = 1e-9

    /// Coordinates that cannot be in the CRS: lon/lat out of range, TM eastings outside 0…1 000 000.
    static func outOfRange(_ g: Geometry, _ crs: CRS) -> String? {
        var problem: String?
        g.forEachCoordinate { c in
            guard problem == nil else { return }
            if !c.x.isFinite || !c.y.isFinite {
                problem = "a coordinate is not a number"
            } else if crs.isGeographic {
                // A hair past the edge (180.00000000000006, from rounding in the source's own
                // transformations: Natural Earth's Russia) is the edge, not a projected CRS.
                if abs(c.x) > 180 + Self.edgeTolerance || abs(c.y) > 90 + Self.edgeTolerance {
                    problem = "longitude/latitude \(c.x), \(c.y) is out of range: is the file in a projected CRS? pass --crs"
                }
            } else if crs.isTransverseMercator, c.x < 0 || c.x > 1_000_000 {
                problem = "easting \(c.x) is outside 0…1 000 000 m for \(crs.identifier): wrong CRS, or X and Y swapped?"
            }
        }
        return problem
    }

    static func tooManyVertices(_ n: Int, _ limit: Int) -> String {
        "the geometry has \(n) vertices, more than the limit of \(limit) (--max-vertices): split it, or simplify it"
    }

    static func polygonalPart(_ g: Geometry) -> Geometry {
        guard case .geometryCollection(let parts) = g else { return g }
        var polys = [[[Coordinate]]]()
        for p in parts {
            switch p {
            case .polygon(let rings): polys.append(rings)
            case .multiPolygon(let ps): polys += ps
            default: break
            }
        }
        return .multiPolygon(polys)
    }
}
