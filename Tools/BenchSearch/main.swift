// bench-search: `GET /search`'s work in process, one thread (release build; SPEC §6, §10).
//
//   bench-search --db hcmc-1m.gpkg [--queries 2000] [--seed 1] [--slowest N]
//
// Queries as people type them, made from parcels sampled at random (deterministic) through the
// R-tree: a street name without tone marks ("nguyen thi thap"), the same with the house number
// ("nguyen thi thap 206"), a key ("27484-56-1"), "tờ 56 thửa 1" with its ward, a prefix of a
// street (two words and the start of a third), and a ward's old name. Each search is the whole
// answer: index, ranking, and each hit's feature read and placed (point inside, bbox). Prints
// latency percentiles per kind of query and for all together.
import Backends
import Foundation
import Geometry
import Query
import SeededRandom
import Store

var dbPath = "landmap.gpkg", count = 2_000, seed: UInt64 = 1, slowest = 0
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--db": dbPath = args.popFirst() ?? dbPath
    case "--queries": count = max(1, Int(args.popFirst() ?? "") ?? count)
    case "--seed": seed = UInt64(args.popFirst() ?? "") ?? seed
    case "--slowest": slowest = max(0, Int(args.popFirst() ?? "") ?? 0)
    default:
        FileHandle.standardError.write(Data("bench-search: unknown argument \(a)\n".utf8))
        exit(2)
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

do {
    let store = try StoreLocation(dbPath).open()
    guard let extent = try store.layer("parcels")?.extent else {
        FileHandle.standardError.write(Data("bench-search: \(dbPath) has no parcels\n".utf8))
        exit(1)
    }
    var r = SplitMix64(seed: seed)
    var queries = [(kind: String, text: String)]()
    let kinds = 6
    var tries = 0
    while queries.count < count, tries < count * 20 {
        tries += 1
        let c = Coordinate(extent.minX + r.unit() * (extent.maxX - extent.minX), extent.minY + r.unit() * (extent.maxY - extent.minY))
        let near = BoundingBox(minX: c.x - 0.002, minY: c.y - 0.002, maxX: c.x + 0.002, maxY: c.y + 0.002)
        guard let f = try store.features(layer: "parcels", intersecting: near, asOf: nil, limit: 1, offset: 0).first else { continue }
        let p = f.properties
        let address = p["address"]?.stringValue ?? ""
        let street = address.split(separator: ",").first.map { String($0.drop { $0.isNumber || $0 == " " }) } ?? ""
        let number = address.split(separator: " ").first.map(String.init) ?? ""
        func text(_ v: JSONValue?) -> String {
            switch v {
            case .string(let s)?: s
            case .integer(let i)?: String(i)
            case .number(let d)? where d.isFinite && abs(d) < 1e15: String(Int64(d))
            default: ""
            }
        }
        let ward = text(p["ward_code"]), sheet = text(p["sheet"]), n = text(p["number"])
        switch queries.count % kinds {
        case 0 where !street.isEmpty: queries.append(("street", SearchText.fold(street)))
        case 1 where !street.isEmpty: queries.append(("street + number", "\(street) \(number)"))
        case 2 where !ward.isEmpty: queries.append(("key", "\(ward)-\(sheet)-\(n)"))
        case 3 where !ward.isEmpty: queries.append(("tờ … thửa …", "tờ \(sheet) thửa \(n) \(ward)"))
        case 4 where !street.isEmpty:
            let words = SearchText.tokens(street)
            queries.append(("typing", (words.prefix(2) + [String(words.dropFirst(2).first?.prefix(2) ?? "")]).joined(separator: " ")))
        case 5: queries.append(("old ward", ["ben nghe", "phuong 15 go vap", "tan dinh", "an phu", "thao dien", "phu thuan"][queries.count / kinds % 6]))
        default: continue
        }
    }
    let layers = try store.dataVersions().keys.sorted()
    let searcher = try Searcher(store: store)
    for q in queries.prefix(200) { _ = try searcher.search(q.text, layers: layers, limit: 10) }  // warm pages
    // The first search started reading the index's common words in the background (0.8 s at
    // 1 M parcels, once per store): measured is a server past that, as it is a second after start.
    Thread.sleep(forTimeInterval: 3)
    var byKind = [String: [Double]]()
    var all = [Double]()
    var empty = 0
    let clock = ContinuousClock()
    for q in queries {
        var hits = 0
        let d = clock.measure { hits = (try? searcher.search(q.text, layers: layers, limit: 10).count) ?? -1 }
        if hits <= 0 { empty += 1 }
        let ms = Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000
        byKind[q.kind, default: []].append(ms)
        all.append(ms)
    }
    // The index and ranking alone (`SearchStore.search`), without placing the hits: where the
    // time goes.
    var indexOnly = [Double]()
    var indexByKind = [String: [Double]]()
    for q in queries {
        let query = SearchQuery(q.text)
        let d = clock.measure { _ = try? store.search(query, layers: layers, limit: 10) }
        let ms = Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000
        indexOnly.append(ms)
        indexByKind[q.kind, default: []].append(ms)
    }
    func line(_ name: String, _ values: [Double]) -> String {
        let s = values.sorted()
        return name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " n=%5d  p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms", s.count,
                      percentile(s, 0.5), percentile(s, 0.95), percentile(s, 0.99), s.last ?? 0)
    }
    let features = try store.layers().map { "\($0.schema.name) \($0.featureCount)" }.joined(separator: ", ")
    print("bench-search: \(dbPath) (\(features)); \(queries.count) queries, limit 10, \(empty) without a hit")
    for (kind, values) in byKind.sorted(by: { $0.key < $1.key }) { print(line(kind, values)) }
    print(line("all", all))
    print("the index and ranking alone (SearchStore.search, no hit placed):")
    for (kind, values) in indexByKind.sorted(by: { $0.key < $1.key }) { print(line(kind, values)) }
    print(line("all", indexOnly))
    if slowest > 0 {
        print("the \(slowest) slowest (index and ranking alone):")
        for (ms, q) in zip(indexOnly, queries).sorted(by: { $0.0 > $1.0 }).prefix(slowest) {
            print(String(format: "%8.2f ms  ", ms) + "\(q.kind): \(q.text)")
        }
    }
} catch {
    FileHandle.standardError.write(Data("bench-search: \(error)\n".utf8))
    exit(1)
}
