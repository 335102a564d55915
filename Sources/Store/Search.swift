import Features
import Foundation
import Geometry
import Synchronization

/// Text as search compares it (SPEC §10): lower case, Vietnamese tone and vowel marks gone,
/// `đ` as `d`, anything but letters and digits a space. "NGUYỄN THỊ THẬP" and "nguyen thi
/// thap" fold alike; stored documents and queries are folded by this one function.
public enum SearchText {
    public static func fold(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var space = true
        // Canonical decomposition splits "ễ" into e + circumflex + tilde; marks are dropped.
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark, .format: continue
            default: break
            }
            let folded: Unicode.Scalar?
            switch scalar.value {
            case 0x0110, 0x0111: folded = "d"  // Đ đ
            case 0x41...0x5A: folded = Unicode.Scalar(scalar.value + 32)
            case 0x61...0x7A, 0x30...0x39: folded = scalar
            default:
                if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                    folded = scalar.properties.lowercaseMapping.unicodeScalars.first
                } else {
                    folded = nil
                }
            }
            if let folded {
                out.append(folded)
                space = false
            } else if !space {
                out.append(" ")
                space = true
            }
        }
        var s = String(out)
        if s.hasSuffix(" ") { s.removeLast() }
        return s
    }

    /// The text with its marks gone and `đ` as `d` (`Đ` as `D`), nothing else changed: case,
    /// spaces and punctuation stay (CQL2's ACCENTI, where `%` and `_` of a LIKE pattern matter).
    /// `fold` drops the same marks.
    public static func withoutAccents(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
            if isMark(scalar) { continue }
            switch scalar.value {
            case 0x0110: out.append("D")
            case 0x0111: out.append("d")
            default: out.append(scalar)
            }
        }
        return String(out).precomposedStringWithCanonicalMapping
    }

    /// A combining mark (tone, vowel and other accents once text is decomposed).
    static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }

    /// The folded words of a text.
    public static func tokens(_ text: String) -> [String] {
        fold(text).split(separator: " ").map(String.init)
    }

    /// A parcel's key as one word (`k27484s56n1`): "27484-56-1" finds this parcel, not every
    /// text holding 27484, 56 and 1.
    public static func keyToken(ward: String, sheet: Int64, number: Int64) -> String {
        "k\(fold(ward).replacingOccurrences(of: " ", with: ""))s\(sheet)n\(number)"
    }
}

/// What the search index holds for one feature: its label and the folded text it is found by.
/// Made from public fields only (never a field `LayerSchema.isPrivate` names, such as owners'
/// names and ids): the index answers every caller alike, so nothing private goes in.
public struct SearchDocument: Hashable, Sendable {
    public var layer: String
    public var id: String
    public var label: String
    /// Folded words, space-separated.
    public var text: String

    public init(layer: String, id: String, label: String, text: String) {
        self.layer = layer
        self.id = id
        self.label = label
        self.text = text
    }

    /// Source fields of custom layers that name a feature, in the order a label takes them.
    static let nameFields = ["name", "ten", "title", "label", "address", "dia_chi", "diachi", "code", "ma"]

    /// The document of a feature, or nil when it has nothing to be found by.
    public static func make(for feature: Feature, in schema: LayerSchema) -> SearchDocument? {
        let p = feature.properties
        func text(_ name: String) -> String? {
            guard !schema.isPrivate(name), let v = p[name] else { return nil }
            let s: String? = switch v {
            case .string(let s): s
            case .integer(let i): String(i)
            case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
            default: nil
            }
            return s.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var words = [String](), label = ""
        switch schema.name {
        case "parcels":
            let ward = text("ward_code"), sheet = text("sheet").flatMap { Int64($0) }, number = text("number").flatMap { Int64($0) }
            if let ward, let sheet, let number {
                words += [SearchText.keyToken(ward: ward, sheet: sheet, number: number), "to\(sheet)", "thua\(number)", ward]
                label = "Thửa \(number), tờ \(sheet) (\(ward))"
            }
            if let address = text("address") {
                words.append(address)
                label = label.isEmpty ? address : "\(address) — \(label)"
            }
            if let use = text("land_use") { words.append(use) }
        case "zoning":
            let code = text("zone_code"), use = text("land_use"), plan = text("plan_name")
            words += [code, use, plan].compactMap { $0 }
            label = ["Ô quy hoạch \(code ?? feature.id)", use.map { "(\($0))" }, plan.map { "— \($0)" }].compactMap { $0 }.joined(separator: " ")
        case "admin":
            let unit = AdminLabel(p, id: feature.id, isPrivate: schema.isPrivate)
            words += [unit.fullName, unit.code, unit.district].compactMap { $0 }
            label = unit.label
        default:
            let names = nameFields.compactMap(text)
            words += names
            label = names.first ?? ""
        }
        let folded = words.map(SearchText.fold).filter { !$0.isEmpty }.joined(separator: " ")
        guard !folded.isEmpty else { return nil }
        return SearchDocument(layer: schema.name, id: feature.id, label: label.isEmpty ? feature.id : label, text: folded)
    }
}

/// An administrative unit's words for people, from its properties: "Phường Bến Nghé (Quận 1),
/// đến 2025-06-30 — nay thuộc Phường Sài Gòn".
struct AdminLabel {
    var code: String?
    var fullName: String
    var district: String?
    var label: String

