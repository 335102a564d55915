import Foundation
import Geometry
import HTTPTypes
import Hummingbird

extension Request {
    /// The first value of a query parameter.
    func query(_ name: String) -> String? {
        uri.queryParameters[Substring(name)].map(String.init)
    }

    /// The first value of a text parameter (a CQL2 filter, a search), with `+` read as a space
    /// where the client wrote its spaces so (HTML forms, Python's `urlencode`: OWSLib): where a
    /// space is written `%20` (QGIS, GDAL, browsers' `encodeURIComponent`), `+` is a plus.
    func text(_ name: String) -> String? {
        guard let decoded = query(name) else { return nil }
        for pair in (uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.first == Substring(name), parts.count == 2 else { continue }
            let raw = parts[1]
            guard raw.contains("+"), !raw.contains("%20") else { return decoded }
            return raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? decoded
        }
        return decoded
    }

    /// Every value of a parameter that may repeat (`label=number=13&label=land_use=14`).
    func queries(_ name: String) -> [String] {
        uri.queryParameters.getAll(name)
    }

    /// `http(s)://host[:port]` as the client addressed us (honouring X-Forwarded-* from a proxy).
    var baseURL: String {
        let proto = headers[.forwardedProto]?.split(separator: ",").first.map(String.init) ?? "http"
        let host = headers[.forwardedHost] ?? head.authority ?? "localhost"
        return "\(proto)://\(host)"
    }

    /// Whether the client wants HTML: `f=html`, or a browser's Accept without `f=json`.
    var wantsHTML: Bool {
        switch query("f")?.lowercased() {
        case "html": return true
        case "json", "geojson": return false
        default:
            let accept = headers[.accept] ?? ""
            return accept.contains("text/html") && !accept.hasPrefix("application/")
        }
    }

    func double(_ name: String) throws -> Double? {
        guard let s = query(name) else { return nil }
        guard let v = Double(s), v.isFinite else { throw Problem.badRequest("'\(name)' must be a number, not '\(s)'") }
        return v
    }

    /// A flag: absent, `false` or `0` is false; `true`, `1` or empty (`?fix`) is true.
    func bool(_ name: String) throws -> Bool {
        guard let s = query(name) else { return false }
        switch s.lowercased() {
        case "", "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw Problem.badRequest("'\(name)' must be true or false, not '\(s)'")
        }
    }

    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let s = query(name) else { return value }
        guard let v = Int(s), range.contains(v) else {
            throw Problem.badRequest("'\(name)' must be a whole number in \(range.lowerBound)…\(range.upperBound), not '\(s)'")
        }
        return v
    }

    /// `datetime`: an instant (the data as it was then), or an interval whose end is used.
    func asOf() throws -> Date? {
        guard let s = query("datetime") else { return nil }
        let end = s.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? s
        if end == ".." || end.isEmpty { return nil }
        let f = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            f.formatOptions = options
            if let d = f.date(from: end) { return d }
        }
        throw Problem.badRequest("'datetime' must be an RFC 3339 date-time or interval, not '\(s)'")
    }
}

/// A link object of OGC API responses.
func link(_ href: String, _ rel: String, _ type: String, _ title: String? = nil) -> JSONValue {
    var o: [String: JSONValue] = ["href": .string(href), "rel": .string(rel), "type": .string(type)]
    if let title { o["title"] = .string(title) }
    return .object(o)
}

/// Percent-encodes a query value.
func encodeQuery(_ s: String) -> String {
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&=+,;/?#")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}

/// Text made safe for HTML, in element content and in quoted attributes alike.
func htmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

/// A simple HTML page: the JSON for people, with its links clickable.
func htmlPage(title: String, json: JSONValue) -> String {
    let esc = htmlEscape
    let links = (json["links"]?.arrayValue ?? []).compactMap { l -> String? in
        guard let href = l["href"]?.stringValue else { return nil }
        return "<li><a href=\"\(esc(href))\">\(esc(l["title"]?.stringValue ?? l["rel"]?.stringValue ?? href))</a></li>"
    }.joined()
    return """
        <!doctype html><html lang="vi"><head><meta charset="utf-8"><title>\(esc(title))</title></head>
        <body><h1>\(esc(title))</h1><ul>\(links)</ul><pre>\(esc(json.jsonText))</pre></body></html>
        """
}
