import Foundation

/// The entries of a zip archive as its central directory lists them (names, expanded sizes),
/// read without expanding anything: what the checks against zip-slip paths and zip bombs need
/// before GDAL opens an uploaded archive. Zip64 sizes are understood.
public struct ZipDirectory: Sendable {
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var expandedSize: UInt64
        /// A Unix symbolic link (its content is the path it names).
        public var isSymlink = false
    }

    public let entries: [Entry]

    public init(path: String) throws {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw FormatError(file: path, "cannot be read")
        }
        entries = try Self.parse(data, path: path)
    }

    static func parse(_ data: Data, path: String) throws -> [Entry] {
        func u16(_ at: Int) -> Int? { at >= 0 && at + 2 <= data.count ? Int(data[data.startIndex + at]) | Int(data[data.startIndex + at + 1]) << 8 : nil }
        func u32(_ at: Int) -> UInt64? { guard let lo = u16(at), let hi = u16(at + 2) else { return nil }; return UInt64(lo) | UInt64(hi) << 16 }
        func u64(_ at: Int) -> UInt64? { guard let lo = u32(at), let hi = u32(at + 4) else { return nil }; return lo | hi << 32 }
        let damaged = FormatError(file: path, "not a readable zip archive (damaged, or not a zip)")

        // End of central directory: the last 22 bytes, or up to 64 KiB earlier behind a comment.
        var eocd = -1
        var at = data.count - 22
        while at >= max(0, data.count - 22 - 65_535) {
            if u32(at) == 0x0605_4b50 { eocd = at; break }
            at -= 1
        }
        guard eocd >= 0, var count = u16(eocd + 10).map(UInt64.init), var offset = u32(eocd + 16) else { throw damaged }
        if count == 0xFFFF || offset == 0xFFFF_FFFF {
            guard u32(eocd - 20) == 0x0706_4b50, let z64 = u64(eocd - 20 + 8), z64 < UInt64(data.count), u32(Int(z64)) == 0x0606_4b50,
                  let c = u64(Int(z64) + 32), let o = u64(Int(z64) + 48) else { throw damaged }
            (count, offset) = (c, o)
        }
        guard count <= 1_000_000, offset < UInt64(data.count) else { throw damaged }
        var entries = [Entry]()
        var p = Int(offset)
        for _ in 0..<count {
            guard u32(p) == 0x0201_4b50, let madeBy = u16(p + 4), let attributes = u32(p + 38), var size = u32(p + 24), let compressed = u32(p + 20), let nameLength = u16(p + 28),
                  let extraLength = u16(p + 30), let commentLength = u16(p + 32), p + 46 + nameLength + extraLength <= data.count else { throw damaged }
            let nameStart = data.startIndex + p + 46
            let name = String(decoding: data[nameStart..<nameStart + nameLength], as: UTF8.self)
            if size == 0xFFFF_FFFF {
                // The zip64 extra field holds the expanded size first.
                var e = p + 46 + nameLength
                let end = e + extraLength
                while e + 4 <= end, let id = u16(e), let length = u16(e + 2) {
                    if id == 0x0001, length >= 8, let big = u64(e + 4) { size = big; break }
                    e += 4 + length
                }
            }
            _ = compressed
            // Made on Unix (host 3): the high 16 bits of the external attributes are st_mode.
            let symlink = madeBy >> 8 == 3 && (attributes >> 16) & 0o170000 == 0o120000
            entries.append(Entry(name: name, expandedSize: size, isSymlink: symlink))
            p += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }
}
