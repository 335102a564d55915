import Access
import Backends
import Foundation
import GeoPackage
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Import
@testable import Server
import Store
import Testing
import TestSupport
import Tiles

/// A server over its own sample database, with the `--db` value the `landmap` binary opens it
/// by, and the tokens of SPEC §8's stewardship: a ward clerk who proposes, the steward unit of
/// parcels (so-nnmt) who reviews, another unit's reader and contributor, and an editor.
struct ProposalServer {
    let state: ServerState
    let db: String
    let contributor: String, steward: String, otherReader: String, otherContributor: String, editor: String

    static let contributorName = "phu-thuan-clerk", stewardName = "d7-land-office"

    static func make(_ label: String, _ backend: Backend) throws -> ProposalServer {
        let (db, store) = try ServerFixture.sampleCopy(label, backend)
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        let tokens = AccessTokens(store: store)
        func token(_ name: String, _ role: Role, _ scope: TokenScope) throws -> String {
            try tokens.create(name: name, role: role, scope: scope, actor: "tests").token
        }
        return try ProposalServer(
            state: ServerState(store: store, configuration: configuration), db: db,
            contributor: token(contributorName, .contributor, TokenScope(unit: "phuong-phu-thuan", layers: ["parcels"], wards: ["27484"])),
            steward: token(stewardName, .steward, TokenScope(unit: "so-nnmt")),
            otherReader: token("tan-hung-reader", .reader, TokenScope(unit: "phuong-tan-hung")),
            otherContributor: token("tan-hung-clerk", .contributor, TokenScope(unit: "phuong-tan-hung", layers: ["parcels"])),
            editor: token("gis-office", .editor, TokenScope(unit: "so-nnmt")))
    }

    func test<T>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await Application(router: LandMapServer.router(state)).test(.router, body)
    }

    /// Runs the real `landmap` binary against this database.
    func landmap(_ args: String...) throws -> (status: Int32, output: String) {
        let landmap = try #require(ProposalTests.landmap, "the landmap executable is not built")
        return try SharedData.run(landmap, args + ["--db", db])
    }
}

/// One answer, read whole: status, body as JSON (nil when not) and text, headers.
struct Answer: Sendable {
    let status: HTTPResponse.Status
    let json: JSONValue?
    let text: String
    let headers: HTTPFields
}

func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String? = nil,
          headers: HTTPFields = [:], body: String? = nil) async throws -> Answer {
    let all = (token.map { bearer($0) } ?? [:]) + headers
    return try await client.execute(uri: uri, method: method, headers: all, body: body.map { ByteBuffer(string: $0) }) { r in
        Answer(status: r.status, json: r.json.value, text: r.text, headers: r.headers)
    }
}

@Suite(.serialized) struct ProposalTests {
    static let landmap = SharedData.product("landmap")
    static let backends: [Backend] = [.geoPackage, .postGIS]

    /// Where the new parcel of the upload lies: a gap among the sample's parcels of ward 27484.
    static let newCorner = Coordinate(106.747, 10.7309)
    static let newCenter = Coordinate(106.74704, 10.73094)
    static let newID = "27484-140-1"
    static let changedIDs = ["27484-1-1", "27484-1-2", "27484-1-3", "27484-1-4"]

