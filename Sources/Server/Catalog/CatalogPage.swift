import Features
import Foundation
import Store

/// The open-data page of the web map (SPEC §9): the datasets the caller may read with their
/// licences, stewards, last change and download links, in Vietnamese and English (both are in
/// the page; the button shows one, as the viewer's does). Every text from metadata is escaped.
enum CatalogPage {
    static func escape(_ s: String) -> String { htmlEscape(s) }

    /// The same thing in both languages (escaped here).
    static func both(_ vi: String, _ en: String) -> String {
        vi == en ? escape(vi) : "<span lang=\"vi\">\(escape(vi))</span><span lang=\"en\">\(escape(en))</span>"
    }

    static func html(title: (String, String), datasets: [LayerInfo], path: String,
                     paging: (page: Int, pages: Int, size: Int)?) -> String {
        let date = ISO8601DateFormatter()
        date.formatOptions = [.withFullDate]
        var rows = ""
        for info in datasets {
            let name = info.schema.name
            let m = info.schema.metadata
            let seg = CatalogRoutes.pathSegment(name)
            let vi = CatalogRoutes.nonEmpty(m.title) ?? info.schema.title
            let en = CatalogRoutes.nonEmpty(m.titleEn) ?? info.schema.title
            let dvi = CatalogRoutes.nonEmpty(m.description) ?? CatalogRoutes.nonEmpty(m.descriptionEn) ?? ""
            let den = CatalogRoutes.nonEmpty(m.descriptionEn) ?? CatalogRoutes.nonEmpty(m.description) ?? ""
            let steward = CatalogRoutes.nonEmpty(m.steward).map { unit in
                CatalogRoutes.unitNames[unit].map { both($0.vi, $0.en) } ?? escape(unit)
            } ?? "—"
            let licence = CatalogRoutes.nonEmpty(m.licence).map { id in
                id.hasPrefix("LicenseRef-") ? escape(id) : "<a href=\"\(escape(CatalogRoutes.licenceIRI(id, dataset: "")))\">\(escape(id))</a>"
            } ?? "—"
            let downloads = CatalogRoutes.downloads.map { "<a href=\"/downloads/\(escape(seg)).\($0.suffix)\">\($0.suffix.uppercased())</a>" }
                + ["<a href=\"/collections/\(escape(seg))?f=html\">OGC API</a>", "<a href=\"/tiles/\(escape(seg)).json\">TileJSON</a>"]
            let contact = CatalogRoutes.nonEmpty(m.contact).map { "<a href=\"mailto:\(escape($0))\">\(escape($0))</a>" } ?? "—"
            rows += """
                <tr id="\(escape(name))"><td><a href="/catalog/datasets/\(escape(seg))?f=html"><strong>\(both(vi, en))</strong></a>\
                <div class="description">\(both(dvi, den))</div>\
                \(CatalogRoutes.nonEmpty(m.attribution).map { "<div class=\"credit\">\(escape($0))</div>" } ?? "")</td>\
                <td>\(steward)<br>\(contact)</td><td>\(licence)</td>\
                <td>\(info.lastChange.map { escape(date.string(from: $0)) } ?? "—")</td>\
                <td class="downloads">\(downloads.joined(separator: " "))</td></tr>\n
                """
        }
        var pager = ""
        if let paging {
            func a(_ n: Int, _ label: String) -> String { "<a href=\"/catalog?f=html&amp;page=\(n)&amp;page_size=\(paging.size)\">\(label)</a>" }
            pager = "<p class=\"pager\">" + (paging.page > 1 ? a(paging.page - 1, "←") + " " : "")
                + "\(paging.page) / \(paging.pages)" + (paging.page < paging.pages ? " " + a(paging.page + 1, "→") : "") + "</p>"
        }
        let self_ = escape(path)
        return """
            <!doctype html>
            <html lang="vi">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>\(escape(title.0)) — LandMap</title>
              <link rel="stylesheet" href="/assets/app.css">
              <link rel="alternate" type="application/ld+json" href="\(self_)?f=jsonld">
              <link rel="alternate" type="text/turtle" href="\(self_)?f=ttl">
            </head>
            <body class="catalog-page">
              <header>
                <h1>\(both(title.0, title.1))</h1>
                <button id="lang" type="button" title="Tiếng Việt / English">EN</button>
              </header>
              <p><a href="/"><span lang="vi">← Bản đồ</span><span lang="en">← Map</span></a> ·
                 <a href="\(self_)?f=jsonld">DCAT-AP (JSON-LD)</a> · <a href="\(self_)?f=ttl">DCAT-AP (Turtle)</a></p>
              <table class="catalog">
                <thead><tr><th>\(both("Tập dữ liệu", "Dataset"))</th><th>\(both("Đơn vị chủ quản", "Steward"))</th>\
            <th>\(both("Giấy phép", "Licence"))</th><th>\(both("Cập nhật", "Last change"))</th><th>\(both("Tải về", "Downloads"))</th></tr></thead>
                <tbody>
            \(rows.isEmpty ? "<tr><td colspan=\"5\">\(both("Không có tập dữ liệu nào.", "No datasets."))</td></tr>" : rows)
                </tbody>
              </table>
              \(pager)
              <script src="/assets/catalog.js"></script>
            </body>
            </html>
            """
    }
}
