import CGEOS

/// One GEOS reentrant context, with its WKB reader and writer.
///
/// GEOS contexts must not be used from two threads at once, so this class is deliberately not
/// `Sendable`: create one per thread or task (they are cheap) and let it own every geometry made
/// through it. It frees its handles exactly once, in `deinit`; geometries keep it alive.
public final class GeosContext {
    let handle: GEOSContextHandle_t
    private let messages: MessageBox
    private let reader: OpaquePointer
    private let writer: OpaquePointer

    /// Collects GEOS's error text, which arrives through a C callback.
    final class MessageBox {
        var lastError = ""
    }

    public init() throws {
        guard let handle = GEOS_init_r() else { throw GeometryError("GEOS could not create a context") }
        let box = MessageBox()
        GEOSContext_setErrorMessageHandler_r(handle, { message, userData in
            guard let message, let userData else { return }
            Unmanaged<MessageBox>.fromOpaque(userData).takeUnretainedValue().lastError = String(cString: message)
        }, Unmanaged.passUnretained(box).toOpaque())
        guard let reader = GEOSWKBReader_create_r(handle) else {
            GEOS_finish_r(handle)
            throw GeometryError("GEOS could not create a WKB reader")
        }
        guard let writer = GEOSWKBWriter_create_r(handle) else {
            GEOSWKBReader_destroy_r(handle, reader)
            GEOS_finish_r(handle)
            throw GeometryError("GEOS could not create a WKB writer")
        }
        GEOSWKBWriter_setOutputDimension_r(handle, writer, 2)
        GEOSWKBWriter_setByteOrder_r(handle, writer, Int32(GEOS_WKB_NDR.rawValue))
        self.handle = handle
        self.messages = box
        self.reader = reader
        self.writer = writer
    }

    deinit {
        GEOSWKBWriter_destroy_r(handle, writer)
        GEOSWKBReader_destroy_r(handle, reader)
        // The box must outlive the handle: the callback holds an unretained pointer to it.
        GEOS_finish_r(handle)
        withExtendedLifetime(messages) {}
    }

    /// The error GEOS reported last, as an error value naming what we were doing.
    func failure(_ what: String) -> GeometryError {
        let detail = messages.lastError
        messages.lastError = ""
        return GeometryError(detail.isEmpty ? "GEOS \(what) failed" : "GEOS \(what) failed: \(detail)")
    }

    /// Takes ownership of a pointer GEOS returned, or throws GEOS's error if it returned NULL.
    func own(_ pointer: OpaquePointer?, _ what: String) throws -> GeosGeometry {
        guard let pointer else { throw failure(what) }
        return GeosGeometry(context: self, pointer: pointer)
    }

    /// The GEOS form of a geometry value.
    public func geometry(_ value: Geometry) throws -> GeosGeometry {
        try geometry(wkb: WKB.encode(value))
    }

    /// A GEOS geometry parsed from WKB by GEOS's own reader.
    public func geometry(wkb: [UInt8]) throws -> GeosGeometry {
        try wkb.withUnsafeBytes { try geometry(wkb: $0) }
    }

    /// The same from borrowed bytes (a database page), without copying them first.
    public func geometry(wkb: UnsafeRawBufferPointer) throws -> GeosGeometry {
        guard let base = wkb.baseAddress, !wkb.isEmpty else { throw GeometryError("empty WKB") }
        return try own(GEOSWKBReader_read_r(handle, reader, base.assumingMemoryBound(to: UInt8.self), wkb.count), "WKB read")
    }

    /// A point, made directly (the hot path of point lookups).
    public func point(_ c: Coordinate) throws -> GeosGeometry {
        try own(GEOSGeom_createPointFromXY_r(handle, c.x, c.y), "point creation")
    }

    func wkb(of pointer: OpaquePointer) throws -> [UInt8] {
        var size = 0
        guard let bytes = GEOSWKBWriter_write_r(handle, writer, pointer, &size) else { throw failure("WKB write") }
        defer { GEOSFree_r(handle, bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: size))
    }
}

extension GeosContext {
    /// The GEOS library version, e.g. "3.11.1-CAPI-1.17.1".
    public static var libraryVersion: String { String(cString: GEOSversion()) }
}
