import Features
import Foundation
import Geometry
import Store
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `landmap sync`'s use case (SPEC §9): pulls a layer's changes from another LandMap's change feed
/// (`GET /collections/{layer}/changes`) into this database as ONE batch per run.
///
/// Where it left off lives in the batch records themselves: each sync batch's source is
/// `sync <URL>/collections/<layer>@<version>`, written in the transaction that applies the
/// changes. So the remembered version moves exactly when the data does (a run killed midway
/// leaves both as they were), `landmap history` names it, and `landmap copy` carries it.
struct LayerSync {
    /// The other server's base URL, without a trailing slash.
    let base: String
    let layer: String
    let target: String
    let token: String?
    let force: Bool
    let pageSize: Int
    let actor: String
    let progress: (_ changes: Int, _ version: Int64) -> Void

    struct Result {
        var since: Int64
        var to: Int64
        var changes = 0
        var summary: BatchSummary?
    }

    /// Inserts and updates of one source batch held back until its deletes are done.
    static let heldPuts = 20_000

    var feedURL: String { "\(base)/collections/\(layer)" }
    var sourcePrefix: String { "sync \(feedURL)@" }

    /// The version the last sync of this URL and layer reached, and whether anything else wrote the target.
    func state(_ store: any LandMapStore) throws -> (since: Int64, foreign: [String]) {
        var since: Int64 = 0
        var foreign = [String]()
        for batch in try store.batchRecords(layer: target) {
            if batch.source.hasPrefix(sourcePrefix), let v = Int64(batch.source.dropFirst(sourcePrefix.count)) {
                since = v
            } else if batch.inserted + batch.updated + batch.deleted > 0 {
                foreign.append(batch.source)
            }
        }
        return (since, foreign)
    }

    func run(_ store: any LandMapStore) throws -> Result {
        let (since, foreign) = try state(store)
        if !foreign.isEmpty && !force {
            let named = Set(foreign).sorted().prefix(3).map { "'\($0)'" }.joined(separator: ", ")
            throw CLIError("layer '\(target)' of this database has batches from elsewhere (\(named)), not only from \(feedURL): syncing would mix them; choose another --to-layer, or pass --force")
        }
        // The first page before the write: an up-to-date copy writes nothing at all. The run
        // goes up to the source's data version at that moment (`current`), so the batch's source
        // can name it before the batch begins; later changes are the next run's.
        let first = try page(since: since, after: nil)
        let goal = first.current
        var result = Result(since: since, to: since)
        guard goal > since else { return result }
        if try store.schema(of: target) == nil { try store.createLayer(try targetSchema()) }
        // A batch names an id once: where the run spans several changes of one id, only its last
        // is applied (found first through the feed without features).
        var last = [String: Int64]()
        var plan: Page? = try page(since: since, after: nil, bodies: false)
        while let p = plan {
            let wanted = p.changes.prefix { $0.dataVersion <= goal }
            for c in wanted { last[c.id] = c.dataVersion }
            plan = p.more && wanted.count == p.changes.count && p.to < goal ? try page(since: p.to, after: p.resumeAfter, bodies: false) : nil
        }
        let request = BatchRequest(layer: target, mode: .upsert, source: sourcePrefix + String(goal), actor: actor)
        result.summary = try store.write(request) { w in
            // A source batch's deletes go first, its inserts and updates once the batch is
            // complete (it may span pages): a key that moved from one feature to another in one
            // batch is free before it is taken. Past `heldPuts` held, they are written early.
            var held = [Feature](), heldVersion: Int64 = -1
            func flush() throws {
                for f in held { try w.put(f) }
                held.removeAll(keepingCapacity: true)
            }
            var next: Page? = first
            while let p = next {
                let wanted = p.changes.prefix { $0.dataVersion <= goal }
                for c in wanted where last[c.id] == c.dataVersion {
                    if c.dataVersion != heldVersion || held.count >= Self.heldPuts { try flush() }
                    heldVersion = c.dataVersion
                    if c.op == .delete { try w.delete(id: c.id) } else if let f = c.feature { held.append(f) }
                }
                result.changes += wanted.count
                progress(result.changes, min(p.to, goal))
                next = p.more && wanted.count == p.changes.count && p.to < goal ? try page(since: p.to, after: p.resumeAfter) : nil
            }
            try flush()
        }
        result.to = goal
        return result
    }

    // MARK: HTTP

    struct Page {
        var changes: [FeatureChange]
        var to: Int64
        var current: Int64
        var more: Bool
        var resumeAfter: String?
    }