    init(_ p: [String: JSONValue], id: String, isPrivate: (String) -> Bool) {
        func text(_ name: String) -> String? { isPrivate(name) ? nil : p[name]?.stringValue }
        code = text("code")
        let name = text("name") ?? id
        let kinds = ["Phường", "Xã", "Thị trấn", "Đặc khu", "Quận", "Huyện", "Thành phố", "Tỉnh"]
        let kind: String? = switch text("level") ?? "" {
        case "ward": "Phường"
        case "commune": "Xã"
        case "special_zone": "Đặc khu"
        default: nil
        }
        fullName = kinds.contains { name.hasPrefix($0) } || kind == nil ? name : "\(kind ?? "") \(name)"
        district = text("district_name")
        var label = fullName + (district.map { " (\($0))" } ?? "")
        if let until = text("valid_to") {
            label += ", đến (until) \(until.prefix(10).replacingOccurrences(of: "/", with: "-"))"
            let now = isPrivate("successors") ? [] : Self.units(p["successors"])
            if !now.isEmpty { label += " — nay thuộc (now part of) " + now.joined(separator: ", ") }
        } else if let from = text("valid_from") {
            label += ", từ (from) \(from.prefix(10).replacingOccurrences(of: "/", with: "-"))"
        }
        self.label = label
    }

    /// The names of a list of units (`[{code, name}]`), stored as JSON or as its text (GDAL
    /// reads a GeoJSON array of objects as a JSON string).
    static func units(_ value: JSONValue?) -> [String] {
        var list = value?.arrayValue
        if list == nil, let s = value?.stringValue, let parsed = try? JSONValue.parse(s) { list = parsed.arrayValue }
        return (list ?? []).compactMap { $0.objectValue?["name"]?.stringValue }
    }
}

/// A search as asked (`GET /search?q=`): the text folded into words, a cadastral key in the
/// forms people write it (`27484-56-1`, `27484/56/1`, `tờ 56 thửa 1`) made one word.
public struct SearchQuery: Hashable, Sendable {
    /// Folded words, all of which a document must hold; the last may be the start of a word
    /// (suggestions as one types).
    public var words: [String]
    /// Whether the last word is matched as the start of a word (as typed) or only whole
    /// (`wholeWords`).
    public var lastWordIsPrefix = true

    public init(_ text: String) {
        var words = [String]()
        for raw in text.split(whereSeparator: { $0.isWhitespace || $0 == "," }) {
            let parts = raw.split(whereSeparator: { $0 == "-" || $0 == "/" }).map(String.init)
            if parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
               let sheet = Int64(parts[1]), let number = Int64(parts[2]) {
                words.append(SearchText.keyToken(ward: parts[0], sheet: sheet, number: number))
            } else {
                words += SearchText.tokens(String(raw))
            }
        }
        // "tờ 56 thửa 1", "to so 56", "thua 1": the sheet's and the number's words.
        var joined = [String]()
        var i = 0
        while i < words.count {
            let w = words[i]
            var j = i + 1
            if ["to", "thua"].contains(w) {
                if j < words.count, words[j] == "so" { j += 1 }
                if j < words.count, let n = Int64(words[j]) {
                    joined.append("\(w)\(n)")
                    i = j + 1
                    continue
                }
            }
            joined.append(w)
            i += 1
        }
        // Long queries are cut: nobody types more than a few words, and each costs a lookup.
        self.words = Array(joined.prefix(8).map { String($0.prefix(64)) })
    }

