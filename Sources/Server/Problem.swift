import Access
import CQL2
import Formats
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Import
import Projection
import Query
import Review
import Store

/// An RFC 9457 problem document (`application/problem+json`): every error the API answers.
public struct Problem: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let title: String
    public let detail: String
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    public let type: String
    /// Extra members of the problem document (an import's QA report, an edit's findings).
    public var extra: [String: JSONValue] = [:]
    /// Extra response headers (`WWW-Authenticate` on a 401).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ detail: String, title: String? = nil, type: String = "about:blank") {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.type = type
    }

    /// 401 with the `WWW-Authenticate` challenge RFC 6750 asks for.
    public static func unauthorized(_ detail: String, invalidToken: Bool = false) -> Problem {
        var p = Problem(.unauthorized, detail)
        p.headers[.wwwAuthenticate] = invalidToken ? "Bearer realm=\"landmap\", error=\"invalid_token\"" : "Bearer realm=\"landmap\""
        return p
    }

    public static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, detail) }
    public static func notFound(_ detail: String) -> Problem { Problem(.notFound, detail) }
    /// 507 (RFC 4918): the disk is full. Nothing half-written: the caller's transaction or temporary folder is gone.
    public static func insufficientStorage(_ detail: String) -> Problem {
        Problem(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), detail)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = documentJSON(instance: request.uri.path)
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// The problem document's JSON; `instance` is the request path, when there is one.
    func documentJSON(instance: String?) -> String {
        var members = extra
        for (k, v) in [("type", JSONValue.string(type)), ("title", .string(title)), ("status", .integer(Int64(status.code))),
                       ("detail", .string(detail))] { members[k] = v }
        if let instance { members["instance"] = .string(instance) }
        return JSONValue.object(members).jsonText
    }

    /// The problem an error from a lower layer stands for: bad input is the client's (400/404),
    /// anything else is ours (500, with no internals in the answer).
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let p as Problem: return p
        case let e as HTTPError where e.status == .notFound: return .notFound("no such resource")
        case let e as HTTPError: return Problem(e.status, e.body ?? e.status.reasonPhrase)
        case StoreError.unknownLayer(let name): return .notFound("no collection named '\(name)'")
        case StoreError.changeNotPending: return Problem(.conflict, "\(error)")
        case ReviewError.stale(_, let ids):
            var p = Problem(.conflict, "\(error)")
            p.extra["changed"] = .array(ids.map { .string($0) })
            return p
        case ReviewError.tooLarge: return Problem(.contentTooLarge, "\(error)")
        case let e as OutOfScope: return Problem(.forbidden, e.description)
        case StoreError.duplicateKey(_, _, _, let holder):
            var p = Problem(.conflict, "\(error)")
            p.extra["conflicting_id"] = .string(holder)
            return p
        case let e as StoreError:
            if case .noDatabase = e { return Problem(.serviceUnavailable, "the database is not available") }
            return .badRequest(e.description)
        case let e as QueryError: return .badRequest(e.description)
        case let e as CQL2Error: return FilterParameters.problem(e)
        case let e as EditRefused:
            var p = Problem(.unprocessableContent, "the feature was not written: \(e.description)")
            p.extra["findings"] = .array(e.findings.map(\.json))
            return p
        case let e as ImportRefused:
            var p = Problem(.unprocessableContent, e.description)
            p.extra["report"] = e.report.json
            return p
        case let e as FormatError: return Problem(.unprocessableContent, e.description)
        case let e as ProjectionError: return .badRequest(e.description)
        case let e as GeometryError: return .badRequest(e.description)
        case let e as any UnavailableError where e.unavailableCause != nil:
            let outcome = e.writeMayHaveLanded ? "the write may have been saved: read it back before sending it again"
                                               : "nothing was written; try again shortly"
            var p = Problem(.serviceUnavailable, "\(e.unavailableCause ?? "the database is not available"): \(outcome)",
                            title: "Database unavailable")
            p.headers[.retryAfter] = "5"
            return p
        case let e where DiskFull.cause(of: e) != nil:
            return .insufficientStorage("the server's disk is full (\(DiskFull.cause(of: e) ?? "")): nothing was written")
        default: return Problem(.internalServerError, "the server failed to answer; the failure is logged")
        }
    }
}
