import Geometry

/// A CQL2 filter as one tree, whichever encoding (text or JSON) it came in.
///
/// Each node keeps where it came from (`position`) so later stages (type checking, SQL
/// translation) can point at the offending part of the input. Equality and hashing look at the
/// tree only, never at positions: the text and the JSON of one filter are equal trees.
public struct CQL2Expression: Hashable, Sendable, CustomStringConvertible {
    public let kind: Kind
    public let position: SourcePosition
    /// Levels of nodes from here down (a literal is 1); the parsers refuse trees taller than
    /// `CQL2.maxDepth`, so the recursive printers and comparisons stay shallow.
    public let height: Int

    public init(_ kind: Kind, at position: SourcePosition = .none) {
        self.kind = kind
        self.position = position
        self.height = 1 + kind.children.reduce(0) { max($0, $1.height) }
    }

    public static func == (a: CQL2Expression, b: CQL2Expression) -> Bool { a.kind == b.kind }
    public func hash(into h: inout Hasher) { h.combine(kind) }

    /// The CQL2 text of this tree.
    public var description: String { CQL2Text.print(self) }

    public indirect enum Kind: Hashable, Sendable {
        /// A queryable, plain (`floors`) or double-quoted (`"floors"`) in text.
        case property(String)
        case string(String)
        case number(Number)
        case boolean(Bool)
        /// `DATE('2020-01-31')`: the `YYYY-MM-DD` text.
        case date(String)
        /// `TIMESTAMP('…Z')`: normalised (`…05:30:00.000Z` is `…05:30:00Z`).
        case timestamp(String)
        /// `'..'`, an open end of an interval.
        case unbounded
        /// `INTERVAL(start, end)`: each end a date, timestamp, `..`, property or function.
        case interval(CQL2Expression, CQL2Expression)
        case geometry(Geometry)
        /// `BBOX(minx, miny, maxx, maxy)` or with min/max z (6 numbers).
        case bbox([Double])
        /// `('a', 'b')` in text, a JSON array.
        case array([CQL2Expression])
        case not(CQL2Expression)
        case and([CQL2Expression])
        case or([CQL2Expression])
        case comparison(ComparisonOperator, CQL2Expression, CQL2Expression)
        /// `value LIKE pattern`.
        case like(CQL2Expression, CQL2Expression)
        /// `value BETWEEN low AND high`.
        case between(CQL2Expression, CQL2Expression, CQL2Expression)
        /// `value IN (list)`.
        case `in`(CQL2Expression, [CQL2Expression])
        case isNull(CQL2Expression)
        case arithmetic(ArithmeticOperator, CQL2Expression, CQL2Expression)
        /// S_*, T_* and A_* predicates.
        case predicate(Predicate, CQL2Expression, CQL2Expression)
        case casei(CQL2Expression)
        case accenti(CQL2Expression)
        /// Any other function, by the name it was called with.
        case function(String, [CQL2Expression])

        public var children: [CQL2Expression] {
            switch self {
            case .property, .string, .number, .boolean, .date, .timestamp, .unbounded, .geometry, .bbox: []
            case .interval(let a, let b), .comparison(_, let a, let b), .like(let a, let b),
                 .arithmetic(_, let a, let b), .predicate(_, let a, let b): [a, b]
            case .array(let xs), .and(let xs), .or(let xs), .function(_, let xs): xs
            case .not(let a), .isNull(let a), .casei(let a), .accenti(let a): [a]
            case .between(let a, let b, let c): [a, b, c]
            case .in(let a, let xs): [a] + xs
            }
        }
    }
}

/// A numeric literal: whole numbers stay exact 64-bit integers, others are doubles. `1` and
/// `1.0` are equal (JSON writers do not agree on which to write).
public enum Number: Hashable, Sendable {
    case integer(Int64)
    case double(Double)

    public var doubleValue: Double {
        switch self {
        case .integer(let i): Double(i)
        case .double(let d): d
        }
    }

    public static func == (a: Number, b: Number) -> Bool {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): x == y
        default: a.doubleValue == b.doubleValue
        }
    }

    public func hash(into h: inout Hasher) { h.combine(doubleValue) }

    /// The negated value (for `-` before a literal); Int64.min has no negation and becomes a double.
    var negated: Number {
        switch self {
        case .integer(let i): i == .min ? .double(-Double(i)) : .integer(-i)
        case .double(let d): .double(-d)
        }
    }
}

