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

    /// Owner fields as cadastral and survey files name them, past the first list; one spelled
    /// with a Cyrillic `О`, one with a combining accent and one with a zero-width space.
    @Test func commonOwnerFieldNamesArePrivate() {
        let owners = ["HoTen1", "HO_TEN_CHU", "HoTenVo", "HOTEN", "hoten2", "TenChuSD", "TEN_CHU_SD", "TENCHUSD", "ChuSD_1", "CHUSD2",
                      "TenCSD", "ten_csd", "NguoiSuDung", "nguoi_su_dung", "Người sử dụng", "SoGiayTo", "so_giay_to", "SoDinhDanh",
                      "CanCuoc", "Căn cước", "CMT", "cmt", "So_CMT", "CMTND", "HoChieu", "so_ho_chieu", "DiaChiChu", "dia_chi_chu",
                      "\u{41E}wner", "\u{43E}wner_id", "Ho\u{302}Ten", "Own\u{200B}er", "\u{39F}WNER"]
        for schema in [LayerSchema.parcels, .zoning, .admin, .custom("shops")] {
            for name in owners { #expect(schema.isPrivate(name), "\(schema.name).\(name)") }
        }
    }

    /// Near misses that must stay public: each holds an owner word's letters but is a public
    /// field (a function's name, a sheet number, a street, a legend, a standard address, a
    /// hotel, a comment count is the one casualty kept out of the list: `cmt` is whole-word).
    @Test func nearMissesStayPublic() {
        let open = ["tenchucnang", "TenChucNang", "ten_chuc_nang", "so_to", "SoTo", "ten_duong", "TenDuong", "chu_thich", "ChuThich",
                    "DiaChiChuan", "dia_chi_chuan", "hotel", "Hotel_Name", "photenergy", "ten_csdl", "comment", "so_thua", "giay_phep",
                    "dinh_danh_thua_cu", "chu_giai", "ho_so", "MaHoSo", "ten_chu_de"]
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

    /// Owner data inside an object or an array of objects is hidden too, by the same rule;
    /// the rest of the nested value stays.
    @Test func hiddenPropertiesFilterNestedObjects() {
        var schema = LayerSchema.custom("shops")
        schema.metadata = LayerMetadata(privateFields: ["phone"])
        let f = Feature(id: "a", geometry: nil, properties: [
            "ghi_chu": ["owner": "Nguyễn Văn A", "cccd": "079", "note": "góc phố"],
            "lich_su": [["HoTen": "B", "nam": 2020], "text", ["deep": ["SoCMND": "1", "phone": "090", "ok": .bool(true)]]],
            "amenity": "cafe",
        ])
        let hidden = schema.privateFields
        #expect(hidden.filter(f.properties) == [
            "ghi_chu": ["note": "góc phố"],
            "lich_su": [["nam": 2020], "text", ["deep": ["ok": .bool(true)]]],
            "amenity": "cafe",
        ])
        #expect(hidden.scrubbed("x") == "x")
        #expect(HiddenProperties.nothing.filter(f.properties) == f.properties)
    }
}
