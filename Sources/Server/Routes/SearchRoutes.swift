import Access
import Features
import Foundation
import Geometry
import Hummingbird
import Query
import Store

/// SPEC §10 over HTTP: `GET /search` (addresses, cadastral keys, unit names old and new,
/// zoning codes, typed without tone marks) and `GET /admin/crosswalk` (a unit's successors or
/// predecessors across the 1 July 2025 reform).
struct SearchRoutes {
    let state: ServerState

    func add(to router: Router<LandMapContext>) {
        router.get("/search") { request, context in try self.search(request, context.identity) }
        router.get("/admin/crosswalk") { request, context in try self.crosswalk(request, context.identity) }
    }

    /// Only the layers the caller may read are asked: a layer it may not read never appears,
    /// and naming one in `layers` is the same 404 as naming none that exists. The index holds
    /// no private field (see `SearchDocument`), so labels are the same for every caller.
    func search(_ request: Request, _ identity: Identity?) throws -> Response {
        guard let q = request.text("q"), !q.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Problem.badRequest("give q, the text to search for (an address, a parcel key such as 27484-56-1 or 'tờ 56 thửa 1', a ward's name, a zone code)")
        }
        guard q.count <= 200 else { throw Problem.badRequest("'q' is \(q.count) characters long; at most 200") }
        let limit = try request.int("limit", default: 10, range: 1...Searcher.maxLimit)
        var layers: [String: LayerSchema]
        if let wanted = request.query("layers") {
            layers = [:]
            for name in wanted.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                layers[name] = try state.readable(name, for: identity, what: "layer")
            }
            guard !layers.isEmpty else { throw Problem.badRequest("'layers' names no layer") }
        } else {
            layers = try state.readableLayers(for: identity)
        }
        let names = layers.keys.sorted()
        let hits = try Searcher(store: state.store).search(q, layers: names, limit: limit)
        state.served.add(hits.count, to: identity)
        let versions = try state.store.dataVersions()
        let etag = Reply.etag(versions: names.map { versions[$0] ?? 0 }, names.joined(separator: ","), request.uri.query ?? "")
        return Reply.json(.object([
            "query": .string(q),
            "words": .array(SearchQuery(q).words.map { .string($0) }),
            "hits": .array(hits.map { $0.json() }),
            "numberReturned": .integer(Int64(hits.count)),
        ]), cache: "public, max-age=60", etag: etag)
    }

    func crosswalk(_ request: Request, _ identity: Identity?) throws -> Response {
        _ = try state.readable("admin", for: identity, what: "layer")
        guard let code = request.query("code"), !code.isEmpty, code.count <= 12, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw Problem.badRequest("give code, an administrative unit's code (mã ĐVHC, digits: 26740), and maybe on=DATE")
        }
        let day: String
        if let on = request.query("on") {
            guard let parsed = Reform.day(parsing: on) else { throw Problem.badRequest("'on' must be a date (2025-06-30), not '\(on)'") }
            day = parsed
        } else {
            day = Reform.day(of: Date())
        }
        guard let walk = try Crosswalk.make(code: code, on: day, store: state.store) else {
            throw Problem.notFound("no administrative unit with code \(code) was valid on \(day) (codes were reused on 2025-07-01: try on=2025-06-30 for the old unit)")
        }
        state.served.add(walk.links.count + 1, to: identity)
        let versions = try state.store.dataVersions()
        return Reply.json(walk.json(), cache: "public, max-age=300",
                          etag: Reply.etag(versions: [versions["admin"] ?? 0], code, day))
    }
}
