import Foundation
import Geometry

/// Which elements of a CAD sheet (DGN, DXF) become features and where their attributes are:
/// `--shapes LEVEL` names the level (DGN, a number) or layer (DXF, a name) of the closed shapes,
/// each `--label FIELD=LEVEL` a level or layer whose text elements fill FIELD of the shape that
/// holds them. Surveyors draw parcels this way (FAMIS/ViLIS, AutoCAD): the number, land-use code
/// and area are texts placed inside each parcel on levels of their own.
public struct SheetLayout: Sendable, Hashable {
    public struct Label: Sendable, Hashable {
        public var field: String
        public var level: String
        public init(field: String, level: String) {
            self.field = field
            self.level = level
        }
    }

    public var shapes: String
    public var labels: [Label]

    public init(shapes: String, labels: [Label] = []) {
        self.shapes = shapes
        self.labels = labels
    }

    /// `FIELD=LEVEL`, as `--label` takes it.
    public static func label(_ text: String) throws -> Label {
        let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw SheetLayoutError("--label takes FIELD=LEVEL (a DGN level number or a DXF layer name), e.g. --label number=13, not '\(text)'")
        }
        return Label(field: parts[0], level: parts[1])
    }

    /// `FIELD=VALUE`, as `--set` takes it.
    public static func setting(_ text: String) throws -> (field: String, value: String) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].trimmingCharacters(in: .whitespaces).isEmpty else {
            throw SheetLayoutError("--set takes FIELD=VALUE, e.g. --set ward_code=27484, not '\(text)'")
        }
        return (parts[0].trimmingCharacters(in: .whitespaces), parts[1])
    }

    /// A level or layer as the file names it matches the one the user gave: DGN levels as
    /// numbers (`013` is 13), DXF layers without regard to case, as AutoCAD treats them.
    static func same(_ given: String, _ inFile: String) -> Bool {
        if let a = Int(given), let b = Int(inFile) { return a == b }
        return given.caseInsensitiveCompare(inFile) == .orderedSame
    }

    /// The sheet number in a file's name, as surveyors name sheets: `to56.dgn`, `TO_56.dxf`,
    /// `To-056.dgn`, `bando_to56.dgn`; nil when the name has none.
    public static func sheetNumber(fromFileName path: String) -> Int? {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        guard let r = stem.range(of: #"(?i)(^|[^a-z])t[oờ][ _\-]?0*([0-9]{1,5})($|[^0-9])"#, options: .regularExpression) else { return nil }
        let digits = stem[r].filter(\.isNumber)
        return Int(digits)
    }

    /// The extensions of CAD sheets.
    public static func isCADFile(_ path: String) -> Bool {
        ["dgn", "dxf"].contains((path as NSString).pathExtension.lowercased())
    }
}

/// A `--shapes`/`--label` that cannot be used, said as the user should fix it.
public struct SheetLayoutError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A number as people write it on a sheet: `1.234,5` (Vietnamese: dot for thousands, comma for
/// the decimals), `1234.5`, `1234,5`, `1 234,5`, with an optional `m2`/`m²`. With both marks,
/// the last one is the decimal mark; a lone comma is decimal; a lone dot is decimal unless it
/// repeats (`1.234.567`). Nil when the text is not a number.
public enum SheetNumber {
    public static func parse(_ text: String) -> Double? {
        var t = text.trimmingCharacters(in: .whitespaces)
        for unit in ["m²", "m2", "M2"] where t.hasSuffix(unit) { t = String(t.dropLast(unit.count)).trimmingCharacters(in: .whitespaces) }
        t = t.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "\u{00A0}", with: "")
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "," || $0 == "-" || $0 == "+") }) else { return nil }
        let dots = t.filter { $0 == "." }.count, commas = t.filter { $0 == "," }.count
        var plain: String
        if dots > 0, commas > 0 {
            let lastDot = t.lastIndex(of: ".") ?? t.startIndex, lastComma = t.lastIndex(of: ",") ?? t.startIndex
            let (group, decimal): (Character, Character) = lastComma > lastDot ? (".", ",") : (",", ".")
            guard t.filter({ $0 == decimal }).count == 1 else { return nil }
            plain = t.replacingOccurrences(of: String(group), with: "").replacingOccurrences(of: String(decimal), with: ".")
        } else if commas > 1 {
            plain = t.replacingOccurrences(of: ",", with: "")
        } else if dots > 1 {
            plain = t.replacingOccurrences(of: ".", with: "")
        } else {
            plain = t.replacingOccurrences(of: ",", with: ".")
        }
        guard let value = Double(plain), value.isFinite else { return nil }
        return value
    }
}

