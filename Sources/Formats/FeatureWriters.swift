import CGDAL
import Features
import Foundation
import Geometry

/// Writes features out one at a time, for exports that must not hold a layer in memory.
public protocol FeatureWriter: AnyObject {
    func write(_ feature: Feature) throws
    /// Completes the file. Nothing is guaranteed to be on disk before this.
    func finish() throws
}

/// Buffered output to a file or standard output.
final class TextSink {
    let handle: FileHandle
    let closes: Bool
    var buffer = ""

    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw FormatError(file: path, "cannot create the file")
            }
            handle = h
            closes = true
        } else {
            handle = .standardOutput
            closes = false
        }
    }

    func append(_ s: String) throws {
        buffer += s
        if buffer.utf8.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        try handle.write(contentsOf: Data(buffer.utf8))
        buffer = ""
    }

    func close() throws {
        try flush()
        if closes { try handle.close() }
    }
}

/// A GeoJSON FeatureCollection, RFC 7946 winding; a legacy `crs` member when not WGS 84.
public final class GeoJSONFeatureWriter: FeatureWriter {
    let sink: TextSink
    var first = true

    /// `crsURN` e.g. `urn:ogc:def:crs:EPSG::9210`; nil for WGS 84 longitude/latitude.
    public init(path: String?, crsURN: String? = nil) throws {
        sink = try TextSink(path: path)
        var head = "{\"type\":\"FeatureCollection\","
        if let crsURN { head += "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"\(crsURN)\"}}," }
        try sink.append(head + "\"features\":[\n")
    }

    public func write(_ feature: Feature) throws {
        var s = first ? "" : ",\n"
        first = false
        s += "{\"type\":\"Feature\",\"id\":"
        JSONValue.writeString(feature.id, into: &s)
        s += ",\"properties\":"
        JSONValue.object(feature.properties).write(into: &s)
        s += ",\"geometry\":"
        if let g = feature.geometry { GeoJSONGeometry.write(g.rewound(), into: &s) } else { s += "null" }
        s += "}"
        try sink.append(s)
    }

    public func finish() throws {
        try sink.append("\n]}\n")
        try sink.close()
    }
}

/// CSV with `id`, `wkt`, the given columns, and the remaining properties as JSON.
public final class CSVFeatureWriter: FeatureWriter {
    let sink: TextSink
    let columns: [String]

    public init(path: String?, columns: [String]) throws {
        sink = try TextSink(path: path)
        self.columns = columns
        try sink.append((["id", "wkt"] + columns + ["properties"]).map(Self.quote).joined(separator: ",") + "\n")
    }

    static func quote(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    public func write(_ feature: Feature) throws {
        var cells = [feature.id, feature.geometry.map(WKT.encode) ?? ""]
        var rest = feature.properties
        for c in columns {
            let v = rest.removeValue(forKey: c)
            switch v {
            case nil, .null?: cells.append("")
            case .string(let s)?: cells.append(s)
            case let other?: cells.append(other.jsonText)
            }
        }
        cells.append(rest.isEmpty ? "" : JSONValue.object(rest).jsonText)
        try sink.append(cells.map(Self.quote).joined(separator: ",") + "\n")
    }

    public func finish() throws {
        try sink.close()
    }
}

/// Any format OGR writes (GeoPackage, Shapefile, …): typed canonical fields, other properties
/// as one JSON text field. Owns the dataset; closing it in `finish` writes the file.
public final class OGRFeatureWriter: FeatureWriter {
    let path: String
    private var dataset: GDALDatasetH?
    private let layer: OGRLayerH
    private let fields: [FieldDefinition]
    private let hasExtra: Bool
    /// What GDAL records as the time of the last change (GeoPackage's `gpkg_contents.last_change`).
    private let currentDate: String?

