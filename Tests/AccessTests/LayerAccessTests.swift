@testable import Access
import Features
import Foundation
import GeoPackage
import Geometry
import Store
import Testing
import TestSupport

/// `LayerAccess`'s doc comment, as a table: identity × layer metadata → rights.
@Suite struct LayerAccessTests {
    /// The three access levels, as the stewardship matrix has them: parcels public (steward
    /// so-nnmt), a custom layer internal with no steward, zoning restricted to so-qhkt.
    static let layers: [String: LayerSchema] = [
        "parcels": LayerSchema(name: "parcels", title: "p", metadata: LayerMetadata(steward: "so-nnmt", access: .public)),
        "poi": LayerSchema(name: "poi", title: "poi", metadata: LayerMetadata(access: .internal)),
        "zoning": LayerSchema(name: "zoning", title: "z", metadata: LayerMetadata(steward: "so-qhkt", access: .restricted)),
    ]

    static func who(_ role: Role, unit: String? = nil, layers: [String]? = nil) -> Identity {
        Identity(tokenID: 1, key: "0123456789ab", name: "t", role: role, scope: TokenScope(unit: unit, layers: layers))
    }

    /// Rights as letters: R read, P private fields, W write, C propose (contribute), V review;
    /// `-` for none.
    static func letters(_ a: LayerAccess) -> String {
        let s = (a.canRead ? "R" : "") + (a.seesPrivate ? "P" : "") + (a.canWrite ? "W" : "") + (a.canPropose ? "C" : "") + (a.canReview ? "V" : "")
        return s.isEmpty ? "-" : s
    }

    /// (caller, identity, rights on parcels, poi, zoning)
    static let table: [(String, Identity?, String, String, String)] = [
        ("anonymous", nil, "R", "-", "-"),
        ("reader", who(.reader), "RP", "RP", "-"),
        ("reader --layers parcels", who(.reader, layers: ["parcels"]), "RP", "-", "-"),
        ("reader --layers zoning", who(.reader, layers: ["zoning"]), "R", "-", "RP"),
        ("contributor", who(.contributor, unit: "phuong-phu-thuan"), "RPC", "RPC", "-"),
        ("contributor --layers zoning", who(.contributor, layers: ["zoning"]), "R", "-", "RPC"),
        ("editor", who(.editor), "RPW", "RPW", "-"),
        ("editor --layers parcels", who(.editor, layers: ["parcels"]), "RPW", "-", "-"),
        ("editor of unit so-qhkt", who(.editor, unit: "so-qhkt"), "RPW", "RPW", "RPW"),
        ("steward so-qhkt", who(.steward, unit: "so-qhkt"), "RPW", "RPW", "RPWV"),
        ("steward so-nnmt", who(.steward, unit: "so-nnmt"), "RPWV", "RPW", "-"),
        ("steward --layers zoning", who(.steward, layers: ["zoning"]), "R", "-", "RPWV"),
        ("steward so-qhkt --layers parcels", who(.steward, unit: "so-qhkt", layers: ["parcels"]), "RPWV", "-", "-"),
        ("steward with an empty unit", who(.steward, unit: ""), "RPW", "RPW", "-"),
        ("admin", who(.admin), "RPWV", "RPWV", "RPWV"),
        ("admin --layers parcels", who(.admin, layers: ["parcels"]), "RPWV", "-", "-"),
    ]