    /// The upload a ward clerk would send: four real parcels of sheet 1 as the sample file
    /// holds them (Vietnamese field names), their land use and address changed, and one new
    /// parcel. Returns the GeoJSON text and each changed parcel's land use before and after.
    static func upload() throws -> (text: String, landUse: [String: (before: String, after: String)]) {
        let file = SharedData.packageRoot.appendingPathComponent("GeoData/parcels/d7_parcels.geojson")
        let all = try JSONValue.parse(try Data(contentsOf: file))["features"]?.arrayValue ?? []
        var features = [JSONValue]()
        var landUse = [String: (before: String, after: String)]()
        for f in all {
            guard var p = f["properties"]?.objectValue, p["MaXa"] == .string("27484"), p["SoTo"] == .integer(1),
                  case .integer(let n)? = p["SoThua"], (1...4).contains(n) else { continue }
            let before = p["LoaiDat"]?.stringValue ?? ""
            let after = before == "ODT" ? "TMD" : "ODT"
            p["LoaiDat"] = .string(after)
            p["DiaChi"] = .string("\(n) đường số 9, phường Tân Mỹ")
            landUse["27484-1-\(n)"] = (before, after)
            features.append(.object(["type": .string("Feature"), "properties": .object(p), "geometry": f["geometry"] ?? .null]))
        }
        let (x, y, d) = (newCorner.x, newCorner.y, 0.00008)
        let ring: [JSONValue] = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]].map { .array($0.map { .number($0) }) }
        features.append(.object([
            "type": .string("Feature"),
            "properties": .object(["MaXa": .string("27484"), "SoTo": .integer(140), "SoThua": .integer(1), "LoaiDat": .string("ODT"),
                                   "DiaChi": .string("15 đường số 17, phường Tân Mỹ"), "ChuSuDung": .string("Nguyễn Văn An"),
                                   "SoCCCD": .string("079123456789"), "DienTich": .number(77.4)]),
            "geometry": .object(["type": .string("Polygon"), "coordinates": .array([.array(ring)])]),
        ]))
        return (JSONValue.object(["type": .string("FeatureCollection"), "features": .array(features)]).jsonText, landUse)
    }

    /// Where the caller sees the new parcel: by id, among the items around it, in the lookup
    /// at its centre, in the GeoJSON tile over it.
    static func sightings(_ client: any TestClientProtocol, _ token: String?) async throws -> [String] {
        var seen = [String]()
        let item = try await call(client, .get, "/collections/parcels/items/\(newID)", token)
        #expect(item.status == .ok || item.status == .notFound, "item: \(item.status)")
        if item.status == .ok { seen.append("item") }
        let d = 0.0003
        let bbox = "\(newCenter.x - d),\(newCenter.y - d),\(newCenter.x + d),\(newCenter.y + d)"
        let items = try await call(client, .get, "/collections/parcels/items?bbox=\(bbox)&limit=1000", token)
        #expect(items.status == .ok)
        if (items.json?["features"]?.arrayValue ?? []).contains(where: { $0["id"] == .string(newID) }) { seen.append("items") }
        let at = try await call(client, .get, "/parcels/at?lon=\(newCenter.x)&lat=\(newCenter.y)", token)
        if at.json?["parcel"]?["id"] == .string(newID) { seen.append("lookup") }
        let search = try await call(client, .get, "/parcels?ward=27484&sheet=140&number=1", token)
        if (search.json?["features"]?.arrayValue ?? []).contains(where: { $0["id"] == .string(newID) }) { seen.append("search") }
        let tile = try #require(TileID.containing(newCenter, zoom: 18))
        let geojson = try await call(client, .get, "/tiles/parcels/\(tile.z)/\(tile.x)/\(tile.y).geojson", token)
        if geojson.text.contains(newID) || (geojson.json?["features"]?.arrayValue ?? []).contains(where: { $0["properties"]?["sheet"] == .integer(140) }) {
            seen.append("tile")
        }
        return seen
    }

    static func landUse(_ client: any TestClientProtocol, _ id: String, _ token: String? = nil) async throws -> String? {
        try await call(client, .get, "/collections/parcels/items/\(id)", token).json?["properties"]?["land_use"]?.stringValue
    }

    static func changeID(_ answer: Answer) throws -> Int64 {
        #expect(answer.status == .accepted, "\(answer.status): \(answer.text.prefix(600)) \(answer.headers)")
        let location = try #require(answer.headers[.location], "no Location")
        let id = try #require(answer.json?["id"]).doubleValue.map { Int64($0) }
        #expect(location.hasSuffix("/changes/\(id ?? -1)"), "\(location)")
        return try #require(id)
    }

    // MARK: 1. An upload, invisible until approved

    @Test(arguments: backends)
    func anUploadIsInvisibleUntilAStewardApprovesIt(_ backend: Backend) async throws {
        let server = try ProposalServer.make("proposal-upload", backend)
        let store = server.state.store
        let (text, landUse) = try Self.upload()
        let versionBefore = try store.dataVersions()["parcels"]
        let countBefore = try #require(try store.layer("parcels")).featureCount

        let change = try await server.test { client in
            let proposed = try await call(client, .post, "/imports?layer=parcels&mode=upsert&filename=to1_phu_thuan.geojson", server.contributor, body: text)
            let change = try Self.changeID(proposed)
            #expect(proposed.json?["status"] == .string("pending") && proposed.json?["kind"] == .string("import"))
            #expect(proposed.json?["report"] != nil, "the upload's QA report is answered: \(proposed.text.prefix(400))")

            // Nothing published: not to anonymous callers, another unit, the proposer or the steward.
            for (who, token) in [("anonymous", nil), ("another unit", server.otherReader), ("proposer", server.contributor), ("steward", server.steward)] {
                let seen = try await Self.sightings(client, token)
                #expect(seen.isEmpty, "\(who) saw the proposed parcel in \(seen)")
                for (id, use) in landUse {
                    #expect(try await Self.landUse(client, id, token) == use.before, "\(who) saw \(id) changed")
                }
            }

            // The proposer and the steward see it in /changes; another unit does not; anonymous callers are refused.
            for token in [server.contributor, server.steward] {
                let list = try await call(client, .get, "/changes?status=pending", token)
                #expect((list.json?["changes"]?.arrayValue ?? []).contains { $0["id"]?.doubleValue == Double(change) }, "\(list.text.prefix(400))")
            }
            let other = try await call(client, .get, "/changes", server.otherContributor)
            #expect(other.status == .ok && !(other.json?["changes"]?.arrayValue ?? []).contains { $0["id"]?.doubleValue == Double(change) })
            #expect(try await call(client, .get, "/changes/\(change)", server.otherContributor).status == .notFound)
            #expect(try await call(client, .get, "/changes/\(change)", server.otherReader).status == .notFound)
            #expect(try await call(client, .get, "/changes").status == .unauthorized)
            #expect(try await call(client, .get, "/changes/\(change)").status == .unauthorized)

            // The steward reads before and after of each feature, and the QA report.
            let detail = try await call(client, .get, "/changes/\(change)", server.steward)
            #expect(detail.status == .ok && detail.json?["may_review"] == .bool(true))
            let features = detail.json?["features"]?.arrayValue ?? []
            #expect(features.count == 5, "\(features.map { "\($0["id"]?.stringValue ?? "?") \($0["action"]?.stringValue ?? "?")" })")
            for f in features {
                let id = f["id"]?.stringValue ?? ""
                if id == Self.newID {
                    #expect(f["action"] == .string("create") && f["before"] == .null && f["after"]?["properties"]?["land_use"] == .string("ODT"))
                } else {
                    #expect(f["action"] == .string("replace"), "\(id)")
                    #expect(f["before"]?["properties"]?["land_use"]?.stringValue == landUse[id]?.before, "\(id)")
                    #expect(f["after"]?["properties"]?["land_use"]?.stringValue == landUse[id]?.after, "\(id)")
                }
            }
            #expect(detail.json?["qa"]?.objectValue != nil, "no QA report in \(detail.text.prefix(300))")
            #expect(detail.json?["stale"] == .array([]))
            let own = try await call(client, .get, "/changes/\(change)", server.contributor)
            #expect(own.status == .ok && own.json?["may_review"] == .bool(false))

            // Neither the proposer nor another unit may approve it.
            #expect(try await call(client, .post, "/changes/\(change)/approve", server.contributor).status == .forbidden)
            #expect(try await call(client, .post, "/changes/\(change)/approve", server.otherContributor).status == .notFound)
            #expect(try store.dataVersions()["parcels"] == versionBefore)

            let approved = try await call(client, .post, "/changes/\(change)/approve", server.steward)
            #expect(approved.status == .ok, "\(approved.text.prefix(500))")
            #expect(approved.json?["status"] == .string("approved") && approved.json?["decided_by"] == .string("token:\(ProposalServer.stewardName)"))
            #expect(approved.json?["written"]?["inserted"]?.doubleValue == 1 && approved.json?["written"]?["updated"]?.doubleValue == 4,
                    "\(approved.text.prefix(500))")

            // Published, to everyone.
            for (who, token) in [("anonymous", nil), ("another unit", server.otherReader)] {
                let seen = try await Self.sightings(client, token)
                #expect(Set(seen) == ["item", "items", "lookup", "search", "tile"], "\(who) sees it only in \(seen)")
                for (id, use) in landUse {
                    #expect(try await Self.landUse(client, id, token) == use.after, "\(who): \(id)")
                }
            }
            return change
        }
        #expect(try store.layer("parcels")?.featureCount == countBefore + 1)
        #expect(try store.change(id: change)?.status == .approved)

        // The history and the audit log, as the real binary reads them from the same database.
        for id in [Self.newID, Self.changedIDs[0]] {
            let history = try server.landmap("history", id, "--json")
            #expect(history.status == 0, "\(history.output)")
            let last = try JSONValue.parse(history.output)["versions"]?.arrayValue?.last
            #expect(last?["proposed_by"] == .string("token:\(ProposalServer.contributorName)"), "\(history.output.prefix(600))")
            #expect(last?["written_by"] == .string("token:\(ProposalServer.stewardName)"))
        }
        let human = try server.landmap("history", Self.newID)
        #expect(human.output.contains("proposed by token:\(ProposalServer.contributorName), approved by token:\(ProposalServer.stewardName)"), "\(human.output)")

        server.state.audit.flush()
        let audit = try server.landmap("audit", "--layer", "parcels", "--json")
        #expect(audit.status == 0, "\(audit.output)")
        let entries = try JSONValue.parse(audit.output).arrayValue ?? []
        let target = JSONValue.string("change:\(change)")
        #expect(entries.contains { $0["action"] == "change.propose" && $0["target"] == target && $0["unit"] == "phuong-phu-thuan"
            && $0["actor"] == .string("token:\(ProposalServer.contributorName)") }, "\(audit.output.prefix(1500))")
        #expect(entries.contains { $0["action"] == "change.approve" && $0["target"] == target && $0["unit"] == "so-nnmt"
            && $0["actor"] == .string("token:\(ProposalServer.stewardName)") }, "\(audit.output.prefix(1500))")
    }

    // MARK: 2 and 4. Rejection; deciding twice

    @Test(arguments: backends)
    func aRejectionLeavesTheLayerAsItWasAndKeepsTheReason(_ backend: Backend) async throws {
        let server = try ProposalServer.make("proposal-reject", backend)
        let store = server.state.store
        let (text, _) = try Self.upload()
        let version = try store.dataVersions()["parcels"]
        let layers = try server.landmap("layers", "--json")
        #expect(layers.status == 0, "\(layers.output)")
        let fingerprint = try JSONValue.parse(layers.output).arrayValue?.first { $0["name"] == "parcels" }?["fingerprint"]
        #expect(fingerprint?.stringValue != nil, "\(layers.output.prefix(500))")
        let before = try Self.changedIDs.map { try store.feature(layer: "parcels", id: $0, asOf: nil) }
        let reason = "tờ 1 đã đo vẽ lại tháng trước: lập lại từ dữ liệu hiện hành"

        let change = try await server.test { client in
            let change = try Self.changeID(try await call(client, .post, "/imports?layer=parcels&mode=upsert&filename=to1.geojson", server.contributor, body: text))
            // A reason is required, and only a steward may reject.
            #expect(try await call(client, .post, "/changes/\(change)/reject", server.steward).status == .badRequest)
            #expect(try await call(client, .post, "/changes/\(change)/reject", server.steward, body: #"{"reason": "  "}"#).status == .badRequest)
            #expect(try await call(client, .post, "/changes/\(change)/reject", server.contributor, body: #"{"reason": "no"}"#).status == .forbidden)
            let body = JSONValue.object(["reason": .string(reason)]).jsonText
            let rejected = try await call(client, .post, "/changes/\(change)/reject", server.steward, body: body)
            #expect(rejected.status == .ok && rejected.json?["status"] == "rejected" && rejected.json?["reason"] == .string(reason), "\(rejected.text)")

            // The proposer reads the reason.
            let shown = try await call(client, .get, "/changes/\(change)", server.contributor)
            #expect(shown.json?["status"] == "rejected" && shown.json?["reason"] == .string(reason))
            #expect(shown.json?["decided_by"] == .string("token:\(ProposalServer.stewardName)"))
            let listed = try await call(client, .get, "/changes?status=rejected", server.contributor)
            #expect((listed.json?["changes"]?.arrayValue ?? []).contains { $0["reason"] == .string(reason) })

            // Deciding again: approving or rejecting a rejected proposal is a conflict.
            let again = try await call(client, .post, "/changes/\(change)/approve", server.steward)
            #expect(again.status == .conflict && again.text.contains("rejected"), "\(again.status) \(again.text)")
            #expect(try await call(client, .post, "/changes/\(change)/reject", server.steward, body: body).status == .conflict)
            #expect(try await Self.sightings(client, nil).isEmpty)
            return change
        }
        #expect(try store.dataVersions()["parcels"] == version)
        let after = try JSONValue.parse(try server.landmap("layers", "--json").output).arrayValue?.first { $0["name"] == "parcels" }?["fingerprint"]
        #expect(after == fingerprint)
        #expect(try Self.changedIDs.map { try store.feature(layer: "parcels", id: $0, asOf: nil) } == before)
        #expect(try store.feature(layer: "parcels", id: Self.newID, asOf: nil) == nil)

        let show = try server.landmap("changes", "show", "\(change)")
        #expect(show.status == 0 && show.output.contains(reason) && show.output.contains("rejected by token:\(ProposalServer.stewardName)"), "\(show.output)")
        let cli = try server.landmap("changes", "approve", "\(change)")
        #expect(cli.status != 0 && cli.output.contains("change \(change) is rejected, not pending"), "\(cli.output)")
        #expect(try store.dataVersions()["parcels"] == version)
    }

    // MARK: 3. Stale proposals

    @Test(arguments: backends)
    func aProposalWhoseParcelChangedSinceCannotBeApproved(_ backend: Backend) async throws {
        let server = try ProposalServer.make("proposal-stale", backend)
        let store = server.state.store
        let id = "27484-1-6"
        let change = try await server.test { client in
            let present = try await call(client, .get, "/collections/parcels/items/\(id)", server.contributor)
            var feature = try #require(present.json?.objectValue)
            var properties = feature["properties"]?.objectValue ?? [:]
            properties["land_use"] = "TMD"
            properties["area_m2"] = nil
            feature["properties"] = .object(properties)
            feature["links"] = nil
            let change = try Self.changeID(try await call(client, .put, "/collections/parcels/items/\(id)", server.contributor,
                                                          body: JSONValue.object(feature).jsonText))
            // An editor changes the parcel directly meanwhile.
            properties["address"] = "99 đường số 1, phường Tân Mỹ"
            properties["land_use"] = "ODT"
            feature["properties"] = .object(properties)
            let direct = try await call(client, .put, "/collections/parcels/items/\(id)", server.editor, body: JSONValue.object(feature).jsonText)
            #expect(direct.status == .ok, "\(direct.text.prefix(400))")

            let version = try store.dataVersions()["parcels"]
            let shown = try await call(client, .get, "/changes/\(change)", server.steward)
            #expect(shown.json?["stale"] == .array([.string(id)]), "\(shown.text.prefix(400))")
            let refused = try await call(client, .post, "/changes/\(change)/approve", server.steward)
            #expect(refused.status == .conflict && refused.json?["changed"] == .array([.string(id)]), "\(refused.status) \(refused.text)")
            #expect(refused.text.contains("'\(id)'") && refused.text.contains("changed since it was proposed"))
            #expect(try store.dataVersions()["parcels"] == version)
            #expect(try await Self.landUse(client, id) == "ODT")
            return change
        }
        #expect(try store.change(id: change)?.status == .pending)
        #expect(try store.history(layer: "parcels", id: id).allSatisfy { try store.batches(ids: [$0.batchID])[$0.batchID]?.proposer == nil })

        // An upload whose new parcel an editor made directly meanwhile: stale too, for that parcel.
        let (text, _) = try Self.upload()
        try await server.test { client in
            let upload = try Self.changeID(try await call(client, .post, "/imports?layer=parcels&mode=upsert&filename=to1.geojson", server.contributor, body: text))
            let (x, y, d) = (Self.newCorner.x, Self.newCorner.y, 0.00008)
            let made = try await call(client, .post, "/collections/parcels/items", server.editor, body: """
                {"type":"Feature","properties":{"ward_code":"27484","sheet":140,"number":1,"land_use":"CLN"},
                 "geometry":{"type":"Polygon","coordinates":[[[\(x),\(y)],[\(x + d),\(y)],[\(x + d),\(y + d)],[\(x),\(y + d)],[\(x),\(y)]]]}}
                """)
            #expect(made.status == .created, "\(made.text.prefix(300))")
            let refused = try await call(client, .post, "/changes/\(upload)/approve", server.steward)
            #expect(refused.status == .conflict && refused.json?["changed"] == .array([.string(Self.newID)]), "\(refused.status) \(refused.text)")
            #expect(try await Self.landUse(client, Self.newID) == "CLN")
            #expect(try await Self.landUse(client, Self.changedIDs[0]) == "ODT")
        }

        let version = try store.dataVersions()["parcels"]
        let cli = try server.landmap("changes", "approve", "\(change)")
        #expect(cli.status != 0, "\(cli.output)")
        #expect(cli.output.contains("change \(change) cannot be approved: feature '\(id)' changed since it was proposed"), "\(cli.output)")
        let show = try server.landmap("changes", "show", "\(change)")
        #expect(show.output.contains("CHANGED SINCE PROPOSED") && show.output.contains("cannot be approved"), "\(show.output)")
        #expect(try store.dataVersions()["parcels"] == version)
        #expect(try store.change(id: change)?.status == .pending)
    }

    // MARK: 4 and 5. Item proposals, each applied once

    @Test(arguments: backends)
    func itemProposalsAreAppliedExactlyOnceOnApproval(_ backend: Backend) async throws {
        let server = try ProposalServer.make("proposal-items", backend)
        let store = server.state.store
        let (created, replaced, deleted) = ("27484-141-1", "27484-2-1", "27484-2-2")
        let count = try #require(try store.layer("parcels")).featureCount
        let replacedVersions = try store.history(layer: "parcels", id: replaced).count
        let contributor = "token:\(ProposalServer.contributorName)"

        let batches: [Int64] = try await server.test { client in
            let (x, y, d) = (Self.newCorner.x, Self.newCorner.y + 0.0002, 0.00006)
            let new = """
                {"type":"Feature","properties":{"ward_code":"27484","sheet":141,"number":1,"land_use":"ODT","address":"3 đường số 17"},
                 "geometry":{"type":"Polygon","coordinates":[[[\(x),\(y)],[\(x + d),\(y)],[\(x + d),\(y + d)],[\(x),\(y + d)],[\(x),\(y)]]]}}
                """
            let create = try Self.changeID(try await call(client, .post, "/collections/parcels/items", server.contributor, body: new))

            // PUT: If-Match is honoured; a stale ETag is 412 and proposes nothing.
            let present = try await call(client, .get, "/collections/parcels/items/\(replaced)", server.contributor)
            let etag = try #require(present.headers[.eTag], "\(present.status) \(present.headers) \(present.text.prefix(300))")
            var feature = try #require(present.json?.objectValue)
            var properties = feature["properties"]?.objectValue ?? [:]
            properties["area_m2"] = nil
            properties["address"] = "1 đường số 9, phường Tân Mỹ"
            feature["properties"] = .object(properties)
            feature["links"] = nil
            let pending = try await call(client, .get, "/changes?status=pending", server.steward).json?["changes"]?.arrayValue?.count
            let stale = try await call(client, .put, "/collections/parcels/items/\(replaced)", server.contributor,
                                       headers: [.ifMatch: "\"lm-item-0-0\""], body: JSONValue.object(feature).jsonText)
            #expect(stale.status == .preconditionFailed, "\(stale.status) \(stale.text)")
            #expect(try await call(client, .get, "/changes?status=pending", server.steward).json?["changes"]?.arrayValue?.count == pending)
            let replace = try Self.changeID(try await call(client, .put, "/collections/parcels/items/\(replaced)", server.contributor,
                                                           headers: [.ifMatch: etag], body: JSONValue.object(feature).jsonText))
            let delete = try Self.changeID(try await call(client, .delete, "/collections/parcels/items/\(deleted)", server.contributor, headers: [.ifMatch: "*"]))

            // Nothing applied yet.
            #expect(try await call(client, .get, "/collections/parcels/items/\(created)").status == .notFound)
            #expect(try await call(client, .get, "/collections/parcels/items/\(deleted)").status == .ok)
            #expect(try await call(client, .get, "/collections/parcels/items/\(replaced)").json?["properties"]?["address"] != .string("1 đường số 9, phường Tân Mỹ"))
            #expect(try store.layer("parcels")?.featureCount == count)
            let kinds = try await call(client, .get, "/changes?status=pending", server.steward).json?["changes"]?.arrayValue?.compactMap { $0["kind"]?.stringValue }
            #expect(Set(kinds ?? []) == ["create", "replace", "delete"])

            var batches = [Int64]()
            for change in [create, replace, delete] {
                let approved = try await call(client, .post, "/changes/\(change)/approve", server.steward)
                #expect(approved.status == .ok, "\(approved.text.prefix(400))")
                batches.append(Int64(try #require(approved.json?["written"]?["batch_id"]?.doubleValue)))
                // Approving again is a conflict and writes nothing.
                let version = try store.dataVersions()["parcels"]
                let again = try await call(client, .post, "/changes/\(change)/approve", server.steward)
                #expect(again.status == .conflict && again.text.contains("approved, not pending"), "\(again.status) \(again.text)")
                #expect(try store.dataVersions()["parcels"] == version)
            }
            #expect(try await call(client, .get, "/collections/parcels/items/\(created)").json?["properties"]?["land_use"] == "ODT")
            #expect(try await call(client, .get, "/collections/parcels/items/\(replaced)").json?["properties"]?["address"] == .string("1 đường số 9, phường Tân Mỹ"))
            #expect(try await call(client, .get, "/collections/parcels/items/\(deleted)").status == .notFound)
            let history = try await call(client, .get, "/parcels/\(replaced)/history")
            #expect(history.json?["versions"]?.arrayValue?.count == replacedVersions + 1, "\(history.text.prefix(300))")
            return batches
        }
        #expect(try store.layer("parcels")?.featureCount == count)  // one made, one deleted
        // Each approval is one batch naming the proposer and the steward.
        let records = try store.batches(ids: batches)
        #expect(records.count == 3)
        for batch in records.values {
            #expect(batch.proposer == contributor && batch.actor == "token:\(ProposalServer.stewardName)", "\(batch)")
        }
        #expect(records.values.map(\.inserted).reduce(0, +) == 1 && records.values.map(\.updated).reduce(0, +) == 1
                && records.values.map(\.deleted).reduce(0, +) == 1)
        let made = try store.history(layer: "parcels", id: created)
        #expect(made.count == 1 && batches.contains(made[0].batchID))
        let changed = try store.history(layer: "parcels", id: replaced)
        #expect(changed.count == replacedVersions + 1 && batches.contains(changed.last?.batchID ?? -1))
        #expect(try store.history(layer: "parcels", id: deleted).last?.endedByDeletion == true)
        #expect(try store.feature(layer: "parcels", id: deleted, asOf: nil) == nil)
        let deletedHistory = try server.landmap("history", deleted)
        #expect(deletedHistory.status == 0 && deletedHistory.output.contains("(deleted)"), "\(deletedHistory.output)")
        let audit = try store.auditLog(AuditQuery(limit: 100, actor: nil, action: "change.approve", unit: "so-nnmt", layer: "parcels", since: nil))
        #expect(audit.count == 3)
    }

    // MARK: 6. The CLI as a steward types it

    @Test(arguments: backends)
    func theCLIWalkThrough(_ backend: Backend) async throws {
        let server = try ProposalServer.make("proposal-cli", backend)
        let store = server.state.store
        let made = try server.landmap("token", "create", "--role", "contributor", "--name", "tan-my-clerk", "--unit", "phuong-tan-my",
                                      "--layers", "parcels", "--wards", "27484")
        #expect(made.status == 0, "\(made.output)")
        let token = try #require(made.output.split(separator: "\n").map(String.init).first { $0.hasPrefix("lm_") }, "\(made.output)")
        #expect(made.output.contains("contributor") && made.output.contains("phuong-tan-my"))
        let outside = try server.landmap("token", "create", "--role", "contributor", "--name", "x", "--wards", "27484,,1")
        #expect(outside.status != 0, "\(outside.output)")

        let (first, second) = try await server.test { client in
            func propose(_ id: String, landUse: String) async throws -> Int64 {
                let present = try await call(client, .get, "/collections/parcels/items/\(id)", token)
                var feature = try #require(present.json?.objectValue)
                var properties = feature["properties"]?.objectValue ?? [:]
                properties["land_use"] = .string(landUse)
                properties["area_m2"] = nil
                feature["properties"] = .object(properties)
                feature["links"] = nil
                return try Self.changeID(try await call(client, .put, "/collections/parcels/items/\(id)", token, body: JSONValue.object(feature).jsonText))
            }
            // Outside its wards: refused.
            let far = #"{"type":"Feature","properties":{"ward_code":"26734","sheet":1,"number":999,"land_use":"ODT"},"geometry":{"type":"Polygon","coordinates":[[[106.76,10.72],[106.7601,10.72],[106.7601,10.7201],[106.76,10.7201],[106.76,10.72]]]}}"#
            #expect(try await call(client, .post, "/collections/parcels/items", token, body: far).status == .forbidden)
            let first = try await propose("27484-2-3", landUse: "TMD")
            let second = try await propose("27484-2-4", landUse: "SKC")
            return (first, second)
        }
        let before = try #require(try store.feature(layer: "parcels", id: "27484-2-3", asOf: nil)?.properties["land_use"]?.stringValue)

        let list = try server.landmap("changes", "list", "--status", "pending")
        #expect(list.status == 0, "\(list.output)")
        for id in [first, second] {
            #expect(list.output.contains("#\(id)  pending") && list.output.contains("by token:tan-my-clerk (phuong-tan-my)"), "\(list.output)")
        }
        let listJSON = try JSONValue.parse(try server.landmap("changes", "list", "--status", "pending", "--json").output)
        #expect(listJSON.arrayValue?.count == 2)
        let show = try server.landmap("changes", "show", "\(first)")
        #expect(show.status == 0 && show.output.contains("#\(first) pending: replace 27484-2-3"), "\(show.output)")
        #expect(show.output.contains("replace  27484-2-3") && show.output.contains("land_use: \(before) → TMD"), "\(show.output)")

        let approve = try server.landmap("changes", "approve", "\(first)", "--unit", "so-nnmt")
        #expect(approve.status == 0 && approve.output.contains("approved #\(first)") && approve.output.contains("1 updated"), "\(approve.output)")
        #expect(try store.feature(layer: "parcels", id: "27484-2-3", asOf: nil)?.properties["land_use"] == "TMD")
        let history = try server.landmap("history", "27484-2-3")
        #expect(history.output.contains("proposed by token:tan-my-clerk, approved by cli:"), "\(history.output)")

        let noReason = try server.landmap("changes", "reject", "\(second)")
        #expect(noReason.status != 0 && noReason.output.contains("--reason"), "\(noReason.output)")
        let blank = try server.landmap("changes", "reject", "\(second)", "--reason", "   ")
        #expect(blank.status != 0 && blank.output.contains("--reason must say why"), "\(blank.output)")
        #expect(try store.change(id: second)?.status == .pending)
        let reject = try server.landmap("changes", "reject", "\(second)", "--reason", "SKC needs a planning permit first")
        #expect(reject.status == 0 && reject.output.contains("rejected #\(second)"), "\(reject.output)")
        #expect(try store.change(id: second)?.reason == "SKC needs a planning permit first")
        let decided = try server.landmap("changes", "list", "--status", "rejected")
        #expect(decided.output.contains("#\(second)  rejected") && decided.output.contains("SKC needs a planning permit first"), "\(decided.output)")
        #expect(try server.landmap("changes", "list", "--status", "pending").output.contains("no proposals pending"))

        for args in [["show", "9999"], ["approve", "9999"], ["reject", "9999", "--reason", "x"]] {
            let r = try SharedData.run(try #require(Self.landmap), ["changes"] + args + ["--db", server.db])
            #expect(r.status != 0 && r.output.contains("no proposal #9999 (landmap changes list)"), "\(args): \(r.output)")
        }
        let bad = try server.landmap("changes", "list", "--status", "done")
        #expect(bad.status != 0 && bad.output.contains("--status must be pending, approved or rejected"), "\(bad.output)")
        let notNumber = try server.landmap("changes", "show", "abc")
        #expect(notNumber.status != 0, "\(notNumber.output)")
        let again = try server.landmap("changes", "approve", "\(first)")
        #expect(again.status != 0 && again.output.contains("is approved, not pending"), "\(again.output)")

        let audit = try store.auditLog(AuditQuery(limit: 50, actor: nil, action: nil, unit: nil, layer: "parcels", since: nil))
        #expect(audit.contains { $0.action == "change.approve" && $0.unit == "so-nnmt" && $0.actor.hasPrefix("cli:") })
        #expect(audit.contains { $0.action == "change.reject" && $0.detail.contains("planning permit") })
    }
}
