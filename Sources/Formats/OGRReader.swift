import CGDAL
import Features
import Foundation
import Geometry

/// Why a file could not be read. Names the file, and the feature where there is one.
public struct FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let featureIndex: Int?
    public let message: String
    /// The file was refused before it was read because of what it would make LandMap reach
    /// (`SourcePolicy`: a VRT, a `/vsi` path or URL, the live database, a zip slip or bomb), not
    /// because its data is bad: a security operator counts these apart (`landmap_refusals_total{reason="unsafe"}`).
    public var isUnsafe = false

    public init(file: String, featureIndex: Int? = nil, _ message: String) {
        self.file = file
        self.featureIndex = featureIndex
        self.message = message
    }

    /// A refusal for what the file would reach (`isUnsafe`).
    public static func unsafe(file: String, _ message: String) -> FormatError {
        var e = FormatError(file: file, message)
        e.isUnsafe = true
        return e
    }

    public var description: String {
        let name = Self.displayName(file)
        return featureIndex.map { "\(name), feature \($0): \(message)" } ?? "\(name): \(message)"
    }
}

extension FormatError {
    /// The file's name as a person recognises it: `archive.zip/inner.shp` for zip entries.
    public static func displayName(_ path: String) -> String {
        if let r = path.range(of: ".zip/", options: [.caseInsensitive, .backwards]) {
            let zip = (String(path[..<r.upperBound].dropLast()) as NSString).lastPathComponent
            return zip + "/" + path[r.upperBound...]
        }
        return (path as NSString).lastPathComponent
    }
}

/// One feature as the source file has it: geometry in the file's CRS, fields by source name.
public struct SourceFeature: Sendable {
    /// 1-based position in the file, for reports.
    public var index: Int
    public var geometry: Geometry?
    /// Why the geometry could not be read, when it could not.
    public var geometryError: String?
    /// The geometry's vertex count when it was over the reader's `maxVertices`; the geometry
    /// is then nil, never decoded.
    public var tooManyVertices: Int?
    public var fields: [String: JSONValue]

    public init(index: Int, geometry: Geometry?, geometryError: String? = nil, tooManyVertices: Int? = nil, fields: [String: JSONValue]) {
        self.index = index
        self.geometry = geometry
        self.geometryError = geometryError
        self.tooManyVertices = tooManyVertices
        self.fields = fields
    }
}

/// GDAL set-up done once per process: drivers registered, messages kept off stderr (we read
/// them with `CPLGetLastErrorMsg` and report them ourselves).
enum GDALLibrary {
    static let ready: Bool = {
        GDALAllRegister()
        CPLSetErrorHandler(CPLQuietErrorHandler)
        CPLSetConfigOption("OGR_GEOJSON_MAX_OBJ_SIZE", "0")
        // Nothing read is ever remote or from stdin, even if a name slipped past `SourcePolicy`:
        // /vsicurl/ opens only names ending in an extension no file has, /vsistdin/ is off.
        CPLSetConfigOption("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".landmap-network-disabled")
        CPLSetConfigOption("CPL_ALLOW_VSISTDIN", "NO")
        CPLSetConfigOption("GDAL_VRT_ENABLE_PYTHON", "NO")
        // A GeoPackage's SQL never reaches SpatiaLite (whose VirtualText, VirtualShape and
        // BlobFromFile read any file), and its schema is not trusted to run functions or
        // virtual tables from views and triggers.
        CPLSetConfigOption("SPATIALITE_LOAD", "NO")
        CPLSetConfigOption("OGR_SQLITE_PRAGMA", "trusted_schema=OFF")
        // GDAL's own HTTP client (a GeoJSON `crs` link, a CRS given as a URL) goes through a
        // proxy that is never there: LandMap never fetches anything, whatever a file says.
        CPLSetConfigOption("GDAL_HTTP_PROXY", "127.0.0.1:9")
        CPLSetConfigOption("GDAL_HTTP_TIMEOUT", "1")
        CPLSetConfigOption("GDAL_HTTP_MAX_RETRY", "0")
        unsetenv("no_proxy")
        unsetenv("NO_PROXY")
        return true
    }()

    static func lastError() -> String {
        let message = CPLGetLastErrorMsg().map { String(cString: $0) } ?? ""
        CPLErrorReset()
        return message
    }
}

/// Streams the features of one layer of a vector file through OGR: Shapefile (or a `.zip` of
/// one), GeoPackage, GeoJSON and GeoJSON sequences, CSV, DXF, DGN, MapInfo TAB/MIF — only these,
/// and only after `SourcePolicy` has checked the file. One feature is in memory at a time.
///
/// Owns its dataset handle (closed in `deinit`), so it is not `Sendable`: one reader per task.
public final class OGRReader {
    /// The path as the user gave it (a `.zip` entry reads `file.zip/inner/name.shp`).
    public let path: String
    public let layerName: String
    /// What the reader had to do to read the file (e.g. rebuild a missing `.shx`).
    public private(set) var notes: [String] = []
    /// The layer's CRS as WKT, if the file declares one.
    public let crsWKT: String?
    public let fieldNames: [String]
    /// The encoding text fields are decoded with (auto resolved).
    public private(set) var encoding: TextEncoding
    /// How `auto` decided, for the report ("from Cau.cpg", "detected from the bytes").
    public private(set) var encodingSource: String

