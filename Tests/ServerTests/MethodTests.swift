import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
@testable import Server
import Synchronization
import Testing

/// SPEC §11: HEAD wherever GET; methods a path does not take answer 405 with `Allow`; unknown
/// paths stay 404. And the access log shows what was asked, without credentials.
@Suite struct MethodTests {
    @Test func headAnswersAsGetWithoutABody() async throws {
        try await ServerFixture.test { client in
            for uri in ["/health", "/collections/parcels/items?limit=2", "/collections", "/api"] {
                let get = try await client.execute(uri: uri, method: .get) { $0 }
                let head = try await client.execute(uri: uri, method: .head) { $0 }
                #expect(get.status == .ok && head.status == .ok, "\(uri): GET \(get.status), HEAD \(head.status)")
                #expect(head.body.readableBytes == 0, "\(uri)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(uri)")
                #expect(head.headers[.contentLength] == get.headers[.contentLength], "\(uri)")
                #expect(head.headers[.eTag] == get.headers[.eTag], "\(uri)")
            }
        }
    }

    @Test func methodsAPathDoesNotTakeAnswer405WithAllow() async throws {
        try await ServerFixture.test { client in
            for (uri, method, allow) in [("/health", HTTPRequest.Method("TRACE")!, "GET, HEAD"),
                                         ("/collections/parcels/items/x", .patch, "GET, HEAD, PUT, DELETE"),
                                         ("/collections/parcels/items", .delete, "GET, HEAD, POST"),
                                         ("/imports", .get, "POST")] {
                try await client.execute(uri: uri, method: method) { r in
                    #expect(r.status == .methodNotAllowed, "\(method) \(uri): \(r.status)")
                    #expect(r.headers[.allow] == allow, "\(method) \(uri): \(r.headers[.allow] ?? "no Allow")")
                    #expect(r.headers[.contentType] == "application/problem+json")
                    #expect(r.json.value?["status"]?.doubleValue == 405)
                }
            }
            // No such path: 404, whatever the method; a route's own 404 (no such feature) stays 404.
            for (uri, method) in [("/nope", HTTPRequest.Method("TRACE")!), ("/nope", .get), ("/collections/parcels/items/no-such-parcel", .get)] {
                try await client.execute(uri: uri, method: method) { r in
                    #expect(r.status == .notFound, "\(method) \(uri): \(r.status)")
                    #expect(r.headers[.allow] == nil)
                }
            }
        }
    }

    @Test func theAccessLogShowsTheQueryWithoutSecrets() async throws {
        let lines = LogCapture()
        let logger = Logger(label: "test") { _ in lines }
        let app = Application(router: LandMapServer.router(try ServerFixture.shared.get()), logger: logger)
        try await app.test(.router) { client in
            _ = try await client.execute(uri: "/collections/parcels/items?limit=1&land_use=ODT&TOKEN=s3cret&password=hunter2&api_key=k", method: .get) { $0.status }
        }
        let request = try #require(lines.entries.first { $0.message == "request" })
        #expect(request.metadata["path"] == "/collections/parcels/items")
        #expect(request.metadata["query"] == "limit=1&land_use=ODT&TOKEN=REDACTED&password=REDACTED&api_key=REDACTED")
        #expect(!lines.entries.contains { "\($0.metadata)".contains("s3cret") || "\($0.metadata)".contains("hunter2") })
    }
}

/// A log handler that keeps every entry, for tests that read the log.
struct LogCapture: LogHandler, Sendable {
    struct Entry: Sendable { let message: String; let metadata: [String: String] }
    private let store = Store()
    final class Store: Sendable { let entries = Mutex<[Entry]>([]) }

    var entries: [Entry] { store.entries.withLock { $0 } }
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = metadata.merging(extra ?? [:]) { $1 }
        store.entries.withLock { $0.append(Entry(message: message.description, metadata: all.mapValues { "\($0)" })) }
    }
}