    /// `crsWKT` is the output CRS as WKT; `layerName` the table name inside the file.
    /// `currentDate`, when given, is written as the file's last change instead of the time of
    /// writing (GDAL's `OGR_CURRENT_DATE`), so one layer version always gives the same bytes.
    public init(path: String, driver: String, layerName: String, crsWKT: String, fields: [FieldDefinition], currentDate: Date? = nil) throws {
        _ = GDALLibrary.ready
        self.path = path
        self.currentDate = currentDate.map { d in
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return f.string(from: d)
        }
        let date = self.currentDate
        CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", date)
        defer { CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", nil) }
        guard let drv = GDALGetDriverByName(driver) else { throw FormatError(file: path, "GDAL has no \(driver) driver") }
        if FileManager.default.fileExists(atPath: path) { throw FormatError(file: path, "the file exists already; remove it or choose another --out") }
        try SourcePolicy.checkOutput(path)
        guard let ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, nil) else {
            throw FormatError(file: path, "cannot create it: \(GDALLibrary.lastError())")
        }
        let srs = OSRNewSpatialReference(nil)
        defer { OSRRelease(srs) }
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER)
        // OSRImportFromWkt advances the pointer it is given: free the original, not that one.
        let owned = strdup(crsWKT)
        defer { free(owned) }
        var cursor = owned
        guard OSRImportFromWkt(srs, &cursor) == OGRERR_NONE else {
            GDALClose(ds)
            throw FormatError(file: path, "GDAL cannot use the CRS: \(GDALLibrary.lastError())")
        }
        guard let l = GDALDatasetCreateLayer(ds, layerName, srs, wkbUnknown, nil) else {
            GDALClose(ds)
            throw FormatError(file: path, "cannot create layer \(layerName): \(GDALLibrary.lastError())")
        }
        let idField = OGR_Fld_Create("id", OFTString)
        OGR_L_CreateField(l, idField, 1)
        OGR_Fld_Destroy(idField)
        for f in fields {
            let type: OGRFieldType = switch f.type {
            case .integer: OFTInteger64
            case .real: OFTReal
            case .date: OFTDate
            case .text: OFTString
            }
            let fd = OGR_Fld_Create(f.name, type)
            OGR_L_CreateField(l, fd, 1)
            OGR_Fld_Destroy(fd)
        }
        let extra = OGR_Fld_Create("properties", OFTString)
        OGR_L_CreateField(l, extra, 1)
        OGR_Fld_Destroy(extra)
        dataset = ds
        layer = l
        self.fields = fields
        hasExtra = true
        OGR_L_StartTransaction(l)
    }

    deinit {
        if let dataset { GDALClose(dataset) }
    }

    public func write(_ feature: Feature) throws {
        let defn = OGR_L_GetLayerDefn(layer)
        guard let f = OGR_F_Create(defn) else { throw FormatError(file: path, "cannot create a feature") }
        defer { OGR_F_Destroy(f) }
        OGR_F_SetFieldString(f, 0, feature.id)
        var rest = feature.properties
        for (i, field) in fields.enumerated() {
            let idx = Int32(i + 1)
            switch rest.removeValue(forKey: field.name) {
            case .integer(let v)?: OGR_F_SetFieldInteger64(f, idx, v)
            case .number(let v)?: OGR_F_SetFieldDouble(f, idx, v)
            case .string(let s)?: OGR_F_SetFieldString(f, idx, s)
            case .bool(let b)?: OGR_F_SetFieldString(f, idx, b ? "true" : "false")
            case nil, .null?: OGR_F_SetFieldNull(f, idx)
            case let other?: OGR_F_SetFieldString(f, idx, other.jsonText)
            }
        }
        if hasExtra, !rest.isEmpty { OGR_F_SetFieldString(f, Int32(fields.count + 1), JSONValue.object(rest).jsonText) }
        if let g = feature.geometry {
            var wkb = WKB.encode(g)
            var geometry: OGRGeometryH?
            let err = wkb.withUnsafeMutableBytes { OGR_G_CreateFromWkb($0.baseAddress, nil, &geometry, Int32($0.count)) }
            guard err == OGRERR_NONE, let geometry else { throw FormatError(file: path, "feature \(feature.id): OGR cannot take its geometry") }
            OGR_F_SetGeometryDirectly(f, geometry)
        }
        guard OGR_L_CreateFeature(layer, f) == OGRERR_NONE else {
            throw FormatError(file: path, "feature \(feature.id): \(GDALLibrary.lastError())")
        }
    }

    public func finish() throws {
        guard let ds = dataset else { return }
        CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", currentDate)
        defer { CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", nil) }
        guard OGR_L_CommitTransaction(layer) == OGRERR_NONE else { throw FormatError(file: path, "cannot commit: \(GDALLibrary.lastError())") }
        dataset = nil
        GDALClose(ds)
    }
}
