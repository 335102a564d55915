import Access
import Features
import Formats
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Import
import Review
import Projection
import Store

/// `POST /imports?layer=&crs=&mode=`: an editor uploads a file (a contributor's upload becomes
/// a proposal: checked the same way, answered `202` with `/changes/{id}`) (the raw body, or one file of a
/// `multipart/form-data` form), as CLI `landmap import` would read it: Shapefile in a `.zip`,
/// GeoPackage, GeoJSON, CSV, MapInfo, DXF, DGN. The same pipeline and QA report, one
/// transaction (all or nothing), the body limit of the configuration, zip-slip and zip bombs
/// refused (`OGRReader.ZipLimits`), and the temporary folder removed whatever happens.
struct ImportRoutes {
    let state: ServerState

    func add(to router: Router<LandMapContext>) {
        router.post("/imports") { request, context in
            try await self.upload(request, context)
        }
    }

    /// Who may import into the layer, and how: an editor writes, a contributor proposes. A new
    /// layer may only be made by an editor (or higher) whose token is not limited to layers.
    func authorize(_ context: LandMapContext, layer: String) throws -> (Identity, WriteGate.Path) {
        let gate = WriteGate(state: state)
        if try state.store.schema(of: layer) != nil {
            let (who, _, path) = try gate.authorize(context, layer: layer, action: "importing")
            return (who, path)
        }
        guard let who = context.identity else {
            state.refused(.unauthenticated)
            throw Problem.unauthorized("importing needs a token with the editor role: send 'Authorization: Bearer <token>' (landmap token create)")
        }
        // A caller who could not make the layer gets the 404 an unreadable layer gets, so that
        // an import does not tell which names exist.
        guard who.role >= .editor, who.scope.layers == nil || who.scope.layers?.contains(layer) == true else {
            throw Problem.notFound("no collection named '\(layer)' (a new layer is made by an editor whose token is not limited to other layers)")
        }
        return (who, .direct)
    }