public enum ComparisonOperator: String, Hashable, Sendable, CaseIterable {
    case equal = "=", notEqual = "<>", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">="
}

public enum ArithmeticOperator: String, Hashable, Sendable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", integerDivide = "div", power = "^"
}

/// The named two-argument predicates; `rawValue` is the CQL2 JSON `op`.
public enum Predicate: String, Hashable, Sendable, CaseIterable {
    case sIntersects = "s_intersects", sEquals = "s_equals", sDisjoint = "s_disjoint", sTouches = "s_touches"
    case sWithin = "s_within", sOverlaps = "s_overlaps", sCrosses = "s_crosses", sContains = "s_contains"
    case tAfter = "t_after", tBefore = "t_before", tContains = "t_contains", tDisjoint = "t_disjoint"
    case tDuring = "t_during", tEquals = "t_equals", tFinishedBy = "t_finishedBy", tFinishes = "t_finishes"
    case tIntersects = "t_intersects", tMeets = "t_meets", tMetBy = "t_metBy", tOverlappedBy = "t_overlappedBy"
    case tOverlaps = "t_overlaps", tStartedBy = "t_startedBy", tStarts = "t_starts"
    case aEquals = "a_equals", aContains = "a_contains", aContainedBy = "a_containedBy", aOverlaps = "a_overlaps"

    /// The CQL2 text name (`S_INTERSECTS`).
    public var textName: String { rawValue.uppercased() }
    public var isArray: Bool { rawValue.hasPrefix("a_") }

    /// Looks a name up in any letter case (text keywords are case-insensitive).
    static let byLowercasedName: [String: Predicate] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue.lowercased(), $0) })
    public init?(name: String) {
        guard let p = Self.byLowercasedName[name.lowercased()] else { return nil }
        self = p
    }
}

/// `Predicate` under a name Foundation's `Predicate` does not shadow (for modules importing both).
public typealias CQL2Predicate = Predicate

/// Where a node came from: a place in CQL2 text, or a path into a CQL2 JSON document.
public enum SourcePosition: Hashable, Sendable, CustomStringConvertible {
    case none
    /// 1-based line and column, and the 0-based offset, all counted in Unicode scalars.
    case text(line: Int, column: Int, offset: Int)
    /// A JSON pointer-like path: `/args/1/args/0`.
    case json(path: String)

    public var description: String {
        switch self {
        case .none: "unknown position"
        case .text(let line, let column, _): "line \(line), column \(column)"
        case .json(let path): "JSON \(path.isEmpty ? "/" : path)"
        }
    }
}

/// A filter that cannot be read: what was wrong and where.
public struct CQL2Error: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public let position: SourcePosition

    public init(_ message: String, at position: SourcePosition) {
        self.message = message
        self.position = position
    }

    public var description: String { "CQL2: \(message) at \(position)" }
}

/// Limits on attacker-controlled filters, and the checks both parsers share.
public enum CQL2 {
    /// Deepest tree or bracket nesting accepted; deeper input is refused, never recursed into.
    public static let maxDepth = 64
    /// Longest filter accepted (UTF-8 bytes), text or JSON.
    public static let maxInputLength = 256 * 1024
    /// Longest property or function name.
    public static let maxNameLength = 256

    /// Builds a node, refusing one that would make the tree taller than `maxDepth`.
    static func node(_ kind: CQL2Expression.Kind, at position: SourcePosition) throws -> CQL2Expression {
        let e = CQL2Expression(kind, at: position)
        guard e.height <= maxDepth else { throw CQL2Error("expression nests deeper than \(maxDepth) levels", at: position) }
        return e
    }

    /// Checks a DATE literal (`YYYY-MM-DD`, a real calendar day).
    static func date(_ s: String, at position: SourcePosition) throws -> CQL2Expression.Kind {
        guard validDate(Array(s.utf8)) else {
            throw CQL2Error("'\(clip(s))' is not a date (expected YYYY-MM-DD)", at: position)
        }
        return .date(s)
    }

