import CompressNIO
import HTTPTypes
import Hummingbird

/// gzip-compresses text-like responses (JSON, GeoJSON, HTML, MVT, …) of 1 KiB or more when the
/// client accepts it. A response that offers byte ranges (`Accept-Ranges: bytes`: downloads, read
/// from a file and possibly GBs long) is sent as it is: ranges count its own bytes, and
/// compressing it would mean holding it whole in memory.
struct GzipMiddleware<Context: RequestContext>: RouterMiddleware {
    static var compressible: [String] { ["json", "html", "text/", "javascript", "css", "xml", "mapbox-vector-tile", "protobuf"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        guard Self.accepted(by: request), response.headers[.contentEncoding] == nil, response.status == .ok,
              response.headers[.acceptRanges] == nil,
              let type = response.headers[.contentType], Self.compressible.contains(where: { type.contains($0) }) else { return response }
        let collector = Collector()
        try await response.body.write(collector)
        let buffer = collector.box.buffer
        guard let compressed = try Self.gzip(buffer) else {
            response.body = ResponseBody(byteBuffer: buffer)
            return response
        }
        response.headers[.contentEncoding] = "gzip"
        if response.headers[.vary]?.contains("Accept-Encoding") != true {
            response.headers[.vary] = response.headers[.vary].map { $0 + ", Accept-Encoding" } ?? "Accept-Encoding"
        }
        response.headers[.contentLength] = String(compressed.readableBytes)
        response.body = ResponseBody(byteBuffer: compressed)
        return response
    }

    /// The gzip form of a body worth compressing (1 KiB or more), else nil; `buffer` is left as it was.
    static func gzip(_ buffer: ByteBuffer) throws -> ByteBuffer? {
        guard buffer.readableBytes >= 1024 else { return nil }
        var input = buffer
        return try input.compress(with: .gzip())
    }

    /// Whether the client takes gzip (every browser and MapLibre do).
    static func accepted(by request: Request) -> Bool {
        request.headers[.acceptEncoding]?.contains("gzip") == true
    }

    /// Gathers a response body into one buffer.
    struct Collector: ResponseBodyWriter {
        final class Box {
            var buffer = ByteBuffer()
        }
        let box = Box()

        mutating func write(_ buffer: ByteBuffer) async throws {
            var b = buffer
            box.buffer.writeBuffer(&b)
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
