import Access
import Features
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Store

/// SPEC §9: `GET /catalog`, a DCAT-AP 3.0 catalogue of the layers the caller may read, as
/// JSON-LD (default), Turtle or the open-data page (HTML); `GET /catalog/datasets/{layer}`, one
/// dataset (its stable URI). JSON-LD and Turtle are written from one `RDFGraph`.
struct CatalogRoutes {
    let state: ServerState

    /// Datasets per page unless `page_size` asks for fewer.
    static let pageSize = 100

    func add(to router: Router<LandMapContext>) {
        router.get("/catalog") { request, context in try self.catalog(request, context.identity) }
        router.get("/catalog/datasets/:layer") { request, context in
            try self.dataset(request, context.parameters.require("layer"), context.identity)
        }
        router.get("/catalog/units/:unit") { request, context in
            try self.unit(request, context.parameters.require("unit"), context.identity)
        }
    }

    enum Format: String {
        case jsonLD = "application/ld+json", turtle = "text/turtle", html = "text/html"
    }

    /// `f=jsonld|json|ttl|turtle|html`, else the Accept header (Turtle or a browser's HTML), else JSON-LD.
    static func format(_ request: Request) throws -> Format {
        if let f = request.query("f")?.lowercased() {
            switch f {
            case "jsonld", "json-ld", "json": return .jsonLD
            case "ttl", "turtle": return .turtle
            case "html": return .html
            default: throw Problem.badRequest("f must be jsonld, ttl or html, not '\(f)'")
            }
        }
        let accept = request.headers[.accept] ?? ""
        if accept.contains("text/turtle") && !accept.hasPrefix("application/ld+json") { return .turtle }
        if request.wantsHTML { return .html }
        return .jsonLD
    }

    // MARK: Routes

    func catalog(_ request: Request, _ identity: Identity?) throws -> Response {
        let format = try Self.format(request)
        let size = try request.int("page_size", default: Self.pageSize, range: 1...Self.pageSize)
        let all = try readable(identity)
        let pages = max(1, (all.count + size - 1) / size)
        let page = try request.int("page", default: 1, range: 1...pages)
        let shown = Array(all.dropFirst((page - 1) * size).prefix(size))
        let base = request.baseURL
        var g = RDFGraph()
        let catalog = RDFTerm.iri(Self.catalogIRI(base))
        describeCatalog(&g, catalog, base, modified: all.compactMap(\.lastChange).max())
        for info in shown {
            g.add(catalog, "dcat:dataset", .iri(Self.datasetIRI(base, info.schema.name)))
            describe(&g, info, base)
        }
        describeServices(&g, catalog, base, shown)
        if all.count > size || request.query("page") != nil {
            // Pages keep the format asked for by `f`; ckanext-dcat follows `hydra:next`.
            let f = request.query("f").map { "&f=\(encodeQuery($0))" } ?? ""
            func pageIRI(_ n: Int) -> RDFTerm { .iri("\(base)/catalog?page=\(n)&page_size=\(size)\(f)") }
            let view = pageIRI(page)
            g.type(catalog, "hydra:Collection")
            g.add(catalog, "hydra:totalItems", .typed(String(all.count), "xsd:integer"))
            g.add(catalog, "hydra:view", view)
            g.type(view, "hydra:PartialCollectionView")
            g.add(view, "hydra:first", pageIRI(1))
            g.add(view, "hydra:last", pageIRI(pages))
            if page > 1 { g.add(view, "hydra:previous", pageIRI(page - 1)) }
            if page < pages { g.add(view, "hydra:next", pageIRI(page + 1)) }
            g.add(view, "hydra:totalItems", .typed(String(all.count), "xsd:integer"))
            g.add(view, "hydra:itemsPerPage", .typed(String(size), "xsd:integer"))
        }
        return answer(g, format, request, title: ("Dữ liệu mở", "Open data"), datasets: shown, base: base,
                      paging: all.count > size ? (page, pages, size) : nil)
    }