    public var isEmpty: Bool { words.isEmpty }

    /// The FTS5 expression: every word quoted (so no word is an operator), the last a prefix.
    public var fts5: String {
        words.enumerated().map { i, w in "\"\(w)\"" + (i == words.count - 1 && lastWordIsPrefix ? "*" : "") }.joined(separator: " ")
    }

    /// The same query with its last word matched only whole: a whole word ranks above the
    /// words it begins, and an index without a prefix list that long reads every word it
    /// begins, to the end, before answering ("trung"* at 1 M parcels: 142 806 documents, 8 ms;
    /// "trung" whole, its first 400: 0.2 ms). Nil when the last word is already whole.
    public var wholeWords: SearchQuery? {
        guard lastWordIsPrefix, !words.isEmpty else { return nil }
        var q = self
        q.lastWordIsPrefix = false
        return q
    }

    /// Whether the last word is a number typed last: meant whole ("… 2" is house 2, not 20 or
    /// 25, nor ward 26740), so both backends ask `wholeWords` first and the numbers it begins
    /// only where no document holds it whole. As a start, "268" also begins every ward code
    /// 268xx: 9 000 documents on one street at 1 M parcels, which crowded out house 268.
    public var endsWithNumber: Bool {
        lastWordIsPrefix && words.last?.contains(where: \.isNumber) == true
    }

    /// The query an index is asked first when some words are far rarer than the others: a
    /// parcel's key word where the sheet, number and ward are all given; else the words with
    /// digits (house numbers, keys, `to56`) and the last other word, when that leaves any out. "nguyen huu tho 180" asks for "tho" and "180": ANDing "nguyen" (a quarter of all
    /// addresses) and "huu" as well made FTS5 walk their whole lists, five times as long.
    /// The candidates are then checked against every word (`isAnswered`).
    public var narrowed: SearchQuery? { narrowed(documentsHolding: { _ in nil }) }

    /// `narrowed`, keeping of the words without digits the one in fewest documents by
    /// `documentsHolding` (nil: few, or not known) rather than the last: "hai ba trung 225"
    /// asks "hai" and "225" (83 000 and 3 000 of 1 M documents), not "trung" (143 000), whose
    /// first 400 matches with "225" were mostly other streets and sent the search on to every word.
    public func narrowed(documentsHolding count: (String) -> Int64?) -> SearchQuery? {
        // "tờ 56 thửa 1 27484": a sheet, a number and a ward code name one parcel's key word.
        func number(after prefix: String) -> Int64? {
            words.lazy.compactMap { $0.hasPrefix(prefix) ? Int64($0.dropFirst(prefix.count)) : nil }.first
        }
        if let sheet = number(after: "to"), let parcel = number(after: "thua"),
           let ward = words.first(where: { $0.count == 5 && $0.allSatisfy(\.isNumber) }) {
            var q = self
            q.words = [SearchText.keyToken(ward: ward, sheet: sheet, number: parcel)]
            return q
        }
        let digits = words.filter { $0.contains(where: \.isNumber) }
        let others = words.filter { !$0.contains(where: \.isNumber) }
        guard !digits.isEmpty, var rarest = others.last else { return nil }
        for w in others.reversed() where (count(w) ?? 0) < (count(rarest) ?? 0) { rarest = w }
        var kept = words.filter { $0.contains(where: \.isNumber) || $0 == rarest }
        // The last word typed stays last: it alone is matched as a prefix.
        if let i = kept.lastIndex(of: words[words.count - 1]), i != kept.count - 1 { kept.append(kept.remove(at: i)) }
        guard kept.count < words.count else { return nil }
        var q = self
        q.words = kept
        return q
    }

    /// Whether a document holds every word as the index matches them: each a whole word of its
    /// text, the last the start of one.
    public func isAnswered(by document: SearchDocument) -> Bool {
        Scorer(self).isAnswered(by: document)
    }

