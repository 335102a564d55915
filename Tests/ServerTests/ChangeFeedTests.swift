import Access
import Backends
import Features
import Foundation
import Geometry
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import Testing
import TestSupport

/// SPEC §9's change feed over HTTP, on both backends: `GET /collections/{layer}/changes`.
@Suite(.serialized) struct ChangeFeedTests {
    static func shop(_ i: Int, name: String = "Cửa hàng", owner: String = "Trần Thị B") -> Feature {
        let x = 106.70 + Double(i) * 0.001
        return Feature(id: "s\(i)", geometry: .point(Coordinate(x, 10.78)),
                       properties: ["name": .string("\(name) \(i)"), "owner": .string(owner), "floors": .integer(Int64(i))])
    }

    struct FeedServer {
        let state: ServerState
        let location: String
        let backend: Backend
        let reader: String

        static func make(_ backend: Backend, _ label: String) throws -> FeedServer {
            let location = try backend.freshLocation(label)
            let store = try StoreLocation(location).open(create: true)
            var configuration = ServerConfiguration()
            configuration.lookupWorkers = 1
            let reader = try AccessTokens(store: store).create(name: "feed-reader", role: .reader, actor: "tests").token
            return FeedServer(state: try ServerState(store: store, configuration: configuration), location: location, backend: backend, reader: reader)
        }

        var store: any LandMapStore { state.store }

        func test<T>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
            try await Application(router: LandMapServer.router(state)).test(.router, body)
        }

