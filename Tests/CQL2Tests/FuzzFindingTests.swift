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
