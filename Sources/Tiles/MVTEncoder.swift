import Geometry

/// Writes Mapbox Vector Tiles (specification 2.1) by hand: a tile is a handful of protobuf
/// messages, and writing them directly avoids a code generator and keeps encoding allocation-light.
public struct MVTLayer {
    public let name: String
    public let extent: UInt32
    private var keys = [String]()
    private var keyIndex = [String: UInt32]()
    private var values = [[UInt8]]()
    private var valueIndex = [EncodedValue: UInt32]()
    private var features = [UInt8]()
    private var tableBytes = 0
    public private(set) var featureCount = 0

    public init(name: String, extent: UInt32 = 4096) {
        self.name = name
        self.extent = extent
    }

    /// Adds a feature whose geometry is already in tile coordinates (integers, y down).
    /// Returns false when nothing drawable is left (e.g. every ring degenerate).
    @discardableResult
    public mutating func add(id: UInt64?, geometry: Geometry, properties: [(String, JSONValue)]) -> Bool {
        guard let (type, commands) = MVTGeometry.encode(geometry), !commands.isEmpty else { return false }
        var tags = [UInt32]()
        for (key, value) in properties {
            guard let encoded = MVTValue.encode(value) else { continue }
            let k: UInt32
            if let i = keyIndex[key] {
                k = i
            } else {
                k = UInt32(keys.count); keys.append(key); keyIndex[key] = k
                tableBytes += Protobuf.fieldSize(key.utf8.count)
            }
            let v: UInt32
            if let i = valueIndex[EncodedValue(bytes: encoded)] {
                v = i
            } else {
                v = UInt32(values.count); values.append(encoded); valueIndex[EncodedValue(bytes: encoded)] = v
                tableBytes += Protobuf.fieldSize(encoded.count)
            }
            tags += [k, v]
        }
        var f = [UInt8]()
        if let id { Protobuf.varintField(1, id, into: &f) }
        Protobuf.packed(2, tags, into: &f)
        Protobuf.varintField(3, UInt64(type), into: &f)
        Protobuf.packed(4, commands, into: &f)
        Protobuf.bytesField(2, f, into: &features)
        featureCount += 1
        return true
    }

    /// The layer message.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        Protobuf.varintField(15, 2, into: &out)
        Protobuf.bytesField(1, Array(name.utf8), into: &out)
        out += features
        for k in keys { Protobuf.bytesField(3, Array(k.utf8), into: &out) }
        for v in values { Protobuf.bytesField(4, v, into: &out) }
        Protobuf.varintField(5, UInt64(extent), into: &out)
        return out
    }

    /// What `encoded()` would return, in bytes, without encoding.
    public var encodedSize: Int {
        2 + Protobuf.fieldSize(name.utf8.count) + features.count + tableBytes + 1 + Protobuf.varintSize(UInt64(extent))
    }

    /// What `tile(layers)` would return, in bytes, without encoding.
    public static func tileSize(_ layers: [MVTLayer]) -> Int {
        layers.reduce(0) { $0 + ($1.featureCount > 0 ? Protobuf.fieldSize($1.encodedSize) : 0) }
    }

    /// A tile of these layers (layers without features are left out).
    public static func tile(_ layers: [MVTLayer]) -> [UInt8] {
        var out = [UInt8]()
        for l in layers where l.featureCount > 0 { Protobuf.bytesField(3, l.encoded(), into: &out) }
        return out
    }
}

/// An encoded value as a dictionary key, hashed in one call over its bytes (an array of bytes
/// hashes byte by byte, which was the largest cost of encoding a tile of parcels).
struct EncodedValue: Hashable {
    let bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// MVT geometry commands: MoveTo, LineTo, ClosePath with zig-zag deltas.
enum MVTGeometry {
    static func command(_ id: UInt32, _ count: Int) -> UInt32 { (id & 0x7) | (UInt32(count) << 3) }
    static func zigzag(_ v: Int) -> UInt32 { UInt32(bitPattern: Int32(truncatingIfNeeded: (v << 1) ^ (v >> 63))) }

