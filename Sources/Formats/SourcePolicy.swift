import CGDAL
import Foundation
import Synchronization

/// What a file given by a user (an upload, a CLI argument) may make GDAL open: only a local
/// regular file of SPEC §3's formats, through an allow-list of drivers, and never LandMap's own
/// database. GDAL can otherwise follow a file to another path, a URL or a database (a VRT, a
/// `/vsicurl/` name, a MapInfo view or seamless table, a symlink), and a second descriptor on the
/// live SQLite file, once closed, drops this process's POSIX locks on it and lets two writers
/// corrupt it. `OGRReader` applies every check here before `GDALOpenEx`.
public enum SourcePolicy {
    /// The GDAL drivers of SPEC §3's formats: `GDALOpenEx` tries no other (no VRT, no SQLite,
    /// no network drivers). DGNv8 is used when this GDAL has it.
    public static let drivers = ["ESRI Shapefile", "GPKG", "GeoJSON", "GeoJSONSeq", "CSV", "DXF", "DGN", "DGNv8", "MapInfo File"]

    /// Paths of databases this process has open (`protect(database:)`); compared by device and
    /// inode at each check, with their `-wal`, `-shm` and `-journal`.
    private static let databases = Mutex<Set<String>>([])

    /// Marks a database file as never to be opened by GDAL in this process, whatever name
    /// (symlink, hard link, `..`) a file given later uses for it. Called by whoever opens a store.
    public static func protect(database path: String) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        databases.withLock { _ = $0.insert(absolute) }
    }

    /// A file's identity: the same for every name of it (symlinks followed, hard links alike).
    struct Identity: Hashable {
        let device: UInt64
        let inode: UInt64

        init?(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// The identities of the protected databases' files as they are now.
    static func protectedIdentities() -> Set<Identity> {
        let paths = databases.withLock { $0 }
        var found = Set<Identity>()
        for path in paths {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                if let id = Identity(path + suffix) { found.insert(id) }
            }
        }
        return found
    }

    /// The files GDAL's drivers read beside the one named (same stem, any letter case): a
    /// Shapefile's parts and indexes, a MapInfo table's, a CSV's column types and CRS.
    static let sidecars: Set<String> = ["shp", "shx", "dbf", "prj", "cpg", "qix", "sbn", "sbx", "qpj", "shp.xml", "aux.xml", "shp.aux.xml",
                                        "csvt", "tab", "dat", "map", "id", "ind", "mif", "mid"]

    /// Why a name is not a plain local path, or nil: GDAL's virtual file systems (`/vsicurl/`,
    /// `/vsizip/` given by hand, `/vsistdin/`…) and URLs.
    static func nameProblem(_ path: String) -> String? {
        let lower = path.lowercased()
        if lower.hasPrefix("/vsi") { return "'\(path)' names a GDAL virtual file system (/vsi…), not a local file: refused" }
        if lower.contains("://") { return "'\(path)' is a URL, not a local file: LandMap reads local files only" }
        return nil
    }

    /// Checks a local file the user named and returns its real path (symlinks resolved), which is
    /// what GDAL is given: it must be a regular file, not the live database nor a name for it, and
    /// no file beside it that GDAL would read with it (a Shapefile's `.dbf`, a TAB's `.dat`) may
    /// be the live database either.
    public static func checkLocalFile(_ path: String) throws -> String {
        if let problem = nameProblem(path) { throw FormatError.unsafe(file: path, problem) }
        guard let resolved = realpath(path, nil) else { throw FormatError(file: path, "no such file") }
        let real = String(cString: resolved)
        free(resolved)
        var info = stat()
        guard stat(real, &info) == 0 else { throw FormatError(file: path, "no such file") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw FormatError(file: path, "is not a regular file (a directory or a device): name the data file itself")
        }
        let protected = protectedIdentities()
        if let id = Identity(real), protected.contains(id) {
            throw FormatError.unsafe(file: path, "is LandMap's own database (or its -wal/-shm): it is never read as an import")
        }
        // SQLite reads a database's own -wal and -shm beside it: they must not be the live ones.
        for suffix in ["-wal", "-shm", "-journal"] {
            if let id = Identity(real + suffix), protected.contains(id) {
                throw FormatError.unsafe(file: path, "its \(suffix) file is LandMap's own database's: refused")
            }
        }
        let folder = (real as NSString).deletingLastPathComponent
        let stem = ((real as NSString).lastPathComponent as NSString).deletingPathExtension.lowercased() + "."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.lowercased().hasPrefix(stem) {
            guard sidecars.contains(String(name.lowercased().dropFirst(stem.count))) else { continue }
            if let id = Identity(folder + "/" + name), protected.contains(id) {
                throw FormatError.unsafe(file: path, "\(name) beside it is LandMap's own database (or its -wal/-shm): refused")
            }
        }
        let ext = (real as NSString).pathExtension.lowercased()
        if ext == "zip" { return real }
        try checkContent(gdalPath: real, file: path)
        return real
    }

    /// Checks a path GDAL is to create: a local name, and no file GDAL would write beside it
    /// (a Shapefile's `.dbf`, `.shx`…) there already — not even a symlink, which GDAL would follow
    /// and truncate, whatever it names (the live database included).
    public static func checkOutput(_ path: String) throws {
        if let problem = nameProblem(path) { throw FormatError.unsafe(file: path, problem) }
        let folder = (path as NSString).deletingLastPathComponent
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension.lowercased() + "."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        where name.lowercased().hasPrefix(stem) && sidecars.contains(String(name.lowercased().dropFirst(stem.count))) {
            throw FormatError(file: path, "\(name) exists already beside it and would be overwritten; remove it or choose another --out")
        }
    }

    /// Refuses content that names other files, whatever the file's extension: GDAL VRT XML, and
    /// MapInfo view or seamless tables (which open the tables they list).
    static func checkContent(gdalPath: String, file: String) throws {
        let ext = (gdalPath as NSString).pathExtension.lowercased()
        if ["vrt", "ovf"].contains(ext) {
            throw FormatError.unsafe(file: file, "is a GDAL VRT, which names other files, URLs or databases to read: refused (send the data file itself)")
        }
        let head = read(gdalPath, upTo: ext == "tab" ? 16 << 20 : 4096).lowercased()
        if head.contains("<ogrvrtdatasource") || head.contains("<vrtdataset") {
            throw FormatError.unsafe(file: file, "holds a GDAL VRT, which names other files, URLs or databases to read: refused (send the data file itself)")
        }
        // A .tab is a small text header (its data is in the .dat): read whole, any line may say it.
        if ext == "tab", head.contains("!seamless") || head.contains("\\isseamless") || head.contains("create view") || head.contains("open table") {
            throw FormatError.unsafe(file: file, "is a MapInfo view or seamless table, which opens other tables: refused (send the tables themselves)")
        }
        if ["geojson", "json", "geojsonl", "geojsons"].contains(ext) || head.hasPrefix("{") || head.hasPrefix("\u{1e}") {
            if let kind = crsLink(gdalPath) {
                throw FormatError.unsafe(file: file, "declares its CRS as a \(kind) to fetch ('crs' of type \(kind)): refused, LandMap fetches nothing a file names (give the CRS with --crs or a named crs)")
            }
        }
    }

    /// The kind (`link`, `url`) of a GeoJSON `crs` member that GDAL would fetch over the
    /// network, or nil. The 2008 GeoJSON spec's linked CRS: GDAL's reader fetches its `href`.
    /// Read in 4 MiB steps that overlap by 4 KiB, so a large file costs little memory.
    static func crsLink(_ gdalPath: String) -> String? {
        guard let file = VSIFOpenL(gdalPath, "rb") else { return nil }
        defer { VSIFCloseL(file) }
        let step = 4 << 20, overlap = 4096
        var carry = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: step)
        let pattern = #""crs"\s*:\s*\{(?:[^{}]|\{[^{}]*\}){0,2000}?"(link|url)""#
        while true {
            let n = buffer.withUnsafeMutableBytes { VSIFReadL($0.baseAddress, 1, step, file) }
            guard n > 0 else { return nil }
            let chunk = carry + buffer.prefix(n)
            // Only the text from each `"crs"` on is decoded and matched: a whole file through
            // the regular expression cost a fifth of a large import's time.
            for start in crsKeys(in: chunk) {
                let window = chunk[start..<min(chunk.count, start + 1 << 20)]
                let text = String(decoding: window, as: UTF8.self).lowercased()
                if let r = text.range(of: pattern, options: [.regularExpression, .anchored]) {
                    return text[r].contains("\"url\"") ? "url" : "link"
                }
            }
            carry = Array(chunk.suffix(overlap))
        }
    }

    /// Where `"crs"` starts in `bytes`, in any letter case.
    static func crsKeys(in bytes: [UInt8]) -> [Int] {
        var found = [Int]()
        guard bytes.count >= 5 else { return found }
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i + 4 < b.count {
                if b[i] == 0x22, b[i + 4] == 0x22, b[i + 1] | 0x20 == 0x63, b[i + 2] | 0x20 == 0x72, b[i + 3] | 0x20 == 0x73 { found.append(i) }
                i += 1
            }
        }
        return found
    }

    /// Up to `limit` bytes of a file, through GDAL's virtual file system (zip entries too), as text.
    static func read(_ gdalPath: String, upTo limit: Int) -> String {
        guard let file = VSIFOpenL(gdalPath, "rb") else { return "" }
        defer { VSIFCloseL(file) }
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { VSIFReadL($0.baseAddress, 1, limit, file) }
        return String(decoding: buffer.prefix(n), as: UTF8.self)
    }

    /// Why a zip entry may not be read, or nil: a symlink (it names another path), a VRT.
    static func zipEntryProblem(_ entry: ZipDirectory.Entry) -> String? {
        if entry.isSymlink { return "the zip archive holds a symbolic link ('\(entry.name)'), which names another file: refused" }
        if ["vrt", "ovf"].contains((entry.name as NSString).pathExtension.lowercased()) {
            return "the zip archive holds a GDAL VRT ('\(entry.name)'), which names other files, URLs or databases to read: refused"
        }
        return nil
    }
}
