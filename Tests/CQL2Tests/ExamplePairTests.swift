import Foundation
import Testing
import CQL2
import Geometry
import TestSupport

/// The OGC CQL2 examples (`../shared/data/cql2-conformance/schema/examples`, © OGC, OGC
/// licence): every text example and its JSON twin (`exampleNN-alt01.txt` shares
/// `exampleNN.json`) must parse to one tree, and each printer must read back to that tree.
@Suite struct ExamplePairTests {
    static let folder = SharedData.url("cql2-conformance/schema/examples")

    /// The text examples' names (without `.txt`), sorted.
    static let names: [String] = {
        guard let folder, let files = try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("text").path) else { return [] }
        return files.filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted()
    }()

    static func read(_ name: String) throws -> (text: String, json: Data) {
        let folder = try #require(Self.folder)
        let text = try String(contentsOf: folder.appendingPathComponent("text/\(name).txt"), encoding: .utf8)
        let jsonName = name.hasSuffix("-alt01") ? String(name.dropLast(6)) : name
        let json = try Data(contentsOf: folder.appendingPathComponent("json/\(jsonName).json"))
        return (text, json)
    }

    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)))
    func allExamplesArePresent() {
        // 120 text examples, 11 of them alternative spellings sharing a JSON document (109).
        #expect(Self.names.count == 120)
    }

    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)), arguments: names)
    func textAndJSONAreOneTree(name: String) throws {
        let (text, json) = try Self.read(name)
        let fromText = try CQL2Text.parse(text)
        let fromJSON = try CQL2JSON.parse(json)
        #expect(fromText == fromJSON, "text: \(fromText)\njson: \(fromJSON)")
    }

    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)), arguments: names)
    func printersRoundTrip(name: String) throws {
        let (text, json) = try Self.read(name)
        let fromText = try CQL2Text.parse(text)
        // text → JSON (as bytes) → tree → text → tree
        let viaJSON = try CQL2JSON.parse(CQL2JSON.text(fromText))
        #expect(viaJSON == fromText)
        #expect(try CQL2Text.parse(CQL2Text.print(viaJSON)) == fromText)
        // JSON → text → tree → JSON → tree
        let fromJSON = try CQL2JSON.parse(json)
        let viaText = try CQL2Text.parse(CQL2Text.print(fromJSON))
        #expect(viaText == fromJSON, "printed: \(CQL2Text.print(fromJSON))")
        #expect(try CQL2JSON.parse(CQL2JSON.text(viaText)) == fromJSON)
    }
}