/// What a CAD sheet holds, level by level (DGN) or layer by layer (DXF): how many elements of
/// each kind, with a few of its texts, so a user finds which level holds what before importing.
public struct SheetSurvey: Sendable, Hashable {
    public struct Level: Sendable, Hashable {
        /// The level number (DGN) or layer name (DXF).
        public var name: String
        /// Element kind (`shape`, `closed line`, `line`, `text`, `point`, `other`) → count.
        public var counts: [String: Int]
        /// The first few texts on the level, as examples.
        public var examples: [String]

        public var total: Int { counts.values.reduce(0, +) }

        public var line: String {
            let kinds = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.value) \($0.key)\($0.value == 1 || $0.key.hasSuffix("s") ? "" : "s")" }
            let e = examples.isEmpty ? "" : " (e.g. " + examples.map { "'\($0)'" }.joined(separator: ", ") + ")"
            return kinds.joined(separator: ", ") + e
        }
    }

    /// "level" for DGN, "layer" for DXF.
    public var unit: String
    public var levels: [Level]

    public init(unit: String, levels: [Level]) {
        self.unit = unit
        self.levels = levels
    }

    /// `[{"name", "kind": "level"|"layer", "elements": {kind: count}, "examples": […]}]`.
    public var json: JSONValue {
        .array(levels.map { l in
            .object(["name": .string(l.name), "kind": .string(unit),
                     "elements": .object(l.counts.mapValues { .integer(Int64($0)) }),
                     "examples": .array(l.examples.map { .string($0) })])
        })
    }
}

/// One thing the label join found that a person must look at: where, and what.
public struct SheetAnomaly: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The shape has no text for the field.
        case missingLabel
        /// A text on a label level lies inside no shape.
        case strayLabel
        /// The shape holds different texts for one field: the field is left empty.
        case conflictingLabels
        /// The shape lies inside another one, and is cut out of it.
        case nestedShape
    }

    public var kind: Kind
    /// The element (1-based position in the file) the anomaly is about: the shape, or the stray text.
    public var index: Int
    public var message: String
    /// Where, in the file's coordinates.
    public var location: Coordinate
}

/// Reads a CAD sheet and joins its labels to its shapes (see `SheetLayout`): the closed shapes
/// on the shapes level (DGN shapes and complex shapes, DXF hatches: polygons; closed line
/// strings and polylines of either) become features; every text on a label level goes to the
/// shape that holds its insertion point, the innermost one where shapes nest, and a shape drawn
/// inside another is cut out of it (an island parcel is not part of the one around it). Texts
/// are decoded like any other text (TCVN3, VNI, CP1258). Everything else is counted, not read.
///
/// The whole sheet is read at `init` (a sheet is thousands of elements, not millions), then
/// handed out one feature at a time. Not `Sendable`: one reader per task, like `OGRReader`.
public final class SheetReader {
    public let path: String
    public let layout: SheetLayout
    public let survey: SheetSurvey
    public let crsWKT: String?
    public let encoding: TextEncoding
    public let encodingSource: String
    public let layerName: String
    /// The fields the labels fill, in `--label` order.
    public var fieldNames: [String] { layout.labels.map(\.field).reduce(into: []) { if !$0.contains($1) { $0.append($1) } } }
    public private(set) var anomalies: [SheetAnomaly] = []
    /// What was read and what was left aside, for the report.
    public private(set) var notes: [String] = []
    private var features: [SourceFeature] = []
    private var position = 0

    /// A sheet larger than this many elements is not a sheet: it is refused rather than held in memory.
    public static let maxElements = 2_000_000

