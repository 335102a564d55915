import Foundation
import Testing
import CQL2
import Geometry

/// What `fuzz-cql2` found: trees that did not read back from their printed text or JSON, and
/// input the two encodings did not agree on. Each test holds the inputs that showed it.
@Suite struct FuzzFindingTests {
    func prop(_ n: String) -> CQL2Expression { CQL2Expression(.property(n)) }
    func string(_ s: String) -> CQL2Expression { CQL2Expression(.string(s)) }

    /// The tree printed as text and as JSON, each read back to the same tree.
    func expectRoundTrips(_ e: CQL2Expression, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = CQL2Text.print(e)
        #expect(try CQL2Text.parse(text) == e, "text: \(text)", sourceLocation: sourceLocation)
        let json = CQL2JSON.text(e)
        #expect(try CQL2JSON.parse(json) == e, "JSON: \(json)", sourceLocation: sourceLocation)
    }

    // MARK: Strings

    @Test func stringsWithABackslashBeforeAQuoteOrACombiningMarkAfterOnePrintBack() throws {
        // From JSON "x\\'": printed 'x\''' (`\'` a quote, `''` another, and no end).
        // From JSON "'\u0301": a quote and its mark are one Character, so the quote was not doubled.
        for value in ["x\\'", "\\'", "\\\\''", "a\\'b\\'c", "'\u{301}", "a\u{301}'\u{301}'", "\u{301}"] {
            try expectRoundTrips(CQL2Expression(.comparison(.equal, prop("n"), string(value))))
        }
        #expect(CQL2Text.print(string("\\'")) == #"'\\''"#)
        #expect(CQL2Text.print(string("it's")) == "'it''s'")
        // In text, `\\'` is a backslash, then `\'`, a quote.
        #expect(try CQL2Text.parse(#"n = '\\''"#) == CQL2Expression(.comparison(.equal, prop("n"), string("\\'"))))
    }
}

extension FuzzFindingTests {
    // MARK: Geometry literals

    @Test func geometryLiteralsFollowRFC7946InTextAsInJSON() throws {
        // WKT took what GeoJSON refuses, so the JSON of these filters did not read back (and
        // GEOS refused them row by row, matching nothing).
        for wkt in ["POLYGON((0 0, 1 0, 1 1))", "POLYGON((0 0, 1 0, 1 1, 0 1))", "LINESTRING(0 0)", "POINT(nan 1)", "POINT(inf 1)",
                    "MULTILINESTRING((0 0))", "MULTIPOLYGON(((0 0, 1 0, 0 0)))", "GEOMETRYCOLLECTION(LINESTRING(1 2))",
                    "MULTIPOINT((1 2), (-inf 0))"] {
            let e = try #require(throws: CQL2Error.self, "\(wkt)") { try CQL2Text.parse("S_INTERSECTS(geom, \(wkt))") }
            #expect(e.message.hasPrefix("bad geometry"), "\(wkt): \(e.message)")
        }
        // GeoJSON took what WKT cannot write (`MULTIPOLYGON (())`).
        for coordinates in [#"{"type":"MultiPolygon","coordinates":[[]]}"#, #"{"type":"MultiLineString","coordinates":[[]]}"#,
                            #"{"type":"MultiLineString","coordinates":[[[1,2]]]}"#] {
            #expect(throws: CQL2Error.self, "\(coordinates)") {
                try CQL2JSON.parse(#"{"op":"s_intersects","args":[{"property":"geom"},"# + coordinates + "]}")
            }
        }
        // What both can write reads back both ways, empty parts of a collection included.
        for wkt in ["POINT EMPTY", "LINESTRING EMPTY", "POLYGON EMPTY", "MULTIPOLYGON EMPTY", "GEOMETRYCOLLECTION EMPTY",
                    "GEOMETRYCOLLECTION (POINT EMPTY, GEOMETRYCOLLECTION EMPTY, LINESTRING (0 0, 1 1))",
                    "POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.2 0.2, 0.1 0.1))", "MULTIPOINT ((1 2), (3 4))",
                    "POINT Z (1 2 3)", "MULTILINESTRING ((0 0, 1e-300 1e300))"] {
            try expectRoundTrips(try CQL2Text.parse("S_INTERSECTS(geom, \(wkt))"))
        }
    }
}

extension FuzzFindingTests {
    // MARK: Names

