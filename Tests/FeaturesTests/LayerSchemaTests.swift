import Testing
@testable import Features
import Geometry

@Suite struct LayerSchemaTests {
    @Test func builtInLayersCarryTheContractFields() {
        #expect(LayerSchema.parcels.fields.map(\.name) == ["ward_code", "sheet", "number", "land_use", "area_m2", "declared_area_m2", "address", "owner", "owner_id"])
        #expect(LayerSchema.parcels.fields.filter(\.isPrivate).map(\.name) == ["owner", "owner_id"])
        #expect(LayerSchema.zoning.field("far_max")?.type == .real)
        #expect(LayerSchema.admin.keyFields == ["code"])
        #expect(LayerSchema.builtIn(named: "zoning") == .zoning)
        #expect(LayerSchema.builtIn(named: "roads") == nil)
    }

    @Test func layerNamesAreSafeTableNames() {
        #expect(LayerSchema.isValidName("roads"))
        #expect(LayerSchema.isValidName("bridges_2021"))
        #expect(!LayerSchema.isValidName("Roads"))
        #expect(!LayerSchema.isValidName("1roads"))
        #expect(!LayerSchema.isValidName("rtree_parcels_geom"))
        #expect(!LayerSchema.isValidName("gpkg_contents"))
        #expect(!LayerSchema.isValidName("x; DROP TABLE parcels"))
        #expect(!LayerSchema.isValidName(""))
    }

    @Test func geoJSONHidesPrivateFields() {
        let f = Feature(id: "a", geometry: .point(Coordinate(1, 2)), properties: ["owner": "Nguyễn Văn A", "sheet": .integer(3)])
        let shown = f.geoJSON(hiding: LayerSchema.parcels.privateFields)
        #expect(shown["properties"]?["owner"] == nil)
        #expect(shown["properties"]?["sheet"] == .integer(3))
        #expect(shown["id"] == "a")
    }
}