    func dataset(_ request: Request, _ name: String, _ identity: Identity?) throws -> Response {
        let format = try Self.format(request)
        guard let info = try state.store.layer(name), state.access(info.schema, for: identity).canRead else {
            throw Problem.notFound("no dataset named '\(name)'")
        }
        let base = request.baseURL
        var g = RDFGraph()
        describe(&g, info, base)
        describeServices(&g, nil, base, [info])
        let m = info.schema.metadata
        return answer(g, format, request, title: (Self.nonEmpty(m.title) ?? info.schema.title, Self.nonEmpty(m.titleEn) ?? info.schema.title),
                      datasets: [info], base: base, paging: nil)
    }

    /// A steward unit (a dataset's publisher), with the datasets it publishes that the caller
    /// may read; a unit that publishes none of them is not there (404), as a layer is not.
    func unit(_ request: Request, _ id: String, _ identity: Identity?) throws -> Response {
        let format = try Self.format(request)
        let layers = try readable(identity).filter { Self.nonEmpty($0.schema.metadata.steward) == id }
        guard !layers.isEmpty else { throw Problem.notFound("no unit named '\(id)' publishes a dataset here") }
        let base = request.baseURL
        var g = RDFGraph()
        for info in layers {
            let d = RDFTerm.iri(Self.datasetIRI(base, info.schema.name))
            g.type(d, "dcat:Dataset")
            g.add(d, "dct:title", .text(Self.nonEmpty(info.schema.metadata.title) ?? info.schema.title, "vi"))
            g.add(d, "dct:title", .text(Self.nonEmpty(info.schema.metadata.titleEn) ?? info.schema.title, "en"))
            g.add(d, "dct:publisher", Self.steward(&g, base, id))
        }
        let names = Self.unitNames[id]
        return answer(g, format, request, title: (names?.vi ?? id, names?.en ?? id), datasets: layers, base: base, paging: nil)
    }

    /// The layers the caller may read, by name (`LayerAccess` decides, as everywhere).
    func readable(_ identity: Identity?) throws -> [LayerInfo] {
        try state.store.layers().filter { state.access($0.schema, for: identity).canRead }.sorted { $0.schema.name < $1.schema.name }
    }

    func answer(_ g: RDFGraph, _ format: Format, _ request: Request, title: (String, String), datasets: [LayerInfo], base: String,
                paging: (page: Int, pages: Int, size: Int)?) -> Response {
        var headers = HTTPFields()
        headers[.vary] = "Accept"
        switch format {
        case .jsonLD: return Reply.json(g.jsonLD, contentType: "application/ld+json", headers: headers)
        case .turtle: return Reply.text(g.turtle, contentType: "text/turtle; charset=utf-8", headers: headers)
        case .html:
            return Reply.text(CatalogPage.html(title: title, datasets: datasets, path: request.uri.path, paging: paging),
                              contentType: "text/html; charset=utf-8", headers: headers)
        }
    }

    // MARK: IRIs

    static func catalogIRI(_ base: String) -> String { "\(base)/catalog" }
    static func datasetIRI(_ base: String, _ layer: String) -> String { "\(base)/catalog/datasets/\(pathSegment(layer))" }
    static func unitIRI(_ base: String, _ unit: String) -> String { "\(base)/catalog/units/\(pathSegment(unit))" }