    /// `numeric` names the fields whose texts are numbers (`SheetNumber`). A shape with more
    /// than `maxVertices` vertices is handed out without its geometry, as `OGRReader` does.
    public init(path: String, layout: SheetLayout, encoding: TextEncoding = .auto, numeric: Set<String> = [], maxVertices: Int? = nil) throws {
        self.path = path
        self.layout = layout
        let reader = try OGRReader(path: path, encoding: encoding)
        reader.maxVertices = maxVertices
        let names = Set(reader.fieldNames)
        let levelField: String
        if names.contains("Level") {
            levelField = "Level"
        } else if names.contains("Layer") {
            levelField = "Layer"
        } else {
            throw FormatError(file: path, "--shapes and --label read DGN levels or DXF layers, and this file has neither (it is not a CAD sheet)")
        }
        self.crsWKT = reader.crsWKT
        self.encoding = reader.encoding
        self.encodingSource = reader.encodingSource
        self.layerName = reader.layerName
        let unit = levelField == "Level" ? "level" : "layer"

        var shapes = [(index: Int, rings: [[Coordinate]])]()
        var texts = [(index: Int, field: String, text: String, at: Coordinate)]()
        var tally = SurveyTally()
        var oversized = [SourceFeature]()
        var ignored = 0
        let labelFields = Dictionary(grouping: layout.labels, by: \.level)
        while let element = try reader.next() {
            guard element.index <= Self.maxElements else {
                throw FormatError(file: path, "the sheet has more than \(Self.maxElements) elements: split it")
            }
            let (level, kind, text) = tally.add(element, levelField: levelField)
            if SheetLayout.same(layout.shapes, level), let n = element.tooManyVertices {
                oversized.append(SourceFeature(index: element.index, geometry: nil, tooManyVertices: n, fields: [:]))
                continue
            }
            if SheetLayout.same(layout.shapes, level), let rings = element.geometry.flatMap(Self.shapeRings) {
                shapes.append((element.index, rings))
                continue
            }
            if kind == "text", case .point(let p?) = element.geometry,
               let labels = labelFields.first(where: { SheetLayout.same($0.key, level) })?.value {
                for label in labels { texts.append((element.index, label.field, text, p)) }
                continue
            }
            ignored += 1
        }
        survey = tally.survey(unit: unit)
        let levels = survey.levels
        guard levels.contains(where: { SheetLayout.same(layout.shapes, $0.name) }) else {
            throw FormatError(file: path, "no \(unit) '\(layout.shapes)' in the sheet (--shapes); it has \(Self.listing(survey))")
        }
        guard !shapes.isEmpty else {
            throw FormatError(file: path, "\(unit) \(layout.shapes) holds no closed shape (--shapes): it has \(levels.first { SheetLayout.same(layout.shapes, $0.name) }?.line ?? "nothing")")
        }
        for label in layout.labels where !levels.contains(where: { SheetLayout.same(label.level, $0.name) }) {
            throw FormatError(file: path, "no \(unit) '\(label.level)' in the sheet (--label \(label.field)=\(label.level)); it has \(Self.listing(survey))")
        }
        if ignored > 0 {
            notes.append("\(ignored) element\(ignored == 1 ? "" : "s") on other \(unit)s or of other kinds left aside (see the \(unit) list)")
        }
        join(shapes: shapes, texts: texts, numeric: numeric, unit: unit)
        features += oversized
    }

    /// The next joined feature, or nil at the end.
    public func next() -> SourceFeature? {
        guard position < features.count else { return nil }
        defer { position += 1 }
        return features[position]
    }

    public var featureCount: Int { features.count }

    /// Every level with its content, for messages.
    static func listing(_ survey: SheetSurvey) -> String {
        guard !survey.levels.isEmpty else { return "no element at all (an empty drawing, or a damaged file)" }
        return survey.levels.prefix(12).map { "\($0.name): \($0.line)" }.joined(separator: "; ") + (survey.levels.count > 12 ? "; …" : "")
    }

    static func levelName(_ v: JSONValue?) -> String {
        switch v {
        case .integer(let i): String(i)
        case .number(let d): d == d.rounded() ? String(Int64(d)) : String(d)
        case .string(let s): s
        default: ""
        }
    }

    static func kind(_ g: Geometry?, hasText: Bool) -> String {
        switch g {
        case .point: hasText ? "text" : "point"
        case .polygon, .multiPolygon: "shape"
        case .lineString(let cs): isClosed(cs) ? "closed line" : "line"
        case .multiLineString: "line"
        default: "other"
        }
    }

    static func isClosed(_ cs: [Coordinate]) -> Bool {
        cs.count >= 4 && cs.first == cs.last
    }

    /// The rings of a closed shape: a polygon's, or a closed line string as one ring.
    static func shapeRings(_ g: Geometry) -> [[Coordinate]]? {
        switch g {
        // Holes of fewer than 4 points are not rings (a damaged hatch loop): left out.
        case .polygon(let rings) where !rings.isEmpty && rings[0].count >= 4: [rings[0]] + rings.dropFirst().filter { $0.count >= 4 }
        case .multiPolygon(let polys) where polys.count == 1 && !polys[0].isEmpty && polys[0][0].count >= 4:
            [polys[0][0]] + polys[0].dropFirst().filter { $0.count >= 4 }
        case .lineString(let cs) where isClosed(cs): [cs]
        default: nil
        }
    }

