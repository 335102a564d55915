import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Store

/// How responses are made: JSON or HTML bodies with their content type, cache policy and ETag.
/// (Compression, 304s, CORS and problem documents are middleware.)
enum Reply {
    static func json(_ value: JSONValue, contentType: String = "application/json", cache: String = "no-cache",
                     etag: String? = nil, headers extra: HTTPFields = [:]) -> Response {
        text(value.jsonText, contentType: contentType, cache: cache, etag: etag, headers: extra)
    }

    static func text(_ body: String, contentType: String, cache: String = "no-cache", etag: String? = nil,
                     status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = contentType
        headers[.cacheControl] = cache
        if let etag { headers[.eTag] = etag }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// A strong ETag from the data versions a response depends on, and anything else that
    /// changes it (query string, format).
    static func etag(versions: [Int64], _ parts: String...) -> String {
        var hasher = FNV1a()
        for v in versions { hasher.add(String(v)) }
        for p in parts { hasher.add(p) }
        return "\"lm-\(versions.map(String.init).joined(separator: "."))-\(String(hasher.value, radix: 36))\""
    }
}

extension Reply {
    /// An item's ETag: its revision (version and start) and what else shapes the body. `If-Match`
    /// on a write compares the revision part only: the same version in another format or CRS
    /// is still the version the client saw. Past versions (`datetime`) get a weak tag.
    static func itemETag(_ revision: FeatureRevision?, _ parts: String...) -> String {
        var hasher = FNV1a()
        for p in parts { hasher.add(p) }
        guard let revision else { return "W/\"lm-past-\(String(hasher.value, radix: 36))\"" }
        return "\"lm-item-\(revision.tag)-\(String(hasher.value, radix: 36))\""
    }

    /// True when an `If-Match` header names the present revision (or is `*` and one exists).
    static func ifMatch(_ header: String, _ revision: FeatureRevision?) -> Bool {
        guard let revision else { return false }
        return header.split(separator: ",").contains { tag in
            let t = tag.trimmingCharacters(in: .whitespaces)
            return t == "*" || t.hasPrefix("\"lm-item-\(revision.tag)-")
        }
    }
}
