// generate-parcels: plausible, deterministic cadastral parcels for samples and benchmarks.
//
//   generate-parcels --wards W.geojson --from-zoning Z.shp --out parcels.geojson
//       subdivides each zoning plot into parcels (the sample in GeoData/)
//   generate-parcels --wards W.geojson --count 1000000 --out parcels.geojson --zoning-out zoning.geojson
//       lays out city blocks over the wards nearest the centre until `count` parcels exist,
//       with synthetic zoning zones over groups of blocks (the benchmark sets)
//   … --zoning cut
//       zoning drawn independently of the blocks instead (SPEC §6's realistic mix): slanted zone
//       edges cut through parcels, level ones run along parcels' edges, so parcels lie in one
//       zone, in two or more, or touch a zone only along an edge
//
// Same seed, same output. Parcels carry ward_code, sheet, number, land_use, declared area
// (with noise: ~2 % differ by 6–15 %), address and a synthetic owner; ~0.1 % have a bow-tie ring.
import Features
import Foundation
import Geometry
import Projection
import SeededRandom

/// How benchmark zoning relates to the blocks.
enum ZoningKind: String {
    /// A zone over every 2 × 2 blocks: each parcel lies wholly inside one zone.
    case aligned
    /// Parallelograms on a city-wide grid whose slanted edges cut through parcels and whose level
    /// edges follow the line between a block's two rows of parcels.
    case cut
}

struct Options {
    var wards = "GeoData/admin/hcmc_wards_2025.geojson"
    var fromZoning: String?
    var count = 10_000
    var out = "parcels.geojson"
    var zoningOut: String?
    var zoningKind = ZoningKind.aligned
    var seed: UInt64 = 20_251_124
}

func parseArguments() -> Options? {
    var o = Options()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        switch a {
        case "--wards": o.wards = args.popFirst() ?? o.wards
        case "--from-zoning": o.fromZoning = args.popFirst()
        case "--count": o.count = Int(args.popFirst() ?? "") ?? o.count
        case "--out": o.out = args.popFirst() ?? o.out
        case "--zoning-out": o.zoningOut = args.popFirst()
        case "--seed": o.seed = UInt64(args.popFirst() ?? "") ?? o.seed
        case "--zoning":
            guard let k = args.popFirst().flatMap(ZoningKind.init(rawValue:)) else {
                FileHandle.standardError.write(Data("generate-parcels: --zoning takes aligned (a zone over every 2 × 2 blocks) or cut (zones drawn independently of the blocks)\n".utf8))
                return nil
            }
            o.zoningKind = k
        default:
            FileHandle.standardError.write(Data("generate-parcels: unknown argument \(a)\n".utf8))
            return nil
        }
    }
    return o
}

/// Streams a GeoJSON FeatureCollection to a file, one feature at a time.
final class GeoJSONWriter {
    let handle: FileHandle
    var first = true
    var buffer = ""

    init(path: String) throws {
        FileManager.default.createFile(atPath: path, contents: nil)
        guard let h = FileHandle(forWritingAtPath: path) else { throw GeometryError("cannot write \(path)") }
        handle = h
        buffer = "{\"type\":\"FeatureCollection\",\"features\":[\n"
    }

    func write(_ properties: [String: JSONValue], _ g: Geometry) {
        if !first { buffer += ",\n" }
        first = false
        buffer += "{\"type\":\"Feature\",\"properties\":"
        JSONValue.object(properties).write(into: &buffer)
        buffer += ",\"geometry\":"
        GeoJSONGeometry.write(g.rewound(), into: &buffer)
        buffer += "}"
        if buffer.utf8.count > 1 << 20 { flush() }
    }

    func flush() {
        handle.write(Data(buffer.utf8))
        buffer = ""
    }

    func close() {
        buffer += "\n]}\n"
        flush()
        try? handle.close()
    }
}

struct Ward {
    let code: String
    let name: String
    let urban: Bool
    let shape: PreparedGeometry  // in VN-2000 metres
    let box: BoundingBox
}

let familyNames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
let middleNames = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Đức", "Hoàng", "Kim"]
let givenNames = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Khoa", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy"]
let streets = ["Nguyễn Hữu Thọ", "Huỳnh Tấn Phát", "Lê Văn Lương", "Nguyễn Thị Thập", "Trần Xuân Soạn", "Lâm Văn Bền", "Nguyễn Văn Linh", "Phạm Hữu Lầu", "Lê Lợi", "Hai Bà Trưng", "Nam Kỳ Khởi Nghĩa", "Điện Biên Phủ"]

