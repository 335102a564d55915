import Backends
import ArgumentParser
import Foundation
import Formats
import Geometry
import Import
import Projection
import Store

/// Options shared by `import` and `validate`: how to read the files.
struct ReadOptions: ParsableArguments {
    @Argument(help: "The files: Shapefile (.shp or a .zip of one), GeoPackage, GeoJSON, GeoJSON sequence, CSV, DXF, DGN, MapInfo TAB/MIF.")
    var files: [String]

    @Option(help: "The layer: parcels, zoning, admin, or a name of your own (lower-case letters, digits, _). `validate` of a DGN/DXF sheet without it lists the sheet's levels/layers.")
    var layer: String?

    @Option(help: ArgumentHelp("The files' CRS, overriding what they declare: an alias (vn2000, vn2000-utm48, vn2000-geo, wgs84, webmercator), EPSG:n, or WKT.", valueName: "crs"))
    var crs: String?

    @Option(help: "Text encoding of the attributes: auto, utf8, tcvn3, vni, cp1258 (auto reads a Shapefile's .cpg, else guesses).")
    var encoding: String = "auto"

    @Option(help: "The source field holding each feature's id (default: {ward_code}-{sheet}-{number} for parcels).")
    var key: String?

    @Option(name: .customLong("map"), help: ArgumentHelp("Map a source field onto a canonical one, e.g. --map SHBANDO=sheet (repeatable).", valueName: "SRC=CANONICAL"))
    var mappings: [String] = []

    @Option(help: "Report computed vs declared area differences above this percentage.")
    var areaTolerance: Double = 5

    @Option(help: "Refuse features with more vertices than this (SPEC §5).")
    var maxVertices: Int = ImportOptions.defaultMaxVertices

    @Option(help: ArgumentHelp("CAD sheets (DGN, DXF): the level (DGN, a number) or layer (DXF, a name) whose closed shapes are the features, e.g. --shapes 10.", valueName: "LEVEL"))
    var shapes: String?