    func page(since: Int64, after: String?, bodies: Bool = true) throws -> Page {
        var url = "\(feedURL)/changes?since=\(since)&limit=\(bodies ? pageSize : 10_000)" + (bodies ? "" : "&features=false")
        if let after { url += "&after=\(after.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))) ?? after)" }
        let body = try get(url)
        let json: JSONValue
        do { json = try JSONValue.parse(body) } catch { throw CLIError("\(url) did not answer a change feed (\(error))") }
        guard let to = json["to"].flatMap(Self.int), let current = json["current"].flatMap(Self.int), let list = json["changes"]?.arrayValue else {
            throw CLIError("\(url) did not answer a change feed (no 'to', 'current' or 'changes')")
        }
        let changes = try list.map { c -> FeatureChange in
            guard let opText = c["op"]?.stringValue, let op = ChangeOp(rawValue: opText), let id = c["id"]?.stringValue,
                  let version = c["version"].flatMap(Self.int), let dv = c["data_version"].flatMap(Self.int) else {
                throw CLIError("\(url): a change it sent cannot be read: \(c.jsonText.prefix(200))")
            }
            var feature: Feature?
            if op != .delete && bodies {
                guard let f = c["feature"] else { throw CLIError("\(url): change \(op.rawValue) of '\(id)' has no feature") }
                let geometry = try f["geometry"].flatMap { $0 == .null ? nil : try GeoJSONGeometry.decode($0) }
                feature = Feature(id: id, geometry: geometry, properties: f["properties"]?.objectValue ?? [:])
            }
            return FeatureChange(op: op, id: id, version: Int(version), dataVersion: dv, feature: feature)
        }
        let more = json["links"]?.arrayValue?.contains { $0["rel"] == "next" } ?? false
        var resume: String?
        if more, let next = json["links"]?.arrayValue?.first(where: { $0["rel"] == "next" })?["href"]?.stringValue,
           let items = URLComponents(string: next)?.queryItems {
            resume = items.first { $0.name == "after" }?.value
        }
        return Page(changes: changes, to: to, current: current, more: more, resumeAfter: resume)
    }

    /// The schema a missing target layer is made with: a built-in one by its name (the source's
    /// or the target's), else a custom layer titled as the source's collection.
    func targetSchema() throws -> LayerSchema {
        if let builtIn = LayerSchema.builtIn(named: target) { return builtIn }
        if let b = LayerSchema.builtIn(named: layer) {
            return LayerSchema(name: target, title: b.title, geometryType: b.geometryType, fields: b.fields, keyFields: b.keyFields)
        }
        let collection = try JSONValue.parse(try get(feedURL))
        return .custom(target, title: collection["title"]?.stringValue)
    }

    /// A GET with the token, or an error naming the URL and what went wrong (never the token).
    func get(_ url: String) throws -> Data {
        guard let u = URL(string: url) else { throw CLIError("'\(url)' is not a URL") }
        var request = URLRequest(url: u, timeoutInterval: 120)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let (status, data) = try HTTPGet.fetch(request)
        switch status {
        case 200: return data
        case 401: throw CLIError("\(url) answered 401: the token was refused (pass --token or set LANDMAP_TOKEN to a valid token)")
        case 403: throw CLIError("\(url) answered 403: the token may not read layer '\(layer)'")
        case 404: throw CLIError("\(url) answered 404: no layer '\(layer)' there\(token == nil ? ", or it is not public (pass --token or set LANDMAP_TOKEN)" : " that this token may read")")
        case 410: throw CLIError("\(url) answered 410: it no longer holds the changes this copy needs (\(Self.detail(data))); start again from a download of the layer into a new layer (--to-layer) or database")
        default: throw CLIError("\(url) answered \(status): \(Self.detail(data))")
        }
    }

    static func int(_ v: JSONValue) -> Int64? {
        if case .integer(let i) = v { return i }
        return nil
    }

    static func detail(_ data: Data) -> String {
        (try? JSONValue.parse(data))?["detail"]?.stringValue ?? String(decoding: data.prefix(200), as: UTF8.self)
    }
}

/// One blocking GET through URLSession (FoundationNetworking on Linux).
enum HTTPGet {
    final class Box: Sendable {
        let value = Mutex<(Int, Data, (any Error)?)?>(nil)
    }

    static func fetch(_ request: URLRequest) throws -> (Int, Data) {
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            box.value.withLock { $0 = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data(), error) }
            done.signal()
        }
        task.resume()
        done.wait()
        let (status, data, error) = box.value.withLock { $0 } ?? (0, Data(), nil)
        if let error { throw CLIError("cannot reach \(request.url?.absoluteString ?? "?"): \(error.localizedDescription)") }
        return (status, data)
    }
}