    @Test func namesAreLimitedInBytesAndIsNullIsNotAFunction() throws {
        // 200 'ệ' is 200 characters but 600 bytes: the lexer took it as a plain name, the
        // quoted and JSON forms it prints to refused it.
        let long = String(repeating: "ệ", count: 200)
        #expect(throws: CQL2Error.self) { try CQL2Text.parse("\(long) = 1") }
        #expect(throws: CQL2Error.self) { try CQL2Text.parse("\"\(long)\" = 1") }
        let fits = String(repeating: "ệ", count: 85)
        try expectRoundTrips(try CQL2Text.parse("\(fits) = 1"))
        // `isNull(x)` was a function in text and IS NULL in the JSON it printed to.
        let e = try #require(throws: CQL2Error.self) { try CQL2Text.parse("isNull(x)") }
        #expect(e.message.contains("IS NULL"))
        #expect(try CQL2Text.parse("isNull = 1") == CQL2Expression(.comparison(.equal, prop("isNull"), CQL2Expression(.number(.integer(1))))))
        #expect(try CQL2JSON.parse(#"{"op":"ISNULL","args":[{"property":"x"}]}"#) == CQL2Expression(.isNull(prop("x"))))
        #expect(throws: CQL2Error.self) { try CQL2JSON.parse(#"{"op":"ısNull","args":[{"property":"x"}]}"#) }  // dotless ı: ISNULL to text
    }

    // MARK: Interval ends

    @Test func aStringAtAnIntervalsEndIsAnInstantHoweverBracketed() throws {
        // `INTERVAL(('abc'), '..')` held a plain string, which CQL2 JSON cannot: its strings are instants.
        #expect(throws: CQL2Error.self) { try CQL2Text.parse("T_AFTER(t, INTERVAL(('abc'), '..'))") }
        #expect(try CQL2Text.parse("INTERVAL(('2020-01-01'), ('..'))") == CQL2Text.parse("INTERVAL('2020-01-01', '..')"))
        // A string that only begins an end belongs to the expression (printed from JSON as such).
        let e = try CQL2Text.parse("INTERVAL('a' = 'b', '2020-01-01T00:00:00Z')")
        #expect(e == CQL2Expression(.interval(CQL2Expression(.comparison(.equal, string("a"), string("b"))),
                                              CQL2Expression(.timestamp("2020-01-01T00:00:00Z")))))
        try expectRoundTrips(e)
        try expectRoundTrips(try CQL2JSON.parse(#"{"interval":[{"op":"like","args":["a","b"]},".."]}"#))
    }
}

extension FuzzFindingTests {
    // MARK: Nesting

    /// `n` levels of `wrap` around `leaf`, as CQL2 JSON.
    func nested(_ n: Int, _ leaf: String, _ wrap: (String, Int) -> String) -> String {
        var json = leaf
        for i in 0..<n { json = wrap(json, i) }
        return json
    }