    static func pathSegment(_ s: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#;")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    static func nonEmpty(_ s: String?) -> String? { OGCFeaturesRoutes.nonEmpty(s) }

    static let eu = "http://publications.europa.eu/resource/authority/"

    /// The English labels of the EU vocabulary concepts used (as the vocabularies give them).
    static let labels: [String: String] = [
        "VIE": "Vietnamese", "ENG": "English", "REGI": "Regions and cities",
        "PUBLIC": "public", "RESTRICTED": "restricted", "NON_PUBLIC": "non-public",
        "DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly", "QUARTERLY": "quarterly", "ANNUAL": "annual", "IRREG": "irregular",
        "GEOJSON": "GeoJSON", "GPKG": "GeoPackage", "CSV": "CSV", "JSON": "JSON", "BIN": "Binary data", "STABLE": "stable",
    ]
    static let iana = "http://www.iana.org/assignments/media-types/"

    /// The bulk downloads of SPEC §9: suffix, IANA media type, EU file type.
    static let downloads: [(suffix: String, mediaType: String, fileType: String, vi: String, en: String)] = [
        ("geojson", "application/geo+json", "GEOJSON", "Tải toàn bộ lớp (GeoJSON)", "Whole layer download (GeoJSON)"),
        ("gpkg", "application/geopackage+sqlite3", "GPKG", "Tải toàn bộ lớp (GeoPackage)", "Whole layer download (GeoPackage)"),
        ("csv", "text/csv", "CSV", "Tải toàn bộ lớp (CSV)", "Whole layer download (CSV)"),
    ]

    /// What the built-in units are called; any other unit is named by its id.
    static let unitNames: [String: (vi: String, en: String)] = [
        "so-nnmt": ("Sở Nông nghiệp và Môi trường TP.HCM", "Department of Agriculture and Environment, Ho Chi Minh City"),
        "so-qhkt": ("Sở Quy hoạch – Kiến trúc TP.HCM", "Department of Planning and Architecture, Ho Chi Minh City"),
        "so-noi-vu": ("Sở Nội vụ TP.HCM", "Department of Home Affairs, Ho Chi Minh City"),
    ]

    /// The code of the EU frequency vocabulary.
    static func frequency(_ f: UpdateFrequency) -> String {
        let code = switch f {
        case .daily: "DAILY"
        case .weekly: "WEEKLY"
        case .monthly: "MONTHLY"
        case .quarterly: "QUARTERLY"
        case .annual: "ANNUAL"
        case .irregular: "IRREG"
        }
        return code
    }

    /// SPEC §8's access levels as codes of the EU access-right vocabulary.
    static func accessRight(_ a: AccessLevel) -> String {
        switch a {
        case .public: "PUBLIC"
        case .internal: "RESTRICTED"
        case .restricted: "NON_PUBLIC"
        }
    }

    /// An SPDX-listed licence's URI, or for a `LicenseRef-…` one of our own: the dataset's page.
    static func licenceIRI(_ id: String, dataset: String) -> String {
        id.hasPrefix("LicenseRef-") ? "\(dataset)#licence" : "https://spdx.org/licenses/\(pathSegment(id))"
    }

    static func timestamp(_ d: Date) -> RDFTerm {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return .typed(f.string(from: d), "xsd:dateTime")
    }

    // MARK: The graph

    /// Who publishes the catalogue (and the layers without a steward, and the services).
    static func publisher(_ g: inout RDFGraph, _ base: String) -> RDFTerm {
        let publisher = RDFTerm.iri("\(catalogIRI(base))#publisher")
        g.type(publisher, "foaf:Agent")
        g.add(publisher, "foaf:name", .text("LandMap — dữ liệu đất đai TP.HCM", "vi"))
        g.add(publisher, "foaf:name", .text("LandMap — Ho Chi Minh City land data", "en"))
        g.add(publisher, "dct:type", publisherType(&g))
        return publisher
    }

    /// ADMS's licence type of a listed SPDX licence, when it is plainly one: public domain, or attribution.
    static func licenceType(_ g: inout RDFGraph, _ id: String) -> RDFTerm? {
        let code: String
        if ["CC0-1.0", "PDDL-1.0"].contains(id) {
            code = "PublicDomain"
        } else if id.hasPrefix("CC-BY-") || id.hasPrefix("ODC-By") || ["MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC"].contains(id) {
            code = "Attribution"
        } else {
            return nil
        }
        let t = RDFTerm.iri("http://purl.org/adms/licencetype/\(code)")
        g.type(t, "skos:Concept")
        g.add(t, "skos:inScheme", .iri("http://purl.org/adms/licencetype/1.0"))
        g.add(t, "skos:prefLabel", .text(code == "PublicDomain" ? "Public domain" : "Attribution", "en"))
        return t
    }

    /// A steward unit as a publisher: a stable URI from its id, which answers too.
    static func steward(_ g: inout RDFGraph, _ base: String, _ unit: String) -> RDFTerm {
        let agent = RDFTerm.iri(unitIRI(base, unit))
        g.type(agent, "foaf:Agent", "foaf:Organization")
        if let names = unitNames[unit] {
            g.add(agent, "foaf:name", .text(names.vi, "vi"))
            g.add(agent, "foaf:name", .text(names.en, "en"))
        } else {
            g.add(agent, "foaf:name", .literal(unit))
        }
        g.add(agent, "dct:identifier", .literal(unit))
        g.add(agent, "dct:type", publisherType(&g))
        return agent
    }

    /// ADMS's publisher type of the city's departments: a regional (provincial) authority.
    static func publisherType(_ g: inout RDFGraph) -> RDFTerm {
        let t = RDFTerm.iri("http://purl.org/adms/publishertype/RegionalAuthority")
        g.type(t, "skos:Concept")
        g.add(t, "skos:inScheme", .iri("http://purl.org/adms/publishertype/1.0"))
        g.add(t, "skos:prefLabel", .text("Regional authority", "en"))
        return t
    }

    /// A concept of an EU vocabulary (`language/VIE`), typed with `classes` and said to be in its
    /// scheme, as DCAT-AP's controlled-vocabulary shapes check.
    static func concept(_ g: inout RDFGraph, _ vocabulary: String, _ code: String, _ classes: String...) -> RDFTerm {
        let c = RDFTerm.iri("\(eu)\(vocabulary)/\(code)")
        for k in classes { g.type(c, k) }
        g.type(c, "skos:Concept")
        g.add(c, "skos:prefLabel", .text(labels[code] ?? code, "en"))
        g.add(c, "skos:inScheme", .iri("\(eu)\(vocabulary)"))
        return c
    }

    func describeCatalog(_ g: inout RDFGraph, _ c: RDFTerm, _ base: String, modified: Date?) {
        g.type(c, "dcat:Catalog")
        g.add(c, "dct:title", .text("Dữ liệu mở đất đai TP.HCM — LandMap", "vi"))
        g.add(c, "dct:title", .text("Ho Chi Minh City land open data — LandMap", "en"))
        g.add(c, "dct:description", .text("Danh mục các lớp dữ liệu đất đai của TP.HCM (thửa đất, quy hoạch, đơn vị hành chính) mà LandMap cung cấp, kèm giấy phép, đơn vị chủ quản và liên kết tải về.", "vi"))
        g.add(c, "dct:description", .text("The land data layers of Ho Chi Minh City (cadastral parcels, zoning plans, administrative units) LandMap serves, with their licences, stewards and downloads.", "en"))
        g.add(c, "dct:publisher", Self.publisher(&g, base))
        let home = RDFTerm.iri("\(base)/")
        g.add(c, "foaf:homepage", home)
        g.type(home, "foaf:Document")
        g.add(c, "dct:modified", modified.map(Self.timestamp))
        for code in ["VIE", "ENG"] {
            g.add(c, "dct:language", Self.concept(&g, "language", code, "dct:LinguisticSystem"))
        }
        // The catalogue's own records are free to reuse; each dataset says its own licence.
        let licence = RDFTerm.iri("https://spdx.org/licenses/CC0-1.0")
        g.add(c, "dct:license", licence)
        g.type(licence, "dct:LicenseDocument")
        g.add(licence, "rdfs:label", .literal("CC0-1.0"))
        g.add(licence, "dct:type", Self.licenceType(&g, "CC0-1.0"))
        let themes = RDFTerm.iri("\(Self.eu)data-theme")
        g.add(c, "dcat:themeTaxonomy", themes)
        g.type(themes, "skos:ConceptScheme")
        g.add(themes, "dct:title", .text("Data theme", "en"))
        let city = RDFTerm.iri("https://sws.geonames.org/1566083/")
        g.add(c, "dct:spatial", city)
        g.type(city, "dct:Location")
        g.add(city, "skos:prefLabel", .text("Thành phố Hồ Chí Minh", "vi"))
        g.add(city, "skos:prefLabel", .text("Ho Chi Minh City", "en"))
    }

    /// One `dcat:Dataset` with its publisher, contact, licence, extent and distributions.
    func describe(_ g: inout RDFGraph, _ info: LayerInfo, _ base: String) {
        let name = info.schema.name
        let m = info.schema.metadata
        let iri = Self.datasetIRI(base, name)
        let d = RDFTerm.iri(iri)
        g.type(d, "dcat:Dataset")
        g.add(d, "dct:identifier", .literal(name))
        let titleVi = Self.nonEmpty(m.title) ?? info.schema.title, titleEn = Self.nonEmpty(m.titleEn) ?? info.schema.title
        g.add(d, "dct:title", .text(titleVi, "vi"))
        g.add(d, "dct:title", .text(titleEn, "en"))
        if let vi = Self.nonEmpty(m.description) { g.add(d, "dct:description", .text(vi, "vi")) }
        // No field names: the catalogue goes to callers who may not see every field.
        g.add(d, "dct:description", .text(Self.nonEmpty(m.descriptionEn) ?? OGCFeaturesRoutes.describe(info, []), "en"))
        for k in m.keywords where !k.isEmpty { g.add(d, "dcat:keyword", .literal(k)) }
        let theme = Self.concept(&g, "data-theme", "REGI")
        g.add(d, "dcat:theme", theme)
        for code in ["VIE", "ENG"] { g.add(d, "dct:language", Self.concept(&g, "language", code, "dct:LinguisticSystem")) }

        // Publisher: the steward unit, else the catalogue's publisher.
        if let unit = Self.nonEmpty(m.steward) {
            g.add(d, "dct:publisher", Self.steward(&g, base, unit))
        } else {
            g.add(d, "dct:publisher", Self.publisher(&g, base))
        }
        if let email = Self.nonEmpty(m.contact) {
            let contact = RDFTerm.iri("\(iri)#contact")
            g.add(d, "dcat:contactPoint", contact)
            g.type(contact, "vcard:Kind", "vcard:Organization")
            g.add(contact, "vcard:fn", .literal(Self.nonEmpty(m.steward).flatMap { Self.unitNames[$0]?.vi ?? $0 } ?? "LandMap"))
            g.add(contact, "vcard:hasEmail", .iri("mailto:\(email.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed.union(["@"])) ?? email)"))
        }
        let licence = Self.nonEmpty(m.licence).map { id -> RDFTerm in
            let l = RDFTerm.iri(Self.licenceIRI(id, dataset: iri))
            g.type(l, "dct:LicenseDocument")
            g.add(l, "rdfs:label", .literal(id))
            g.add(l, "dct:type", Self.licenceType(&g, id))
            if id.hasPrefix("LicenseRef-") { g.add(l, "dct:identifier", .literal(id)) }
            return l
        }
        g.add(d, "dct:license", licence)
        g.add(d, "dct:accessRights", Self.concept(&g, "access-right", Self.accessRight(m.access), "dct:RightsStatement"))
        if let credit = Self.nonEmpty(m.attribution) {
            let statement = RDFTerm.iri("\(iri)#attribution")
            g.add(d, "dct:rights", statement)
            g.type(statement, "dct:RightsStatement")
            g.add(statement, "rdfs:label", .literal(credit))
        }
        if let f = m.updateFrequency {
            g.add(d, "dct:accrualPeriodicity", Self.concept(&g, "frequency", Self.frequency(f), "dct:Frequency"))
        }
        if let box = info.extent {
            let place = RDFTerm.iri("\(iri)#extent")
            g.add(d, "dct:spatial", place)
            g.type(place, "dct:Location")
            let (w, s, e, n) = (box.minX, box.minY, box.maxX, box.maxY)
            let wkt = "POLYGON((\(w) \(s),\(e) \(s),\(e) \(n),\(w) \(n),\(w) \(s)))"
            g.add(place, "dcat:bbox", .typed(wkt, "geosparql:wktLiteral"))
            g.add(place, "dcat:centroid", .typed("POINT(\((w + e) / 2) \((s + n) / 2))", "geosparql:wktLiteral"))
        }
        let modified = info.lastChange.map(Self.timestamp)
        g.add(d, "dct:modified", modified)
        let page = RDFTerm.iri("\(base)/collections/\(Self.pathSegment(name))?f=html")
        g.add(d, "dcat:landingPage", page)
        g.type(page, "foaf:Document")

        // Distributions.
        func distribution(_ fragment: String, _ url: String, download: Bool, mediaType: String, fileType: String,
                          _ vi: String, _ en: String, service: String? = nil) {
            let dist = RDFTerm.iri("\(iri)#\(fragment)")
            g.add(d, "dcat:distribution", dist)
            g.type(dist, "dcat:Distribution")
            g.add(dist, "dct:title", .text(vi, "vi"))
            g.add(dist, "dct:title", .text(en, "en"))
            g.add(dist, "dct:description", .text("\(vi): \(titleVi).", "vi"))
            g.add(dist, "dct:description", .text("\(en): \(titleEn).", "en"))
            g.add(dist, "dcatap:availability", Self.concept(&g, "planned-availability", "STABLE"))
            g.add(dist, "dcat:accessURL", .iri(url))
            if download { g.add(dist, "dcat:downloadURL", .iri(url)) }
            let media = RDFTerm.iri(Self.iana + mediaType)
            g.add(dist, "dcat:mediaType", media)
            g.type(media, "dct:MediaType")
            g.add(dist, "dct:format", Self.concept(&g, "file-type", fileType, "dct:MediaTypeOrExtent"))
            g.add(dist, "dct:license", licence)
            g.add(dist, "dct:modified", modified)
            if let service { g.add(dist, "dcat:accessService", .iri(service)) }
        }
        let seg = Self.pathSegment(name)
        for dl in Self.downloads {
            distribution(dl.suffix, "\(base)/downloads/\(seg).\(dl.suffix)", download: true, mediaType: dl.mediaType, fileType: dl.fileType, dl.vi, dl.en)
        }
        distribution("ogcapi", "\(base)/collections/\(seg)", download: false, mediaType: "application/json", fileType: "JSON",
                     "Tập đối tượng OGC API – Features", "OGC API – Features collection", service: "\(base)/#ogcapi-features")
        distribution("tilejson", "\(base)/tiles/\(seg).json", download: false, mediaType: "application/json", fileType: "JSON",
                     "TileJSON của ô bản đồ vector", "TileJSON of the vector tiles", service: "\(base)/#tiles")
        distribution("mvt", "\(base)/tiles/\(seg)/0/0/0.mvt", download: false, mediaType: "application/vnd.mapbox-vector-tile", fileType: "BIN",
                     "Ô bản đồ vector (Mapbox Vector Tile), {z}/{x}/{y}.mvt", "Vector tiles (Mapbox Vector Tile), {z}/{x}/{y}.mvt", service: "\(base)/#tiles")
    }

    /// The two services the distributions are reached through: OGC API – Features and the tiles.
    func describeServices(_ g: inout RDFGraph, _ catalog: RDFTerm?, _ base: String, _ datasets: [LayerInfo]) {
        let services: [(fragment: String, endpoint: String, description: String, standard: String?, vi: String, en: String)] = [
            ("ogcapi-features", "\(base)/", "\(base)/api", "http://www.opengis.net/spec/ogcapi-features-1/1.0",
             "LandMap OGC API – Features", "LandMap OGC API – Features"),
            ("tiles", "\(base)/tiles", "\(base)/api", nil, "Ô bản đồ vector LandMap", "LandMap vector tiles"),
        ]
        for s in services {
            let service = RDFTerm.iri("\(base)/#\(s.fragment)")
            if let catalog { g.add(catalog, "dcat:service", service) }
            g.type(service, "dcat:DataService")
            g.add(service, "dct:title", .text(s.vi, "vi"))
            g.add(service, "dct:title", .text(s.en, "en"))
            g.add(service, "dcat:endpointURL", .iri(s.endpoint))
            g.add(service, "dcat:endpointDescription", .iri(s.description))
            g.add(service, "dct:publisher", Self.publisher(&g, base))
            g.add(service, "dcat:theme", Self.concept(&g, "data-theme", "REGI"))
            for k in ["thửa đất", "quy hoạch", "cadastre", "zoning"] { g.add(service, "dcat:keyword", .literal(k)) }
            if let standard = s.standard {
                g.add(service, "dct:conformsTo", .iri(standard))
                g.type(.iri(standard), "dct:Standard")
            }
            for info in datasets { g.add(service, "dcat:servesDataset", .iri(Self.datasetIRI(base, info.schema.name))) }
        }
    }
}