    func upload(_ request: Request, _ context: LandMapContext) async throws -> Response {
        guard let layer = request.query("layer") else { throw Problem.badRequest("give the layer to import into: ?layer=parcels|zoning|admin|<name>") }
        guard LayerSchema.isValidName(layer) else { throw Problem.badRequest("'\(layer)' cannot be a layer name: lower-case letters, digits and _") }
        let (editor, way) = try authorize(context, layer: layer)
        var options = ImportOptions(layer: layer)
        options.maxVertices = state.configuration.maxVertices
        if let crs = request.query("crs") { options.crs = try CRS.resolve(crs) }
        if let mode = request.query("mode") {
            guard let m = WriteMode(rawValue: mode) else { throw Problem.badRequest("mode must be append, upsert or replace, not '\(mode)'") }
            options.mode = m
        }
        if let encoding = request.query("encoding") {
            guard let e = TextEncoding(rawValue: encoding.lowercased()) else {
                throw Problem.badRequest("encoding must be auto, utf8, tcvn3, vni or cp1258, not '\(encoding)'")
            }
            options.encoding = e
        }
        do {
            // A CAD sheet's shapes and labels, as `landmap import --shapes --label --set` take them.
            let labels = try request.queries("label").map(SheetLayout.label)
            if let shapes = request.query("shapes"), !shapes.isEmpty {
                options.sheet = SheetLayout(shapes: shapes, labels: labels)
            } else if !labels.isEmpty {
                throw SheetLayoutError("label needs shapes: name the level (DGN) or layer (DXF) of the parcel shapes, e.g. shapes=10")
            }
            for set in request.queries("set") {
                let (field, value) = try SheetLayout.setting(set)
                options.constants[field] = value
            }
        } catch let e as SheetLayoutError {
            throw Problem.badRequest(e.description)
        }
        options.fix = try request.bool("fix")
        options.skipInvalid = try request.bool("skip_invalid")
        options.dryRun = try request.bool("dry_run")
        options.actor = editor.actor
        options.unit = editor.unit
        if options.mode == .replace, way == .propose || editor.scope.wards != nil {
            throw WriteGate(state: state).refusal(editor, .scope, layer, way == .propose
                ? "a proposal cannot replace a whole layer (mode=replace): propose with mode=append or upsert, or ask an editor of '\(layer)'"
                : "\(editor.described) is limited to wards, so it cannot replace the whole layer (mode=replace deletes features outside them): use mode=upsert")
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(Self.prefix)\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = dir.appendingPathComponent("body")
        let size = try await receive(request.body, into: raw, limit: state.configuration.maxBodyBytes)
        guard size > 0 else { throw Problem.badRequest("the body is empty: send the file as the body, or as a multipart/form-data field") }

        var name = request.query("filename")
        var file = raw
        if let type = request.headers[.contentType], type.lowercased().hasPrefix("multipart/form-data") {
            let part = try Multipart.firstFile(in: raw, contentType: type, to: dir.appendingPathComponent("part"))
            file = part.url
            name = name ?? part.filename
        }
        let upload = Self.fileName(name, sniffing: file, contentType: request.headers[.contentType])
        let path = dir.appendingPathComponent(upload)
        try FileManager.default.moveItem(at: file, to: path)

        let store = state.store, chosen = options, gate = WriteGate(state: state), who = editor
        let report: (QAReport, ChangeRecord?)
        do {
            report = try await Blocking.run {
                let wards = WardScope(who, layer: layer, store: store)
                // A ward-limited token's upload: every feature inside its wards, and no feature
                // it would overwrite outside them; the first one outside refuses the whole file.
                let admit: ((Feature) throws -> Void)? = wards.map { wards in
                    { feature in
                        try wards.check(feature)
                        if chosen.mode == .upsert, let present = try store.feature(layer: layer, id: feature.id, asOf: nil) { try wards.check(present) }
                    }
                }
                do {
                    if way == .propose && !chosen.dryRun {
                        let (change, report) = try Review(store: store).proposeImport([path.path], chosen, source: upload, proposer: who.actor,
                                                                                       unit: who.unit, admit: admit)
                        return (report, change)
                    }
                    return (try Importer(store: store).run([path.path], chosen, admit: admit), nil)
                } catch let error as OutOfScope {
                    throw gate.problem(error, who)
                }
            }
        } catch let refused as ImportRefused {
            state.refused(.invalid)
            state.audit.record(editor.actor, "import.refused", layer, "\(upload): \(refused.report.errors.count) errors", unit: editor.unit)
            throw ImportRefused(report: Self.withoutFolder(refused.report, dir))
        } catch let refused as FormatError {
            // A file refused before it was read: counted and audited, an unsafe one apart.
            state.refused(refused.isUnsafe ? .unsafe : .invalid)
            state.audit.record(editor.actor, refused.isUnsafe ? "import.unsafe" : "import.refused", layer, refused.description, unit: editor.unit)
            throw refused
        }
        let body = Self.withoutFolder(report.0, dir).json
        if let change = report.1 { return ChangeRoutes.accepted(request, change, report: body) }
        return Reply.json(body, cache: "no-store").with(status: report.0.written == nil ? .ok : .created)
    }

    static let prefix = "landmap-upload-"

    /// Upload folders of server processes that died without cleaning up (`kill -9`): removed
    /// when the next server starts (`LandMapServer.run`). A folder of a process still running is left alone.
    static func removeAbandonedUploads() {
        let tmp = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix(while: \.isNumber)), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
        }
    }

    /// Streams the body to a file, refusing it (413) once it passes `limit`.
    func receive(_ body: RequestBody, into url: URL, limit: Int) async throws -> Int {
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = try? FileHandle(forWritingTo: url) else {
            if errno == ENOSPC || errno == EDQUOT {
                throw Problem.insufficientStorage("the server's temporary folder is full (no space left on device): nothing was imported")
            }
            throw Problem(.internalServerError, "could not create a temporary file for the upload")
        }
        defer { try? handle.close() }
        return try await Self.write(body, to: handle, limit: limit)
    }

    /// Writes the body to `handle`: 413 past `limit`, 507 when the disk fills up (the caller
    /// removes the partial file with its folder).
    static func write(_ body: RequestBody, to handle: FileHandle, limit: Int) async throws -> Int {
        var total = 0
        for try await chunk in body {
            total += chunk.readableBytes
            guard total <= limit else {
                throw Problem(.contentTooLarge, "the upload is larger than the limit of \(limit >> 20) MiB")
            }
            do {
                try handle.write(contentsOf: chunk.readableBytesView)
            } catch let error where DiskFull.cause(of: error) != nil {
                throw Problem.insufficientStorage("the server's temporary folder is full (\(DiskFull.cause(of: error) ?? "")) after \(total - chunk.readableBytes) bytes of the upload: nothing was imported")
            }
        }
        return total
    }

    /// A safe file name with the extension GDAL needs: the client's name reduced to its last
    /// component and plain characters, else one guessed from the content type or the first bytes.
    static func fileName(_ given: String?, sniffing file: URL, contentType: String?) -> String {
        if let given {
            let last = given.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
            let plain = String(last.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) ? Character($0) : "_" })
            let trimmed = String(plain.drop(while: { $0 == "." }).prefix(100))
            if !trimmed.isEmpty, !(trimmed as NSString).pathExtension.isEmpty { return trimmed }
        }
        let head = (try? FileHandle(forReadingFrom: file).read(upToCount: 16)) ?? Data()
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "upload.zip" }
        if head.starts(with: Array("SQLite format 3".utf8)) { return "upload.gpkg" }
        let type = contentType?.lowercased() ?? ""
        if type.contains("zip") { return "upload.zip" }
        if type.contains("csv") { return "upload.csv" }
        if type.contains("geopackage") { return "upload.gpkg" }
        return "upload.geojson"
    }

    /// The report with the temporary folder taken out of every path.
    static func withoutFolder(_ report: QAReport, _ dir: URL) -> QAReport {
        var r = report
        let prefix = dir.path + "/"
        for i in r.files.indices { r.files[i].path = r.files[i].path.replacingOccurrences(of: prefix, with: "") }
        for i in r.findings.indices { r.findings[i].file = r.findings[i].file.replacingOccurrences(of: prefix, with: "") }
        return r
    }
}

