// bench-lookup: parcel-at-a-point throughput, in process, one thread (release build).
//
//   bench-lookup --db hcmc-1m.gpkg [--points 10000] [--seed 1] [--points-out points.csv] [--rounds 1]
//
// Random points (deterministic) inside the parcels' extent, half of them on parcels; each
// lookup is the full answer: parcel, zoning shares, ward. Prints lookups/s and latency
// percentiles. --points-out writes the same points for a peer (PostGIS) to replay; --rounds
// repeats the timed pass (for profiling the lookups rather than the set-up).
import Backends
import Foundation
import Geometry
import Query
import SeededRandom
import Store

var dbPath = "landmap.gpkg", count = 10_000, seed: UInt64 = 1, pointsOut: String?, rounds = 1
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--db": dbPath = args.popFirst() ?? dbPath
    case "--points": count = Int(args.popFirst() ?? "") ?? count
    case "--seed": seed = UInt64(args.popFirst() ?? "") ?? seed
    case "--points-out": pointsOut = args.popFirst()
    case "--rounds": rounds = max(1, Int(args.popFirst() ?? "") ?? rounds)
    default:
        FileHandle.standardError.write(Data("bench-lookup: unknown argument \(a)\n".utf8))
        exit(2)
    }
}

do {
    let store = try StoreLocation(dbPath).open()
    guard let extent = try store.layer("parcels")?.extent else {
        FileHandle.standardError.write(Data("bench-lookup: \(dbPath) has no parcels\n".utf8))
        exit(1)
    }
    // Half the points on parcel corners' neighbourhood, half anywhere in the extent: sample
    // parcels by id order through the R-tree of small random boxes.
    var r = SplitMix64(seed: seed)
    var points = [Coordinate]()
    while points.count < count {
        let c = Coordinate(extent.minX + r.unit() * (extent.maxX - extent.minX), extent.minY + r.unit() * (extent.maxY - extent.minY))
        if points.count % 2 == 0 {
            let near = BoundingBox(minX: c.x - 0.002, minY: c.y - 0.002, maxX: c.x + 0.002, maxY: c.y + 0.002)
            if let f = try store.features(layer: "parcels", intersecting: near, asOf: nil, limit: 1, offset: 0).first,
               let box = f.geometry?.boundingBox {
                points.append(Coordinate((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2))
                continue
            }
        }
        points.append(c)
    }
    if let pointsOut {
        try points.map { "\($0.x),\($0.y)" }.joined(separator: "\n").appending("\n").write(toFile: pointsOut, atomically: true, encoding: .utf8)
    }
    let lookup = try ParcelLookup(store: store)
    for p in points.prefix(500) { _ = try lookup.at(p) }  // warm caches and pages
    var latencies = [Double]()
    latencies.reserveCapacity(points.count)
    var found = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<rounds {
        for p in points {
            let t0 = DispatchTime.now().uptimeNanoseconds
            if try lookup.at(p).parcel != nil { found += 1 }
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    latencies.sort()
    func pct(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
    print(String(format: "lookups: %d in %.2f s = %.0f /s (one thread); %d with a parcel; latency p50 %.3f ms, p99 %.3f ms, max %.3f ms",
                 latencies.count, seconds, Double(latencies.count) / seconds, found / rounds, pct(0.5), pct(0.99), latencies.last ?? 0))
} catch {
    FileHandle.standardError.write(Data("bench-lookup: \(error)\n".utf8))
    exit(1)
}
