import Foundation
import Geometry
import Logging
@testable import Server
import Testing

/// `serve --log-format json`: each line is one JSON object a log collector indexes as it is.
@Suite struct JSONLogHandlerTests {
    @Test func aLineIsOneJSONObjectWithTheMetadataBesideTheMessage() throws {
        let at = Date(timeIntervalSince1970: 1_796_083_199.125)
        let line = JSONLogHandler.line(at: at, level: .warning, label: "landmap", message: "request \"quoted\"\nsecond line",
                                       metadata: ["status": .stringConvertible(429), "path": "/parcels/at",
                                                  "message": "a field named like the message must not replace it",
                                                  "tags": .array(["a", "b"]), "client": .dictionary(["address": "203.0.113.7"])])
        #expect(!line.contains("\n"), "a log line must be one line")
        let o = try JSONValue.parse(Data(line.utf8))
        #expect(o["at"]?.stringValue == "2026-11-30T23:59:59.125Z")
        #expect(o["level"]?.stringValue == "warning")
        #expect(o["label"]?.stringValue == "landmap")
        #expect(o["message"]?.stringValue == "request \"quoted\"\nsecond line")
        #expect(o["status"]?.stringValue == "429")
        #expect(o["path"]?.stringValue == "/parcels/at")
        #expect(o["tags"]?.arrayValue?.compactMap(\.stringValue) == ["a", "b"])
        #expect(o["client"]?["address"]?.stringValue == "203.0.113.7")
    }
}
