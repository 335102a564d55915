/// Well-Known Text: reads OGC/ISO WKT (Z, M and ZM ordinates skipped, an EWKT `SRID=n;`
/// prefix ignored) and writes 2D WKT with the shortest decimal that reads back exactly.
public enum WKT {
    public static func decode(_ text: String) throws -> Geometry {
        var parser = WKTParser(Array(text.utf8))
        if parser.peekWord()?.uppercased().hasPrefix("SRID=") == true {
            parser.skipThrough(UInt8(ascii: ";"))
        }
        let g = try parser.geometry(depth: 0)
        parser.skipSpace()
        guard parser.atEnd else { throw parser.error("unexpected text after the geometry") }
        return g
    }

    public static func encode(_ geometry: Geometry) -> String {
        var out = ""
        write(geometry, into: &out)
        return out
    }

    static func write(_ g: Geometry, into out: inout String) {
        out += g.typeName
        if g.isEmpty, !(isCollectionWithEmptyParts(g)) {
            out += " EMPTY"
            return
        }
        out += " "
        switch g {
        case .point(let c):
            if let c { out += "("; coord(c, &out); out += ")" }
        case .lineString(let cs):
            coords(cs, &out)
        case .polygon(let rings):
            list(rings, &out) { coords($0, &$1) }
        case .multiPoint(let cs):
            list(cs, &out) { c, o in o += "("; coord(c, &o); o += ")" }
        case .multiLineString(let lines):
            list(lines, &out) { coords($0, &$1) }
        case .multiPolygon(let polys):
            list(polys, &out) { rings, o in list(rings, &o) { coords($0, &$1) } }
        case .geometryCollection(let gs):
            list(gs, &out) { write($0, into: &$1) }
        }
    }

    private static func isCollectionWithEmptyParts(_ g: Geometry) -> Bool {
        if case .geometryCollection(let gs) = g { return !gs.isEmpty }
        return false
    }

    private static func list<T>(_ items: [T], _ out: inout String, _ each: (T, inout String) -> Void) {
        out += "("
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            each(item, &out)
        }
        out += ")"
    }

    private static func coords(_ cs: [Coordinate], _ out: inout String) {
        list(cs, &out) { coord($0, &$1) }
    }

    private static func coord(_ c: Coordinate, _ out: inout String) {
        out += number(c.x)
        out += " "
        out += number(c.y)
    }

    /// The shortest text that reads back as `v`; whole numbers without a trailing `.0`.
    public static func number(_ v: Double) -> String {
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return v.description
    }
}

struct WKTParser {
    let text: [UInt8]
    var i = 0

    init(_ text: [UInt8]) {
        self.text = text
    }

    var atEnd: Bool { i >= text.count }

    func error(_ what: String) -> GeometryError {
        GeometryError("WKT: \(what) at character \(i + 1)")
    }

    mutating func skipSpace() {
        while i < text.count, text[i] == 32 || (9...13).contains(text[i]) { i += 1 }
    }

    mutating func skipThrough(_ byte: UInt8) {
        while i < text.count, text[i] != byte { i += 1 }
        if i < text.count { i += 1 }
    }

    mutating func peekWord() -> String? {
        let save = i
        defer { i = save }
        return word()
    }

    mutating func word() -> String? {
        skipSpace()
        let start = i
        while i < text.count, (65...90).contains(text[i]) || (97...122).contains(text[i]) || text[i] == UInt8(ascii: "=") || (48...57).contains(text[i]) && i > start {
            i += 1
        }
        return i > start ? String(decoding: text[start..<i], as: UTF8.self) : nil
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        skipSpace()
        if i < text.count, text[i] == byte {
            i += 1
            return true
        }
        return false
    }

    mutating func expect(_ byte: UInt8) throws {
        guard consume(byte) else { throw error("expected '\(Character(UnicodeScalar(byte)))'") }
    }