    /// (type, commands): 1 point, 2 line, 3 polygon. Consecutive duplicate points are skipped;
    /// rings need three distinct points.
    static func encode(_ g: Geometry) -> (UInt32, [UInt32])? {
        var out = [UInt32]()
        var cx = 0, cy = 0
        func delta(_ c: Coordinate) -> (UInt32, UInt32) {
            let x = Int(c.x.rounded()), y = Int(c.y.rounded())
            defer { cx = x; cy = y }
            return (zigzag(x - cx), zigzag(y - cy))
        }
        func dedupe(_ cs: [Coordinate]) -> [Coordinate] {
            var r = [Coordinate]()
            for c in cs {
                let q = Coordinate(c.x.rounded(), c.y.rounded())
                if r.last != q { r.append(q) }
            }
            return r
        }
        func line(_ cs: [Coordinate], ring: Bool) {
            var pts = dedupe(cs)
            if ring, pts.count > 1, pts.first == pts.last { pts.removeLast() }
            guard pts.count >= (ring ? 3 : 2) else { return }
            let (dx, dy) = delta(pts[0])
            out += [command(1, 1), dx, dy, command(2, pts.count - 1)]
            for p in pts.dropFirst() { let (dx, dy) = delta(p); out += [dx, dy] }
            if ring { out.append(command(7, 1)) }
        }
        switch g {
        case .point(let c?):
            let (dx, dy) = delta(c)
            return (1, [command(1, 1), dx, dy])
        case .multiPoint(let cs):
            let pts = dedupe(cs)
            guard !pts.isEmpty else { return nil }
            out.append(command(1, pts.count))
            for p in pts { let (dx, dy) = delta(p); out += [dx, dy] }
            return (1, out)
        case .lineString(let cs):
            line(cs, ring: false)
            return out.isEmpty ? nil : (2, out)
        case .multiLineString(let ls):
            for l in ls { line(l, ring: false) }
            return out.isEmpty ? nil : (2, out)
        case .polygon(let rings):
            for r in rings { line(r, ring: true) }
            return out.isEmpty ? nil : (3, out)
        case .multiPolygon(let polys):
            for p in polys { for r in p { line(r, ring: true) } }
            return out.isEmpty ? nil : (3, out)
        default:
            return nil
        }
    }
}

/// A `Value` message: strings, integers (sint for negatives), doubles, booleans.
enum MVTValue {
    static func encode(_ v: JSONValue) -> [UInt8]? {
        var out = [UInt8]()
        switch v {
        case .string(let s): Protobuf.bytesField(1, Array(s.utf8), into: &out)
        case .number(let d):
            Protobuf.key(3, 1, into: &out)
            withUnsafeBytes(of: d.bitPattern.littleEndian) { out += $0 }
        case .integer(let i):
            if i >= 0 { Protobuf.varintField(5, UInt64(i), into: &out) } else { Protobuf.varintField(6, UInt64(bitPattern: (i << 1) ^ (i >> 63)), into: &out) }
        case .bool(let b): Protobuf.varintField(7, b ? 1 : 0, into: &out)
        default: return nil
        }
        return out
    }
}

/// The protobuf wire format pieces a tile (and a glyph range) needs.
public enum Protobuf {
    public static func varint(_ v: UInt64, into out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Bytes of a varint.
    public static func varintSize(_ v: UInt64) -> Int { max(1, (64 - v.leadingZeroBitCount + 6) / 7) }

    /// Bytes of a length-delimited field of a number below 16 holding `length` bytes.
    public static func fieldSize(_ length: Int) -> Int { 1 + varintSize(UInt64(length)) + length }

    public static func key(_ field: Int, _ wire: Int, into out: inout [UInt8]) { varint(UInt64(field << 3 | wire), into: &out) }

    public static func varintField(_ field: Int, _ v: UInt64, into out: inout [UInt8]) {
        key(field, 0, into: &out)
        varint(v, into: &out)
    }

    public static func bytesField(_ field: Int, _ bytes: [UInt8], into out: inout [UInt8]) {
        key(field, 2, into: &out)
        varint(UInt64(bytes.count), into: &out)
        out += bytes
    }

    public static func packed(_ field: Int, _ values: [UInt32], into out: inout [UInt8]) {
        guard !values.isEmpty else { return }
        var body = [UInt8]()
        for v in values { varint(UInt64(v), into: &body) }
        bytesField(field, body, into: &out)
    }
}