func landUse(_ r: inout SplitMix64, urban: Bool, plan: String?) -> String {
    switch plan {
    case "CXDT", "MN": return r.pick([("CLN", 0.4), ("NTS", 0.3), ("ODT", 0.3)])
    case "CCDT", "GD": return r.pick([("DGD", 0.5), ("TSC", 0.3), ("ODT", 0.2)])
    case "CN": return r.pick([("SKC", 0.8), ("ODT", 0.2)])
    case "HTKT", "DGT": return r.pick([("DGT", 0.7), ("ODT", 0.3)])
    case "HH", "TMDV": return r.pick([("TMD", 0.5), ("ODT", 0.5)])
    default: break
    }
    return urban ? r.pick([("ODT", 0.78), ("TMD", 0.07), ("CLN", 0.04), ("SKC", 0.03), ("DGT", 0.03), ("TSC", 0.02), ("DGD", 0.03)])
                 : r.pick([("ONT", 0.45), ("LUC", 0.2), ("CLN", 0.2), ("NTS", 0.08), ("ODT", 0.07)])
}

/// Emits one parcel, with its noise; returns false when the target count is reached.
final class ParcelEmitter {
    var r: SplitMix64
    let writer: GeoJSONWriter
    let toLonLat: Transformer
    let limit: Int
    var written = 0
    var numbers = [String: Int]()  // next parcel number per ward and sheet

    init(seed: UInt64, writer: GeoJSONWriter, limit: Int) throws {
        r = SplitMix64(seed: seed)
        self.writer = writer
        self.limit = limit
        toLonLat = try Transformer(from: .vn2000, to: .wgs84)
    }

    func emit(_ ring: [Coordinate], ward: Ward, sheet: Int, plan: String?) throws -> Bool {
        guard written < limit else { return false }
        let key = "\(ward.code)-\(sheet)"
        let number = (numbers[key] ?? 0) + 1
        numbers[key] = number
        var shape = ring
        if r.unit() < 0.001, shape.count == 5 { shape.swapAt(1, 2) }  // a bow-tie, as digitising errors make
        let area = Geometry.polygon([ring]).planarArea
        let noise = r.unit() < 0.02 ? r.range(0.06, 0.15) * (r.unit() < 0.5 ? -1 : 1) : r.range(-0.01, 0.01)
        let owner = "\(familyNames[Int(r.next() % UInt64(familyNames.count))]) \(middleNames[Int(r.next() % UInt64(middleNames.count))]) \(givenNames[Int(r.next() % UInt64(givenNames.count))])"
        let props: [String: JSONValue] = [
            "MaXa": .string(ward.code), "SoTo": .integer(Int64(sheet)), "SoThua": .integer(Int64(number)),
            "LoaiDat": .string(landUse(&r, urban: ward.urban, plan: plan)),
            "DienTich": .number((area * (1 + noise) * 10).rounded() / 10),
            "DiaChi": .string("\(Int(r.next() % 300) + 1) \(streets[Int(r.next() % UInt64(streets.count))]), \(ward.urban ? "phường" : "xã") \(ward.name)"),
            "ChuSuDung": .string(owner),
            "SoCCCD": .string(String(format: "079%09d", Int(r.next() % 1_000_000_000))),
        ]
        writer.write(props, try toLonLat.transform(.polygon([shape])))
        written += 1
        return true
    }
}

func loadWards(_ path: String, geos: GeosContext) throws -> [Ward] {
    let json = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path)))
    let toVN = try Transformer(from: .wgs84, to: .vn2000)
    var wards = [Ward]()
    for f in json["features"]?.arrayValue ?? [] {
        guard let code = f["properties"]?["code"]?.stringValue, let g = f["geometry"] else { continue }
        let lonLat = try GeoJSONGeometry.decode(g)
        let native = try geos.geometry(try toVN.transform(lonLat))
        let valid = try native.isValid() ? native : try native.makeValid()
        guard let box = try valid.value().boundingBox else { continue }
        wards.append(Ward(code: code, name: f["properties"]?["name"]?.stringValue ?? code,
                          urban: f["properties"]?["type"]?.stringValue == "Phường", shape: try valid.prepared(), box: box))
    }
    return wards
}

func ward(containing c: Coordinate, in wards: [Ward], geos: GeosContext) throws -> Ward? {
    let point = try geos.point(c)
    for w in wards where w.box.contains(c) {
        if try w.shape.covers(point) { return w }
    }
    return nil
}