    @Option(name: .customLong("label"), help: ArgumentHelp("With --shapes: the texts on LEVEL fill FIELD of the shape that holds them, e.g. --label number=13 (repeatable).", valueName: "FIELD=LEVEL"))
    var labels: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("Give every feature of the files this value, e.g. --set ward_code=27484 (repeatable); a sheet's number also comes from its file name (to56.dgn).", valueName: "FIELD=VALUE"))
    var constants: [String] = []

    func options() throws -> ImportOptions {
        guard let layer else { throw ValidationError("give the layer to import into: --layer parcels|zoning|admin|<name>") }
        var o = ImportOptions(layer: layer)
        o.crs = try crs.map { try CRS.resolve($0) }
        guard let e = TextEncoding(rawValue: encoding.lowercased()) else {
            throw ValidationError("unknown encoding '\(encoding)': use auto, utf8, tcvn3, vni or cp1258")
        }
        o.encoding = e
        o.keyField = key
        for m in mappings {
            let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ValidationError("--map takes SRC=CANONICAL, not '\(m)'") }
            o.mappings[parts[0]] = parts[1]
        }
        o.areaTolerance = areaTolerance / 100
        guard maxVertices > 0 else { throw ValidationError("--max-vertices must be a positive number, not \(maxVertices)") }
        o.maxVertices = maxVertices
        do {
            let parsed = try labels.map(SheetLayout.label)
            if let shapes {
                o.sheet = SheetLayout(shapes: shapes, labels: parsed)
            } else if !parsed.isEmpty {
                throw ValidationError("--label needs --shapes: name the level (DGN) or layer (DXF) of the shapes, e.g. --shapes 10")
            }
            for c in constants {
                let (field, value) = try SheetLayout.setting(c)
                o.constants[field] = value
            }
        } catch let e as SheetLayoutError {
            throw ValidationError(e.description)
        }
        return o
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read survey files, check them, reproject them and write them as one all-or-nothing batch.",
        discussion: """
            Every import prints a quality report: invalid geometry (with GEOS's reason and place), \
            empty geometry, duplicate ids, out-of-range coordinates, computed vs declared area. \
            By default an import with errors writes nothing. Earlier versions of changed features \
            are kept (see `landmap history`).

            Common Vietnamese field names are mapped onto the canonical ones (SoTo/SHBANDO → sheet, \
            SoThua/SHTHUA → number, MaLoaiDat/LOAIDAT → land_use, DienTich → declared_area_m2, \
            MaXa → ward_code, …); every other field is kept. The report lists the mapping.

            Coordinates: x = easting/longitude, y = northing/latitude. A GeoJSON file without a \
            `crs` member is WGS 84; other files without CRS information need --crs.

            Examples:
              landmap import thua_dat.shp --layer parcels
              landmap import to12.dxf --layer parcels --crs vn2000 --encoding tcvn3
              landmap import to56.dgn --layer parcels --crs vn2000 --shapes 10 \\
                --label number=13 --label land_use=14 --label declared_area_m2=15 \\
                --set ward_code=27484
              landmap import quy_hoach.zip --layer zoning --mode replace
              landmap import wards.geojson --layer admin --map type=level --dry-run
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var read: ReadOptions

    @Option(help: "append (new ids only), replace (the files become the layer), upsert (insert or update).")
    var mode: String = "append"

    @Flag(help: "Repair invalid geometry with make-valid and report what changed.")
    var fix = false

    @Flag(help: "Import the valid features and list what was skipped, instead of writing nothing.")
    var skipInvalid = false

    @Flag(help: "Check and report only; write nothing.")
    var dryRun = false

    func run() throws {
        var o = try read.options()
        guard let m = WriteMode(rawValue: mode) else { throw ValidationError("unknown mode '\(mode)': use append, replace or upsert") }
        o.mode = m
        o.fix = fix
        o.skipInvalid = skipInvalid
        o.dryRun = dryRun
        o.actor = cliActor
        let location = StoreLocation(options.db)
        if let file = location.localFile { SourcePolicy.protect(database: file) }
        // A dry run checks against the database when there is one, and never creates a file.
        let noDatabase = dryRun && location.localFile.map { !FileManager.default.fileExists(atPath: $0) } == true
        let progress = ProgressBar(label: "importing")
        do {
            let report = noDatabase
                ? try Importer.validate(read.files, o, scratch: StoreLocation.scratch, progress: progress.update)
                : try Importer(store: options.openStore(create: true)).run(read.files, o, progress: progress.update)
            progress.finish()
            print(options.json ? report.json.jsonText : report.text() + "\n" + Self.outcome(report))
        } catch let refused as ImportRefused {
            progress.finish()
            print(options.json ? refused.report.json.jsonText : refused.report.text())
            throw refused
        }
    }

    static func outcome(_ r: QAReport) -> String {
        guard let w = r.written else { return "dry run: nothing written" }
        return "batch \(w.batchID) written to '\(r.layer)': \(w.inserted) inserted, \(w.updated) updated, \(w.unchanged) unchanged, \(w.deleted) deleted (data version \(w.dataVersion))"
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "The quality report of `import`, without writing anything.",
        discussion: """
            Exits non-zero when the files have errors, so it can gate a data delivery.

            A DGN or DXF sheet without --layer: its levels (DGN) or layers (DXF), with their \
            element counts, kinds and a few of their texts, so you find which level holds the \
            parcel shapes and which their numbers before importing (see Docs/SHEETS.md).

            Examples:
              landmap validate thua_dat.shp --layer parcels
              landmap validate ban_do_dia_chinh.gpkg --layer parcels --crs vn2000 --json
              landmap validate to56.dgn
              landmap validate to56.dgn --layer parcels --crs vn2000 --shapes 10 --label number=13
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var read: ReadOptions

    func run() throws {
        // The database is not opened here, but a file to check may still not be it.
        if let file = StoreLocation(options.db).localFile { SourcePolicy.protect(database: file) }
        if read.layer == nil, read.shapes == nil, !read.files.isEmpty, read.files.allSatisfy(SheetLayout.isCADFile) {
            try listLevels()
            return
        }
        let progress = ProgressBar(label: "checking")
        let report = try Importer.validate(read.files, try read.options(), scratch: StoreLocation.scratch, progress: progress.update)
        progress.finish()
        print(options.json ? report.json.jsonText : report.text())
        if !report.errors.isEmpty { throw ExitCode(1) }
    }

    /// What each sheet holds, level by level: the first step with a drawing from another office.
    func listLevels() throws {
        guard let encoding = TextEncoding(rawValue: read.encoding.lowercased()) else {
            throw ValidationError("unknown encoding '\(read.encoding)': use auto, utf8, tcvn3, vni or cp1258")
        }
        var all = [JSONValue]()
        for file in read.files {
            let survey = try SheetReader.survey(file, encoding: encoding)
            if options.json {
                all.append(.object(["path": .string(file), "levels": survey.json]))
            } else {
                let total = survey.levels.reduce(0) { $0 + $1.total }
                print("\(FormatError.displayName(file)): \(total) elements on \(survey.levels.count) \(survey.unit)s")
                for l in survey.levels { print("  \(survey.unit) \(l.name): \(l.line)") }
            }
        }
        if options.json { print(JSONValue.array(all).jsonText) } else {
            print("import the shapes with --shapes LEVEL and their texts with --label FIELD=LEVEL (see landmap import --help)")
        }
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar {
    let label: String
    let unit: String
    let enabled = isatty(STDERR_FILENO) != 0
    let start = Date()
    var drawn = false

    init(label: String, unit: String = "features") {
        self.label = label
        self.unit = unit
    }

    func update(_ done: Int, _ total: Int?) {
        guard enabled else { return }
        let seconds = max(Date().timeIntervalSince(start), 0.001)
        let rate = Double(done) / seconds
        var line = "\(label): \(done.formatted()) \(unit), \(Int(rate).formatted())/s"
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 24
            let filled = Int(fraction * Double(width))
            let eta = rate > 0 ? Double(total - done) / rate : 0
            line = "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(Int(fraction * 100))% \(done.formatted())/\(total.formatted()), \(Int(rate).formatted())/s, ETA \(Int(eta))s"
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
