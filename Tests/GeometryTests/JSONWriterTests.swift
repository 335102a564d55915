import Testing
@testable import Geometry

/// Strings are written whole when nothing in them needs escaping, scalar by scalar otherwise;
/// both ways must give JSON that reads back to the same string.
@Suite struct JSONWriterTests {
    @Test(arguments: ["Phường Bến Thành", "", "plain ascii", "quote \" in", "back\\slash", "tab\tnew\nline\r", "bell \u{07} nul \u{00}", "🏠 thửa đất"])
    func stringsRoundTrip(_ s: String) throws {
        let text = JSONValue.object(["name": .string(s)]).jsonText
        #expect(try JSONValue.parse(text)["name"]?.stringValue == s)
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func escapesAreTheShortForms() {
        var out = ""
        JSONValue.writeString("a\"b\\c\nd\u{01}", into: &out)
        #expect(out == #""a\"b\\c\nd\u0001""#)
        out = ""
        JSONValue.writeString("Quận 7", into: &out)
        #expect(out == "\"Quận 7\"")
    }
}
