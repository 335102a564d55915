import Backends
import Access
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Import
import Logging
import NIOCore
import NIOEmbedded
import Server
import Store
import Synchronization

/// The real router over the GeoData sample (imported once into a temporary GeoPackage), called
/// in process: every route's parameter parsing, problem documents and handlers, no sockets.
public final class FuzzServer: Sendable {
    let responder: RouterResponder<LandMapContext>
    let channel: EmbeddedChannel
    public let editorToken: String

    public static let shared: FuzzServer = {
        do { return try FuzzServer() } catch {
            print("fuzz: cannot set up the server: \(error)")
            exit(2)
        }
    }()

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("landmap-fuzz-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try StoreLocation(dir.appendingPathComponent("fuzz.gpkg").path).open(create: true)
        guard let sample = SampleLoader.locate() else { throw CocoaError(.fileNoSuchFile) }
        _ = try SampleLoader.load(from: sample, into: store, actor: "fuzz")
        editorToken = try AccessTokens(store: store).create(name: "fuzz", role: .editor, actor: "fuzz").token
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        configuration.maxBodyBytes = 1 << 20
        responder = LandMapServer.router(try ServerState(store: store, configuration: configuration)).buildResponder()
        channel = EmbeddedChannel()
    }

    /// Sends one request and waits for the answer; a 5xx is a finding (a crash, for libFuzzer).
    public func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: [UInt8] = []) {
        let head = HTTPRequest(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers)
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical  // one access-log line per input would drown the fuzzer's own output
        let context = LandMapContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        let done = DispatchSemaphore(value: 0)
        let status = Mutex<Int>(0)
        let responder = responder
        Task {
            do {
                let response = try await responder.respond(to: request, context: context)
                status.withLock { $0 = response.status.code }
            } catch {
                status.withLock { $0 = -1 }
            }
            done.signal()
        }
        done.wait()
        let code = status.withLock { $0 }
        if code >= 500 || code < 0 {
            print("fuzz: \(method) \(uri) answered \(code)")
            abort()
        }
    }
}

