/// Vietnamese land-use codes (mã loại đất, Circular 08/2024/TT-BTNMT and its predecessors) with
/// their Vietnamese names and English glosses, for answers people read.
public enum LandUseCodes {
    public static let names: [String: (vi: String, en: String)] = [
        "ODT": ("Đất ở tại đô thị", "urban residential land"),
        "ONT": ("Đất ở tại nông thôn", "rural residential land"),
        "LUC": ("Đất chuyên trồng lúa nước", "paddy land"),
        "LUK": ("Đất trồng lúa nước còn lại", "other paddy land"),
        "BHK": ("Đất bằng trồng cây hàng năm khác", "other annual crops"),
        "CLN": ("Đất trồng cây lâu năm", "perennial crops"),
        "NTS": ("Đất nuôi trồng thủy sản", "aquaculture"),
        "RSX": ("Đất rừng sản xuất", "production forest"),
        "RPH": ("Đất rừng phòng hộ", "protection forest"),
        "SKC": ("Đất cơ sở sản xuất phi nông nghiệp", "non-agricultural production"),
        "SKK": ("Đất khu công nghiệp", "industrial park"),
        "TMD": ("Đất thương mại, dịch vụ", "commercial and services"),
        "TSC": ("Đất xây dựng trụ sở cơ quan", "government offices"),
        "DGD": ("Đất xây dựng cơ sở giáo dục và đào tạo", "education"),
        "DYT": ("Đất xây dựng cơ sở y tế", "health care"),
        "DVH": ("Đất xây dựng cơ sở văn hóa", "culture"),
        "DTT": ("Đất xây dựng cơ sở thể dục thể thao", "sports"),
        "DGT": ("Đất giao thông", "transport"),
        "DTL": ("Đất thủy lợi", "irrigation"),
        "DCH": ("Đất chợ", "markets"),
        "DKV": ("Đất khu vui chơi, giải trí công cộng", "public recreation"),
        "TON": ("Đất cơ sở tôn giáo", "religious sites"),
        "TIN": ("Đất cơ sở tín ngưỡng", "shrines and temples"),
        "NTD": ("Đất nghĩa trang, nhà tang lễ", "cemeteries"),
        "SON": ("Đất sông, ngòi, kênh, rạch, suối", "rivers and canals"),
        "MNC": ("Đất có mặt nước chuyên dùng", "special-use water"),
        "CSD": ("Đất chưa sử dụng", "unused land"),
    ]

    /// "ODT — Đất ở tại đô thị (urban residential land)", or the code alone when unknown.
    public static func describe(_ code: String) -> String {
        guard let n = names[code.uppercased()] else { return code }
        return "\(code) — \(n.vi) (\(n.en))"
    }
}
