import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Import

/// The web map: MapLibre styles from `Styles/` with their URLs pointed at this server, the
/// viewer at `/` for browsers, and its static files (MapLibre GL JS included, installed at
/// set-up from the PyPI package `maplibre`: the viewer works offline, never from a CDN).
struct StyleRoutes {
    let state: ServerState
    let folder: URL?

    init(state: ServerState, folder: URL? = ProjectFolder.locate("Styles", containing: "landmap.json", environment: "LANDMAP_STYLES_DIR")) {
        self.state = state
        self.folder = folder
    }

    static let types = ["js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "html": "text/html; charset=utf-8",
                        "json": "application/json", "png": "image/png", "svg": "image/svg+xml", "pbf": "application/x-protobuf"]

    func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("/styles/:name") { request, context in try self.style(request, context.parameters.require("name")) }
        router.get("/assets/**") { request, context in try self.asset(context.parameters.getCatchAll().joined(separator: "/")) }
    }

    /// The viewer page, or nil when Styles/ is not installed beside the binary.
    func viewer() -> Response? {
        guard let folder, let html = try? String(contentsOf: folder.appendingPathComponent("viewer/index.html"), encoding: .utf8) else { return nil }
        return Reply.text(html, contentType: "text/html; charset=utf-8", cache: "no-cache")
    }

    func style(_ request: Request, _ file: String) throws -> Response {
        guard file.hasSuffix(".json"), let folder, Self.isPlainName(String(file.dropLast(5))),
              let text = try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8) else {
            throw Problem.notFound("no style '\(file)'")
        }
        return Reply.text(text.replacingOccurrences(of: "{base}", with: request.baseURL), contentType: "application/json", cache: "public, max-age=300")
    }

    func asset(_ path: String) throws -> Response {
        let parts = path.split(separator: "/").map(String.init)
        guard let folder, !parts.isEmpty, parts.allSatisfy(Self.isPlainName),
              let type = Self.types[(path as NSString).pathExtension.lowercased()] else { throw Problem.notFound("no asset '\(path)'") }
        let url = parts.reduce(folder.appendingPathComponent("viewer")) { $0.appendingPathComponent($1) }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw Problem.notFound(parts.first == "vendor" ? "'\(path)' is not installed: run Tools/setup.sh (MapLibre GL JS comes from the PyPI package maplibre)" : "no asset '\(path)'")
        }
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = parts.first == "vendor" ? "public, max-age=86400" : "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Letters, digits, '-', '_' and '.', not starting with '.': no way out of the folder.
    static func isPlainName(_ s: String) -> Bool {
        !s.isEmpty && !s.hasPrefix(".") && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}
