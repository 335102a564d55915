import Foundation
import Geometry

/// The GeoPackage geometry blob (GeoPackage 1.3 §2.1.3): a `GP` header with the SRS id and
/// an xy envelope, then standard little-endian WKB.
public enum GeoPackageBinary {
    /// Flags: bit 0 little-endian header, bits 1–3 envelope kind (1 = xy), bit 4 empty.
    static let flagsWithEnvelope: UInt8 = 0b0000_0011
    static let flagsEmpty: UInt8 = 0b0001_0001

    public static func encode(_ geometry: Geometry, srsID: Int32 = 4326) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(40 + 9 + geometry.coordinateCount * 16)
        out.append(0x47)  // 'G'
        out.append(0x50)  // 'P'
        out.append(0)  // version 1
        let box = geometry.boundingBox
        out.append(box == nil ? flagsEmpty : flagsWithEnvelope)
        withUnsafeBytes(of: srsID.littleEndian) { out.append(contentsOf: $0) }
        if let box {
            for v in [box.minX, box.maxX, box.minY, box.maxY] {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        out.append(contentsOf: WKB.encode(geometry))
        return out
    }

    struct Header {
        var littleEndian: Bool
        var isEmpty: Bool
        var srsID: Int32
        var envelope: BoundingBox?
        var wkbOffset: Int
    }

    static func header(_ bytes: UnsafeRawBufferPointer) throws -> Header {
        guard bytes.count >= 8, bytes[0] == 0x47, bytes[1] == 0x50 else {
            throw GeometryError("not a GeoPackage geometry blob (no 'GP' header)")
        }
        let flags = bytes[3]
        guard flags & 0b0010_0000 == 0 else { throw GeometryError("extended GeoPackage geometry blobs are not supported") }
        let little = flags & 1 == 1
        let raw = bytes.loadUnaligned(fromByteOffset: 4, as: Int32.self)
        let srs = little ? Int32(littleEndian: raw) : Int32(bigEndian: raw)
        let envelopeDoubles: Int
        switch (flags >> 1) & 0b111 {
        case 0: envelopeDoubles = 0
        case 1: envelopeDoubles = 4
        case 2, 3: envelopeDoubles = 6
        case 4: envelopeDoubles = 8
        default: throw GeometryError("GeoPackage geometry blob has an invalid envelope flag")
        }
        guard bytes.count >= 8 + envelopeDoubles * 8 else { throw GeometryError("GeoPackage geometry blob is truncated") }
        var envelope: BoundingBox?
        if envelopeDoubles > 0 {
            func d(_ i: Int) -> Double {
                let bits = bytes.loadUnaligned(fromByteOffset: 8 + i * 8, as: UInt64.self)
                return Double(bitPattern: little ? UInt64(littleEndian: bits) : UInt64(bigEndian: bits))
            }
            envelope = BoundingBox(minX: d(0), minY: d(2), maxX: d(1), maxY: d(3))
        }
        return Header(littleEndian: little, isEmpty: flags & 0b1_0000 != 0, srsID: srs, envelope: envelope, wkbOffset: 8 + envelopeDoubles * 8)
    }

    public static func decode(_ data: Data) throws -> Geometry {
        try data.withUnsafeBytes(decode)
    }

    /// The same, from the blob's bytes where they lie (a row read in place).
    static func decode(_ raw: UnsafeRawBufferPointer) throws -> Geometry {
        let h = try header(raw)
        let wkb = UnsafeRawBufferPointer(rebasing: raw[h.wkbOffset...])
        let (g, used) = try WKB.decodePrefix(wkb)
        guard used == wkb.count else { throw GeometryError("GeoPackage geometry blob has bytes after its WKB") }
        return g
    }

    /// The blob's ISO WKB; nil for an empty geometry.
    public static func wkb(_ data: Data) throws -> [UInt8]? {
        try data.withUnsafeBytes { raw in
            let h = try header(raw)
            return h.isEmpty ? nil : Array(raw[h.wkbOffset...])
        }
    }

    /// The blob's bounding box: from the header when it has one, else from the WKB.
    /// `nil` for an empty geometry.
    public static func envelope(_ data: Data) throws -> BoundingBox? {
        try data.withUnsafeBytes { raw in
            let h = try header(raw)
            if h.isEmpty { return nil }
            if let e = h.envelope { return e }
            return try WKB.decodePrefix(UnsafeRawBufferPointer(rebasing: raw[h.wkbOffset...])).0.boundingBox
        }
    }

    public static func isEmpty(_ data: Data) throws -> Bool {
        try data.withUnsafeBytes { raw in
            let h = try header(raw)
            if h.isEmpty { return true }
            if h.envelope != nil { return false }
            return try WKB.decodePrefix(UnsafeRawBufferPointer(rebasing: raw[h.wkbOffset...])).0.isEmpty
        }
    }
}
