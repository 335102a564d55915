import CQL2
import Features
import Foundation
import FuzzSupport
import GeoPackage
import Geometry
import Store

/// The CQL2 readers and what runs a filter: the same bytes as CQL2 text and as CQL2 JSON, each
/// tree printed to both encodings and read back (the printers' promise), then checked against
/// a parcels layer's queryables and, when it checks, counted in a small GeoPackage (the SQL
/// translation, its bound arguments and the `cql2_*` SQL functions).
func fuzzOne(_ data: Data) {
    if let e = try? CQL2Text.parse(String(decoding: data, as: UTF8.self)) { run(e, from: "text") }
    if let e = try? CQL2JSON.parse(data) { run(e, from: "JSON") }
}

func run(_ e: CQL2Expression, from source: String) {
    roundTrip(e, from: source)
    guard let filter = try? CQL2Filter.check(e, against: FuzzLayer.queryables) else { return }
    do {
        _ = try FuzzLayer.store.count(layer: FuzzLayer.name, filter: filter)
    } catch is CQL2Error {
        // A checked filter the store still refuses (a BBOX whose minimum y exceeds its
        // maximum, nesting deeper than SQLite's parser takes): a 400 for the caller.
    } catch {
        fail("a checked filter failed in SQLite: \(error)\nfilter (from \(source)): \(CQL2Text.print(e))")
    }
}

/// Printed text and JSON read back to the same tree (`CQL2Text.print`, `CQL2JSON.encode`);
/// the text only when CQL2 text can write the tree (`CQL2Text.canWrite`), though it is read
/// either way.
func roundTrip(_ e: CQL2Expression, from source: String) {
    let json = CQL2JSON.text(e)
    do {
        let back = try CQL2JSON.parse(json)
        if back != e { fail("JSON round trip differs (from \(source))\n tree: \(e.kind)\n JSON: \(json)\n back: \(back.kind)") }
    } catch {
        fail("printed JSON does not parse (from \(source)): \(error)\n tree: \(e.kind)\n JSON: \(json)")
    }
    let text = CQL2Text.print(e)
    guard CQL2Text.canWrite(e) else {
        _ = try? CQL2Text.parse(text)
        return
    }
    do {
        let back = try CQL2Text.parse(text)
        if back != e { fail("text round trip differs (from \(source))\n tree: \(e.kind)\n text: \(text)\n back: \(back.kind)") }
    } catch {
        fail("printed text does not parse (from \(source)): \(error)\n tree: \(e.kind)\n text: \(text)")
    }
}

func fail(_ message: String) -> Never {
    // To standard error, unbuffered (abort would lose buffered output), and cut short.
    let text = message.count > 4000 ? String(message.prefix(4000)) + "…" : message
    FileHandle.standardError.write(Data("fuzz-cql2: \(text)\n".utf8))
    abort()
}

/// A parcels layer (the built-in schema: canonical columns, and other properties in JSON) with
/// a few features, made once in a temporary GeoPackage.
enum FuzzLayer {
    static let name = "parcels"

    /// What the server would offer on it: `id`, `geom`, the public canonical fields, and
    /// source fields of every CQL2 type (one with a space and marks, one with a backslash,
    /// which the translation reads through `json_each`).
    static let queryables = Queryables([
        "id": .string, "geom": .geometry, "ward_code": .string, "sheet": .integer, "number": .integer,
        "land_use": .string, "area_m2": .number, "declared_area_m2": .number, "address": .string,
        "registered_on": .date, "updated_at": .timestamp, "disputed": .boolean, "ghi chú": .string, #"a\b"#: .string,
    ])

    static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("landmap-fuzz-cql2-\(getpid())")

    static let store: GeoPackageStore = {
        do {
            return try makeStore()
        } catch {
            print("fuzz-cql2: cannot set up the layer: \(error)")
            exit(2)
        }
    }()

    static func makeStore() throws -> GeoPackageStore {
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: FuzzLayer.directory) }
        let store = try GeoPackageStore(path: directory.appendingPathComponent("fuzz.gpkg").path)
        try store.createLayer(.parcels)
        _ = try store.write(BatchRequest(layer: name, mode: .append, source: "fuzz", actor: "fuzz")) { w in
            for f in features { try w.put(f) }
        }
        return store
    }

    static func square(_ x: Double, _ y: Double, _ size: Double) -> Geometry {
        .polygon([[Coordinate(x, y), Coordinate(x + size, y), Coordinate(x + size, y + size), Coordinate(x, y + size), Coordinate(x, y)]])
    }

    static let features: [Feature] = [
        Feature(id: "26734-12-1", geometry: square(106.70, 10.78, 0.0002), properties: [
            "ward_code": "26734", "sheet": 12, "number": 1, "land_use": "ODT", "area_m2": .number(412.25),
            "declared_area_m2": .number(400), "address": "12 Nguyễn Huệ, Bến Nghé", "registered_on": "2021-04-16",
            "updated_at": "2024-02-29T10:13:19Z", "disputed": .bool(false), "ghi chú": "Thủ Đức", #"a\b"#: "x'y",
        ]),
        Feature(id: "26734-12-2", geometry: square(106.7002, 10.78, 0.0002), properties: [
            "ward_code": "26734", "sheet": 12, "number": 2, "land_use": "CLN", "area_m2": .number(0.5),
            "address": "KØBENHAVN 100%_", "registered_on": "2023-01-01", "updated_at": "2024-02-29T17:13:20+07:00",
            "disputed": .bool(true), "ghi chú": "thu duc",
        ]),
        Feature(id: "26740-3-17", geometry: .multiPolygon([
            [[Coordinate(106.60, 10.70), Coordinate(106.65, 10.70), Coordinate(106.65, 10.75), Coordinate(106.60, 10.75), Coordinate(106.60, 10.70)],
             [Coordinate(106.61, 10.71), Coordinate(106.61, 10.72), Coordinate(106.62, 10.72), Coordinate(106.62, 10.71), Coordinate(106.61, 10.71)]],
        ]), properties: ["ward_code": "26740", "sheet": 3, "number": 17, "land_use": "LUC", "area_m2": .number(1e9)]),
        Feature(id: "26740-3-18", geometry: nil, properties: ["ward_code": "26740", "sheet": 3, "number": 18, "registered_on": "not a date"]),
    ]
}

@main enum FuzzMain {
    static func main() {
        _ = FuzzLayer.store
        Fuzz.main { bytes, count in fuzzOne(Fuzz.data(bytes, count)); return 0 }
    }
}
