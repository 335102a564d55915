import Foundation

/// Well-Known Binary: reads ISO WKB and EWKB in either byte order (Z and M ordinates are
/// skipped), writes 2D ISO WKB. Every read is bounds-checked: a truncated or hostile blob is
/// an error, never a crash.
public enum WKB {
    /// Byte order of written WKB.
    public enum ByteOrder: Sendable {
        case littleEndian, bigEndian
    }

    /// Nesting deeper than this is refused (a blob of nested collections must not blow the stack).
    public static let maxDepth = 32

    public static func decode(_ bytes: some Collection<UInt8>) throws -> Geometry {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer in
            var reader = WKBReader(buffer: UnsafeRawBufferPointer(buffer))
            let g = try reader.readGeometry(depth: 0)
            guard reader.offset == buffer.count else {
                throw GeometryError("WKB has \(buffer.count - reader.offset) bytes after the geometry")
            }
            return g
        }
    }

    public static func decode(hex: String) throws -> Geometry {
        guard let bytes = bytes(fromHex: hex) else { throw GeometryError("WKB hex is not valid hexadecimal") }
        return try decode(bytes)
    }

    /// Reads one geometry from the front of `buffer`; returns it with the number of bytes read.
    public static func decodePrefix(_ buffer: UnsafeRawBufferPointer) throws -> (Geometry, Int) {
        var reader = WKBReader(buffer: buffer)
        let g = try reader.readGeometry(depth: 0)
        return (g, reader.offset)
    }

    public static func encode(_ geometry: Geometry, byteOrder: ByteOrder = .littleEndian) -> [UInt8] {
        var writer = WKBWriter(littleEndian: byteOrder == .littleEndian)
        writer.bytes.reserveCapacity(9 + geometry.coordinateCount * 16)
        writer.write(geometry)
        return writer.bytes
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(fromHex hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 65...70: c - 55
            case 97...102: c - 87
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

struct WKBReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    init(buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    mutating func need(_ n: Int) throws {
        guard n >= 0, buffer.count - offset >= n else {
            throw GeometryError("WKB is truncated at byte \(offset)")
        }
    }

    mutating func readByte() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func readUInt32(_ little: Bool) throws -> UInt32 {
        try need(4)
        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return little ? UInt32(littleEndian: raw) : UInt32(bigEndian: raw)
    }

    mutating func readDouble(_ little: Bool) throws -> Double {
        try need(8)
        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return Double(bitPattern: little ? UInt64(littleEndian: raw) : UInt64(bigEndian: raw))
    }

    /// A count of items each at least `minItemBytes` long: checked against what is left, so
    /// a forged count cannot make us reserve gigabytes.
    mutating func readCount(_ little: Bool, minItemBytes: Int) throws -> Int {
        let n = Int(try readUInt32(little))
        guard n <= (buffer.count - offset) / max(minItemBytes, 1) else {
            throw GeometryError("WKB declares \(n) items but only \(buffer.count - offset) bytes follow")
        }
        return n
    }

    private mutating func readCoordinates(_ little: Bool, dims: Int) throws -> [Coordinate] {
        let n = try readCount(little, minItemBytes: 8 * dims)
        var cs = [Coordinate]()
        cs.reserveCapacity(n)
        for _ in 0..<n {
            let x = try readDouble(little), y = try readDouble(little)
            offset += 8 * (dims - 2)
            cs.append(Coordinate(x, y))
        }
        return cs
    }

    /// One geometry's header: byte order, type (ISO or EWKB; an EWKB SRID skipped) and the
    /// ordinates per coordinate. What every reading of a WKB geometry starts with.
    mutating func readHeader(depth: Int) throws -> (little: Bool, type: UInt32, dims: Int) {
        guard depth <= WKB.maxDepth else { throw GeometryError("WKB nests collections deeper than \(WKB.maxDepth)") }
        let order = try readByte()
        guard order <= 1 else { throw GeometryError("WKB byte order \(order) at byte \(offset - 1) is neither 0 nor 1") }
        let little = order == 1
        var type = try readUInt32(little)
        // EWKB flags.
        var dims = 2
        if type & 0x8000_0000 != 0 { dims += 1 }
        if type & 0x4000_0000 != 0 { dims += 1 }
        if type & 0x2000_0000 != 0 { _ = try readUInt32(little) }  // SRID
        type &= 0x0fff_ffff
        // ISO: 1000s = Z, 2000s = M, 3000s = ZM.
        switch type / 1000 {
        case 0: break
        case 1, 2: dims += 1
        case 3: dims += 2
        default: throw GeometryError("WKB geometry type \(type) is unknown")
        }
        guard dims <= 4 else { throw GeometryError("WKB geometry type has more than 4 dimensions") }
        return (little, type, dims)
    }

    mutating func readGeometry(depth: Int) throws -> Geometry {
        let (little, type, dims) = try readHeader(depth: depth)
        switch type % 1000 {
        case 1:
            let x = try readDouble(little), y = try readDouble(little)
            try need(8 * (dims - 2))
            offset += 8 * (dims - 2)
            return .point(x.isNaN && y.isNaN ? nil : Coordinate(x, y))
        case 2:
            return .lineString(try readCoordinates(little, dims: dims))
        case 3:
            let n = try readCount(little, minItemBytes: 4)
            var rings = [[Coordinate]]()
            rings.reserveCapacity(n)
            for _ in 0..<n { rings.append(try readCoordinates(little, dims: dims)) }
            return .polygon(rings)
        case 4, 5, 6, 7:
            let n = try readCount(little, minItemBytes: 5)
            var parts = [Geometry]()
            parts.reserveCapacity(n)
            for _ in 0..<n { parts.append(try readGeometry(depth: depth + 1)) }
            return try Self.collect(type % 1000, parts)
        default:
            throw GeometryError("WKB geometry type \(type) is not supported")
        }
    }

    static func collect(_ kind: UInt32, _ parts: [Geometry]) throws -> Geometry {
        switch kind {
        case 4:
            return .multiPoint(try parts.compactMap {
                guard case .point(let c) = $0 else { throw GeometryError("a MultiPoint holds a \($0.typeName)") }
                return c
            })
        case 5:
            return .multiLineString(try parts.map {
                guard case .lineString(let cs) = $0 else { throw GeometryError("a MultiLineString holds a \($0.typeName)") }
                return cs
            })
        case 6:
            return .multiPolygon(try parts.map {
                guard case .polygon(let rings) = $0 else { throw GeometryError("a MultiPolygon holds a \($0.typeName)") }
                return rings
            })
        default:
            return .geometryCollection(parts)
        }
    }
}

struct WKBWriter {
    let littleEndian: Bool
    var bytes: [UInt8] = []

    init(littleEndian: Bool) {
        self.littleEndian = littleEndian
    }

    mutating func uint32(_ v: UInt32) {
        let e = littleEndian ? v.littleEndian : v.bigEndian
        withUnsafeBytes(of: e) { bytes.append(contentsOf: $0) }
    }

    mutating func double(_ v: Double) {
        let bits = v.bitPattern
        let e = littleEndian ? bits.littleEndian : bits.bigEndian
        withUnsafeBytes(of: e) { bytes.append(contentsOf: $0) }
    }

    mutating func header(_ type: UInt32) {
        bytes.append(littleEndian ? 1 : 0)
        uint32(type)
    }

    mutating func coordinates(_ cs: [Coordinate]) {
        uint32(UInt32(cs.count))
        for c in cs {
            double(c.x)
            double(c.y)
        }
    }

    mutating func write(_ g: Geometry) {
        header(g.wkbTypeCode)
        switch g {
        case .point(let c):
            double(c?.x ?? .nan)
            double(c?.y ?? .nan)
        case .lineString(let cs):
            coordinates(cs)
        case .polygon(let rings):
            uint32(UInt32(rings.count))
            for r in rings { coordinates(r) }
        case .multiPoint(let cs):
            uint32(UInt32(cs.count))
            for c in cs { write(.point(c)) }
        case .multiLineString(let lines):
            uint32(UInt32(lines.count))
            for l in lines { write(.lineString(l)) }
        case .multiPolygon(let polys):
            uint32(UInt32(polys.count))
            for p in polys { write(.polygon(p)) }
        case .geometryCollection(let gs):
            uint32(UInt32(gs.count))
            for part in gs { write(part) }
        }
    }
}