        func execute(_ sql: String) throws {
            switch backend {
            case .geoPackage: try DatabaseQueue(path: location).write { db in try db.execute(sql: sql) }
            case .postGIS: _ = try TestPostgres.psql(location, sql)
            }
        }
    }

    /// Every change of a layer, following `next` links from `since`.
    static func follow(_ client: any TestClientProtocol, _ first: String, headers: HTTPFields = [:]) async throws -> (changes: [JSONValue], pages: [JSONValue]) {
        var uri: String? = first
        var changes = [JSONValue](), pages = [JSONValue]()
        while let next = uri {
            let body = try await client.execute(uri: next, method: .get, headers: headers) { r in
                #expect(r.status == .ok, "\(next): \(r.status) \(r.text)")
                return r.json.value
            }
            let page = try #require(body)
            pages.append(page)
            changes += page["changes"]?.arrayValue ?? []
            uri = page["links"]?.arrayValue?.first { $0["rel"] == "next" }?["href"]?.stringValue
                .map { $0.replacingOccurrences(of: "http://localhost", with: "") }
        }
        return (changes, pages)
    }

    @Test(arguments: Backend.allCases)
    func changesListInsertsUpdatesDeletesInOrder(_ backend: Backend) async throws {
        let server = try FeedServer.make(backend, "feed-http")
        let store = server.store
        let request = { BatchRequest(layer: "shops", mode: .upsert, source: "test", actor: "tests") }
        try store.write(request()) { w in for i in 1...5 { try w.put(Self.shop(i)) } }  // 1
        try store.write(request()) { w in  // 2
            try w.put(Self.shop(2, name: "Nhà sách"))
            try w.delete(id: "s3")
        }
        try store.write(request()) { w in try w.put(Self.shop(3, name: "Mới")) }  // 3: s3 made again
        try store.write(BatchRequest(layer: "private_notes", mode: .append, source: "test", actor: "tests")) { w in try w.put(Self.shop(9)) }
        var internalMetadata = try #require(try store.schema(of: "private_notes")).metadata
        internalMetadata.access = .internal
        try store.setMetadata(internalMetadata, of: "private_notes", actor: "tests")

        try await server.test { client in
            let whole = try #require(try await client.execute(uri: "/collections/shops/changes?since=0", method: .get) { r in
                #expect(r.status == .ok)
                return r.json.value
            })
            #expect(whole["from"] == 0 && whole["to"] == 3)
            let changes = whole["changes"]?.arrayValue ?? []
            #expect(changes.map { "\($0["data_version"]?.jsonText ?? "") \($0["op"]?.stringValue ?? "") \($0["id"]?.stringValue ?? "") v\($0["version"]?.jsonText ?? "")" }
                == ["1 insert s1 v1", "1 insert s2 v1", "1 insert s3 v1", "1 insert s4 v1", "1 insert s5 v1",
                    "2 update s2 v2", "2 delete s3 v1", "3 insert s3 v2"])
            #expect(changes[5]["feature"]?["properties"]?["name"] == "Nhà sách 2")
            #expect(changes[5]["feature"]?["type"] == "Feature" && changes[5]["feature"]?["geometry"]?["type"] == "Point")
            #expect(changes[6]["feature"] == nil)
            #expect(whole["links"]?.arrayValue?.contains { $0["rel"] == "next" } == false)
            // Private fields hidden from anonymous callers exactly as items hide them; seen with a token.
            #expect(!whole.jsonText.contains("owner") && !whole.jsonText.contains("Trần Thị B"))
            let item = try #require(try await client.execute(uri: "/collections/shops/items/s1", method: .get) { $0.json.value })
            #expect(changes[0]["feature"]?["properties"] == item["properties"])
            let seen = try #require(try await client.execute(uri: "/collections/shops/changes?since=0", method: .get, headers: bearer(server.reader)) { $0.json.value })
            #expect(seen["changes"]?.arrayValue?.first?["feature"]?["properties"]?["owner"] == "Trần Thị B")

            // Pages of 3: the first ends inside batch 1 (to 0, resumed after s3); the rest follow with nothing skipped or repeated.
            let paged = try await Self.follow(client, "/collections/shops/changes?since=0&limit=3")
            #expect(paged.changes == changes)
            #expect(paged.pages.map { $0["to"]?.jsonText ?? "" } == ["0", "1", "3"])
            let next = paged.pages[0]["links"]?.arrayValue?.first { $0["rel"] == "next" }?["href"]?.stringValue ?? ""
            #expect(next.hasSuffix("/collections/shops/changes?since=0&limit=3&after=s3"))
            // From the present version: nothing; from a middle one: only what came after.
            #expect(try await client.execute(uri: "/collections/shops/changes?since=3", method: .get) { $0.json.value?["changes"]?.arrayValue?.count } == 0)
            #expect(try await client.execute(uri: "/collections/shops/changes?since=2", method: .get) { $0.json.value?["changes"]?.arrayValue?.count } == 1)

            // Bad cursors: 400; an internal layer to anonymous callers, and no layer: 404 alike.
            for bad in ["since=4", "since=abc", "since=-1", "", "since=0&limit=0"] {
                try await client.execute(uri: "/collections/shops/changes?\(bad)", method: .get) { r in
                    #expect(r.status == .badRequest, "\(bad): \(r.status)")
                    #expect(r.headers[.contentType] == "application/problem+json")
                }
            }
            try await client.execute(uri: "/collections/private_notes/changes?since=0", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/collections/nothing/changes?since=0", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/collections/private_notes/changes?since=0", method: .get, headers: bearer(server.reader)) { r in
                #expect(r.status == .ok)
                #expect(r.json.value?["changes"]?.arrayValue?.count == 1)
            }
        }

        // History the database cannot answer (batches from before data versions were kept): 410.
        try server.execute("UPDATE landmap_batches SET data_version = NULL WHERE layer = 'shops' AND data_version = 1")
        try await server.test { client in
            try await client.execute(uri: "/collections/shops/changes?since=0", method: .get) { r in
                #expect(r.status == .gone)
                #expect(r.text.contains("download"))
            }
            try await client.execute(uri: "/collections/shops/changes?since=1", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.json.value?["changes"]?.arrayValue?.count == 3)
            }
        }
    }
}