    /// The geometry with coordinates kept to the millimetre: a sheet in metres is surveyed no
    /// finer, and a DGN's integer units of resolution and a DXF's decimals then agree exactly.
    public static func millimetres(_ g: Geometry) -> Geometry {
        g.mapCoordinates { Coordinate(($0.x * 1000).rounded() / 1000, ($0.y * 1000).rounded() / 1000) }
    }

    // MARK: the join

    private func join(shapes: [(index: Int, rings: [[Coordinate]])], texts: [(index: Int, field: String, text: String, at: Coordinate)],
                      numeric: Set<String>, unit: String) {
        var rings = shapes.map(\.rings)
        let areas = rings.map { abs(Self.signedArea($0[0])) }
        let boxes = rings.map { Self.box($0[0]) }
        let index = PackedBoxIndex(boxes.enumerated().map { (key: $0.offset, box: $0.element) })

        // A shape wholly inside a larger one is an island: cut out of the larger one as a hole.
        // Its label then belongs to it alone, and the two do not overlap.
        var holes = [Int: [[Coordinate]]]()
        for inner in shapes.indices {
            var container: Int?
            index.forEach(intersecting: boxes[inner]) { outer in
                guard outer != inner, areas[outer] > areas[inner], Self.contains(box: boxes[outer], boxes[inner]),
                      rings[inner][0].allSatisfy({ Self.inside($0, ring: rings[outer][0]) != .outside }),
                      Self.inside(Self.probe(rings[inner][0]), ring: rings[outer][0]) == .inside else { return }
                // The innermost container takes the hole.
                if container.map({ areas[outer] < areas[$0] }) ?? true { container = outer }
            }
            if let outer = container {
                holes[outer, default: []].append(rings[inner][0])
                anomalies.append(SheetAnomaly(kind: .nestedShape, index: shapes[inner].index,
                                              message: "this shape lies inside the shape of element \(shapes[outer].index) and is cut out of it (an island parcel)",
                                              location: rings[inner][0][0]))
            }
        }
        for (outer, extra) in holes { rings[outer] += extra }

        var found = [Int: [String: [(text: String, index: Int)]]]()
        for t in texts {
            var best: Int?
            index.forEach(intersecting: BoundingBox(minX: t.at.x, minY: t.at.y, maxX: t.at.x, maxY: t.at.y)) { s in
                guard Self.inside(t.at, rings: rings[s]) else { return }
                if best.map({ areas[s] < areas[$0] }) ?? true { best = s }
            }
            if let s = best {
                found[s, default: [:]][t.field, default: []].append((t.text, t.index))
            } else {
                anomalies.append(SheetAnomaly(kind: .strayLabel, index: t.index,
                                              message: "the text '\(t.text)' for '\(t.field)' lies inside no shape of \(unit) \(layout.shapes): left out",
                                              location: t.at))
            }
        }

        features.reserveCapacity(shapes.count)
        for (i, shape) in shapes.enumerated() {
            var fields = [String: JSONValue]()
            let at = Self.probe(rings[i][0])
            for field in fieldNames {
                let labels = found[i]?[field] ?? []
                let distinct = labels.map(\.text).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                switch distinct.count {
                case 0:
                    anomalies.append(SheetAnomaly(kind: .missingLabel, index: shape.index,
                                                  message: "no text for '\(field)' inside this shape", location: at))
                case 1:
                    fields[field] = Self.value(distinct[0], numeric: numeric.contains(field))
                default:
                    let which = labels.map { "'\($0.text)' (element \($0.index))" }.joined(separator: ", ")
                    anomalies.append(SheetAnomaly(kind: .conflictingLabels, index: shape.index,
                                                  message: "\(distinct.count) different texts for '\(field)' inside this shape: \(which); the field is left empty",
                                                  location: at))
                }
            }
            features.append(SourceFeature(index: shape.index, geometry: .polygon(rings[i]), fields: fields))
        }
    }

    static func value(_ text: String, numeric: Bool) -> JSONValue {
        guard numeric, let d = SheetNumber.parse(text) else { return .string(text) }
        return .number(d)
    }

    static func signedArea(_ ring: [Coordinate]) -> Double {
        guard ring.count > 2 else { return 0 }
        var sum = 0.0
        for k in 0..<(ring.count - 1) { sum += ring[k].x * ring[k + 1].y - ring[k + 1].x * ring[k].y }
        return sum / 2
    }

