import Access
import Export
import Features
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import Store

/// `GET /downloads/{layer}.{geojson|gpkg|csv}` (SPEC §9): the whole layer as the caller may see
/// it, the same bytes as `landmap export --layer L --format F` (`--hide-private` for anyone the
/// layer is not granted to), made once per data version and audience into the `DownloadCache`
/// and streamed from there, with `ETag`, `Last-Modified`, `Range` (one range) and
/// `Content-Disposition`. A layer the caller may not read is the same 404 as no layer.
struct DownloadRoutes: Sendable {
    let state: ServerState
    static let formats: [LayerExport.Format] = [.geojson, .gpkg, .csv]

    func add(to router: Router<LandMapContext>) {
        router.get("/downloads/{file}") { request, context in
            try await download(request, file: context.parameters.get("file") ?? "", identity: context.identity)
        }
    }

    func download(_ request: Request, file: String, identity: Identity?) async throws -> Response {
        guard let dot = file.lastIndex(of: "."), let format = LayerExport.Format(rawValue: String(file[file.index(after: dot)...])),
              Self.formats.contains(format) else {
            throw Problem.notFound("no download named '\(file)': downloads are {layer}.geojson, {layer}.gpkg or {layer}.csv")
        }
        let layer = String(file[..<dot])
        let schema = try state.readable(layer, for: identity, what: "layer")
        let access = state.access(schema, for: identity)
        let hidden = state.hiddenFields(schema, for: identity)
        var attempts = 0
        while true {
            attempts += 1
            guard let version = try state.store.dataVersions()[layer] else { throw Problem.notFound("no layer named '\(layer)'") }
            let key = DownloadCache.Key(layer: layer, version: version, audience: access.audience, format: format.rawValue)
            let etag = Reply.etag(versions: [version], "download", access.audience, format.rawValue)
            var headers = HTTPFields()
            headers[.eTag] = etag
            headers[.cacheControl] = "public, max-age=300"
            if let wanted = request.headers[.ifNoneMatch], Self.matches(wanted, etag) {
                return Response(status: .notModified, headers: headers)
            }
            let store = state.store
            let path: String
            do {
                path = try await state.downloads.file(key) { partial in
                    let summary = try LayerExport.write(store: store, layer: layer, format: format, to: partial, hidden: hidden)
                    // A batch committed while it was written: the file may hold it, so it is not `version`.
                    guard try store.dataVersions()[layer] == version else { throw VersionMoved() }
                    if let changed = summary.lastChange {
                        try? FileManager.default.setAttributes([.modificationDate: changed], ofItemAtPath: partial)
                    }
                }
            } catch is VersionMoved where attempts < 3 {
                continue
            }
            // Opened before answering: a file removed from the cache meanwhile is still read whole.
            guard let opened = OpenFile(path: path) else {
                if attempts < 3 { continue }
                throw Problem(.serviceUnavailable, "the download of '\(layer)' could not be kept on disk; try again")
            }
            headers[.contentType] = format.mediaType
            headers[.contentDisposition] = "attachment; filename=\"\(file)\""
            headers[.lastModified] = Self.httpDate(opened.modified)
            headers[.acceptRanges] = "bytes"
            var range = 0..<opened.size
            var status = HTTPResponse.Status.ok
            if let wanted = request.headers[.range], request.headers[.ifRange].map({ $0 == etag }) ?? true {
                switch Self.byteRange(wanted, size: opened.size) {
                case .whole: break
                case .part(let r):
                    range = r
                    status = .partialContent
                    headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(opened.size)"
                case .unsatisfiable:
                    var problem = Problem(.rangeNotSatisfiable, "the range '\(wanted)' is outside the \(opened.size) bytes of \(file)")
                    problem.headers[.contentRange] = "bytes */\(opened.size)"
                    throw problem
                }
            }
            headers[.contentLength] = String(range.count)
            return Response(status: status, headers: headers, body: opened.body(range))
        }
    }

    struct VersionMoved: Error {}

    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") }
            .contains { $0 == etag || $0 == "*" }
    }

    enum ByteRange: Equatable {
        case whole
        case part(Range<Int>)
        case unsatisfiable
    }

    /// A `Range: bytes=…` header's first range (RFC 9110 §14.1.2): `a-b`, `a-`, `-n`. A header
    /// that is not a byte range is ignored (the whole file); one past the end is unsatisfiable.
    static func byteRange(_ header: String, size: Int) -> ByteRange {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.lowercased().hasPrefix("bytes="), let first = h.dropFirst(6).split(separator: ",").first else { return .whole }
        let spec = first.trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let a = spec[..<dash], b = spec[spec.index(after: dash)...]
        if a.isEmpty {
            guard let n = Int(b), n >= 0 else { return .whole }
            guard n > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - n)..<size)
        }
        guard let start = Int(a), start >= 0 else { return .whole }
        var end = size - 1
        if !b.isEmpty {
            guard let e = Int(b), e >= start else { return .whole }
            end = min(e, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .part(start..<(end + 1))
    }

    static func httpDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }
}

/// A file held open from the answer's making to the end of its body (closed when the response
/// is dropped, sent or not: a 304 or a HEAD never reads it).
final class OpenFile: Sendable {
    let fd: Int32
    let size: Int
    let modified: Date

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else { close(fd); return nil }
        self.fd = fd
        size = Int(st.st_size)
        modified = Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec))
    }

    deinit { close(fd) }

    /// The bytes of `range`, read 256 KiB at a time on NIO's blocking-IO thread pool as the
    /// client takes them: never the whole file in memory.
    func body(_ range: Range<Int>) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            var offset = range.lowerBound
            while offset < range.upperBound {
                let length = min(256 << 10, range.upperBound - offset)
                let at = offset
                let chunk: ByteBuffer = try await NIOThreadPool.singleton.runIfActive {
                    var buffer = ByteBufferAllocator().buffer(capacity: length)
                    let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { pointer in
                        max(0, pread(self.fd, pointer.baseAddress, length, off_t(at)))
                    }
                    guard n > 0 else { throw CocoaError(.fileReadUnknown) }
                    return buffer
                }
                offset += chunk.readableBytes
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
    }
}
