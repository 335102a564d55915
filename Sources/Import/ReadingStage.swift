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
        case finished
        case failed(any Error)
    }

    static let batchSize = 256

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
            case .opened, .features: continue
            }
        }
    }

    private static func read(_ path: String, _ options: ImportOptions, _ lintRefused: Set<Int>, _ pipe: HandOff<Message>) throws {
        let run = try Run(options: options)
        let schema = run.schema
        let reader = try OGRReader(path: path, encoding: options.encoding)
        reader.maxVertices = options.maxVertices
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
        pipe.put(.opened(summary, total: reader.featureCountHint))
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var batch = [Ready]()
        batch.reserveCapacity(batchSize)
        while let source = try reader.next() {
            let properties = run.normaliseValues(mapping.apply(source.fields))
            let id = run.identifier(properties, source: source.fields, index: source.index, stem: stem)
            var findings = [Finding]()
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