    mutating func number() throws -> Double {
        skipSpace()
        let start = i
        while i < text.count, (48...57).contains(text[i]) || text[i] == 43 || text[i] == 45 || text[i] == 46 || text[i] == 101 || text[i] == 69 {
            i += 1
        }
        // NaN and Inf are not valid coordinates, but they appear in real files; read them so
        // validation can name the problem instead of the parser.
        for special in ["NaN", "nan", "Inf", "inf"] where i == start || (i == start + 1 && (text[start] == 45 || text[start] == 43)) {
            let word = Array(special.utf8)
            if text.count - i >= word.count, Array(text[i..<(i + word.count)]) == word {
                i += word.count
                break
            }
        }
        guard i > start, let v = Double(String(decoding: text[start..<i], as: UTF8.self)) else {
            throw error("expected a number")
        }
        return v
    }

    /// Reads the ordinates of one position and keeps x and y.
    mutating func position() throws -> Coordinate {
        let x = try number(), y = try number()
        skipSpace()
        // Extra ordinates (Z, M) until ',' or ')'.
        var extra = 0
        while i < text.count, text[i] != UInt8(ascii: ","), text[i] != UInt8(ascii: ")") {
            _ = try number()
            extra += 1
            guard extra <= 2 else { throw error("a position has more than 4 ordinates") }
            skipSpace()
        }
        return Coordinate(x, y)
    }

    /// `EMPTY` or `( item, item, … )`; returns nil for EMPTY.
    mutating func list<T>(_ item: (inout WKTParser) throws -> T) throws -> [T]? {
        if let w = peekWord(), w.uppercased() == "EMPTY" {
            _ = word()
            return nil
        }
        try expect(UInt8(ascii: "("))
        var items = [try item(&self)]
        while consume(UInt8(ascii: ",")) { items.append(try item(&self)) }
        try expect(UInt8(ascii: ")"))
        return items
    }

    mutating func coordinateList() throws -> [Coordinate] {
        try list { try $0.position() } ?? []
    }

    mutating func geometry(depth: Int) throws -> Geometry {
        guard depth <= WKB.maxDepth else { throw error("collections nest too deep") }
        guard let name = word()?.uppercased() else { throw error("expected a geometry type") }
        // Optional dimension keyword: Z, M, ZM (or POINTZ style suffixes).
        var type = name
        for suffix in ["ZM", "Z", "M"] where type.hasSuffix(suffix) && !Self.types.contains(type) {
            type.removeLast(suffix.count)
        }
        if let w = peekWord()?.uppercased(), ["Z", "M", "ZM"].contains(w) { _ = word() }
        switch type {
        case "POINT":
            guard let cs = try list({ try $0.position() }) else { return .point(nil) }
            guard cs.count == 1 else { throw error("a POINT has exactly one position") }
            return .point(cs[0])
        case "LINESTRING":
            return .lineString(try coordinateList())
        case "POLYGON":
            return .polygon(try list { try $0.coordinateList() } ?? [])
        case "MULTIPOINT":
            // Both MULTIPOINT((1 2),(3 4)) and MULTIPOINT(1 2,3 4).
            return .multiPoint(try list { p -> Coordinate in
                p.skipSpace()
                if p.consume(UInt8(ascii: "(")) {
                    let c = try p.position()
                    try p.expect(UInt8(ascii: ")"))
                    return c
                }
                return try p.position()
            } ?? [])
        case "MULTILINESTRING":
            return .multiLineString(try list { try $0.coordinateList() } ?? [])
        case "MULTIPOLYGON":
            return .multiPolygon(try list { p in try p.list { try $0.coordinateList() } ?? [] } ?? [])
        case "GEOMETRYCOLLECTION":
            return .geometryCollection(try list { try $0.geometry(depth: depth + 1) } ?? [])
        default:
            throw error("unknown geometry type '\(name)'")
        }
    }

    static let types: Set<String> = ["POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"]
}
