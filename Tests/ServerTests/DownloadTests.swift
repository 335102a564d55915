import Access
import Backends
import Features
import Foundation
import GeoPackage
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Import
@testable import Server
import Store
import Testing
import TestSupport

/// A server over its own copy of the sample with its own download folder, the `--db` value the
/// `landmap` binary opens it by, and a reader and an admin token.
struct DownloadServer {
    let state: ServerState
    let db: String
    let folder: URL
    let reader: String, admin: String

    static func make(_ label: String, _ backend: Backend, cacheBytes: Int = 2 << 30) throws -> DownloadServer {
        let (db, store) = try ServerFixture.sampleCopy(label, backend)
        let folder = try SharedData.temporaryDirectory(label + "-downloads")
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        configuration.downloadCacheFolder = folder.path
        configuration.downloadCacheBytes = cacheBytes
        let tokens = AccessTokens(store: store)
        return try DownloadServer(state: ServerState(store: store, configuration: configuration), db: db, folder: folder,
                                  reader: tokens.create(name: "test-reader", role: .reader, actor: "tests").token,
                                  admin: tokens.create(name: "test-admin", role: .admin, actor: "tests").token)
    }

    func test<T>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await Application(router: LandMapServer.router(state)).test(.router, body)
    }

    /// The finished files in the download folder.
    var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }
}

/// One download, read whole.
struct Download: Sendable {
    let status: HTTPResponse.Status
    let bytes: [UInt8]
    let headers: HTTPFields

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The body written to a file named like the download, for GDAL.
    func saved(as name: String) throws -> String {
        let path = try SharedData.temporaryDirectory("download").appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

func download(_ client: any TestClientProtocol, _ uri: String, _ token: String? = nil, headers: HTTPFields = [:]) async throws -> Download {
    try await client.execute(uri: uri, method: .get, headers: (token.map { bearer($0) } ?? [:]) + headers) { r in
        Download(status: r.status, bytes: Array(r.body.readableBytesView), headers: r.headers)
    }
}

@Suite(.serialized) struct DownloadTests {
    static let backends: [Backend] = [.geoPackage, .postGIS]
    static let formats = ["geojson", "gpkg", "csv"]
    static let sampleParcels = 4162
    /// Owners' names and ids, as stored and under the names survey files give them.
    static let ownerNames = ["owner", "owner_id", "chusudung", "tenchusudung", "hoten", "soccd", "socmnd", "cccd", "cmnd"]

    /// `ogrinfo -so -al`'s feature count of a file, and its output.
    static func ogrCount(_ path: String) throws -> (count: Int?, output: String) {
        let ogrinfo = try #require(SharedData.which("ogrinfo"), "GDAL's ogrinfo is not installed")
        let (status, output) = try SharedData.run(ogrinfo, ["-ro", "-so", "-al", path])
        #expect(status == 0, "\(output)")
        let count = output.split(separator: "\n").first { $0.hasPrefix("Feature Count: ") }.flatMap { Int($0.dropFirst("Feature Count: ".count)) }
        return (count, output)
    }

    @Test(arguments: backends)
    func downloadsOpenInGDALWithTheLayersCountAndOwnersOnlyForTokens(_ backend: Backend) async throws {
        let server = try DownloadServer.make("dl-gdal-\(backend)", backend)
        try await server.test { client in
            for format in Self.formats {
                for token in [nil, server.reader] {
                    let d = try await download(client, "/downloads/parcels.\(format)", token, headers: [.acceptEncoding: "gzip"])
                    #expect(d.status == .ok, "\(format)")
                    #expect(d.headers[.contentType] == ["geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
                                                         "csv": "text/csv; charset=utf-8"][format])
                    #expect(d.headers[.contentDisposition] == "attachment; filename=\"parcels.\(format)\"")
                    #expect(d.headers[.contentLength] == String(d.bytes.count))
                    #expect(d.headers[.acceptRanges] == "bytes")
                    #expect(d.headers[.contentEncoding] == nil, "a download is never gzipped on the fly (ranges count its own bytes)")
                    #expect(d.headers[.lastModified] != nil)
                    #expect(d.headers[.cacheControl] == (token == nil ? "public, max-age=300" : "private, max-age=300"))
                    let path = try d.saved(as: "parcels.\(format)")
                    let (count, info) = try Self.ogrCount(path)
                    #expect(count == Self.sampleParcels, "\(format): \(info.prefix(400))")
                    // Every byte of the file: GeoJSON and CSV text, and the GeoPackage's tables and JSON.
                    let lower = String(decoding: d.bytes, as: UTF8.self).lowercased()
                    for name in Self.ownerNames {
                        if token == nil {
                            #expect(!lower.contains(name), "an anonymous \(format) download names '\(name)'")
                        }
                    }
                    if token != nil {
                        #expect(lower.contains("owner_id") && lower.contains("owner"), "a reader's \(format) download has the owners")
                        #expect(info.contains("owner"), "ogrinfo lists no owner field in the reader's \(format)")
                    }
                }
            }
        }
    }

