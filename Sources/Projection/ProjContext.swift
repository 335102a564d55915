import CPROJ
import Geometry

/// One PROJ context (`PJ_CONTEXT`): its database connection and error state.
///
/// PROJ contexts must not be shared between threads, so this class is not `Sendable`; each
/// `Transformer` owns one. Logging to stderr is switched off: errors come back as values.
final class ProjContext {
    let handle: OpaquePointer

    init() throws {
        guard let handle = proj_context_create() else { throw ProjectionError("PROJ could not create a context") }
        proj_log_level(handle, PJ_LOG_NONE)
        self.handle = handle
    }

    deinit {
        proj_context_destroy(handle)
    }

    /// PROJ's last error text for this context.
    func lastError() -> String {
        let code = proj_context_errno(handle)
        guard code != 0 else { return "unknown error" }
        return proj_context_errno_string(handle, code).map { String(cString: $0) } ?? "error \(code)"
    }

    /// A PROJ object made from a definition (EPSG code, WKT, PROJ string), owned by the caller.
    func object(_ definition: String) throws -> ProjObject {
        guard let pj = proj_create(handle, definition) else {
            throw ProjectionError("PROJ does not know the CRS \"\(Self.short(definition))\": \(lastError())")
        }
        return ProjObject(context: self, pointer: pj)
    }

    static func short(_ text: String) -> String {
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return oneLine.count > 80 ? String(oneLine.prefix(77)) + "…" : oneLine
    }
}

/// A `PJ*` with exactly one owner, destroyed in `deinit`.
final class ProjObject {
    let context: ProjContext
    let pointer: OpaquePointer

    init(context: ProjContext, pointer: OpaquePointer) {
        self.context = context
        self.pointer = pointer
    }

    deinit {
        proj_destroy(pointer)
    }

    var name: String { proj_get_name(pointer).map { String(cString: $0) } ?? "" }

    var type: PJ_TYPE { proj_get_type(pointer) }

    var isCRS: Bool { proj_is_crs(pointer) != 0 }

    var isGeographic: Bool {
        switch type {
        case PJ_TYPE_GEOGRAPHIC_2D_CRS, PJ_TYPE_GEOGRAPHIC_3D_CRS, PJ_TYPE_GEOGRAPHIC_CRS: true
        default: false
        }
    }

    /// The EPSG code this object carries itself, if any.
    var epsgCode: Int? {
        guard let auth = proj_get_id_auth_name(pointer, 0), String(cString: auth) == "EPSG",
              let code = proj_get_id_code(pointer, 0) else { return nil }
        return Int(String(cString: code))
    }

    /// The EPSG CRS PROJ judges equivalent to this one (confidence ≥ 70 %: same definition,
    /// whatever the names), for definitions that carry no code of their own, such as `.prj`.
    func identifiedEPSG() -> Int? {
        var confidence: UnsafeMutablePointer<Int32>?
        guard let list = proj_identify(context.handle, pointer, "EPSG", nil, &confidence) else { return nil }
        defer {
            proj_list_destroy(list)
            if let confidence { proj_int_list_destroy(confidence) }
        }
        guard let confidence, proj_list_get_count(list) > 0, confidence[0] >= 70,
              let best = proj_list_get(context.handle, list, 0) else { return nil }
        let candidate = ProjObject(context: context, pointer: best)
        return candidate.epsgCode
    }

    /// The object as WKT2:2019, for storing and for `gpkg_spatial_ref_sys`.
    var wkt: String? {
        proj_as_wkt(context.handle, pointer, PJ_WKT2_2019, nil).map { String(cString: $0) }
    }
}