/// Just enough of `multipart/form-data` (RFC 7578) to take the first file out of a form that
/// has been written to disk: the file is memory-mapped, never read into memory whole.
enum Multipart {
    static func firstFile(in url: URL, contentType: String, to out: URL) throws -> (url: URL, filename: String?) {
        guard let boundary = contentType.split(separator: ";").compactMap({ part -> String? in
            let kv = part.trimmingCharacters(in: .whitespaces)
            guard kv.lowercased().hasPrefix("boundary=") else { return nil }
            return String(kv.dropFirst(9)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }).first, !boundary.isEmpty, boundary.count <= 200 else {
            throw Problem.badRequest("multipart/form-data without a boundary")
        }
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        let delimiter = Data("--\(boundary)".utf8)
        let crlf2 = Data("\r\n\r\n".utf8)
        var cursor = data.startIndex
        var firstPart: (Range<Data.Index>, String?)?
        while let start = data.range(of: delimiter, in: cursor..<data.endIndex) {
            let afterDelimiter = start.upperBound
            if data[afterDelimiter..<min(afterDelimiter + 2, data.endIndex)] == Data("--".utf8) { break }
            guard let headerEnd = data.range(of: crlf2, in: afterDelimiter..<data.endIndex) else { break }
            let headers = String(decoding: data[afterDelimiter..<headerEnd.lowerBound], as: UTF8.self)
            let contentStart = headerEnd.upperBound
            guard let next = data.range(of: Data("\r\n--\(boundary)".utf8), in: contentStart..<data.endIndex) else {
                throw Problem.badRequest("the multipart body ends before its closing boundary")
            }
            let filename = headers.components(separatedBy: "\r\n")
                .first { $0.lowercased().hasPrefix("content-disposition:") }
                .flatMap { line in line.components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                    .first { $0.lowercased().hasPrefix("filename=") }
                    .map { String($0.dropFirst(9)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } }
            if filename != nil || headers.lowercased().contains("name=\"file\"") {
                firstPart = (contentStart..<next.lowerBound, filename)
                break
            }
            cursor = next.lowerBound + 2
        }
        guard let (range, filename) = firstPart else {
            throw Problem.badRequest("the multipart form has no file: send the file in a field with a filename (e.g. curl -F file=@parcels.zip)")
        }
        try data[range].write(to: out)
        return (out, filename)
    }
}