    @Test func everyTreeWithinTheLimitPrintsToTextWithinIt() throws {
        // 40 NOTs from JSON printed as `NOT (NOT (…))`, which counted two levels a NOT.
        let shapes: [(String, String, (String, Int) -> String)] = [
            ("not", "true", { e, _ in #"{"op":"not","args":[\#(e)]}"# }),
            ("power", "1", { e, _ in #"{"op":"^","args":[2,\#(e)]}"# }),
            ("power and not", "true", { e, i in i % 2 == 0 ? #"{"op":"not","args":[\#(e)]}"# : #"{"op":"^","args":[2,\#(e)]}"# }),
            ("function of a sum", "1", { e, i in i % 2 == 0 ? #"{"op":"+","args":[\#(e),1]}"# : #"{"op":"f","args":[\#(e)]}"# }),
            ("casei of a difference", "1", { e, i in i % 2 == 0 ? #"{"op":"-","args":[1,\#(e)]}"# : #"{"op":"casei","args":[\#(e)]}"# }),
            ("minus one times", #"{"property":"x"}"#, { e, _ in #"{"op":"*","args":[-1,\#(e)]}"# }),
            ("interval of a comparison", #""2020-01-01""#, { e, i in i % 2 == 0 ? #"{"op":"=","args":["a",\#(e)]}"# : #"{"interval":[\#(e),".."]}"# }),
            ("comparison of IS NULL", "true", { e, i in i % 2 == 0 ? #"{"op":"isNull","args":[\#(e)]}"# : #"{"op":"=","args":[\#(e),true]}"# }),
            ("array", "1", { e, _ in "[\(e),1]" }),
            ("array predicate of a product", "1", { e, i in
                i % 2 == 0 ? #"{"op":"*","args":[\#(e),2]}"# : #"{"op":"a_contains","args":[\#(e),[1,2]]}"# }),
            ("and, or", "true", { e, i in #"{"op":"\#(i % 2 == 0 ? "and" : "or")","args":[\#(e),true]}"# }),
            // IN's list is an array in an array: two JSON levels for one of the tree.
            ("in", "true", { e, _ in #"{"op":"in","args":[\#(e),[true]]}"# }),
        ]
        for (name, leaf, wrap) in shapes {
            let e = try CQL2JSON.parse(nested(CQL2.maxDepth - 1, leaf, wrap))
            #expect(e.height == CQL2.maxDepth, "\(name)")
            try expectRoundTrips(e)
            #expect(throws: CQL2Error.self, "\(name)") { try CQL2JSON.parse(nested(CQL2.maxDepth, leaf, wrap)) }
        }
        // Prefixes and chains are read in loops, not recursed into: as tall as the limit allows.
        for prefix in ["NOT ", "- ", "2 ^ "] {
            let e = try CQL2Text.parse(String(repeating: prefix, count: CQL2.maxDepth - 1) + "x")
            #expect(e.height == CQL2.maxDepth, "\(prefix)")
            try expectRoundTrips(e)
            #expect(throws: CQL2Error.self) { try CQL2Text.parse(String(repeating: prefix, count: CQL2.maxDepth) + "x") }
        }
        #expect(try CQL2Text.parse(String(repeating: "- ", count: 1_000) + "5") == CQL2Expression(.number(.integer(5))))
    }

    @Test func anArrayPredicatesOperandMayBeginWithABracketedOperand() throws {
        // `A_CONTAINS(1 + 2, x)` printed as `A_CONTAINS((1 + 2), "x")`, which reads `(1 + 2)` as an array.
        let e = try CQL2Text.parse("A_CONTAINS(1 + 2, x)")
        try expectRoundTrips(e)
        #expect(CQL2Text.print(e) == #"A_CONTAINS(1 + 2, "x")"#)
        let sum = CQL2Expression(.arithmetic(.add, CQL2Expression(.arithmetic(.multiply, prop("a"), prop("b"))), prop("c")))
        #expect(try CQL2Text.parse("A_CONTAINS((a * b) + c, (1, 2))")
                == CQL2Expression(.predicate(.aContains, sum, CQL2Expression(.array([CQL2Expression(.number(.integer(1))), CQL2Expression(.number(.integer(2)))])))))
        try expectRoundTrips(CQL2Expression(.predicate(.aOverlaps, sum, prop("x"))))
        // A bracket followed by `,` or `)` is still an array, of one item too.
        #expect(try CQL2Text.parse("A_EQUALS((a), (b, c))") == CQL2Expression(.predicate(.aEquals, CQL2Expression(.array([prop("a")])),
                                                                                             CQL2Expression(.array([prop("b"), prop("c")])))))
        #expect(try CQL2Text.parse("A_EQUALS((a) NOT IN (1), x)") == CQL2Text.parse("A_EQUALS(a NOT IN (1), x)"))
        let pair = CQL2Expression(.array([CQL2Expression(.number(.integer(1))), CQL2Expression(.number(.integer(2)))]))
        #expect(try CQL2Text.parse("A_EQUALS((1, 2) = x, y)") == CQL2Expression(.predicate(.aEquals, CQL2Expression(.comparison(.equal, pair, prop("x"))), prop("y"))))
    }

    // MARK: What CQL2 text cannot write

    @Test func canWriteNamesWhatTextCannotSay() throws {
        // A string ending in a backslash, and an array of one item outside an array predicate.
        let trailing = try CQL2JSON.parse(#"{"op":"=","args":[{"property":"x"},"a\\"]}"#)
        #expect(!CQL2Text.canWrite(trailing))
        #expect(throws: CQL2Error.self) { try CQL2Text.parse(CQL2Text.print(trailing)) }
        let one = try CQL2JSON.parse(#"{"op":"=","args":[{"property":"x"},["a"]]}"#)
        #expect(!CQL2Text.canWrite(one))
        #expect(try CQL2Text.parse(CQL2Text.print(one)) != one)
        // As an array predicate's operand, an array of one item is fine; inside one it is not.
        #expect(CQL2Text.canWrite(try CQL2JSON.parse(#"{"op":"a_contains","args":[{"property":"x"},["a"]]}"#)))
        #expect(!CQL2Text.canWrite(try CQL2JSON.parse(#"{"op":"a_contains","args":[{"property":"x"},[["a"],"b"]]}"#)))
        #expect(CQL2Text.canWrite(try CQL2JSON.parse(#"{"op":"=","args":[{"property":"x"},"a\\b"]}"#)))
    }
}