/// Sample mode: every zoning plot cut into a grid of parcels (8–16 m wide, 18–25 m deep).
func subdivideZoning(_ o: Options, _ zoningPath: String, geos: GeosContext, wards: [Ward], emitter: ParcelEmitter) throws {
    // The plots come as a Shapefile in UTM 48N; read them through GDAL with ogr2ogr-free code:
    // LandMap's own reader is in the Formats module, which this tool does not link, so the
    // caller passes a GeoJSON in WGS 84 (Tools/make-sample.sh converts the Shapefile).
    let json = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: zoningPath)))
    let toVN = try Transformer(from: .wgs84, to: .vn2000)
    var sheet = 0
    for f in json["features"]?.arrayValue ?? [] {
        guard let g = f["geometry"], g != .null else { continue }
        let plan = f["properties"]?["TypeCode"]?.stringValue
        guard !["MN", "CXDT", "HTKT"].contains(plan ?? "") else { continue }  // water, parks, utilities
        let plot = try geos.geometry(try toVN.transform(GeoJSONGeometry.decode(g)))
        let valid = try plot.isValid() ? plot : try plot.makeValid()
        guard let box = try valid.value().boundingBox else { continue }
        sheet += 1
        let width = emitter.r.range(8, 16), depth = emitter.r.range(18, 25)
        var y = box.minY
        while y < box.maxY {
            var x = box.minX
            while x < box.maxX {
                let cell = try geos.geometry(BoundingBox(minX: x, minY: y, maxX: x + width, maxY: y + depth).polygon)
                let piece = try valid.intersection(cell)
                let area = try piece.area()
                if area > 40, case .polygon(let rings)? = try? piece.value(), let shell = rings.first,
                   let w = try ward(containing: Coordinate(x + width / 2, y + depth / 2), in: wards, geos: geos) {
                    guard try emitter.emit(shell, ward: w, sheet: sheet, plan: plan) else { return }
                }
                x += width
            }
            y += depth
        }
    }
}

/// Benchmark mode: blocks of 2 × n parcels with 10 m streets, wards nearest the centre first,
/// and a zoning zone over every 2 × 2 blocks.
func layOutCity(_ o: Options, geos: GeosContext, wards: [Ward], emitter: ParcelEmitter) throws {
    let centre = try Transformer(from: .wgs84, to: .vn2000).transform(Coordinate(106.6981, 10.7721))  // Bến Thành
    let ordered = wards.sorted {
        hypot(($0.box.minX + $0.box.maxX) / 2 - centre.x, ($0.box.minY + $0.box.maxY) / 2 - centre.y)
            < hypot(($1.box.minX + $1.box.maxX) / 2 - centre.x, ($1.box.minY + $1.box.maxY) / 2 - centre.y)
    }
    let zoning = try o.zoningOut.map { try GeoJSONWriter(path: $0) }
    defer { zoning?.close() }
    let toLonLat = try Transformer(from: .vn2000, to: .wgs84)
    // Zoning draws from its own stream, so the parcels are the same with or without --zoning-out.
    var zr = SplitMix64(seed: o.seed ^ 0x5A0E_5A0E)
    let blockW = 100.0, blockH = 44.0, street = 10.0
    var zoneNumber = 0
    var laid = [String: (Ward, BoundingBox)]()  // where blocks were laid, per ward
    city: for w in ordered {
        var sheet = 0
        // Blocks on a city-wide grid, so neighbouring wards line up.
        let x0 = (w.box.minX / (blockW + street)).rounded(.down) * (blockW + street)
        let y0 = (w.box.minY / (blockH + street)).rounded(.down) * (blockH + street)
        var row = 0
        var y = y0
        while y < w.box.maxY {
            var x = x0
            var col = 0
            while x < w.box.maxX {
                let blockCentre = Coordinate(x + blockW / 2, y + blockH / 2)
                if try w.shape.covers(geos.point(blockCentre)) {
                    laid[w.code, default: (w, BoundingBox(minX: x, minY: y, maxX: x, maxY: y))].1.expand(toInclude: Coordinate(x + blockW, y + blockH))
                    if o.zoningKind == .aligned, row % 2 == 0, col % 2 == 0, let zoning {
                        zoneNumber += 1
                        let zone = BoundingBox(minX: x - street / 2, minY: y - street / 2, maxX: x + 2 * (blockW + street) - street / 2, maxY: y + 2 * (blockH + street) - street / 2)
                        try writeZone("\(w.code)-\(zoneNumber)", number: zoneNumber, ward: w, zone.polygon, random: &zr, toLonLat: toLonLat, to: zoning)
                    }
                    sheet = 1 + (row * 1000 + col) / 60
                    for side in 0..<2 {
                        var px = x
                        while px < x + blockW - 1 {
                            let pw = min(emitter.r.range(5, 12), x + blockW - px)
                            let py = y + Double(side) * blockH / 2
                            let ring = [Coordinate(px, py), Coordinate(px + pw, py), Coordinate(px + pw, py + blockH / 2),
                                        Coordinate(px, py + blockH / 2), Coordinate(px, py)]
                            guard try emitter.emit(ring, ward: w, sheet: sheet, plan: nil) else { break city }
                            px += pw
                        }
                    }
                }
                x += blockW + street
                col += 1
            }
            y += blockH + street
            row += 1
        }
    }
    if o.zoningKind == .cut, let zoning {
        try writeCutZoning(over: laid.values.sorted { $0.0.code < $1.0.code }, blockH: blockH, street: street,
                           random: &zr, toLonLat: toLonLat, geos: geos, to: zoning)
    }
}

