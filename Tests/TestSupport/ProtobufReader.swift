/// A protobuf wire-format reader for tests: what decodes our MVT tiles and glyph ranges
/// independently of the encoders.
public struct ProtobufReader {
    public struct DecodeError: Error { public init() {} }
    public var bytes: ArraySlice<UInt8>
    public init(bytes: ArraySlice<UInt8>) { self.bytes = bytes }
    public mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            v |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return v }
            shift += 7
            guard shift < 64 else { throw DecodeError() }
        }
        throw DecodeError()
    }
    public mutating func key() throws -> (UInt64, UInt64)? {
        guard !bytes.isEmpty else { return nil }
        let k = try varint()
        return (k >> 3, k & 7)
    }
    public mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
        let n = Int(try varint())
        guard n <= bytes.count else { throw DecodeError() }
        defer { bytes = bytes.dropFirst(n) }
        return bytes.prefix(n)
    }
    public mutating func fixed(_ n: Int) throws -> UInt64 {
        guard bytes.count >= n else { throw DecodeError() }
        var v: UInt64 = 0
        for (i, b) in bytes.prefix(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        bytes = bytes.dropFirst(n)
        return v
    }
    public mutating func packed() throws -> [UInt64] {
        var sub = ProtobufReader(bytes: try lengthDelimited())
        var out = [UInt64]()
        while !sub.bytes.isEmpty { out.append(try sub.varint()) }
        return out
    }
    public mutating func skip(_ wire: UInt64) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed(8)
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed(4)
        default: throw DecodeError()
        }
    }
}