    /// The PostgreSQL `to_tsquery('simple', …)` text: words ANDed, the last a prefix. Words are
    /// folded to ASCII letters and digits, so quoting them is enough.
    public var tsquery: String {
        words.enumerated().map { i, w in "'\(w)'" + (i == words.count - 1 && lastWordIsPrefix ? ":*" : "") }.joined(separator: " & ")
    }

    /// How well a document answers the query, higher first: the words in the order typed, as
    /// whole words, early in the text; administrative units before parcels at equal match (few,
    /// and what people look for by name); shorter texts before longer.
    public func score(_ document: SearchDocument) -> Double {
        Scorer(self).score(document)
    }

    /// The candidates ranked: by score, then layer and id, so answers never vary.
    public func rank(_ candidates: [SearchDocument]) -> [SearchDocument] {
        let scorer = Scorer(self)
        let scored: [(doc: SearchDocument, score: Double)] = candidates.map { ($0, scorer.score($0)) }
        return scored.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.doc.layer != b.doc.layer { return a.doc.layer < b.doc.layer }
            return a.doc.id < b.doc.id
        }.map(\.doc)
    }
}

/// `SearchQuery.score` over the UTF-8 bytes of folded texts, the query's words encoded once:
/// ranking 400 candidates by splitting each text into `String`s and searching it through
/// Foundation was a quarter of a search's time at 1 M parcels.
public struct Scorer {
    let words: [[UInt8]]
    let phrase: [UInt8]
    let lastWordIsPrefix: Bool

    public init(_ query: SearchQuery) {
        words = query.words.map { Array($0.utf8) }
        phrase = Array(query.words.joined(separator: " ").utf8)
        lastWordIsPrefix = query.lastWordIsPrefix
    }

    /// `SearchQuery.isAnswered(by:)` over the text's bytes, without splitting it into strings
    /// (8 % of a search that checks 400 candidates did).
    public func isAnswered(by document: SearchDocument) -> Bool {
        var text = document.text
        return text.withUTF8 { text in isAnswered(utf8: UnsafeRawBufferPointer(text)) }
    }

    /// The same over a folded text's UTF-8 bytes (a row's, in place).
    public func isAnswered(utf8 text: UnsafeRawBufferPointer) -> Bool {
        words.indices.allSatisfy { i in
            let w = words[i], prefix = lastWordIsPrefix && i == words.count - 1
            let n = text.count
            var start = 0
            while start <= n {
                var end = start
                while end < n, text[end] != 0x20 { end += 1 }
                if end - start == w.count || (prefix && end - start > w.count),
                   UnsafeRawBufferPointer(rebasing: text[start..<(start + w.count)]).elementsEqual(w) { return true }
                start = end + 1
            }
            return false
        }
    }

    func score(_ document: SearchDocument) -> Double {
        var text = document.text
        let base = text.withUTF8 { score(bytes: $0) }
        return base + (document.layer == "admin" ? 1.5 : 0) - Double(text.utf8.count) / 1000
    }

    /// The phrase (+10, +2 more where its first occurrence starts a word), each word present as
    /// a whole word (+1), and how late the first word's first token-prefix comes (−0.05 each).
    private func score(bytes text: UnsafeBufferPointer<UInt8>) -> Double {
        var score = 0.0
        if let at = Self.find(phrase, in: text) {
            score += 10
            if at == 0 || text[at - 1] == 0x20 { score += 2 }
        }
        var found = [Bool](repeating: false, count: words.count)
        var firstAt: Int?
        var index = 0, start = 0
        let n = text.count
        while start <= n {
            var end = start
            while end < n, text[end] != 0x20 { end += 1 }
            let token = UnsafeBufferPointer(rebasing: text[start..<end])
            for (i, w) in words.enumerated() where !found[i] && w.count == token.count && w.elementsEqual(token) { found[i] = true }
            if firstAt == nil, let first = words.first, token.count >= first.count, token.prefix(first.count).elementsEqual(first) { firstAt = index }
            index += 1
            start = end + 1
        }
        score += Double(found.lazy.filter { $0 }.count)
        if let firstAt { score -= Double(firstAt) * 0.05 }
        return score
    }

    /// The first place `needle` occurs in `haystack`, by bytes.
    static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !needle.isEmpty else { return 0 }
        guard needle.count <= haystack.count else { return nil }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first, needle.indices.allSatisfy({ haystack[i + $0] == needle[$0] }) { return i }
            i += 1
        }
        return nil
    }
}

