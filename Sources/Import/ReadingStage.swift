import Dispatch
import Features
import Formats
import Foundation
import Geometry
import Projection
import Synchronization

/// A bounded queue between two threads: `put` waits while it is full, `take` while it is empty.
/// Cancelling makes the producer stop at its next look, and `drain` waits for its last word.
final class HandOff<Item: Sendable>: Sendable {
    private let items = Mutex<[Item]>([])
    private let filled = DispatchSemaphore(value: 0)
    private let free: DispatchSemaphore
    private let cancelled = Atomic<Bool>(false)

    init(capacity: Int) {
        free = DispatchSemaphore(value: capacity)
    }

    func put(_ item: Item) {
        free.wait()
        items.withLock { $0.append(item) }
        filled.signal()
    }

    func take() -> Item {
        filled.wait()
        let item = items.withLock { $0.removeFirst() }
        free.signal()
        return item
    }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func cancel() { cancelled.store(true, ordering: .relaxed) }
}

/// What `ReadingStage` reads features from: a file through OGR, or a CAD sheet's shapes with
/// their labels joined.
protocol FeatureSource: AnyObject {
    var crsWKT: String? { get }
    var fieldNames: [String] { get }
    var encoding: TextEncoding { get }
    var encodingSource: String { get }
    var layerName: String { get }
    var notes: [String] { get }
    var featureCountHint: Int? { get }
    func next() throws -> SourceFeature?
}

extension OGRReader: FeatureSource {}

extension SheetReader: FeatureSource {
    var featureCountHint: Int? { featureCount }
}

/// The first half of an import, on a thread of its own: read a file with GDAL, map its fields,
/// check, repair and reproject each geometry and measure its area. The importing thread, which
/// holds the write transaction, does the rest (overlaps against what is written, the insert),
/// so the two halves run on two cores. Everything handed over is a `Sendable` value; GDAL,
/// GEOS and PROJ handles stay on the thread that made them.
enum ReadingStage {
    /// A feature made ready for the writing half.
    struct Ready: Sendable {
        var index: Int
        var feature: Feature
        var findings: [Finding]
        /// Errors were found (or the lint refused it): counted as skipped, never written.
        var refused: Bool
    }

    enum Message: Sendable {
        case opened(FileSummary, total: Int?)
        case features([Ready])
        /// Findings about no one feature (a CAD sheet's label inside no shape).
        case findings([Finding])
        case finished
        case failed(any Error)
    }

    static let batchSize = 256

    /// The features of one file: its elements through OGR, or a CAD sheet's shapes with their
    /// labels joined (`--shapes`).
    static func source(_ path: String, _ options: ImportOptions, schema: LayerSchema) throws -> any FeatureSource {
        guard let layout = options.sheet else {
            let reader = try OGRReader(path: path, layer: options.sourceLayer, encoding: options.encoding)
            reader.maxVertices = options.maxVertices
            return reader
        }
        guard SheetLayout.isCADFile(path) else {
            throw FormatError(file: path, "--shapes and --label read CAD sheets (DGN, DXF); this file is not one")
        }
        let canonical = FieldMapping(sourceFields: layout.labels.map(\.field), schema: schema, explicit: options.mappings).canonical
        let numeric = Set(layout.labels.map(\.field).filter { field in
            let type = schema.fields.first { $0.name == (canonical[field] ?? field) }?.type
            return type == .integer || type == .real
        })
        return try SheetReader(path: path, layout: layout, encoding: options.encoding, numeric: numeric, maxVertices: options.maxVertices)
    }

    /// Starts reading `path` on a new thread; read its messages from the returned hand-off until
    /// `.finished` or `.failed`.
    static func start(path: String, options: ImportOptions, lintRefused: Set<Int>) -> HandOff<Message> {
        let pipe = HandOff<Message>(capacity: 8)
        let thread = Thread {
            do {
                try read(path, options, lintRefused, pipe)
                pipe.put(.finished)
            } catch {
                pipe.put(.failed(error))
            }
        }
        thread.name = "landmap-import-read"
        thread.stackSize = 8 << 20
        thread.start()
        return pipe
    }

    /// Stops the reading thread early and waits for its last message, so that no file handle
    /// outlives the import (an upload's folder is removed right after).
    static func stop(_ pipe: HandOff<Message>) {
        pipe.cancel()
        while true {
            switch pipe.take() {
            case .finished, .failed: return
            case .opened, .features, .findings: continue
            }
        }
    }

