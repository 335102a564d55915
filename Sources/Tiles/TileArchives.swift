import Geometry
import CompressNIO
import Foundation
import GRDB
import NIOCore

/// Where exported tiles go: an MBTiles or PMTiles file. Tiles arrive in any order, already
/// encoded as MVT; archives store them gzip-compressed, as map clients expect.
public protocol TileArchiveWriter {
    func add(_ tile: TileID, mvt: [UInt8]) throws
    /// Writes the metadata and completes the file.
    func finish(metadata: TileArchiveMetadata) throws
}

/// What an archive says about itself (TileJSON-like).
public struct TileArchiveMetadata: Sendable {
    public var name: String
    public var bounds: (minX: Double, minY: Double, maxX: Double, maxY: Double)
    public var minZoom: Int
    public var maxZoom: Int
    /// TileJSON `vector_layers`, as JSON text.
    public var vectorLayersJSON: String
    public var attribution: String

    public init(name: String, bounds: (Double, Double, Double, Double), minZoom: Int, maxZoom: Int, vectorLayersJSON: String, attribution: String) {
        self.name = name
        self.bounds = (bounds.0, bounds.1, bounds.2, bounds.3)
        self.minZoom = minZoom
        self.maxZoom = maxZoom
        self.vectorLayersJSON = vectorLayersJSON
        self.attribution = attribution
    }
}

enum Gzip {
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        let out = try buffer.compress(with: .gzip())
        return Array(out.readableBytesView)
    }
}

/// MBTiles 1.3: SQLite with `metadata` and `tiles` (TMS rows: y flipped), gzip'd MVT.
public final class MBTilesWriter: TileArchiveWriter {
    let queue: DatabaseQueue

