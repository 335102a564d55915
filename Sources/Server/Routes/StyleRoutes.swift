import Access
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

    func add(to router: Router<LandMapContext>) {
        router.get("/styles/:name") { request, context in try self.style(request, context.parameters.require("name"), context.identity) }
        router.get("/assets/**") { request, context in try self.asset(context.parameters.getCatchAll().joined(separator: "/")) }
    }

    /// The viewer page, or nil when Styles/ is not installed beside the binary.
    func viewer() -> Response? {
        guard let folder, let html = try? String(contentsOf: folder.appendingPathComponent("viewer/index.html"), encoding: .utf8) else { return nil }
        return Reply.text(html, contentType: "text/html; charset=utf-8", cache: "no-cache")
    }

    func style(_ request: Request, _ file: String, _ identity: Identity?) throws -> Response {
        guard file.hasSuffix(".json"), let folder, Self.isPlainName(String(file.dropLast(5))),
              let text = try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8) else {
            throw Problem.notFound("no style '\(file)'")
        }
        let rewritten = text.replacingOccurrences(of: "{base}", with: request.baseURL)
        var style = try JSONValue.parse(rewritten)
        let readable = Set(try state.readableLayers(for: identity).keys)
        style = Self.onlyReadable(style, readable)
        if let basemap = state.configuration.basemap { style = try Self.withBasemap(style, basemap) }
        // Which layers it draws depends on the caller: no shared cache may hand it on.
        return Reply.json(style, cache: "private, max-age=300")
    }

    /// The style without the layers that draw a layer the caller may not read (and their
    /// label layers), its sources' TileJSON asking only for the readable ones: the style
    /// neither names nor draws what the caller may not see.
    static func onlyReadable(_ style: JSONValue, _ readable: Set<String>) -> JSONValue {
        guard var root = style.objectValue, let layers = root["layers"]?.arrayValue else { return style }
        func drawn(_ sourceLayer: String) -> String {
            sourceLayer.hasSuffix("-label") ? String(sourceLayer.dropLast(6)) : sourceLayer
        }
        root["layers"] = .array(layers.filter { l in
            guard let sourceLayer = l["source-layer"]?.stringValue else { return true }
            return readable.contains(drawn(sourceLayer))
        })
        if var sources = root["sources"]?.objectValue {
            for (name, source) in sources {
                guard var s = source.objectValue, let url = s["url"]?.stringValue, let range = url.range(of: "/tiles/"), url.hasSuffix(".json") else { continue }
                let names = url[range.upperBound...].dropLast(5).split(separator: ",").map(String.init).filter(readable.contains)
                if names.isEmpty { sources[name] = nil; continue }
                s["url"] = .string(String(url[..<range.upperBound]) + names.joined(separator: ",") + ".json")
                sources[name] = .object(s)
            }
            root["sources"] = .object(sources)
            // A layer whose source is gone would make the style invalid.
            root["layers"] = .array((root["layers"]?.arrayValue ?? []).filter { l in l["source"]?.stringValue.map { sources[$0] != nil } ?? true })
        }
        return .object(root)
    }

    /// The style with the configured raster basemap as a source and a layer just above the
    /// background, so every LandMap layer draws over it.
    static func withBasemap(_ style: JSONValue, _ basemap: ServerConfiguration.Basemap) throws -> JSONValue {
        guard var root = style.objectValue, var sources = root["sources"]?.objectValue, var layers = root["layers"]?.arrayValue else {
            throw Problem(.internalServerError, "the style has no sources or layers")
        }
        var source: [String: JSONValue] = ["type": .string("raster"), "tiles": .array([.string(basemap.url)]),
                                           "tileSize": .integer(256), "maxzoom": .integer(Int64(basemap.maxZoom))]
        if !basemap.attribution.isEmpty { source["attribution"] = .string(basemap.attribution) }
        sources["basemap"] = .object(source)
        let layer = JSONValue.object(["id": .string("basemap"), "type": .string("raster"), "source": .string("basemap"),
                                      "metadata": .object(["group": .string("basemap")])])
        let above = layers.firstIndex { $0["type"]?.stringValue == "background" }.map { $0 + 1 } ?? 0
        layers.insert(layer, at: above)
        root["sources"] = .object(sources)
        root["layers"] = .array(layers)
        return .object(root)
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
