import Crypto
import Features
import Foundation
import Geometry

/// A content hash of a layer's present features, the same on every backend and in any row
/// order: what `landmap layers --json` prints and `landmap copy` is checked by (SPEC §7).
///
/// Each feature becomes one canonical byte string — its id, its geometry as 2D little-endian ISO
/// WKB (`WKB.encode`), its properties as JSON with sorted keys (`JSONValue.jsonText`, which also
/// writes 390.0 and 390 alike), canonical fields that are null left out as every store leaves
/// them out —, each part length-prefixed so no two features share a string. Its SHA-256 is read
/// as a 256-bit number and the numbers are added modulo 2²⁵⁶: addition commutes, so the order
/// features arrive in does not matter, and a change to any one feature changes the sum.
public struct LayerFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// The sum, most significant limb first.
    private var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// How many features were added.
    public private(set) var count = 0

    public init() {}

    public static func == (a: LayerFingerprint, b: LayerFingerprint) -> Bool {
        a.count == b.count && a.limbs == b.limbs
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(limbs.0)
        hasher.combine(limbs.1)
        hasher.combine(limbs.2)
        hasher.combine(limbs.3)
    }

    /// Adds one feature. `schema` names the canonical fields whose nulls are dropped.
    public mutating func add(_ feature: Feature, schema: LayerSchema) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(64 + feature.id.utf8.count + (feature.geometry?.coordinateCount ?? 0) * 16)
        Self.append(Array(feature.id.utf8), to: &bytes)
        if let geometry = feature.geometry {
            bytes.append(1)
            Self.append(WKB.encode(geometry), to: &bytes)
        } else {
            bytes.append(0)
        }
        var properties = feature.properties
        for field in schema.fields where properties[field.name] == .null { properties.removeValue(forKey: field.name) }
        Self.append(Array(JSONValue.object(properties).jsonText.utf8), to: &bytes)
        add(digest: SHA256.hash(data: bytes))
    }

    private static func append(_ part: [UInt8], to bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt64(part.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: part)
    }

    private mutating func add(digest: SHA256.Digest) {
        var words = [UInt64](repeating: 0, count: 4)
        digest.withUnsafeBytes { raw in
            for i in 0..<4 {
                words[i] = (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(raw[i * 8 + $1]) }
            }
        }
        var carry: UInt64 = 0
        func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (s1, o1) = a.addingReportingOverflow(b)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
            return s2
        }
        limbs.3 = add(limbs.3, words[3])
        limbs.2 = add(limbs.2, words[2])
        limbs.1 = add(limbs.1, words[1])
        limbs.0 = add(limbs.0, words[0])  // the last carry falls off: modulo 2²⁵⁶
        count += 1
    }

    /// 64 hexadecimal digits.
    public var hex: String {
        [limbs.0, limbs.1, limbs.2, limbs.3].map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    public var description: String { hex }

    /// The fingerprint of a layer's present features, streamed through `forEachFeature` (one
    /// snapshot, never the whole layer in memory).
    public static func of(layer: String, in store: any FeatureStore) throws -> LayerFingerprint {
        guard let schema = try store.schema(of: layer) else { throw StoreError.unknownLayer(layer) }
        var fingerprint = LayerFingerprint()
        try store.forEachFeature(layer: layer, asOf: nil) { fingerprint.add($0, schema: schema) }
        return fingerprint
    }
}
