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