/// One zone (`shape` in VN-2000) with plausible plan attributes drawn from `zr`.
func writeZone(_ key: String, number: Int, ward w: Ward, _ shape: Geometry, random zr: inout SplitMix64,
               toLonLat: Transformer, to zoning: GeoJSONWriter) throws {
    let use = zr.pick([("NNO", 0.6), ("HH", 0.15), ("CCDT", 0.08), ("CXDT", 0.07), ("GD", 0.05), ("CN", 0.05)])
    zoning.write([
        "KyHieu": .string(key), "ChucNang": .string(use),
        "MatDo": .number(use == "CXDT" ? 5 : zr.range(40, 80).rounded()),
        "TangCao": .integer(Int64(zr.range(2, 25))), "HSSDD": .number((zr.range(1, 8) * 10).rounded() / 10),
        "TenDoAn": .string("Quy hoạch phân khu 1/2000 \(w.name)"), "SoQD": .string("\(1000 + number % 9000)/QĐ-UBND"),
    ], try toLonLat.transform(shape))
}

/// Zoning drawn independently of the blocks: parallelograms about 170 m wide and two block rows
/// tall. Their level edges run along the line between the two rows of parcels of every second
/// block (parcels there touch the next zone only along an edge); their edges slanted at 0.3 cut
/// through parcels. A zone is kept where its centre lies in a ward that has blocks.
func writeCutZoning(over laid: [(Ward, BoundingBox)], blockH: Double, street: Double, random zr: inout SplitMix64,
                    toLonLat: Transformer, geos: GeosContext, to zoning: GeoJSONWriter) throws {
    let rowPitch = 2 * (blockH + street), rowOffset = blockH / 2, slant = 0.3, colPitch = 170.0, y0 = 1_190_000.0
    // Column j's edge is x = columnX(j) + slant · (y − y0), jittered by up to ±40 m, the same for every ward.
    func columnX(_ j: Int) -> Double {
        var h = SplitMix64(seed: UInt64(bitPattern: Int64(j)) &* 0x9E37_79B9_7F4A_7C15 ^ 0xC07)
        return Double(j) * colPitch + h.range(-40, 40)
    }
    var done = Set<[Int]>()
    var zoneNumber = 0
    for (w, box) in laid {
        let k0 = Int(((box.minY - rowOffset) / rowPitch).rounded(.down)), k1 = Int(((box.maxY - rowOffset) / rowPitch).rounded(.up))
        for k in k0...k1 {
            let ya = Double(k) * rowPitch + rowOffset, yb = ya + rowPitch
            let j0 = Int(((box.minX - slant * (yb - y0)) / colPitch).rounded(.down)) - 1
            let j1 = Int(((box.maxX - slant * (ya - y0)) / colPitch).rounded(.up)) + 1
            for j in j0...j1 {
                let xa = columnX(j), xb = columnX(j + 1)
                let ring = [Coordinate(xa + slant * (ya - y0), ya), Coordinate(xb + slant * (ya - y0), ya),
                            Coordinate(xb + slant * (yb - y0), yb), Coordinate(xa + slant * (yb - y0), yb),
                            Coordinate(xa + slant * (ya - y0), ya)]
                let centre = Coordinate((xa + xb) / 2 + slant * ((ya + yb) / 2 - y0), (ya + yb) / 2)
                guard box.contains(centre), try w.shape.covers(geos.point(centre)), done.insert([j, k]).inserted else { continue }
                zoneNumber += 1
                try writeZone("\(w.code)-C\(zoneNumber)", number: zoneNumber, ward: w, .polygon([ring]), random: &zr, toLonLat: toLonLat, to: zoning)
            }
        }
    }
}

func main() -> Int32 {
    guard let o = parseArguments() else { return 2 }
    do {
        let geos = try GeosContext()
        let wards = try loadWards(o.wards, geos: geos)
        let writer = try GeoJSONWriter(path: o.out)
        let emitter = try ParcelEmitter(seed: o.seed, writer: writer, limit: o.fromZoning == nil ? o.count : (o.count == 10_000 ? Int.max : o.count))
        if let z = o.fromZoning {
            try subdivideZoning(o, z, geos: geos, wards: wards, emitter: emitter)
        } else {
            try layOutCity(o, geos: geos, wards: wards, emitter: emitter)
        }
        writer.close()
        FileHandle.standardError.write(Data("generate-parcels: \(emitter.written) parcels → \(o.out)\n".utf8))
        return 0
    } catch {
        FileHandle.standardError.write(Data("generate-parcels: \(error)\n".utf8))
        return 1
    }
}

exit(main())
