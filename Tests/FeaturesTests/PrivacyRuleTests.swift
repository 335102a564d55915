import Testing
@testable import Features
import Geometry

/// SPEC §8's privacy rule as `LayerSchema.isPrivate` applies it, name by name.
@Suite struct PrivacyRuleTests {
    @Test func ownerNamesArePrivateInEveryLayerUnderAnyName() {
        let owners = ["owner", "Owner", "OWNER_ID", "owner_id", "ChuSuDung", "chu_su_dung", "Chủ sử dụng", "TenChuSuDung", "TEN_CHU_SU_DUNG",
                      "HoTen", "Họ tên", "ho_ten", "Họ và tên", "CCCD", "cccd", "SoCCCD", "So_CCCD", "CMND", "SoCMND", "Số CMND", "cmnd_cccd",
                      "land_owner", "owner2", "tenchu", "ChuSD", "Chủ sở hữu"]
        for schema in [LayerSchema.parcels, .zoning, .admin, .custom("shops")] {
            for name in owners { #expect(schema.isPrivate(name), "\(schema.name).\(name)") }
        }
    }

    @Test func ordinaryFieldsStayPublic() {
        let open = ["land_use", "ward_code", "sheet", "number", "address", "zone_code", "plan_name", "name", "level", "amenity",
                    "tenchucnang", "ten_duong", "chuc_nang", "dien_tich", "id", "phone"]
        for schema in [LayerSchema.parcels, .zoning, .admin, .custom("shops")] {
            for name in open { #expect(!schema.isPrivate(name), "\(schema.name).\(name)") }
        }
    }

    @Test func fieldsALayerMarksPrivateMatchInAnyCase() {
        var shops = LayerSchema.custom("shops")
        shops.metadata = LayerMetadata(privateFields: ["Phone", "ghi_chu", "Phone", ""])
        #expect(shops.metadata.privateFields == ["Phone", "ghi_chu"])
        for name in ["phone", "PHONE", "Ghi Chú", "GhiChu"] { #expect(shops.isPrivate(name), "\(name)") }
        #expect(!shops.isPrivate("amenity"))
        #expect(!LayerSchema.custom("shops").isPrivate("phone"))
        // Canonical fields can be marked too.
        var zoning = LayerSchema.zoning
        zoning.metadata = LayerMetadata(privateFields: ["plan_name"])
        #expect(zoning.isPrivate("plan_name") && !LayerSchema.zoning.isPrivate("plan_name"))
        // Stored as JSON and read back.
        #expect(LayerMetadata(json: shops.metadata.json) == shops.metadata)
    }

    @Test func hiddenPropertiesFilterAFeature() {
        var schema = LayerSchema.custom("shops")
        schema.metadata = LayerMetadata(privateFields: ["phone"])
        let f = Feature(id: "a", geometry: .point(Coordinate(1, 2)),
                        properties: ["HoTen": "Nguyễn Văn A", "Owner": "B", "phone": "090", "amenity": "cafe"])
        #expect(f.geoJSON(hiding: schema.privateFields)["properties"] == .object(["amenity": "cafe"]))
        #expect(f.geoJSON(hiding: .nothing)["properties"]?.objectValue?.count == 4)
        #expect(f.geoJSON()["properties"]?.objectValue?.count == 4)
    }
}
