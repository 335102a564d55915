import Foundation
import Testing
@testable import Formats
import TestSupport

/// Known phrases of duydev/vietnamese-conversion (tests/helpers/test-data.ts), where TCVN3 and
/// VNI are written as the Latin-1 characters of their bytes.
@Suite struct VietnameseTextTests {
    static let phrases: [(unicode: String, vni: String, tcvn3: String)] = [
        ("Xin chào các bạn", "Xin chaøo caùc baïn", "Xin chµo c¸c b¹n"),
        ("Tôi đi học", "Toâi ñi hoïc", "T«i ®i häc"),
    ]

    static func bytes(_ latin1: String) -> [UInt8] { latin1.unicodeScalars.map { UInt8($0.value) } }

    @Test func knownPhrasesDecode() {
        for p in Self.phrases {
            #expect(VietnameseText.decode(Self.bytes(p.tcvn3), as: .tcvn3) == p.unicode)
            #expect(VietnameseText.decode(Self.bytes(p.vni), as: .vni) == p.unicode)
        }
    }

    @Test func autoPicksTheRightEncoding() {
        for p in Self.phrases {
            #expect(VietnameseText.detect([Self.bytes(p.tcvn3)]) == .tcvn3)
            #expect(VietnameseText.detect([Self.bytes(p.vni)]) == .vni)
            #expect(VietnameseText.detect([Array(p.unicode.utf8)]) == .utf8)
        }
        // Windows-1258 writes tones as combining marks: "Việt" = V i 0xEA 0xF2 t.
        let cp1258: [UInt8] = [0x56, 0x69, 0xEA, 0xF2, 0x74, 0x20, 0x4E, 0x61, 0x6D]
        #expect(VietnameseText.decode(cp1258, as: .cp1258) == "Việt Nam")
        #expect(VietnameseText.detect([cp1258]) == .cp1258)
    }

    /// The whole peer table, encoded back to legacy bytes by transcoding real names, decodes.
    @Test func everyTableLetterRoundTrips() {
        for (bytes, text) in VietnameseTables.tcvn3 where text.count == 1 {
            #expect(VietnameseText.decode(bytes, as: .tcvn3) == text.precomposedStringWithCanonicalMapping)
        }
        for (bytes, text) in VietnameseTables.vni where text.count == 1 {
            #expect(VietnameseText.decode(bytes, as: .vni) == text.precomposedStringWithCanonicalMapping)
        }
    }

    @Test func cpgNames() {
        #expect(VietnameseText.encoding(cpg: "UTF-8\n") == .utf8)
        #expect(VietnameseText.encoding(cpg: "1258") == .cp1258)
        #expect(VietnameseText.encoding(cpg: "ISO-8859-1") == nil)
    }
}