    /// Checks a TIMESTAMP literal (`YYYY-MM-DDTHH:MM:SS[.fff]Z`) and drops trailing zero fractions.
    static func timestamp(_ s: String, at position: SourcePosition) throws -> CQL2Expression.Kind {
        let b = Array(s.utf8)
        func digits(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= b.count else { return nil }
            var v = 0
            for i in r {
                guard (48...57).contains(b[i]) else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        let bad = CQL2Error("'\(clip(s))' is not a timestamp (expected YYYY-MM-DDTHH:MM:SS[.sss]Z)", at: position)
        guard b.count >= 20, validDate(Array(b[0..<10])), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hh = digits(11..<13), b[13] == UInt8(ascii: ":"), let mm = digits(14..<16), b[16] == UInt8(ascii: ":"),
              let ss = digits(17..<19), hh < 24, mm < 60, ss <= 60,
              b[b.count - 1] == UInt8(ascii: "Z") || b[b.count - 1] == UInt8(ascii: "z")
        else { throw bad }
        var fraction = Array(b[19..<(b.count - 1)])
        if !fraction.isEmpty {
            guard fraction[0] == UInt8(ascii: "."), fraction.count >= 2, fraction.count <= 10,
                  fraction.dropFirst().allSatisfy({ (48...57).contains($0) }) else { throw bad }
            while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
            if fraction.count == 1 { fraction = [] }
        }
        let canonical = String(decoding: b[0..<10], as: UTF8.self) + "T" + String(decoding: b[11..<19], as: UTF8.self)
            + String(decoding: fraction, as: UTF8.self) + "Z"
        return .timestamp(canonical)
    }

    /// An interval end given as a string: `..`, a date or a timestamp, told apart by their form.
    static func instant(_ s: String, at position: SourcePosition) throws -> CQL2Expression.Kind {
        if s == ".." { return .unbounded }
        return s.utf8.count > 10 ? try timestamp(s, at: position) : try date(s, at: position)
    }

    private static func validDate(_ b: [UInt8]) -> Bool {
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return false }
        var parts: [Int] = []
        for r in [0..<4, 5..<7, 8..<10] {
            var v = 0
            for i in r {
                guard (48...57).contains(b[i]) else { return false }
                v = v * 10 + Int(b[i] - 48)
            }
            parts.append(v)
        }
        let (y, m, d) = (parts[0], parts[1], parts[2])
        guard (1...12).contains(m), d >= 1 else { return false }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= days[m - 1]
    }

    /// Checks a geometry literal, read from WKT or GeoJSON, against the rules of RFC 7946 that
    /// both encodings can write: finite coordinates; a line string empty or of two or more
    /// positions (and no empty part in a multi line string); rings of four or more positions
    /// that end where they start (and no polygon of a multi polygon without rings). So the
    /// two readers accept the same geometries, each prints to the other, and no degenerate
    /// shape reaches GEOS, which would refuse it row by row.
    static func geometry(_ g: Geometry, at position: SourcePosition) throws -> Geometry {
        func bad(_ what: String) -> CQL2Error { CQL2Error("bad geometry: \(what)", at: position) }
        func positions(_ cs: [Coordinate]) throws {
            guard cs.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { throw bad("a coordinate is not a finite number") }
        }
        func line(_ cs: [Coordinate]) throws {
            try positions(cs)
            guard cs.count >= 2 else { throw bad("a line string has \(cs.count) position\(cs.count == 1 ? "" : "s"), not two or more") }
        }
        func polygon(_ rings: [[Coordinate]]) throws {
            for ring in rings {
                try positions(ring)
                guard ring.count >= 4, ring.first == ring.last else {
                    throw bad("a linear ring must have four or more positions and end where it starts")
                }
            }
        }
        func check(_ g: Geometry) throws {
            switch g {
            case .point(let c): try positions(c.map { [$0] } ?? [])
            case .multiPoint(let cs): try positions(cs)
            case .lineString(let cs): if !cs.isEmpty { try line(cs) }
            case .multiLineString(let lines): for l in lines { try line(l) }
            case .polygon(let rings): try polygon(rings)
            case .multiPolygon(let polygons):
                for p in polygons {
                    guard !p.isEmpty else { throw bad("a multi polygon has a polygon without rings") }
                    try polygon(p)
                }
            case .geometryCollection(let parts): for part in parts { try check(part) }
            }
        }
        try check(g)
        return g
    }

    /// A property name must be printable in CQL2 text: not empty, no `"`, no control characters.
    static func checkName(_ name: String, what: String, at position: SourcePosition) throws {
        guard !name.isEmpty, name.utf8.count <= maxNameLength,
              !name.unicodeScalars.contains(where: { $0 == "\"" || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw CQL2Error("'\(clip(name))' is not a valid \(what) name", at: position)
        }
    }

    /// Input echoed in messages is cut short, so an error never repeats a huge attacker string.
    static func clip(_ s: String) -> String {
        s.count <= 40 ? s : String(s.prefix(40)) + "…"
    }
}
