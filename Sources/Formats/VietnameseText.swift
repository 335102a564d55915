import CGDAL
import Foundation

/// The text encodings Vietnamese GIS files come in.
public enum TextEncoding: String, CaseIterable, Sendable {
    /// Read a Shapefile's `.cpg`, else guess from the bytes.
    case auto
    case utf8
    /// TCVN 5712:1993 "ABC" fonts (.VnTime): one byte per letter, capitals with tones as two.
    case tcvn3
    /// VNI-Windows: a base letter followed by a diacritic byte.
    case vni
    /// Windows-1258: base letters with combining tone marks.
    case cp1258
}

/// Decodes legacy Vietnamese text to Unicode NFC, and guesses which legacy encoding bytes use.
public enum VietnameseText {
    /// Candidates by first byte, longest first, for greedy longest-match decoding.
    static let tcvn3Index = index(VietnameseTables.tcvn3)
    static let vniIndex = index(VietnameseTables.vni)

    static func index(_ table: [(bytes: [UInt8], text: String)]) -> [[([UInt8], String)]] {
        var byFirst = [[([UInt8], String)]](repeating: [], count: 256)
        for (bytes, text) in table where !bytes.isEmpty {
            byFirst[Int(bytes[0])].append((bytes, text))
        }
        for i in byFirst.indices { byFirst[i].sort { $0.0.count > $1.0.count } }
        return byFirst
    }

    /// The Vietnamese letters with diacritics, to score guesses.
    static let vietnameseLetters: Set<Character> = Set(VietnameseTables.tcvn3.map(\.text).joined()).union(Set(VietnameseTables.vni.map(\.text).joined()))

    /// Text from bytes in the given encoding; never fails (unknown bytes read as Latin-1).
    public static func decode(_ bytes: [UInt8], as encoding: TextEncoding) -> String {
        switch encoding {
        case .utf8, .auto:
            if let s = String(validating: bytes, as: UTF8.self) { return s.precomposedStringWithCanonicalMapping }
            return String(decoding: bytes, as: UTF8.self)
        case .tcvn3: return legacy(bytes, tcvn3Index)
        case .vni: return legacy(bytes, vniIndex)
        case .cp1258: return cp1258(bytes)
        }
    }

    static func legacy(_ bytes: [UInt8], _ index: [[([UInt8], String)]]) -> String {
        var result = ""
        var i = 0
        outer: while i < bytes.count {
            for (seq, text) in index[Int(bytes[i])] where i + seq.count <= bytes.count && bytes[i..<(i + seq.count)].elementsEqual(seq) {
                result += text
                i += seq.count
                continue outer
            }
            result.unicodeScalars.append(Unicode.Scalar(bytes[i]))
            i += 1
        }
        return result.precomposedStringWithCanonicalMapping
    }

    /// Windows-1258 through GDAL's iconv-backed recoder, then composed to NFC.
    static func cp1258(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        // iconv holds back a final base letter in case a combining mark follows, and GDAL does
        // not flush it: a trailing space makes sure the last letter comes out.
        let recoded: String? = (bytes + [0x20, 0]).withUnsafeBufferPointer { buffer in
            buffer.baseAddress.flatMap { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { cstr in
                    let out = CPLRecode(cstr, "CP1258", CPL_ENC_UTF8)
                    defer { VSIFree(out) }
                    return String(cString: out)
                }
            }
        }
        var text = recoded ?? String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix(" ") { text.removeLast() }
        return text.precomposedStringWithCanonicalMapping
    }

    /// Combining tone marks: grave, acute, tilde, hook above, dot below.
    static let toneMarks: Set<UInt32> = [0x300, 0x301, 0x303, 0x309, 0x323]

    /// Two-vowel clusters of Vietnamese that start with a plain ASCII vowel (tones aside).
    static let legalClusters: Set<String> = [
        "ai", "ao", "au", "ay", "eo", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "oo",
        "ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ya", "yê",
    ]

    /// The letter without its tone mark (keeps ă, â, ê, ô, ơ, ư).
    static func untoned(_ ch: Character) -> String {
        String(String(ch).decomposedStringWithCanonicalMapping.unicodeScalars.filter { !toneMarks.contains($0.value) }
            .map(Character.init)).precomposedStringWithCanonicalMapping
    }

    static func toneCount(_ ch: Character) -> Int {
        String(ch).decomposedStringWithCanonicalMapping.unicodeScalars.filter { toneMarks.contains($0.value) }.count
    }

    /// How Vietnamese a decoded text looks: letters of the alphabet count for it, stray
    /// symbols against it, and so do syllables with two tones, a toned vowel glued after a bare
    /// vowel (what VNI's vowel + mark pairs look like when read as TCVN3), or two marked letters
    /// side by side other than ư + ơ.
    static func plausibility(_ text: String) -> Int {
        var score = 0
        for word in text.split(whereSeparator: { $0.isWhitespace || $0.isPunctuation }) {
            var tones = 0
            var previous: Character?
            for ch in word {
                if vietnameseLetters.contains(ch) {
                    score += 2
                    let t = toneCount(ch)
                    tones += t
                    if t > 0, let p = previous, p.isASCII, "aeiouyAEIOUY".contains(p),
                       !legalClusters.contains(String(p).lowercased() + untoned(ch).lowercased()) { score -= 3 }
                    // Two marked letters side by side occur only as ư + ơ (người, mười).
                    if let p = previous, !p.isASCII, !"ưƯ".contains(p) { score -= 3 }
                } else if !ch.isASCII {
                    score -= 3
                }
                previous = ch
            }
            if tones > 1 { score -= 4 * (tones - 1) }
        }
        return score
    }

    /// Guesses the encoding of text samples: UTF-8 if they are valid UTF-8 with non-ASCII
    /// letters, else the legacy encoding whose reading looks most Vietnamese, else Windows-1258.
    public static func detect(_ samples: [[UInt8]]) -> TextEncoding {
        let nonASCII = samples.filter { $0.contains { $0 >= 0x80 } }
        guard !nonASCII.isEmpty else { return .utf8 }
        if nonASCII.allSatisfy({ String(validating: $0, as: UTF8.self) != nil }) { return .utf8 }
        // Without positive evidence of Vietnamese, Windows-1258 (a superset of Latin-1's
        // letters) is the least surprising reading.
        var best = (TextEncoding.cp1258, 0)
        for candidate in [TextEncoding.tcvn3, .vni, .cp1258] {
            let score = nonASCII.reduce(0) { $0 + plausibility(decode($1, as: candidate)) }
            if score > best.1 { best = (candidate, score) }
        }
        return best.0
    }

    /// What a `.cpg` file names, as one of our encodings (nil when unknown or not given).
    public static func encoding(cpg: String) -> TextEncoding? {
        let name = cpg.trimmingCharacters(in: .whitespacesAndNewlines).uppercased().replacingOccurrences(of: "-", with: "")
        switch name {
        case "UTF8", "65001": return .utf8
        case "1258", "CP1258", "WINDOWS1258", "ANSI 1258": return .cp1258
        case "TCVN3", "TCVN", "ABC": return .tcvn3
        case "VNI": return .vni
        default: return nil
        }
    }

    /// Bytes back from text that GDAL already recoded as Latin-1 (legacy text in formats GDAL
    /// always returns as UTF-8); nil if the text holds characters beyond U+00FF.
    public static func latin1Bytes(_ s: String) -> [UInt8]? {
        var out = [UInt8]()
        for scalar in s.unicodeScalars {
            guard scalar.value <= 0xFF else { return nil }
            out.append(UInt8(scalar.value))
        }
        return out
    }
}
