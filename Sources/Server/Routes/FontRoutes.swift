import Foundation
import HTTPTypes
import Hummingbird
import Tiles

/// `GET /fonts/{fontstack}/{start}-{end}.pbf`: the SDF glyph ranges the styles' text labels are
/// drawn with, made at set-up from fonts-noto-core by `Tools/make-glyphs.py` into `Styles/fonts/`.
///
/// A fontstack may be a comma list (MapLibre sends the style's whole `text-font` array); the
/// first stack installed here answers. A range the font has no glyph in is answered with a valid,
/// empty range rather than a 404, so the browser never logs an error for a rare character.
struct FontRoutes {
    let folder: URL?

    /// `folder` is `Styles/fonts` of the `Styles/` folder `StyleRoutes` found.
    init(folder: URL?) {
        self.folder = folder
    }

    func add(to router: Router<LandMapContext>) {
        router.get("/fonts/:fontstack/:range") { _, context in
            try self.glyphs(stack: context.parameters.require("fontstack"), range: context.parameters.require("range"))
        }
    }

    func glyphs(stack requested: String, range file: String) throws -> Response {
        guard let range = Self.parseRange(file) else {
            throw Problem.badRequest("'\(file)' is not a glyph range: expected {start}-{end}.pbf with start a multiple of 256 below 65536 and end = start + 255")
        }
        let names = (requested.removingPercentEncoding ?? requested).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let folder, FileManager.default.fileExists(atPath: folder.path) else {
            throw Problem.notFound("no glyphs are installed: run Tools/setup.sh (it makes Styles/fonts/ from fonts-noto-core)")
        }
        guard let stack = names.first(where: { Self.isStackName($0) && FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }) else {
            let installed = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            throw Problem.notFound("no fontstack '\(names.joined(separator: ","))'; installed: \(installed.joined(separator: ", "))")
        }
        let data = FileManager.default.contents(atPath: folder.appendingPathComponent(stack).appendingPathComponent("\(range.start)-\(range.end).pbf").path)
            ?? Self.emptyRange(stack: stack, start: range.start, end: range.end)
        var headers = HTTPFields()
        headers[.contentType] = "application/x-protobuf"
        headers[.cacheControl] = "public, max-age=86400"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `0-255.pbf` → (0, 255); nil for anything that is not one aligned 256-codepoint range.
    static func parseRange(_ file: String) -> (start: Int, end: Int)? {
        guard file.hasSuffix(".pbf") else { return nil }
        let parts = file.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 5 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let start = Int(parts[0]), let end = Int(parts[1]),
              start % 256 == 0, end == start + 255, start < 65536 else { return nil }
        return (start, end)
    }

    /// Letters, digits, spaces, '-' and '_': a folder name under Styles/fonts and nothing else.
    static func isStackName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 100 && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || " -_".unicodeScalars.contains($0) }
    }

    /// A `glyphs` message with one fontstack that names the range and holds no glyph.
    static func emptyRange(stack: String, start: Int, end: Int) -> Data {
        var inner = [UInt8]()
        Protobuf.bytesField(1, Array(stack.utf8), into: &inner)
        Protobuf.bytesField(2, Array("\(start)-\(end)".utf8), into: &inner)
        var message = [UInt8]()
        Protobuf.bytesField(1, inner, into: &message)
        return Data(message)
    }
}