    static func box(_ ring: [Coordinate]) -> BoundingBox {
        var b = BoundingBox(minX: ring[0].x, minY: ring[0].y, maxX: ring[0].x, maxY: ring[0].y)
        for c in ring { b.expand(toInclude: c) }
        return b
    }

    static func contains(box a: BoundingBox, _ b: BoundingBox) -> Bool {
        a.minX <= b.minX && a.minY <= b.minY && a.maxX >= b.maxX && a.maxY >= b.maxY
    }

    enum Place { case inside, boundary, outside }

    /// Where a point lies against one ring (crossing number; on an edge is `boundary`).
    static func inside(_ p: Coordinate, ring: [Coordinate]) -> Place {
        guard ring.count > 1 else { return .outside }
        var inside = false
        for k in 0..<(ring.count - 1) {
            let a = ring[k], b = ring[k + 1]
            let cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
            if cross == 0, min(a.x, b.x) <= p.x, p.x <= max(a.x, b.x), min(a.y, b.y) <= p.y, p.y <= max(a.y, b.y) { return .boundary }
            if (a.y > p.y) != (b.y > p.y) {
                let x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y)
                if p.x < x { inside.toggle() }
            }
        }
        return inside ? .inside : .outside
    }

    /// A point in a polygon with holes: inside or on the shell, and not strictly inside a hole.
    static func inside(_ p: Coordinate, rings: [[Coordinate]]) -> Bool {
        guard inside(p, ring: rings[0]) != .outside else { return false }
        return !rings.dropFirst().contains { inside(p, ring: $0) == .inside }
    }

    /// A point inside a ring for tests and report places: the middle of the horizontal chord
    /// through the ring's vertical middle that is widest.
    static func probe(_ ring: [Coordinate]) -> Coordinate {
        guard ring.count > 1 else { return ring.first ?? Coordinate(0, 0) }
        let b = box(ring)
        let y = (b.minY + b.maxY) / 2
        var xs = [Double]()
        for k in 0..<(ring.count - 1) {
            let a = ring[k], c = ring[k + 1]
            if (a.y > y) != (c.y > y) { xs.append(a.x + (y - a.y) * (c.x - a.x) / (c.y - a.y)) }
        }
        xs.sort()
        var best = Coordinate((b.minX + b.maxX) / 2, y), width = -1.0
        var k = 0
        while k + 1 < xs.count {
            if xs[k + 1] - xs[k] > width { width = xs[k + 1] - xs[k]; best = Coordinate((xs[k] + xs[k + 1]) / 2, y) }
            k += 2
        }
        return best
    }
}

extension SheetReader {
    /// The levels (DGN) or layers (DXF) of a sheet and what each holds, without joining anything.
    public static func survey(_ path: String, encoding: TextEncoding = .auto) throws -> SheetSurvey {
        let reader = try OGRReader(path: path, encoding: encoding)
        let levelField = reader.fieldNames.contains("Level") ? "Level" : "Layer"
        var tally = SurveyTally()
        while let element = try reader.next() { tally.add(element, levelField: levelField) }
        let survey = tally.survey(unit: levelField == "Level" ? "level" : "layer")
        guard !survey.levels.isEmpty else { throw FormatError(file: path, "no element could be read: an empty drawing, or a damaged file") }
        return survey
    }
}

/// Counts a sheet's elements by level and kind as they are read.
struct SurveyTally {
    private var counts = [String: [String: Int]]()
    private var examples = [String: [String]]()
    private var order = [String]()

    /// Counts one element; returns its level, kind and text.
    @discardableResult
    mutating func add(_ element: SourceFeature, levelField: String) -> (level: String, kind: String, text: String) {
        let level = SheetReader.levelName(element.fields[levelField])
        let text = element.fields["Text"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let kind = SheetReader.kind(element.geometry, hasText: !text.isEmpty)
        if counts[level] == nil { order.append(level) }
        counts[level, default: [:]][kind, default: 0] += 1
        if kind == "text", examples[level, default: []].count < 3, !examples[level, default: []].contains(text) {
            examples[level, default: []].append(text)
        }
        return (level, kind, text)
    }

    func survey(unit: String) -> SheetSurvey {
        let levels = order.map { SheetSurvey.Level(name: $0, counts: counts[$0] ?? [:], examples: examples[$0] ?? []) }
            .sorted { a, b in
                if let x = Int(a.name), let y = Int(b.name) { return x < y }
                return a.name.localizedStandardCompare(b.name) == .orderedAscending
            }
        return SheetSurvey(unit: unit, levels: levels)
    }
}
