import Access
import Features
import Foundation
import Geometry
import Hummingbird
import Store

/// SPEC §9's change feed: `GET /collections/{layer}/changes?since=V[&after=ID][&limit=N]`, every
/// change after data version V in order, so another unit keeps a copy without downloading the
/// layer again (`landmap sync`). Read like items: a layer the caller may not read is 404, private
/// fields hidden as items hide them.
struct ChangeFeedRoutes {
    let state: ServerState

    func add(to router: Router<LandMapContext>) {
        router.get("/collections/:layer/changes") { request, context in
            try self.changes(request, context.parameters.require("layer"), context.identity)
        }
    }

    func changes(_ request: Request, _ name: String, _ identity: Identity?) throws -> Response {
        let schema = try state.readable(name, for: identity)
        guard let sinceText = request.query("since") else {
            throw Problem.badRequest("'since' is required: the data version your copy is at (0 for everything)")
        }
        guard let since = Int64(sinceText), since >= 0 else {
            throw Problem.badRequest("'since' must be a data version (a whole number from 0), not '\(sinceText)'")
        }
        let limit = try request.int("limit", default: 1000, range: 1...10_000)
        let after = request.query("after").flatMap { $0.isEmpty ? nil : $0 }
        // `features=false`: ops, ids and versions only (a client planning what to apply).
        let bodies = request.query("features") != "false"
        let page = try state.store.changes(layer: name, since: since, after: after, limit: limit)
        if since > page.current {
            throw Problem.badRequest("'since' \(since) is past the present data version of '\(name)' (\(page.current)): the copy was not made from this server, or its data was restored; start again from a download")
        }
        if since < page.oldest {
            throw Problem(.gone, "the history of '\(name)' kept here starts after data version \(page.oldest); changes since \(since) cannot be listed: start again from a download (`landmap sync --full`)")
        }
        let hidden = state.hiddenFields(schema, for: identity)
        let changes = try page.changes.map { c -> JSONValue in
            var o: [String: JSONValue] = ["op": .string(c.op.rawValue), "id": .string(c.id), "version": .integer(Int64(c.version)),
                                          "data_version": .integer(c.dataVersion)]
            // The geometry exactly as stored (no rewinding): a copy made from the feed matches byte for byte.
            if bodies, let f = c.feature { o["feature"] = f.geoJSON(hiding: hidden) }
            return .object(o)
        }
        if bodies { state.served.add(page.changes.count { $0.feature != nil }, to: identity) }
        let path = "\(request.baseURL)/collections/\(name)/changes"
        var links = [link("\(path)?\(request.uri.query ?? "since=\(since)")", "self", "application/json", "This page")]
        if page.more {
            var next = "\(path)?since=\(page.to)&limit=\(limit)" + (bodies ? "" : "&features=false")
            if let resume = page.resumeAfter { next += "&after=\(encodeQuery(resume))" }
            links.append(link(next, "next", "application/json", "Next page"))
        }
        let body = JSONValue.object([
            "from": .integer(since), "to": .integer(page.to), "current": .integer(page.current),
            "changes": .array(changes), "links": .array(links),
        ])
        let etag = Reply.etag(versions: [page.current], "changes", request.uri.query ?? "", state.access(schema, for: identity).audience)
        return Reply.json(body, etag: etag)
    }
}