    private let dataset: GDALDatasetH
    /// The name GDAL was given (the real path, or `/vsizip/<real zip>/<entry>`).
    private let gdalSource: String
    private let layer: OGRLayerH
    private let fieldTypes: [OGRFieldType]
    /// Integer fields of subtype Boolean (GeoPackage and GeoJSON booleans), read as booleans.
    private let booleanFields: [Bool]
    /// Shapefiles are opened without GDAL's recoding, so we see the raw DBF bytes.
    private let rawText: Bool
    private var nextIndex = 1
    /// Geometries with more vertices than this are counted in GDAL's own structure and not
    /// exported or decoded (SPEC §5: a 3 M-vertex polygon took 2.2 GB on its way to GEOS).
    public var maxVertices: Int?
    /// A private copy made to rebuild a missing `.shx`; removed in `deinit`.
    private var scratch: URL?

    /// The sources inside what the user named: each vector file of a `.zip` (at any depth,
    /// Shapefiles first), or the path itself.
    public static func sources(_ path: String) throws -> [String] {
        _ = GDALLibrary.ready
        let real = try SourcePolicy.checkLocalFile(path)
        guard path.lowercased().hasSuffix(".zip") else { return [path] }
        try ZipLimits.check(real, name: path)
        guard let list = VSIReadDirRecursive("/vsizip/" + real) else {
            throw FormatError(file: path, "not a readable zip archive (damaged, or not a zip)")
        }
        defer { CSLDestroy(list) }
        var entries = [String]()
        var i = 0
        while let entry = list[i] {
            entries.append(String(cString: entry))
            i += 1
        }
        let vectors = ["shp", "gpkg", "geojson", "json", "geojsons", "geojsonl", "geojsonseq", "tab", "mif", "dxf", "dgn", "csv"]
        for ext in vectors {
            let found = entries.filter { ($0 as NSString).pathExtension.lowercased() == ext && !$0.hasPrefix("__MACOSX") }.sorted()
            if !found.isEmpty { return found.map { path + "/" + $0 } }
        }
        throw FormatError(file: path, entries.isEmpty ? "the zip archive is empty" : "the zip archive holds no vector file (no .shp; it has \(entries.prefix(5).joined(separator: ", ")))")
    }

    /// What a zip may hold before GDAL opens it: no entry that names a place outside the archive
    /// (zip-slip: `..`, absolute paths, drive letters), no symbolic link and no VRT (they name
    /// other files; see `SourcePolicy`), at most `maxEntries` entries, and no more
    /// than `maxExpandedBytes` once expanded, nor `maxRatio` times its own size past 64 MiB (a
    /// zip bomb). Sizes come from the central directory, so nothing is expanded to find out.
    public enum ZipLimits {
        public static let maxExpandedBytes: UInt64 = 8 << 30
        public static let maxRatio: UInt64 = 200
        public static let maxEntries = 10_000

