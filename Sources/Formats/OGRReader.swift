import CGDAL
import Features
import Foundation
import Geometry

/// Why a file could not be read. Names the file, and the feature where there is one.
public struct FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let featureIndex: Int?
    public let message: String

    public init(file: String, featureIndex: Int? = nil, _ message: String) {
        self.file = file
        self.featureIndex = featureIndex
        self.message = message
    }

    public var description: String {
        let name = (file as NSString).lastPathComponent
        return featureIndex.map { "\(name), feature \($0): \(message)" } ?? "\(name): \(message)"
    }
}

/// One feature as the source file has it: geometry in the file's CRS, fields by source name.
public struct SourceFeature: Sendable {
    /// 1-based position in the file, for reports.
    public var index: Int
    public var geometry: Geometry?
    /// Why the geometry could not be read, when it could not.
    public var geometryError: String?
    public var fields: [String: JSONValue]
}

/// GDAL set-up done once per process: drivers registered, messages kept off stderr (we read
/// them with `CPLGetLastErrorMsg` and report them ourselves).
enum GDALLibrary {
    static let ready: Bool = {
        GDALAllRegister()
        CPLSetErrorHandler(CPLQuietErrorHandler)
        CPLSetConfigOption("OGR_GEOJSON_MAX_OBJ_SIZE", "0")
        return true
    }()

    static func lastError() -> String {
        let message = CPLGetLastErrorMsg().map { String(cString: $0) } ?? ""
        CPLErrorReset()
        return message
    }
}

/// Streams the features of one layer of a vector file through OGR: Shapefile (or a `.zip` of
/// one), GeoPackage, GeoJSON and GeoJSON sequences, CSV, DXF, DGN, MapInfo TAB/MIF, and anything
/// else GDAL reads. One feature is in memory at a time.
///
/// Owns its dataset handle (closed in `deinit`), so it is not `Sendable`: one reader per task.
public final class OGRReader {
    public let path: String
    public let layerName: String
    /// The layer's CRS as WKT, if the file declares one.
    public let crsWKT: String?
    public let fieldNames: [String]
    /// The encoding text fields are decoded with (auto resolved).
    public private(set) var encoding: TextEncoding
    /// How `auto` decided, for the report ("from Cau.cpg", "detected from the bytes").
    public private(set) var encodingSource: String

    private let dataset: GDALDatasetH
    private let layer: OGRLayerH
    private let fieldTypes: [OGRFieldType]
    /// Shapefiles are opened without GDAL's recoding, so we see the raw DBF bytes.
    private let rawText: Bool
    private var nextIndex = 1