    @Test(arguments: table.indices)
    func rightsFollowTheRules(_ row: Int) throws {
        let (caller, identity, parcels, poi, zoning) = Self.table[row]
        for (layer, expected) in [("parcels", parcels), ("poi", poi), ("zoning", zoning)] {
            let schema = try #require(Self.layers[layer])
            let access = LayerAccess(identity, schema)
            #expect(Self.letters(access) == expected, "\(caller) on \(layer)")
            #expect(access.layer == layer)
            // The audience keys caches and ETags: the same rights to read, the same key.
            #expect(access.audience == (!access.canRead ? "none" : access.seesPrivate ? "private" : "public"), "\(caller) on \(layer)")
            // No one reviews, writes or proposes what it cannot read; no one both writes and proposes.
            if !access.canRead { #expect(!access.canWrite && !access.canPropose && !access.canReview && !access.seesPrivate) }
            #expect(!(access.canWrite && access.canPropose))
        }
    }

    @Test func privateFieldsAreHiddenFromEveryoneNotGranted() throws {
        var metadata = LayerMetadata(access: .public)
        metadata.setPrivateFields(["phone"])
        let schema = LayerSchema(name: "trees", title: "t", fields: [FieldDefinition("owner", .text), FieldDefinition("phone", .text)], metadata: metadata)
        let feature = Feature(id: "1", geometry: nil, properties: ["owner": "A", "phone": "090", "species": "sao"])
        func shown(_ identity: Identity?) -> Set<String> {
            Set(feature.geoJSON(hiding: LayerAccess(identity, schema).hidden(schema))["properties"]?.objectValue?.keys.map { $0 } ?? [])
        }
        #expect(shown(nil) == ["species"])
        #expect(shown(Self.who(.reader, layers: ["other"])) == ["species"])
        #expect(shown(Self.who(.reader)) == ["owner", "phone", "species"])
    }

    /// Metadata stored with an access level this version does not know is read as restricted.
    @Test func anUnknownAccessLevelIsRestricted() throws {
        let metadata = LayerMetadata(json: try JSONValue.parse(#"{"access":"secret"}"#), defaults: LayerMetadata(access: .public))
        #expect(metadata.access == .restricted)
        let schema = LayerSchema(name: "x", title: "x", metadata: metadata)
        #expect(!LayerAccess(nil, schema).canRead && !LayerAccess(Self.who(.editor), schema).canRead)
    }
}

/// `WardScope`: parcels by `ward_code`, other layers by geometry against the admin layer's
/// ward polygons.
@Suite struct WardScopeTests {
    /// Ward 27484 as a square 0.01° a side.
    static let (x0, y0, side) = (106.70, 10.70, 0.01)

    static func square(_ x: Double, _ y: Double, _ d: Double) -> Geometry {
        .polygon([[Coordinate(x, y), Coordinate(x + d, y), Coordinate(x + d, y + d), Coordinate(x, y + d), Coordinate(x, y)]])
    }

    static func store() throws -> GeoPackageStore {
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("ward-scope").appendingPathComponent("wards.gpkg").path)
        try store.createLayer(LayerSchema.admin)
        _ = try store.write(BatchRequest(layer: "admin", mode: .append, source: "tests", actor: "tests")) { writer in
            try writer.put(Feature(id: "27484", geometry: square(x0, y0, side), properties: ["code": "27484", "name": "Phú Thuận", "level": "ward"]))
            try writer.put(Feature(id: "27487", geometry: square(x0 + side, y0, side), properties: ["code": "27487", "name": "Other", "level": "ward"]))
        }
        return store
    }

    static func who(_ wards: [String]?) -> Identity {
        Identity(tokenID: 7, key: "feedc0ffee00", name: "ward-clerk", role: .contributor, scope: TokenScope(unit: "phuong-phu-thuan", wards: wards))
    }

    func outside(_ scope: WardScope, _ feature: Feature) -> OutOfScope? {
        do { try scope.check(feature); return nil } catch { return error as? OutOfScope }
    }

    @Test func aTokenWithoutWardsIsNotChecked() throws {
        #expect(WardScope(Self.who(nil), layer: "parcels", store: try Self.store()) == nil)
    }

    @Test func parcelsAreInTheirWardByWardCode() throws {
        let store = try Self.store()
        let scope = try #require(WardScope(Self.who(["27484"]), layer: "parcels", store: store))
        // The code decides, wherever the geometry lies (here outside every ward).
        let far = Self.square(0, 0, 0.001)
        #expect(outside(scope, Feature(id: "27484-1-1", geometry: far, properties: ["ward_code": "27484"])) == nil)
        #expect(outside(scope, Feature(id: "27484-1-2", geometry: nil, properties: ["ward_code": .integer(27484)])) == nil)
        let refused = try #require(outside(scope, Feature(id: "27487-1-1", geometry: Self.square(Self.x0, Self.y0, 0.001), properties: ["ward_code": "27487"])))
        #expect(refused.featureID == "27487-1-1" && refused.layer == "parcels")
        #expect(refused.description.contains("feedc0ffee00") && refused.description.contains("27487-1-1") && refused.description.contains("27484"))
        #expect(outside(scope, Feature(id: "x", geometry: nil, properties: [:]))?.reason.contains("no ward_code") == true)
    }

    @Test func otherLayersAreInTheirWardByGeometry() throws {
        let store = try Self.store()
        let scope = try #require(WardScope(Self.who(["27484"]), layer: "trees", store: store))
        let (x, y, s) = (Self.x0, Self.y0, Self.side)
        // A polygon inside; one across the boundary (half outside); one 0.5 % outside (tolerated).
        #expect(outside(scope, Feature(id: "in", geometry: Self.square(x + s / 4, y + s / 4, s / 2))) == nil)
        let across = try #require(outside(scope, Feature(id: "across", geometry: Self.square(x + s * 0.75, y + s / 4, s / 2))))
        #expect(across.featureID == "across" && across.reason.contains("50 %"))
        let d = s / 2
        #expect(outside(scope, Feature(id: "edge", geometry: Self.square(x + s - d * 0.995, y + s / 4, d))) == nil)
        #expect(outside(scope, Feature(id: "beyond", geometry: Self.square(x + s - d * 0.97, y + s / 4, d))) != nil)
        // Points and lines: every vertex inside.
        #expect(outside(scope, Feature(id: "p", geometry: .point(Coordinate(x + s / 2, y + s / 2)))) == nil)
        #expect(outside(scope, Feature(id: "q", geometry: .point(Coordinate(x + s * 1.5, y + s / 2)))) != nil)
        #expect(outside(scope, Feature(id: "line", geometry: .lineString([Coordinate(x + s / 2, y + s / 2), Coordinate(x + s * 1.5, y + s / 2)])))?
            .reason.contains("lies outside") == true)
        // A feature without geometry cannot be placed.
        #expect(outside(scope, Feature(id: "none", geometry: nil))?.reason.contains("no geometry") == true)
        // The neighbouring ward's token: the other way round.
        let other = try #require(WardScope(Self.who(["27487"]), layer: "trees", store: store))
        #expect(outside(other, Feature(id: "in", geometry: Self.square(x + s / 4, y + s / 4, s / 2))) != nil)
        #expect(outside(other, Feature(id: "q", geometry: .point(Coordinate(x + s * 1.5, y + s / 2)))) == nil)
        // Two wards together: the polygon across their boundary is inside them.
        let both = try #require(WardScope(Self.who(["27484", "27487"]), layer: "trees", store: store))
        #expect(outside(both, Feature(id: "across", geometry: Self.square(x + s * 0.75, y + s / 4, s / 2))) == nil)
    }

    @Test func wardsMissingFromTheAdminLayerPlaceNothing() throws {
        let store = try Self.store()
        let scope = try #require(WardScope(Self.who(["99999"]), layer: "trees", store: store))
        #expect(outside(scope, Feature(id: "p", geometry: .point(Coordinate(Self.x0 + 0.001, Self.y0 + 0.001))))?.reason.contains("admin layer") == true)
        // A store without an admin layer at all.
        let bare = try GeoPackageStore(path: SharedData.temporaryDirectory("ward-scope-bare").appendingPathComponent("bare.gpkg").path)
        let none = try #require(WardScope(Self.who(["27484"]), layer: "trees", store: bare))
        #expect(outside(none, Feature(id: "p", geometry: .point(Coordinate(Self.x0 + 0.001, Self.y0 + 0.001)))) != nil)
    }
}