/// The search index (SPEC §10), kept in step with every write by the store's batches.
public protocol SearchStore: Sendable {
    /// Documents holding every word of the query (the last as a prefix), among these layers,
    /// ranked by `SearchQuery.rank` over at most `SearchQuery.candidateLimit` candidates; with
    /// `geometries`, each with its feature's present geometry read in the same snapshot (ten
    /// hits placed by ten reads of their own were a fifth of a search at 1 M parcels).
    func search(_ query: SearchQuery, layers: [String], limit: Int, geometries: Bool) throws -> [SearchFound]

    /// Makes a layer's documents anew from its features (after a copy, or when its private
    /// fields change).
    func rebuildSearchIndex(layer: String) throws
}

/// A document found, and the present geometry of its feature as ISO WKB when it was asked for
/// (nil where the feature is gone or has none).
public struct SearchFound: Hashable, Sendable {
    public var document: SearchDocument
    public var geometry: [UInt8]?

    public init(document: SearchDocument, geometry: [UInt8]? = nil) {
        self.document = document
        self.geometry = geometry
    }
}

extension SearchStore {
    /// The documents alone.
    public func search(_ query: SearchQuery, layers: [String], limit: Int) throws -> [SearchDocument] {
        try search(query, layers: layers, limit: limit, geometries: false).map(\.document)
    }
}

extension SearchQuery {
    /// The documents read from the index before ranking: enough that a specific query is
    /// ranked whole, few enough that a word in a million texts answers within SPEC §6's budget
    /// (then the first candidates by index order are ranked, not all).
    public static let candidateLimit = 400
}

/// The words of a search index found in many documents, with how many: read now and then, in
/// the background, from the whole index (0.8 s at 1 M parcels), and asked by each search to
/// choose its rarest words (`SearchQuery.narrowed(documentsHolding:)`). Only an estimate: a
/// count out of date changes which words are asked first, never the answer.
public final class CommonWords: Sendable {
    private struct State {
        var counts: [String: Int64] = [:]
        /// The index's documents when the counts were read; nil before the first reading.
        var documents: Int64?
        var reading = false
    }

    private let state = Mutex(State())

    public init() {}

    /// The documents holding `word`, when it is among the common ones.
    public func documents(holding word: String) -> Int64? {
        state.withLock { $0.counts[word] }
    }

    /// Starts `read` on another thread when the index has grown or shrunk by a tenth since the
    /// last reading, or was never read; a reading already under way is not doubled. `read`
    /// returns the counts of words in more than `threshold(documents)` documents.
    public func refresh(documents: Int64, read: @escaping @Sendable () throws -> [String: Int64]) {
        let start = state.withLock { s -> Bool in
            guard !s.reading else { return false }
            if let known = s.documents, abs(documents - known) * 10 <= max(known, 1) { return false }
            s.reading = true
            return true
        }
        guard start else { return }
        Thread.detachNewThread { [self] in
            let counts = try? read()
            state.withLock { s in
                s.reading = false
                // A reading that failed (the file went away) is tried again at the next search.
                if let counts {
                    s.counts = counts
                    s.documents = documents
                }
            }
        }
    }

    /// The fewest documents a word must be in to be kept: one in a thousand, at least 100.
    public static func threshold(documents: Int64) -> Int64 { max(100, documents / 1000) }
}

/// The documents of the `admin` layer, held in memory per data version: units are few (a few
/// hundred) and what people look for by name, so every search checks all of them here rather
/// than among the index's first candidates, where a million addresses naming a ward could
/// crowd the ward out, and an ANDed layer tag with no match made FTS5 walk whole word lists.
public final class UnitDocuments: Sendable {
    private let kept = Mutex<(version: Int64, units: [SearchDocument])?>(nil)

    public init() {}

    /// The units answering `query` (every word, the last as a prefix), reading them anew with
    /// `load` when the layer's data version moved.
    public func answering(_ query: SearchQuery, version: Int64, load: () throws -> [SearchDocument]) throws -> [SearchDocument] {
        let units: [SearchDocument]
        if let known = kept.withLock({ $0 }), known.version == version {
            units = known.units
        } else {
            units = try load()
            kept.withLock { $0 = (version, units) }
        }
        let scorer = Scorer(query)
        return units.filter(scorer.isAnswered(by:))
    }
}