    /// Opens `path` (a `.zip` is read through `/vsizip/`). `layer` picks a layer by name in
    /// multi-layer files; the default is the first.
    public init(path: String, layer requested: String? = nil, encoding: TextEncoding = .auto) throws {
        _ = GDALLibrary.ready
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw FormatError(file: path, "no such file") }
        let lower = path.lowercased()
        let gdalPath = lower.hasSuffix(".zip") ? "/vsizip/" + path : path
        let isShapefile = lower.hasSuffix(".shp") || lower.hasSuffix(".dbf") || lower.hasSuffix(".zip")
        // ENCODING= (empty) tells the Shapefile driver not to recode: we decode ourselves.
        let owned: [UnsafeMutablePointer<CChar>?] = isShapefile ? [strdup("ENCODING=")] : []
        defer { for o in owned { free(o) } }
        let options: [UnsafePointer<CChar>?] = owned.map { $0.map { UnsafePointer($0) } } + [nil]
        let opened = options.withUnsafeBufferPointer { buffer in
            GDALOpenEx(gdalPath, UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY), nil, buffer.baseAddress, nil)
        }
        guard let opened else {
            let detail = GDALLibrary.lastError()
            throw FormatError(file: path, detail.isEmpty ? "GDAL cannot read it as a vector file (unknown format or damaged)" : detail)
        }
        dataset = opened
        var chosen: OGRLayerH?
        let count = GDALDatasetGetLayerCount(opened)
        if let requested {
            chosen = GDALDatasetGetLayerByName(opened, requested)
        } else if count > 0 {
            chosen = GDALDatasetGetLayer(opened, 0)
        }
        guard let chosen else {
            GDALClose(opened)
            throw FormatError(file: path, count == 0 ? "the file holds no vector layer" : "no layer named '\(requested ?? "")'")
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
        var names = [String](), types = [OGRFieldType]()
        for i in 0..<OGR_FD_GetFieldCount(defn) {
            guard let field = OGR_FD_GetFieldDefn(defn, i) else { continue }
            names.append(String(cString: OGR_Fld_GetNameRef(field)))
            types.append(OGR_Fld_GetType(field))
        }
        fieldNames = names
        fieldTypes = types
        rawText = isShapefile
        self.encoding = encoding
        self.encodingSource = encoding == .auto ? "" : "given"
        if encoding == .auto { resolveAutoEncoding() }
    }

    deinit {
        GDALClose(dataset)
    }

    /// The number of features if the driver knows it cheaply; nil otherwise.
    public var featureCountHint: Int? {
        let n = OGR_L_GetFeatureCount(layer, 0)
        return n >= 0 ? Int(n) : nil
    }

    /// `.cpg` beside a Shapefile first, else the bytes of the first 500 features' text.
    private func resolveAutoEncoding() {
        let cpg = (path as NSString).deletingPathExtension + ".cpg"
        if rawText, let text = try? String(contentsOfFile: cpg, encoding: .ascii), let named = VietnameseText.encoding(cpg: text) {
            encoding = named
            encodingSource = "from \((cpg as NSString).lastPathComponent)"
            return
        }
        var samples = [[UInt8]]()
        OGR_L_ResetReading(layer)
        var seen = 0
        while seen < 500, let f = OGR_L_GetNextFeature(layer) {
            for (i, type) in fieldTypes.enumerated() where type == OFTString && OGR_F_IsFieldSetAndNotNull(f, Int32(i)) != 0 {
                if let bytes = textBytes(f, Int32(i)) { samples.append(bytes) }
            }
            OGR_F_Destroy(f)
            seen += 1
        }
        OGR_L_ResetReading(layer)
        encoding = VietnameseText.detect(samples)
        encodingSource = "detected from the text"
    }

    /// The raw bytes of a text field: as stored for Shapefiles, else GDAL's UTF-8 taken back to
    /// Latin-1 bytes where that is possible (legacy text in other formats).
    private func textBytes(_ f: OGRFeatureH, _ i: Int32) -> [UInt8]? {
        guard let cstr = OGR_F_GetFieldAsString(f, i) else { return nil }
        let length = strlen(cstr)
        let bytes = cstr.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        if rawText { return bytes }
        if String(validating: bytes, as: UTF8.self) != nil, let latin1 = VietnameseText.latin1Bytes(String(decoding: bytes, as: UTF8.self)), latin1.contains(where: { $0 >= 0x80 }) {
            return latin1
        }
        return bytes
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
            case OFTInteger: fields[name] = .integer(Int64(OGR_F_GetFieldAsInteger(f, idx)))
            case OFTInteger64: fields[name] = .integer(OGR_F_GetFieldAsInteger64(f, idx))
            case OFTReal:
                let d = OGR_F_GetFieldAsDouble(f, idx)
                fields[name] = d.isFinite ? .number(d) : .null
            case OFTString:
                if let bytes = textBytes(f, idx) {
                    let text = rawText || encoding != .utf8 ? VietnameseText.decode(bytes, as: encoding) : String(decoding: bytes, as: UTF8.self)
                    fields[name] = .string(text.trimmingCharacters(in: .whitespaces))
                }
            default:
                if let cstr = OGR_F_GetFieldAsString(f, idx) { fields[name] = .string(String(cString: cstr)) }
            }
        }
        var geometry: Geometry?
        var geometryError: String?
        if let g = OGR_F_GetGeometryRef(f) {
            do { geometry = try Self.geometry(g) } catch { geometryError = "\(error)" }
        }
        return SourceFeature(index: index, geometry: geometry, geometryError: geometryError, fields: fields)
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
