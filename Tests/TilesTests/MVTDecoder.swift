import Foundation
import TestSupport
import Geometry

/// A small, strict MVT decoder for the tests: checked against the spec's valid fixtures, then
/// used to read back the tiles our encoder writes.
struct DecodedTile: Equatable {
    struct Layer: Equatable {
        var version: UInt64 = 1
        var name = ""
        var extent: UInt64 = 4096
        var keys = [String]()
        var values = [JSONValue]()
        var features = [Feature]()
    }

    struct Feature: Equatable {
        var id: UInt64?
        var tags = [UInt64]()
        var type: UInt64 = 0
        var geometry = [UInt64]()
    }

    var layers = [Layer]()

    typealias DecodeError = ProtobufReader.DecodeError

    init(_ bytes: [UInt8]) throws {
        var r = ProtobufReader(bytes: bytes[...])
        while let (field, wire) = try r.key() {
            if field == 3, wire == 2 { layers.append(try Self.layer(r.lengthDelimited())) } else { try r.skip(wire) }
        }
    }

    static func layer(_ bytes: ArraySlice<UInt8>) throws -> Layer {
        var l = Layer()
        var r = ProtobufReader(bytes: bytes)
        while let (field, wire) = try r.key() {
            switch (field, wire) {
            case (15, 0): l.version = try r.varint()
            case (1, 2): l.name = String(decoding: try r.lengthDelimited(), as: UTF8.self)
            case (2, 2): l.features.append(try feature(r.lengthDelimited()))
            case (3, 2): l.keys.append(String(decoding: try r.lengthDelimited(), as: UTF8.self))
            case (4, 2): l.values.append(try value(r.lengthDelimited()))
            case (5, 0): l.extent = try r.varint()
            default: try r.skip(wire)
            }
        }
        return l
    }

    static func feature(_ bytes: ArraySlice<UInt8>) throws -> Feature {
        var f = Feature()
        var r = ProtobufReader(bytes: bytes)
        while let (field, wire) = try r.key() {
            switch (field, wire) {
            case (1, 0): f.id = try r.varint()
            case (2, 2): f.tags = try r.packed()
            case (3, 0): f.type = try r.varint()
            case (4, 2): f.geometry = try r.packed()
            default: try r.skip(wire)
            }
        }
        return f
    }

    static func value(_ bytes: ArraySlice<UInt8>) throws -> JSONValue {
        var r = ProtobufReader(bytes: bytes)
        var v = JSONValue.null
        while let (field, wire) = try r.key() {
            switch (field, wire) {
            case (1, 2): v = .string(String(decoding: try r.lengthDelimited(), as: UTF8.self))
            case (2, 5): v = .number(Double(Float(bitPattern: UInt32(truncatingIfNeeded: try r.fixed(4)))))
            case (3, 1): v = .number(Double(bitPattern: try r.fixed(8)))
            case (4, 0): v = .integer(Int64(bitPattern: try r.varint()))
            case (5, 0): v = .integer(Int64(bitPattern: try r.varint()))
            case (6, 0): let z = try r.varint(); v = .integer(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
            case (7, 0): v = .bool(try r.varint() != 0)
            default: try r.skip(wire)
            }
        }
        return v
    }

    /// A feature's geometry back as polygons/lines/points in tile coordinates.
    static func geometry(_ f: Feature) throws -> Geometry {
        var x = 0, y = 0, i = 0
        var rings = [[Coordinate]](), current = [Coordinate]()
        func zz(_ v: UInt64) -> Int { Int((v >> 1)) ^ -Int(v & 1) }
        while i < f.geometry.count {
            let cmd = f.geometry[i] & 7, count = Int(f.geometry[i] >> 3)
            i += 1
            switch cmd {
            case 1, 2:
                for _ in 0..<count {
                    guard i + 1 < f.geometry.count else { throw DecodeError() }
                    x += zz(f.geometry[i]); y += zz(f.geometry[i + 1]); i += 2
                    if cmd == 1, !current.isEmpty { rings.append(current); current = [] }
                    current.append(Coordinate(Double(x), Double(y)))
                }
            case 7:
                if let first = current.first { current.append(first) }
            default: throw DecodeError()
            }
        }
        if !current.isEmpty { rings.append(current) }
        switch f.type {
        case 1: return .multiPoint(rings.flatMap { $0 })
        case 2: return .multiLineString(rings)
        default:
            // Exterior rings have positive area (y down); each starts a new polygon.
            var polys = [[[Coordinate]]]()
            for r in rings {
                if Geometry.signedRingArea(r) > 0 || polys.isEmpty { polys.append([r]) } else { polys[polys.count - 1].append(r) }
            }
            return .multiPolygon(polys)
        }
    }
}
