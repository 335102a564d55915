import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1.1 channel with LandMap's connection policy: connections idle or still
/// sending their request head past `idleTimeout` are closed (Hummingbird's idle handler only
/// counts whole request parts as activity, so a trickled header never resets it), and a request
/// head the decoder refuses is answered with a problem document instead of an empty 400.
struct LandMapHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel

    init(responder: @escaping HTTPChannelHandler.Responder, idleTimeout: Duration) {
        base = HTTP1Channel(responder: responder, configuration: .init(idleTimeout: TimeAmount(idleTimeout)))
    }

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(BadRequestHeadHandler(), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    /// The server builder for `Application(server:)`.
    static func builder(idleTimeout: Duration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in LandMapHTTP1Channel(responder: responder, idleTimeout: idleTimeout) }
    }
}

/// Sits right after NIO's HTTP/1 decoder. When the decoder gives up on a request head (a request
/// line or header block over the 80 KiB limit, bad characters) between requests, it answers
/// with an RFC 9457 problem document and closes the connection; Hummingbird would send an
/// empty 400. Mid-response it leaves the error to Hummingbird, so two answers never interleave.
final class BadRequestHeadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var answering = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { answering += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { answering = max(0, answering - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError, answering == 0 else {
            context.fireErrorCaught(error)
            return
        }
        let problem = Self.problem(for: parse)
        let body = ByteBuffer(string: problem.documentJSON(instance: nil))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/problem+json")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: Int(problem.status.code)), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// NIO's decoder counts the request line and the header fields against one 80 KiB budget and
    /// reports both as `headerOverflow`, so a too-long query string and too many headers get the
    /// same answer: 431 (RFC 6585, the request head is too large), naming both causes.
    static func problem(for error: HTTPParserError) -> Problem {
        switch error {
        case .headerOverflow:
            return Problem(.requestHeaderFieldsTooLarge, "the request line and headers are larger than the limit of 80 KiB: shorten the query string or the headers")
        default:
            return Problem(.badRequest, "the request is not valid HTTP/1.1 (\(error)); the connection is closed")
        }
    }
}
