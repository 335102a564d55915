import Foundation
import Testing
import CQL2
import Geometry

/// Trees the parsers must build, and the errors they must give for bad or hostile input.
@Suite struct ParserTests {
    func prop(_ n: String) -> CQL2Expression { CQL2Expression(.property(n)) }
    func int(_ i: Int64) -> CQL2Expression { CQL2Expression(.number(.integer(i))) }

    @Test func precedenceAndUnaryMinus() throws {
        // CQL2 JSON writes `- foo` as `-1 * foo`; `-` binds tighter than `*`, `*` than `+`.
        let e = try CQL2Text.parse("value = - foo * 2 + 3")
        let minusFoo = CQL2Expression(.arithmetic(.multiply, int(-1), prop("foo")))
        let expected = CQL2Expression(.comparison(.equal, prop("value"),
            CQL2Expression(.arithmetic(.add, CQL2Expression(.arithmetic(.multiply, minusFoo, int(2))), int(3)))))
        #expect(e == expected)
        #expect(try CQL2Text.parse("x = -5") == CQL2Expression(.comparison(.equal, prop("x"), int(-5))))
    }

    @Test func andBindsTighterThanOrAndNotWrapsPredicates() throws {
        let e = try CQL2Text.parse("a = 1 OR b = 2 AND NOT c IS NULL")
        let a = CQL2Expression(.comparison(.equal, prop("a"), int(1)))
        let b = CQL2Expression(.comparison(.equal, prop("b"), int(2)))
        let notNull = CQL2Expression(.not(CQL2Expression(.isNull(prop("c")))))
        #expect(e == CQL2Expression(.or([a, CQL2Expression(.and([b, notNull]))])))
        #expect(try CQL2Text.parse("x NOT IN ('a')") == CQL2Expression(.not(CQL2Expression(.in(prop("x"), [CQL2Expression(.string("a"))])))))
    }