    public init(path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw ArchiveError("\(path) exists already; remove it or choose another --out") }
        queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE metadata (name TEXT, value TEXT);
                CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
                CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
                """)
        }
    }

    public func add(_ tile: TileID, mvt: [UInt8]) throws {
        let data = try Gzip.compress(mvt)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO tiles VALUES (?, ?, ?, ?)",
                           arguments: [tile.z, tile.x, (1 << tile.z) - 1 - tile.y, Data(data)])
        }
    }

    public func finish(metadata m: TileArchiveMetadata) throws {
        let b = m.bounds
        let rows: [(String, String)] = [
            ("name", m.name), ("format", "pbf"), ("type", "overlay"), ("version", "1.3"),
            ("bounds", "\(b.minX),\(b.minY),\(b.maxX),\(b.maxY)"),
            ("center", "\((b.minX + b.maxX) / 2),\((b.minY + b.maxY) / 2),\(min(m.maxZoom, max(m.minZoom, 14)))"),
            ("minzoom", String(m.minZoom)), ("maxzoom", String(m.maxZoom)), ("attribution", m.attribution),
            ("json", "{\"vector_layers\":\(m.vectorLayersJSON)}"),
        ]
        try queue.write { db in
            for (k, v) in rows { try db.execute(sql: "INSERT INTO metadata VALUES (?, ?)", arguments: [k, v]) }
        }
    }
}

/// PMTiles version 3: one file, a 127-byte header, gzip'd directories (with leaf directories
/// when the root would pass 16 KiB), gzip'd JSON metadata, and the tiles clustered in tile-id
/// (Hilbert) order with identical tiles stored once.
public final class PMTilesWriter: TileArchiveWriter {
    let path: String
    private var tiles = [(id: UInt64, data: [UInt8])]()

    public init(path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw ArchiveError("\(path) exists already; remove it or choose another --out") }
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw ArchiveError("cannot create \(path)") }
        self.path = path
    }

    public func add(_ tile: TileID, mvt: [UInt8]) throws {
        tiles.append((Self.tileID(tile), try Gzip.compress(mvt)))
    }

    /// The PMTiles tile id: tiles of lower zooms first, then the Hilbert index within the zoom.
    static func tileID(_ t: TileID) -> UInt64 {
        var acc: UInt64 = 0
        for z in 0..<t.z { acc += UInt64(1) << (2 * UInt64(z)) }
        let n = UInt64(1) << UInt64(t.z)
        var x = UInt64(t.x), y = UInt64(t.y), d: UInt64 = 0
        var s = n / 2
        while s > 0 {
            let rx: UInt64 = (x & s) > 0 ? 1 : 0
            let ry: UInt64 = (y & s) > 0 ? 1 : 0
            d += s * s * ((3 * rx) ^ ry)
            if ry == 0 {
                // Reflect across the whole grid (n), as the Hilbert curve's rotation does.
                if rx == 1 { x = n - 1 - x; y = n - 1 - y }
                swap(&x, &y)
            }
            s /= 2
        }
        return acc + d
    }

    struct Entry {
        var id: UInt64
        var offset: UInt64
        var length: UInt32
        var runLength: UInt32
    }

    static func directory(_ entries: [Entry]) throws -> [UInt8] {
        var out = [UInt8]()
        Protobuf.varint(UInt64(entries.count), into: &out)
        var last: UInt64 = 0
        for e in entries { Protobuf.varint(e.id - last, into: &out); last = e.id }
        for e in entries { Protobuf.varint(UInt64(e.runLength), into: &out) }
        for e in entries { Protobuf.varint(UInt64(e.length), into: &out) }
        for (i, e) in entries.enumerated() {
            if i > 0, e.offset == entries[i - 1].offset + UInt64(entries[i - 1].length) {
                Protobuf.varint(0, into: &out)
            } else {
                Protobuf.varint(e.offset + 1, into: &out)
            }
        }
        return try Gzip.compress(out)
    }

    public func finish(metadata m: TileArchiveMetadata) throws {
        tiles.sort { $0.id < $1.id }
        // Tile data, clustered, identical contents stored once; consecutive repeats as runs.
        var data = [UInt8]()
        var entries = [Entry]()
        var seen = [[UInt8]: (UInt64, UInt32)]()
        for (id, bytes) in tiles {
            if let last = entries.last, last.id + UInt64(last.runLength) == id, let prev = seen[bytes], prev.0 == last.offset {
                entries[entries.count - 1].runLength += 1
                continue
            }
            let (offset, length): (UInt64, UInt32)
            if let known = seen[bytes] { (offset, length) = known } else {
                (offset, length) = (UInt64(data.count), UInt32(bytes.count))
                data += bytes
                seen[bytes] = (offset, length)
            }
            entries.append(Entry(id: id, offset: offset, length: length, runLength: 1))
        }
        // Root directory, with leaves when it would not fit in the first 16 KiB.
        var root = try Self.directory(entries)
        var leaves = [UInt8]()
        var chunk = 4_096
        while 127 + root.count > 16_384 {
            leaves = []
            var rootEntries = [Entry]()
            for start in stride(from: 0, to: entries.count, by: chunk) {
                let slice = Array(entries[start..<min(start + chunk, entries.count)])
                let leaf = try Self.directory(slice)
                rootEntries.append(Entry(id: slice[0].id, offset: UInt64(leaves.count), length: UInt32(leaf.count), runLength: 0))
                leaves += leaf
            }
            root = try Self.directory(rootEntries)
            chunk *= 2
        }
        let b = m.bounds
        let metadata = try Gzip.compress(Array("""
            {"name":\(JSONText.quote(m.name)),"attribution":\(JSONText.quote(m.attribution)),"vector_layers":\(m.vectorLayersJSON)}
            """.utf8))
        var header = [UInt8]()
        header += Array("PMTiles".utf8) + [3]
        func u64(_ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { header += $0 } }
        func i32(_ v: Double) { withUnsafeBytes(of: Int32((v * 10_000_000).rounded()).littleEndian) { header += $0 } }
        let rootOffset = 127, metadataOffset = rootOffset + root.count, leavesOffset = metadataOffset + metadata.count
        let dataOffset = leavesOffset + leaves.count
        u64(rootOffset); u64(root.count); u64(metadataOffset); u64(metadata.count); u64(leavesOffset); u64(leaves.count)
        u64(dataOffset); u64(data.count); u64(tiles.count); u64(entries.count); u64(seen.count)
        header += [1, 2, 2, 1, UInt8(m.minZoom), UInt8(m.maxZoom)]  // clustered, gzip dirs, gzip tiles, MVT, zooms
        i32(b.minX); i32(b.minY); i32(b.maxX); i32(b.maxY)
        header.append(UInt8(min(m.maxZoom, max(m.minZoom, 14))))
        i32((b.minX + b.maxX) / 2); i32((b.minY + b.maxY) / 2)
        guard header.count == 127 else { throw ArchiveError("internal: PMTiles header is \(header.count) bytes") }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw ArchiveError("cannot write \(path)") }
        defer { try? handle.close() }
        for part in [header, root, metadata, leaves, data] { try handle.write(contentsOf: Data(part)) }
    }
}

enum JSONText {
    static func quote(_ s: String) -> String {
        var out = ""
        JSONValue.writeString(s, into: &out)
        return out
    }
}

public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