        /// `name` is the archive as the user named it, for messages (`path` may be its real path).
        public static func check(_ path: String, name: String? = nil) throws {
            let shown = name ?? path
            let entries: [ZipDirectory.Entry]
            do { entries = try ZipDirectory(path: path).entries } catch let e as FormatError { throw FormatError(file: shown, e.message) }
            guard entries.count <= maxEntries else { throw FormatError.unsafe(file: shown, "the zip archive has \(entries.count) entries (at most \(maxEntries))") }
            if let bad = entries.first(where: { e in
                e.name.hasPrefix("/") || e.name.hasPrefix("\\") || e.name.contains(":")
                    || e.name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).contains("..")
            }) {
                throw FormatError.unsafe(file: shown, "the zip archive has an entry that points outside it ('\(bad.name)'): refused")
            }
            if let problem = entries.lazy.compactMap(SourcePolicy.zipEntryProblem).first { throw FormatError.unsafe(file: shown, problem) }
            let packed = UInt64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.int64Value ?? 0)
            let expanded = entries.reduce(UInt64(0)) { $0 &+ $1.expandedSize }
            if expanded > maxExpandedBytes || (expanded > 64 << 20 && expanded > packed * maxRatio) {
                throw FormatError.unsafe(file: shown, "the zip archive expands to \(expanded >> 20) MiB from \(packed >> 10) KiB: refused as a possible zip bomb")
            }
        }
    }

    /// The GDAL name of a path: entries of a zip go through `/vsizip/`.
    static func gdalPath(_ path: String) -> String {
        guard let r = path.range(of: ".zip/", options: [.caseInsensitive, .backwards]) else {
            return path.lowercased().hasSuffix(".zip") ? "/vsizip/" + path : path
        }
        return "/vsizip/" + path[..<r.upperBound].dropLast() + "/" + path[r.upperBound...]
    }

    /// How CSV files name their geometry: a WKT column, or longitude/latitude columns.
    static let csvOptions = [
        "GEOM_POSSIBLE_NAMES=wkt,geom,geometry,the_geom,hinh_hoc", "KEEP_GEOM_COLUMNS=NO",
        "X_POSSIBLE_NAMES=lon,lng,long,longitude,x,kinh_do,kinhdo",
        "Y_POSSIBLE_NAMES=lat,latitude,y,vi_do,vido",
    ]

    static func open(_ gdalPath: String, rawShapefileText: Bool) -> GDALDatasetH? {
        // ENCODING= (empty) tells the Shapefile driver not to recode: we decode ourselves.
        var texts = rawShapefileText ? ["ENCODING="] : []
        if gdalPath.lowercased().hasSuffix(".csv") { texts += csvOptions }
        let owned: [UnsafeMutablePointer<CChar>?] = texts.map { strdup($0) }
        defer { for o in owned { free(o) } }
        let options: [UnsafePointer<CChar>?] = owned.map { $0.map { UnsafePointer($0) } } + [nil]
        // Only SPEC §3's drivers (`SourcePolicy.drivers`) may claim the file.
        let ownedDrivers: [UnsafeMutablePointer<CChar>?] = SourcePolicy.drivers.map { strdup($0) }
        defer { for d in ownedDrivers { free(d) } }
        let drivers: [UnsafePointer<CChar>?] = ownedDrivers.map { $0.map { UnsafePointer($0) } } + [nil]
        return drivers.withUnsafeBufferPointer { allowed in
            options.withUnsafeBufferPointer { buffer in
                GDALOpenEx(gdalPath, UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY), allowed.baseAddress, buffer.baseAddress, nil)
            }
        }
    }

    /// Opens one source (see `sources(_:)`). `layer` picks a layer by name in multi-layer
    /// files; the default is the first.
    public init(path: String, layer requested: String? = nil, encoding: TextEncoding = .auto) throws {
        _ = GDALLibrary.ready
        self.path = path
        // GDAL is given the checked real path (symlinks resolved), never the name as typed.
        let gdalPath: String
        if let r = path.range(of: ".zip/", options: [.caseInsensitive, .backwards]) {
            let zip = String(path[..<r.upperBound].dropLast())
            let real = try SourcePolicy.checkLocalFile(zip)
            try ZipLimits.check(real, name: zip)
            gdalPath = "/vsizip/" + real + "/" + path[r.upperBound...]
            try SourcePolicy.checkContent(gdalPath: gdalPath, file: path)
        } else {
            let real = try SourcePolicy.checkLocalFile(path)
            if path.lowercased().hasSuffix(".zip") { try ZipLimits.check(real, name: path) }
            gdalPath = Self.gdalPath(real)
        }
        self.gdalSource = gdalPath
        let lower = path.lowercased()
        let isShapefile = lower.hasSuffix(".shp") || lower.hasSuffix(".dbf") || lower.hasSuffix(".zip")
        // GDAL passes CSV and DGN v7 text through as it is (a DGN's 8-bit text is whatever
        // the drafter's font used, often TCVN3): decode it ourselves like a DBF's.
        let textAsBytes = lower.hasSuffix(".csv") || lower.hasSuffix(".dgn")
        var dataset = Self.open(gdalPath, rawShapefileText: isShapefile)
        var restored: URL?
        var openedPath = gdalPath
        if dataset == nil, isShapefile, GDALLibrary.lastError().contains("SHAPE_RESTORE_SHX") {
            // The .shx index is missing: rebuild it in a private copy, never beside the user's file.
            if let copy = try? Self.copyWithoutIndex(gdalPath) {
                restored = copy.deletingLastPathComponent()
                openedPath = copy.path
                CPLSetThreadLocalConfigOption("SHAPE_RESTORE_SHX", "YES")
                dataset = Self.open(copy.path, rawShapefileText: true)
                CPLSetThreadLocalConfigOption("SHAPE_RESTORE_SHX", nil)
            }
        }
        guard let opened = dataset else {
            if let restored { try? FileManager.default.removeItem(at: restored) }
            let detail = GDALLibrary.lastError()
            throw FormatError(file: path, detail.isEmpty
                ? "not one of the formats LandMap reads (Shapefile, GeoPackage, GeoJSON, GeoJSON sequence, CSV, DXF, DGN, MapInfo TAB/MIF), or damaged"
                : detail)
        }
        scratch = restored
        if restored != nil { notes.append("its .shx index was missing and was rebuilt in a temporary copy") }
        self.dataset = opened
        var chosen: OGRLayerH?
        let count = GDALDatasetGetLayerCount(opened)
        if let requested {
            chosen = GDALDatasetGetLayerByName(opened, requested)
        } else if count > 0 {
            chosen = GDALDatasetGetLayer(opened, 0)
        }
        guard let chosen else {
            GDALClose(opened)
            if let restored { try? FileManager.default.removeItem(at: restored) }
            throw FormatError(file: path, count == 0 ? "the file holds no vector layer" : "no layer named '\(requested ?? "")'")
        }
        // A Shapefile's attributes are its .dbf: without a sound one GDAL reads bare shapes.
        // A GeoPackage's virtual tables (other than R-tree indexes) are SQLite modules that
        // can read outside the file.
        let driver = GDALGetDatasetDriver(opened).map { String(cString: GDALGetDriverShortName($0)) } ?? ""
        if let problem = driver == "ESRI Shapefile" ? Self.dbfProblem(shp: openedPath, shapes: Int(OGR_L_GetFeatureCount(chosen, 1)))
            : driver == "GPKG" ? Self.unsafeSchema(opened) : nil {
            GDALClose(opened)
            if let restored { try? FileManager.default.removeItem(at: restored) }
            throw FormatError(file: path, problem)
        }
        layer = chosen
        layerName = OGR_L_GetName(chosen).map { String(cString: $0) } ?? ""
        if let srs = OGR_L_GetSpatialRef(chosen) {
            var wkt: UnsafeMutablePointer<CChar>?
            if OSRExportToWkt(srs, &wkt) == OGRERR_NONE, let wkt {
                crsWKT = String(cString: wkt)
                VSIFree(wkt)
            } else {
                crsWKT = nil
            }
        } else {
            crsWKT = nil
        }
        let defn = OGR_L_GetLayerDefn(chosen)
        var names = [String](), types = [OGRFieldType](), booleans = [Bool]()
        for i in 0..<OGR_FD_GetFieldCount(defn) {
            guard let field = OGR_FD_GetFieldDefn(defn, i) else { continue }
            names.append(String(cString: OGR_Fld_GetNameRef(field)))
            types.append(OGR_Fld_GetType(field))
            booleans.append(OGR_Fld_GetSubType(field) == OFSTBoolean)
        }
        fieldNames = names
        fieldTypes = types
        booleanFields = booleans
        rawText = isShapefile || textAsBytes
        self.encoding = encoding
        self.encodingSource = encoding == .auto ? "" : "given"
        if encoding == .auto { resolveAutoEncoding() }
    }

    deinit {
        GDALClose(dataset)
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// A small text file read through GDAL's virtual file system (so zip entries work too).
    static func smallText(_ gdalPath: String) -> String? {
        guard let file = VSIFOpenL(gdalPath, "rb") else { return nil }
        defer { VSIFCloseL(file) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { VSIFReadL($0.baseAddress, 1, 256, file) }
        return String(decoding: buffer.prefix(n), as: UTF8.self)
    }

    /// Copies a Shapefile's parts (not its .shx) into a new temporary folder, through GDAL's
    /// virtual file system so that zip entries can be copied out as well.
    static func copyWithoutIndex(_ gdalShp: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("landmap-shx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Plain string slicing: NSString's path functions would fold "/vsizip//abs/path".
        let base = String(gdalShp.dropLast(4))
        let name = String(base.split(separator: "/").last ?? "source")
        for ext in ["shp", "dbf", "prj", "cpg", "SHP", "DBF", "PRJ", "CPG"] {
            guard let probe = VSIFOpenL(base + "." + ext, "rb") else { continue }
            VSIFCloseL(probe)
            _ = CPLCopyFile(dir.appendingPathComponent(name + "." + ext.lowercased()).path, base + "." + ext)
        }
        return dir.appendingPathComponent(name + ".shp")
    }

    /// The number of features if the driver knows it cheaply; nil otherwise.
    public var featureCountHint: Int? {
        let n = OGR_L_GetFeatureCount(layer, 0)
        return n >= 0 ? Int(n) : nil
    }

    /// `.cpg` beside a Shapefile first, else the bytes of the first 500 features' text.
    private func resolveAutoEncoding() {
        let cpg = (path as NSString).deletingPathExtension + ".cpg"
        let stem = Self.withoutExtension(gdalSource)
        if rawText, let text = Self.smallText(stem + ".cpg") ?? Self.smallText(stem + ".CPG"),
           let named = VietnameseText.encoding(cpg: text) {
            encoding = named
            encodingSource = "from \((cpg as NSString).lastPathComponent)"
            return
        }
        var samples = [[UInt8]]()
        var unicodeBeyondLatin1 = false
        OGR_L_ResetReading(layer)
        var seen = 0
        while seen < 500, let f = OGR_L_GetNextFeature(layer) {
            for (i, type) in fieldTypes.enumerated() where type == OFTString && OGR_F_IsFieldSetAndNotNull(f, Int32(i)) != 0 {
                let raw = rawBytes(f, Int32(i))
                if rawText {
                    samples.append(raw)
                } else if let latin1 = VietnameseText.latin1Bytes(String(decoding: raw, as: UTF8.self)) {
                    samples.append(latin1)
                } else {
                    unicodeBeyondLatin1 = true
                }
            }
            OGR_F_Destroy(f)
            seen += 1
        }
        OGR_L_ResetReading(layer)
        // GDAL hands other formats over as UTF-8: real Vietnamese letters beyond U+00FF mean the
        // text is Unicode already; legacy text shows up as Latin-1 letters only.
        encoding = unicodeBeyondLatin1 ? .utf8 : VietnameseText.detect(samples)
        encodingSource = "detected from the text"
    }

    /// The bytes GDAL gives for a text field: the DBF's own for Shapefiles, UTF-8 otherwise.
    private func rawBytes(_ f: OGRFeatureH, _ i: Int32) -> [UInt8] {
        guard let cstr = OGR_F_GetFieldAsString(f, i) else { return [] }
        let length = strlen(cstr)
        return cstr.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// A text field as Unicode: decoded from the DBF bytes for Shapefiles; for other formats
    /// GDAL's UTF-8, or, when a legacy encoding applies, its Latin-1 letters taken back to bytes.
    private func text(_ f: OGRFeatureH, _ i: Int32) -> String {
        let raw = rawBytes(f, i)
        if rawText { return VietnameseText.decode(raw, as: encoding) }
        let utf8 = String(decoding: raw, as: UTF8.self)
        if encoding != .utf8, encoding != .auto, let latin1 = VietnameseText.latin1Bytes(utf8) {
            return VietnameseText.decode(latin1, as: encoding)
        }
        return utf8.precomposedStringWithCanonicalMapping
    }

    /// The next feature, or nil at the end of the layer.
    public func next() throws -> SourceFeature? {
        CPLErrorReset()
        guard let f = OGR_L_GetNextFeature(layer) else {
            let error = GDALLibrary.lastError()
            if !error.isEmpty { throw FormatError(file: path, featureIndex: nextIndex, error) }
            return nil
        }
        defer { OGR_F_Destroy(f) }
        let index = nextIndex
        nextIndex += 1
        var fields = [String: JSONValue]()
        fields.reserveCapacity(fieldNames.count)
        for (i, name) in fieldNames.enumerated() {
            let idx = Int32(i)
            guard OGR_F_IsFieldSetAndNotNull(f, idx) != 0 else { continue }
            switch fieldTypes[i] {
            case OFTInteger where booleanFields[i]: fields[name] = .bool(OGR_F_GetFieldAsInteger(f, idx) != 0)
            case OFTInteger: fields[name] = .integer(Int64(OGR_F_GetFieldAsInteger(f, idx)))
            case OFTInteger64: fields[name] = .integer(OGR_F_GetFieldAsInteger64(f, idx))
            case OFTReal:
                let d = OGR_F_GetFieldAsDouble(f, idx)
                fields[name] = d.isFinite ? .number(d) : .null
            case OFTString:
                fields[name] = .string(text(f, idx).trimmingCharacters(in: .whitespaces))
            case OFTDate, OFTDateTime:
                if let iso = Self.isoDateTime(f, idx, dateOnly: fieldTypes[i] == OFTDate) { fields[name] = .string(iso) }
            default:
                if let cstr = OGR_F_GetFieldAsString(f, idx) { fields[name] = .string(String(cString: cstr)) }
            }
        }
        var geometry: Geometry?
        var geometryError: String?
        var tooMany: Int?
        if let g = OGR_F_GetGeometryRef(f) {
            if let maxVertices, case let n = Self.vertexCount(g), n > maxVertices {
                tooMany = n
            } else {
                do { geometry = try Self.geometry(g) } catch { geometryError = "\(error)" }
            }
        }
        return SourceFeature(index: index, geometry: geometry, geometryError: geometryError, tooManyVertices: tooMany, fields: fields)
    }

    /// A date field as `YYYY-MM-DD`, a date-time as ISO 8601 in UTC (`2022-04-16T10:13:19Z`, with
    /// milliseconds when it has them): OGR's own text (`2022/04/16 10:13:19`) is no standard's, and
    /// CQL2 and JSON Schema's `date`/`date-time` are these. A time without a zone is taken as UTC.
    static func isoDateTime(_ f: OGRFeatureH, _ idx: Int32, dateOnly: Bool) -> String? {
        var y: Int32 = 0, mo: Int32 = 0, d: Int32 = 0, h: Int32 = 0, mi: Int32 = 0, tz: Int32 = 0
        var sec: Float = 0
        guard OGR_F_GetFieldAsDateTimeEx(f, idx, &y, &mo, &d, &h, &mi, &sec, &tz) != 0, (1...12).contains(mo), (1...31).contains(d) else { return nil }
        func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        if dateOnly { return "\(pad(Int(y), 4))-\(pad(Int(mo), 2))-\(pad(Int(d), 2))" }
        // OGR's zone flag: 0 unknown, 1 local, 100 UTC, 100 ± 4 per hour east or west.
        var minutes = Int(h) * 60 + Int(mi) - (tz > 1 ? (Int(tz) - 100) * 15 : 0)
        var day = (Int(y), Int(mo), Int(d))
        var dayShift = 0
        while minutes < 0 { minutes += 1440; dayShift -= 1 }
        while minutes >= 1440 { minutes -= 1440; dayShift += 1 }
        if dayShift != 0 {
            var c = DateComponents(calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"), year: day.0, month: day.1, day: day.2)
            if let date = c.date, let shifted = Calendar(identifier: .gregorian).date(byAdding: .day, value: dayShift, to: date) {
                var utc = Calendar(identifier: .gregorian)
                utc.timeZone = TimeZone(identifier: "UTC") ?? utc.timeZone
                c = utc.dateComponents([.year, .month, .day], from: shifted)
                day = (c.year ?? day.0, c.month ?? day.1, c.day ?? day.2)
            }
        }
        let whole = Int(sec)
        let millis = Int(((Double(sec) - Double(whole)) * 1000).rounded())
        let fraction = millis > 0 ? "." + pad(millis, 3).replacingOccurrences(of: "0+$", with: "", options: .regularExpression) : ""
        return "\(pad(day.0, 4))-\(pad(day.1, 2))-\(pad(day.2, 2))T\(pad(minutes / 60, 2)):\(pad(minutes % 60, 2)):\(pad(whole, 2))\(fraction)Z"
    }

    /// Vertices of an OGR geometry, counted in place (curves by their stored points).
    static func vertexCount(_ g: OGRGeometryH) -> Int {
        let parts = Int(OGR_G_GetGeometryCount(g))
        guard parts > 0 else { return Int(OGR_G_GetPointCount(g)) }
        var n = 0
        for i in 0..<parts {
            if let part = OGR_G_GetGeometryRef(g, Int32(i)) { n += vertexCount(part) }
        }
        return n
    }

    /// OGR geometry → our value, through ISO WKB. Curves (DXF arcs, DGN) are linearised first.
    static func geometry(_ g: OGRGeometryH) throws -> Geometry {
        var linear: OGRGeometryH?
        if OGR_GT_IsNonLinear(OGR_G_GetGeometryType(g)) != 0 { linear = OGR_G_GetLinearGeometry(g, 0, nil) }
        defer { if let linear { OGR_G_DestroyGeometry(linear) } }
        let source = linear ?? g
        let size = Int(OGR_G_WkbSize(source))
        guard size > 0 else { throw GeometryError("empty geometry record") }
        var bytes = [UInt8](repeating: 0, count: size)
        let err = bytes.withUnsafeMutableBufferPointer { OGR_G_ExportToIsoWkb(source, wkbNDR, $0.baseAddress) }
        guard err == OGRERR_NONE else { throw GeometryError("OGR could not export the geometry (error \(err))") }
        return try WKB.decode(bytes)
    }
}

extension OGRReader {
    /// A GDAL path without its extension, by plain string slicing (NSString would fold the
    /// double slash of "/vsizip//abs/path").
    static func withoutExtension(_ gdalPath: String) -> String {
        let name = gdalPath.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return gdalPath }
        return String(gdalPath.dropLast(name.distance(from: dot, to: name.endIndex)))
    }

    /// Why a Shapefile's `.dbf` cannot be trusted, or nil when it is sound: missing, a header
    /// that does not describe its own fields, fewer bytes than its records need, or a record
    /// count other than the number of shapes. GDAL would read such a file as bare shapes.
    static func dbfProblem(shp gdalPath: String, shapes: Int) -> String? {
        let stem = withoutExtension(gdalPath)
        let names: [String] = ["dbf", "DBF", "Dbf"].map { stem + "." + $0 }
        guard let file = names.lazy.compactMap({ VSIFOpenL($0, "rb") }).first else {
            return "its .dbf (the attribute table) is missing: a Shapefile needs its .shp, .shx and .dbf together"
        }
        defer { VSIFCloseL(file) }
        VSIFSeekL(file, 0, SEEK_END)
        let size = Int(VSIFTellL(file))
        VSIFSeekL(file, 0, SEEK_SET)
        var header = [UInt8](repeating: 0, count: 32)
        let got = header.withUnsafeMutableBytes { VSIFReadL($0.baseAddress, 1, 32, file) }
        func damaged(_ why: String) -> String { "its .dbf (the attribute table) is damaged (\(why)): refused rather than imported without attributes" }
        guard got == 32 else { return damaged("\(size) bytes, shorter than a header") }
        let versions: Set<UInt8> = [0x02, 0x03, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x83, 0x8B, 0x8E, 0xCB, 0xE5, 0xF5, 0xFB]
        guard versions.contains(header[0]) else { return damaged("not a dBASE header") }
        let records = Int(header[4]) | Int(header[5]) << 8 | Int(header[6]) << 16 | Int(header[7]) << 24
        let headerLength = Int(header[8]) | Int(header[9]) << 8
        let recordLength = Int(header[10]) | Int(header[11]) << 8
        guard headerLength >= 33, recordLength >= 1 else { return damaged("impossible header or record length") }
        var descriptors = [UInt8](repeating: 0, count: headerLength - 32)
        let read = descriptors.withUnsafeMutableBytes { VSIFReadL($0.baseAddress, 1, headerLength - 32, file) }
        guard read == headerLength - 32 else { return damaged("the file ends inside its header") }
        var fieldsLength = 1, at = 0
        while at < descriptors.count, descriptors[at] != 0x0D {
            guard at + 32 <= descriptors.count else { return damaged("a field description runs past the header") }
            fieldsLength += Int(descriptors[at + 16])
            at += 32
        }
        guard at < descriptors.count else { return damaged("the field list has no end mark") }
        guard fieldsLength == recordLength else { return damaged("its fields take \(fieldsLength) bytes a record, its header says \(recordLength)") }
        guard size >= headerLength + records * recordLength else {
            return damaged("\(size) bytes, too few for its \(records) records of \(recordLength) bytes")
        }
        guard records == shapes else { return damaged("\(records) attribute records for \(shapes) shapes") }
        return nil
    }
}

extension OGRReader {
    /// Why a GeoPackage may not be read, or nil. SQLite objects whose reading runs more than a
    /// table scan: a virtual table other than a GeoPackage R-tree index (modules such as
    /// SpatiaLite's VirtualText or GDAL's VirtualOGR read whatever file or URL their definition
    /// names), a view, a generated column. The schema text is judged with its comments removed
    /// and the names held to plain words, so a comment cannot dress another module up as `rtree`.
    static func unsafeSchema(_ dataset: GDALDatasetH) -> String? {
        let sql = "SELECT type, name, coalesce(sql, ''), rootpage FROM sqlite_master WHERE type IN ('table', 'view')"
        guard let result = GDALDatasetExecuteSQL(dataset, sql, nil, nil) else { return "its schema could not be read" }
        defer { GDALDatasetReleaseResultSet(dataset, result) }
        while let row = OGR_L_GetNextFeature(result) {
            defer { OGR_F_Destroy(row) }
            let text = { (i: Int32) in OGR_F_GetFieldAsString(row, i).map { String(cString: $0) } ?? "" }
            if let problem = schemaProblem(type: text(0), name: text(1), sql: text(2), rootPage: Int(OGR_F_GetFieldAsInteger64(row, 3))) {
                return problem
            }
        }
        return nil
    }

    /// The judgement of `unsafeSchema` on one `sqlite_master` row.
    static func schemaProblem(type: String, name: String, sql: String, rootPage: Int) -> String? {
        let bare = withoutComments(sql).lowercased()
        if type == "view" {
            return "the GeoPackage holds a view ('\(name)'); views can run functions and read other tables: refused (export it as a table)"
        }
        if rootPage == 0 || bare.contains("virtual") {
            let words = name.range(of: "^rtree_[A-Za-z0-9_]+$", options: .regularExpression) != nil
            let rtree = bare.range(of: #"^\s*create\s+virtual\s+table\s+(if\s+not\s+exists\s+)?["`\[]?rtree_[a-z0-9_]+["`\]]?\s+using\s+rtree\s*\("#,
                                   options: .regularExpression) != nil
            if !(words && rtree) {
                return "the GeoPackage holds a virtual table ('\(name)') that is not a spatial index; such tables can read other files: refused"
            }
        } else if bare.range(of: #"\bgenerated\s+always\b"#, options: .regularExpression) != nil || bare.range(of: #"\bas\s*\("#, options: .regularExpression) != nil {
            return "the GeoPackage's table '\(name)' has a generated column, computed by SQL as it is read: refused"
        }
        return nil
    }

    /// SQL text without its `/* … */` and `-- …` comments (an unterminated block comment runs to the end).
    static func withoutComments(_ sql: String) -> String {
        var out = "", i = sql.startIndex
        while i < sql.endIndex {
            if sql[i...].hasPrefix("/*") {
                i = sql[sql.index(i, offsetBy: 2)...].range(of: "*/")?.upperBound ?? sql.endIndex
                out += " "
            } else if sql[i...].hasPrefix("--") {
                i = sql[i...].firstIndex(of: "\n") ?? sql.endIndex
                out += " "
            } else {
                out.append(sql[i])
                i = sql.index(after: i)
            }
        }
        return out
    }
}