    @Test func keywordsAreCaseInsensitiveAndNamesKeepTheirCase() throws {
        let e = try CQL2Text.parse("s_intersects(Geom, bbox(1,2,3,4)) and MyFn(\"x y\") = true")
        #expect(e == CQL2Expression(.and([
            CQL2Expression(.predicate(.sIntersects, prop("Geom"), CQL2Expression(.bbox([1, 2, 3, 4])))),
            CQL2Expression(.comparison(.equal, CQL2Expression(.function("MyFn", [prop("x y")])), CQL2Expression(.boolean(true)))),
        ])))
    }

    @Test func stringsUnescapeQuotes() throws {
        #expect(try CQL2Text.parse("n = 'it''s'") == CQL2Text.parse("n = 'it\\'s'"))
        let e = try CQL2Text.parse("n = 'it''s'")
        #expect(CQL2Text.print(e) == "\"n\" = 'it''s'")
    }

    @Test func timestampsAreNormalisedAndChecked() throws {
        #expect(try CQL2Text.parse("TIMESTAMP('2012-08-10T05:30:00.000000Z')") == CQL2Expression(.timestamp("2012-08-10T05:30:00Z")))
        #expect(try CQL2Text.parse("TIMESTAMP('2012-08-10T05:30:00.250Z')") == CQL2Expression(.timestamp("2012-08-10T05:30:00.25Z")))
        for bad in ["DATE('2021-02-29')", "DATE('2020-1-01')", "TIMESTAMP('2020-01-01')", "TIMESTAMP('2020-01-01T25:00:00Z')",
                    "INTERVAL('2020-01-01', 'soon')"] {
            #expect(throws: CQL2Error.self, "\(bad)") { try CQL2Text.parse(bad) }
        }
    }

    @Test func numbersCompareByValue() throws {
        #expect(try CQL2Text.parse("x = 1.0") == CQL2JSON.parse(#"{"op":"=","args":[{"property":"x"},1]}"#))
        #expect(try CQL2Text.parse("x = 9007199254740993") != CQL2Text.parse("x = 9007199254740992"))
    }

    @Test func textErrorsSayWhereAndWhat() throws {
        let e = try #require(throws: CQL2Error.self) { try CQL2Text.parse("floors > ") }
        #expect(e.position == .text(line: 1, column: 10, offset: 9))
        #expect(e.message == "expected a value, property, function or '(', found the end of the filter")

        let e2 = try #require(throws: CQL2Error.self) { try CQL2Text.parse("a = 1\n  AND b BETWEEN 1 OR 2") }
        #expect(e2.position == .text(line: 2, column: 19, offset: 24))
        #expect(e2.message.hasPrefix("expected AND"))

        let e3 = try #require(throws: CQL2Error.self) { try CQL2Text.parse("a = 1 b") }
        #expect(e3.description == "CQL2: expected an operator or the end of the filter, found 'b' at line 1, column 7")
    }

    @Test func jsonErrorsNameThePath() throws {
        let e = try #require(throws: CQL2Error.self) {
            try CQL2JSON.parse(#"{"op":"and","args":[{"op":"=","args":[1]},true]}"#)
        }
        #expect(e.position == .json(path: "/args/0"))
        #expect(e.message == "'=' takes 2 arguments, not 1")
        let e2 = try #require(throws: CQL2Error.self) { try CQL2JSON.parse(#"{"op":"in","args":[{"property":"x"},5]}"#) }
        #expect(e2.position == .json(path: "/args/1"))
        let e3 = try #require(throws: CQL2Error.self) { try CQL2JSON.parse(#"{"op":"date","args":["2020-01-01"]}"#) }
        #expect(e3.message.contains("not a known operator"))
    }

    @Test func deepNestingIsRefusedNotRecursed() throws {
        for n in [65, 100_000] {
            let parens = String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n)
            let e = try #require(throws: CQL2Error.self) { try CQL2Text.parse(parens) }
            #expect(e.message.contains("deeper than 64"))
            for prefix in ["NOT ", "- ", "f("] {
                #expect(throws: CQL2Error.self) { try CQL2Text.parse(String(repeating: prefix, count: n) + "x") }
            }
        }
        // A left-associative chain is flat to parse but tall as a tree.
        let chain = String(repeating: "1 + ", count: 5_000) + "1"
        let e = try #require(throws: CQL2Error.self) { try CQL2Text.parse(chain) }
        #expect(e.message.contains("deeper than 64"))
        // 60 levels is fine.
        let ok = String(repeating: "(", count: 60) + "x = 1" + String(repeating: ")", count: 60)
        #expect(try CQL2Text.parse(ok) == CQL2Text.parse("x = 1"))

        let json = String(repeating: #"{"op":"not","args":["#, count: 200) + "true" + String(repeating: "]}", count: 200)
        let je = try #require(throws: CQL2Error.self) { try CQL2JSON.parse(json) }
        #expect(je.message.contains("deeper than 64"))
        #expect(throws: CQL2Error.self) { try CQL2JSON.parse(String(repeating: "[", count: 100_000)) }
    }

    @Test func overlongInputIsRefused() {
        let long = "x = '" + String(repeating: "a", count: CQL2.maxInputLength) + "'"
        #expect(throws: CQL2Error.self) { try CQL2Text.parse(long) }
        #expect(throws: CQL2Error.self) { try CQL2JSON.parse("\"" + String(repeating: "a", count: CQL2.maxInputLength) + "\"") }
    }

    @Test(arguments: [
        "", "(", ")", "'open", "\"open", "a = = b", "a <", "BBOX(1,2,3)", "S_INTERSECTS(g, POINT(1))", "S_INTERSECTS(g, POINT(1 2)",
        "POINT Z , 1)", "x IN ()", "x IN (1", "@", "x = 1e999", "x = 1e", "x LIKE", "x IS NOT", "NOT", "INTERVAL('..')", "AND",
        "f(1,)", "S_WITHIN(a)", "x = 'a' 'b'", "DATE(1)", "\"\" = 1", "a = 1 ;",
    ])
    func garbageIsAnErrorNotACrash(text: String) {
        #expect(throws: CQL2Error.self) { try CQL2Text.parse(text) }
    }

    @Test(arguments: [
        "", "null", "{}", "[", #"{"op":1}"#, #"{"op":"and","args":[true]}"#, #"{"property":""}"#, #"{"property":"a\"b"}"#,
        #"{"bbox":[1,2,3]}"#, #"{"type":"Point","coordinates":[1]}"#, #"{"interval":["..",".."],"x":1}"#, #"{"op":"f","args":3}"#,
        #"{"op":"f(x)","args":[]}"#, #"{"date":"2020-02-30"}"#, #"{"timestamp":"2020-02-03T00:00:00"}"#,
    ])
    func badJSONIsAnError(json: String) {
        #expect(throws: CQL2Error.self) { try CQL2JSON.parse(json) }
    }

    @Test func positionsAreKeptOnNodes() throws {
        let e = try CQL2Text.parse("a = 1 AND\n  S_INTERSECTS(geom, POINT(1 2))")
        guard case .and(let parts) = e.kind else { Issue.record("not an AND: \(e)"); return }
        #expect(parts[1].position == .text(line: 2, column: 3, offset: 12))
        guard case .predicate(_, _, let point) = parts[1].kind else { Issue.record("not a predicate"); return }
        #expect(point.kind == .geometry(.point(Coordinate(1, 2))))
        #expect(point.position == .text(line: 2, column: 22, offset: 31))
    }
}