    private static func read(_ path: String, _ options: ImportOptions, _ lintRefused: Set<Int>, _ pipe: HandOff<Message>) throws {
        let run = try Run(options: options)
        let schema = run.schema
        let reader = try source(path, options, schema: schema)
        let declaredWithNote = try reader.crsWKT.map { try CRS.resolveDeclared($0) }
        let declared = declaredWithNote?.crs
        let ext = (path as NSString).pathExtension.lowercased()
        guard let crs = options.crs ?? declared ?? (Run.geoJSONExtensions.contains(ext) ? CRS.wgs84 : nil) else {
            throw FormatError(file: path, "the file declares no coordinate system: pass --crs (e.g. --crs vn2000 for HCMC cadastral sheets in VN-2000 / TM-3 105°45′, --crs wgs84 for GPS longitude/latitude)")
        }
        let toStorage = try Transformer(from: crs, to: .wgs84)
        let mapping = FieldMapping(sourceFields: reader.fieldNames, schema: schema, explicit: options.mappings)
        var summary = FileSummary(path: path, layerName: reader.layerName, features: 0, crs: crs.description,
                                  declaredCRS: options.crs != nil && declared != nil && declared != options.crs ? declared?.description : nil,
                                  encoding: "\(reader.encoding.rawValue)\(reader.encodingSource.isEmpty ? "" : " (\(reader.encodingSource))")",
                                  mapping: mapping.canonical)
        summary.notes = reader.notes
        if options.crs == nil, let note = declaredWithNote?.note { summary.notes.append(note) }
        var constants = run.constants
        var sheetFindings = [Int: [Finding]](), strays = [Finding]()
        let sheet = reader as? SheetReader
        if let sheet {
            summary.survey = sheet.survey
            if !crs.isGeographic { summary.notes.append("coordinates kept to the millimetre, a cadastral survey's precision") }
            if constants["sheet"] == nil, schema.fields.contains(where: { $0.name == "sheet" }),
               let number = SheetLayout.sheetNumber(fromFileName: path) {
                constants["sheet"] = .integer(Int64(number))
                summary.notes.append("sheet \(number) taken from the file name (--set sheet=N gives another)")
            }
            for a in sheet.anomalies {
                let place = try? toStorage.transform(a.location)
                let finding = Finding(severity: a.kind == .conflictingLabels ? .error : .warning, kind: a.kind.findingKind,
                                      file: path, index: a.index, key: nil, message: a.message, location: place)
                if a.kind == .strayLabel {
                    strays.append(finding)
                } else {
                    sheetFindings[a.index, default: []].append(finding)
                }
            }
        } else if SheetLayout.isCADFile(path), let survey = try? SheetReader.survey(path, encoding: options.encoding) {
            summary.survey = survey
            if schema.isAreal, survey.levels.contains(where: { $0.counts["text"] != nil }) {
                summary.notes.append("a CAD sheet with texts: its texts are not \(schema.name); join them to the shapes with --shapes LEVEL --label FIELD=LEVEL (the \(survey.unit)s are listed below)")
            }
        }
        pipe.put(.opened(summary, total: reader.featureCountHint))
        if !strays.isEmpty { pipe.put(.findings(strays)) }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var batch = [Ready]()
        batch.reserveCapacity(batchSize)
        let millimetres = sheet != nil && !crs.isGeographic
        while var source = try reader.next() {
            if millimetres { source.geometry = source.geometry.map(SheetReader.millimetres) }
            var properties = run.normaliseValues(mapping.apply(source.fields))
            for (field, value) in constants { properties[field] = value }
            let id = run.identifier(properties, source: source.fields, index: source.index, stem: stem)
            var findings: [Finding] = sheetFindings.removeValue(forKey: source.index)?.map { f in var f = f; f.key = id; return f } ?? []
            func add(_ severity: Finding.Severity, _ kind: Finding.Kind, _ message: String, _ at: Coordinate? = nil) {
                findings.append(Finding(severity: severity, kind: kind, file: path, index: source.index, key: id, message: message, location: at))
            }
            let geometry = run.check(source, crs: crs, toStorage: toStorage, add: add)
            var feature = Feature(id: id, geometry: geometry, properties: properties)
            if let geometry, schema.name == "parcels" || schema.name == "zoning" {
                run.measure(&feature, geometry, add: add)
            }
            if geometry != nil, schema.isAreal {
                for field in schema.fields {
                    if let v = feature.properties[field.name], let problem = Run.problem(v, field) { add(.error, .badValue, problem) }
                }
            }
            let refused = findings.contains { $0.severity == .error } || (geometry == nil && schema.isAreal) || lintRefused.contains(source.index)
            batch.append(Ready(index: source.index, feature: feature, findings: findings, refused: refused))
            if batch.count == batchSize {
                pipe.put(.features(batch))
                batch.removeAll(keepingCapacity: true)
                if pipe.isCancelled { return }
            }
        }
        if !batch.isEmpty { pipe.put(.features(batch)) }
    }
}

extension SheetAnomaly.Kind {
    var findingKind: Finding.Kind {
        switch self {
        case .missingLabel: .missingLabel
        case .strayLabel: .strayLabel
        case .conflictingLabels: .conflictingLabels
        case .nestedShape: .nestedShape
        }
    }
}
