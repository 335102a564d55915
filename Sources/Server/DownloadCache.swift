import Foundation
import Store
import Synchronization

/// The files `GET /downloads/{layer}.{format}` serves, made once per layer, data version,
/// audience and format and kept in one folder, at most `capacityBytes` of them (the newest file
/// is kept even when it alone is larger). A file is written under a temporary name and renamed
/// into place when complete, so a crash never leaves a file that looks complete; concurrent
/// requests for a file being made wait for that one making. When a newer version of a file is
/// made, the older ones are removed; past the limit, the least recently used go first. A file
/// removed while it is being sent is still read to its end (the sender holds it open).
final class DownloadCache: Sendable {
    struct Key: Hashable, Sendable {
        let layer: String
        let version: Int64
        /// `LayerAccess.audience`: "public" or "private".
        let audience: String
        let format: String

        var fileName: String { "\(layer).v\(version).\(audience).\(format)" }
        /// Files of one layer, audience and format: a new version replaces the others.
        func sameFamily(_ other: Key) -> Bool { layer == other.layer && audience == other.audience && format == other.format }
    }

    let folder: URL
    let capacityBytes: Int

    private struct Entry {
        var size: Int
        var lastUse: UInt64
    }
    private struct State {
        var entries: [Key: Entry] = [:]
        var making: [Key: Task<String, any Error>] = [:]
        var tick: UInt64 = 0
    }
    private let state: Mutex<State>
    /// Files made since start (tests read it).
    let made: Atomic<Int>

    /// Opens (making it, private to this user) the folder. Files left there by an earlier run
    /// are removed: a database made again under the same name counts its versions from the
    /// start again, so an old file could not be told from a new one.
    init(folder: URL, capacityBytes: Int) throws {
        self.folder = folder
        self.capacityBytes = capacityBytes
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where Self.isOurs(name) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        // Noncopyable properties set after the throwing part (Swift 6.3's optimiser crashes on a throwing class init whose noncopyable property has a default value).
        state = Mutex(State())
        made = Atomic(0)
    }

    /// A file name this cache makes (finished, or being written).
    static func isOurs(_ name: String) -> Bool {
        name.hasSuffix(".partial") || ["geojson", "gpkg", "csv"].contains { name.hasSuffix(".\($0)") } && name.contains(".v")
    }

    /// The default folder: beside a GeoPackage (`landmap.gpkg` → `landmap.gpkg.downloads/`), or
    /// for a database server, in the temporary folder, one per database (named by a hash of its
    /// URL without the password).
    static func defaultFolder(localFile: String?, location: String) -> URL {
        if let localFile { return URL(fileURLWithPath: localFile + ".downloads") }
        var hasher = FNV1a()
        hasher.add(location)
        return FileManager.default.temporaryDirectory.appendingPathComponent("landmap-downloads-\(String(hasher.value, radix: 36))")
    }

    /// The path of the finished file for `key`, made by `make` (given the path to write) when it
    /// is not there. Only one making per key runs at a time; other callers wait for it.
    func file(_ key: Key, make: @escaping @Sendable (String) throws -> Void) async throws -> String {
        let path = folder.appendingPathComponent(key.fileName).path
        let task: Task<String, any Error> = state.withLock { s in
            if s.entries[key] != nil, FileManager.default.fileExists(atPath: path) {
                s.tick += 1
                s.entries[key]?.lastUse = s.tick
                return Task { path }
            }
            s.entries[key] = nil
            if let running = s.making[key] { return running }
            let task = Task<String, any Error> {
                do {
                    let size = try await Blocking.run { try self.make(key, path: path, make) }
                    self.made.add(1, ordering: .relaxed)
                    self.finished(key, size: size)
                    return path
                } catch {
                    _ = self.state.withLock { $0.making.removeValue(forKey: key) }
                    throw error
                }
            }
            s.making[key] = task
            return task
        }
        return try await task.value
    }

    /// Writes the file under a temporary name, then renames it into place; its size.
    private func make(_ key: Key, path: String, _ make: (String) throws -> Void) throws -> Int {
        let partial = folder.appendingPathComponent("\(key.fileName).\(UUID().uuidString).partial").path
        do {
            try make(partial)
            let size = (try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0
            guard rename(partial, path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
            return size
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    /// Records a new file; removes older versions of it, then the least recently used files
    /// while the folder holds more than `capacityBytes`.
    private func finished(_ key: Key, size: Int) {
        let remove: [Key] = state.withLock { s in
            s.making[key] = nil
            s.tick += 1
            s.entries[key] = Entry(size: size, lastUse: s.tick)
            var gone = s.entries.keys.filter { $0 != key && $0.sameFamily(key) && $0.version < key.version }
            for k in gone { s.entries[k] = nil }
            var total = s.entries.values.reduce(0) { $0 + $1.size }
            for (k, e) in s.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) where total > capacityBytes && k != key {
                total -= e.size
                s.entries[k] = nil
                gone.append(k)
            }
            return gone
        }
        for k in remove { try? FileManager.default.removeItem(at: folder.appendingPathComponent(k.fileName)) }
    }

    /// The bytes of the files kept now.
    var bytes: Int { state.withLock { $0.entries.values.reduce(0) { $0 + $1.size } } }
}