    @Test(arguments: backends)
    func theSameBytesAsLandmapExport(_ backend: Backend) async throws {
        let landmap = try #require(SharedData.product("landmap"), "the landmap executable is not built")
        let server = try DownloadServer.make("dl-export-\(backend)", backend)
        let out = try SharedData.temporaryDirectory("dl-export-out")
        try await server.test { client in
            for format in Self.formats {
                for (token, flags) in [(nil, ["--hide-private"]), (server.reader, [])] as [(String?, [String])] {
                    let d = try await download(client, "/downloads/parcels.\(format)", token)
                    #expect(d.status == .ok)
                    let file = out.appendingPathComponent("\(format)-\(token == nil ? "public" : "private").\(format)").path
                    let (status, output) = try SharedData.run(landmap, ["export", "--layer", "parcels", "--format", format, "--out", file, "--db", server.db] + flags)
                    #expect(status == 0, "\(output)")
                    let exported = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
                    #expect(exported.count == d.bytes.count && exported == d.bytes,
                            "\(format) \(flags): the download (\(d.bytes.count) bytes) is not landmap export's (\(exported.count) bytes)")
                }
            }
        }
    }

    @Test(arguments: backends)
    func etagRangesAndConditionalRequests(_ backend: Backend) async throws {
        let server = try DownloadServer.make("dl-range-\(backend)", backend)
        try await server.test { client in
            let whole = try await download(client, "/downloads/parcels.geojson")
            let etag = try #require(whole.headers[.eTag])
            let size = whole.bytes.count
            // 304, with or without the file made; a token holder's tag differs (another audience).
            let again = try await download(client, "/downloads/parcels.geojson", headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.bytes.isEmpty && again.headers[.eTag] == etag)
            let theirs = try await download(client, "/downloads/parcels.geojson", server.reader, headers: [.ifNoneMatch: etag])
            #expect(theirs.status == .ok && theirs.headers[.eTag] != etag)
            let gpkg = try await download(client, "/downloads/parcels.gpkg", headers: [.ifNoneMatch: etag])
            #expect(gpkg.status == .ok && gpkg.headers[.eTag] != etag, "the format is part of the tag")

            let part = try await download(client, "/downloads/parcels.geojson", headers: [.range: "bytes=100-199"])
            #expect(part.status == .partialContent)
            #expect(part.headers[.contentRange] == "bytes 100-199/\(size)" && part.headers[.contentLength] == "100")
            #expect(part.bytes == Array(whole.bytes[100..<200]))
            let tail = try await download(client, "/downloads/parcels.geojson", headers: [.range: "bytes=-50"])
            #expect(tail.status == .partialContent && tail.bytes == Array(whole.bytes[(size - 50)...]))
            let open = try await download(client, "/downloads/parcels.geojson", headers: [.range: "bytes=\(size - 10)-"])
            #expect(open.status == .partialContent && open.bytes == Array(whole.bytes[(size - 10)...]))
            let first = try await download(client, "/downloads/parcels.geojson", headers: [.range: "bytes=0-9, 20-29"])
            #expect(first.status == .partialContent && first.bytes == Array(whole.bytes[0..<10]), "several ranges: the first is answered")
            let past = try await download(client, "/downloads/parcels.geojson", headers: [.range: "bytes=\(size)-"])
            #expect(past.status == .rangeNotSatisfiable && past.headers[.contentRange] == "bytes */\(size)")
            let stale = try await download(client, "/downloads/parcels.geojson", headers: [.range: "bytes=0-9", .ifRange: "\"lm-0-old\""])
            #expect(stale.status == .ok && stale.bytes.count == size, "If-Range naming another version: the whole file")
            let head = try await client.execute(uri: "/downloads/parcels.geojson", method: .head) { $0 }
            #expect(head.status == .ok && head.headers[.contentLength] == String(size) && head.body.readableBytes == 0)
        }
    }

    @Test(arguments: backends)
    func aLayerTheCallerMayNotReadIsNotFound(_ backend: Backend) async throws {
        let server = try DownloadServer.make("dl-internal-\(backend)", backend)
        var metadata = try #require(try server.state.store.schema(of: "zoning")).metadata
        metadata.access = .internal
        try server.state.store.setMetadata(metadata, of: "zoning", actor: "tests")
        try await server.test { client in
            for format in Self.formats {
                let anonymous = try await download(client, "/downloads/zoning.\(format)")
                let reader = try await download(client, "/downloads/zoning.\(format)", server.reader)
                let nothing = try await download(client, "/downloads/nothing.\(format)")
                #expect(anonymous.status == .notFound && reader.status == .ok && nothing.status == .notFound)
                #expect(anonymous.text == nothing.text.replacingOccurrences(of: "nothing", with: "zoning"), "the same 404 as no layer")
            }
            let shp = try await download(client, "/downloads/parcels.shp"), bare = try await download(client, "/downloads/parcels")
            #expect(shp.status == .notFound && bare.status == .notFound)
        }
        #expect(!server.files.contains { $0.hasPrefix("zoning") && $0.contains("public") }, "no anonymous file of an internal layer was made")
    }

    @Test(arguments: backends)
    func madeOncePerVersionRemadeAfterAWriteAndOldVersionsRemoved(_ backend: Backend) async throws {
        let server = try DownloadServer.make("dl-once-\(backend)", backend)
        let cache = server.state.downloads
        try await server.test { client in
            // Concurrent requests for a missing file: one making, every answer whole.
            let answers = try await withThrowingTaskGroup(of: Download.self) { group in
                for _ in 0..<4 { group.addTask { try await download(client, "/downloads/parcels.csv") } }
                return try await group.reduce(into: [Download]()) { $0.append($1) }
            }
            #expect(cache.made.load(ordering: .relaxed) == 1)
            #expect(Set(answers.map(\.bytes)).count == 1 && answers.allSatisfy { $0.status == .ok })
            let first = answers[0]
            let files = server.files
            #expect(files.count == 1 && files[0].hasSuffix(".public.csv"), "\(files)")
            let inode = try FileManager.default.attributesOfItem(atPath: server.folder.appendingPathComponent(files[0]).path)[.systemFileNumber] as? Int
            let second = try await download(client, "/downloads/parcels.csv")
            #expect(second.bytes == first.bytes && second.headers[.eTag] == first.headers[.eTag])
            #expect(cache.made.load(ordering: .relaxed) == 1, "the second request is answered from the file made by the first")
            #expect(try FileManager.default.attributesOfItem(atPath: server.folder.appendingPathComponent(files[0]).path)[.systemFileNumber] as? Int == inode)

            // A write: a new version, a new file, the old one removed.
            let deleted = try await client.execute(uri: "/collections/parcels/items/27484-1-1", method: .delete, headers: bearer(server.admin)) { $0.status }
            #expect(deleted == .noContent)
            let after = try await download(client, "/downloads/parcels.csv")
            #expect(cache.made.load(ordering: .relaxed) == 2)
            #expect(after.headers[.eTag] != first.headers[.eTag])
            #expect(after.text.split(separator: "\n").count == first.text.split(separator: "\n").count - 1)
            #expect(!after.text.contains("27484-1-1,"))
            let now = server.files
            #expect(now.count == 1 && now[0] != files[0], "the older version is removed: \(now)")
            #expect(!now.contains { $0.hasSuffix(".partial") })
        }
    }

    @Test func pastTheLimitTheLeastRecentlyUsedFileGoesFirst() async throws {
        let server = try DownloadServer.make("dl-lru", .geoPackage, cacheBytes: 3 << 20)
        try await server.test { client in
            let geojson = try await download(client, "/downloads/parcels.geojson")   // ~2 MB
            let csv = try await download(client, "/downloads/parcels.csv")           // ~1.4 MB: past 3 MiB, the GeoJSON goes
            #expect(geojson.bytes.count + csv.bytes.count > 3 << 20)
            #expect(server.files.count == 1 && server.files[0].hasSuffix(".csv"), "\(server.files)")
            _ = try await download(client, "/downloads/zoning.csv")                  // small: both kept
            #expect(server.files.count == 2)
            #expect(server.state.downloads.bytes <= 3 << 20)
            // A file removed from the folder behind the cache's back is made again, not a 500.
            for f in server.files { try FileManager.default.removeItem(at: server.folder.appendingPathComponent(f)) }
            let again = try await download(client, "/downloads/parcels.csv")
            #expect(again.status == .ok && again.bytes == csv.bytes)
        }
    }

    @Test func rangeHeaders() {
        typealias R = DownloadRoutes
        #expect(R.byteRange("bytes=0-0", size: 10) == .part(0..<1))
        #expect(R.byteRange("bytes=5-100", size: 10) == .part(5..<10))
        #expect(R.byteRange("bytes=-3", size: 10) == .part(7..<10))
        #expect(R.byteRange("bytes=-30", size: 10) == .part(0..<10))
        #expect(R.byteRange("bytes=10-", size: 10) == .unsatisfiable)
        #expect(R.byteRange("bytes=-0", size: 10) == .unsatisfiable)
        #expect(R.byteRange("bytes=5-2", size: 10) == .whole)
        #expect(R.byteRange("items=0-5", size: 10) == .whole)
        #expect(R.byteRange("bytes=x-5", size: 10) == .whole)
    }
}
