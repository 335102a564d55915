import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport

@Suite struct OGCFeaturesTests {
    @Test func landingPageLinksWhatClientsNeed() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/?f=json", method: .get) { r in
                #expect(r.status == .ok)
                let links = r.json.value?["links"]?.arrayValue ?? []
                func rel(_ name: String) -> JSONValue? { links.first { $0["rel"] == .string(name) } }
                #expect(rel("self") != nil && rel("conformance") != nil && rel("data") != nil && rel("service-doc") != nil)
                #expect(rel("service-desc")?["type"] == "application/vnd.oai.openapi+json;version=3.0")
            }
            try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html"]) { r in
                #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            try await client.execute(uri: "/", method: .get, headers: [.accept: "application/json"]) { r in
                #expect(r.headers[.contentType] == "application/json")
            }
            try await client.execute(uri: "/conformance", method: .get) { r in
                let classes = r.json.value?["conformsTo"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(classes.contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"))
                #expect(classes.contains("http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"))
            }
        }
    }

    @Test func collectionsDescribeThemselves() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/collections", method: .get) { r in
                let collections = r.json.value?["collections"]?.arrayValue ?? []
                #expect(Set(collections.compactMap { $0["id"]?.stringValue }) == ["admin", "parcels", "zoning"])
                for c in collections {
                    #expect(c["itemType"] == "feature")
                    #expect(c["extent"]?["spatial"]?["bbox"]?.arrayValue?.first?.arrayValue?.count == 4)
                    #expect(c["storageCrs"] == .string(CRSCatalog.crs84))
                    #expect(c["crs"]?.arrayValue?.contains(.string("http://www.opengis.net/def/crs/EPSG/0/9210")) == true)
                }
            }
            try await client.execute(uri: "/collections/roads", method: .get) { r in
                #expect(r.status == .notFound)
                #expect(r.headers[.contentType] == "application/problem+json")
                #expect(r.json.value?["status"] == .integer(404) && r.json.value?["title"] != nil && r.json.value?["detail"] != nil)
            }
        }
    }

    /// Paging: `next` exactly while more follow, every other parameter kept in it, all features
    /// once; `offset` pages the same order. On both backends.
    @Test(arguments: Backend.allCases)
    func pagingWalksEveryFeatureOnce(_ backend: Backend) async throws {
        try await ServerFixture.test(backend) { client in
            var uri: String? = "/collections/parcels/items?limit=1000&land_use=ODT"
            var ids = [String]()
            var matched: Int64 = -1
            var pages = 0
            while let next = uri {
                try await client.execute(uri: next, method: .get) { r in
                    #expect(r.status == .ok)
                    let doc = r.json.value
                    let features = doc?["features"]?.arrayValue ?? []
                    ids += features.compactMap { $0["id"]?.stringValue }
                    #expect(features.allSatisfy { $0["properties"]?["land_use"] == "ODT" && $0["properties"]?["owner"] == nil })
                    matched = doc?["numberMatched"].flatMap { if case .integer(let i) = $0 { i } else { nil } } ?? -1
                    #expect(doc?["numberReturned"] == .integer(Int64(features.count)))
                    #expect(doc?["timeStamp"]?.stringValue != nil)
                    let nextLink = doc?["links"]?.arrayValue?.first { $0["rel"] == "next" }?["href"]?.stringValue
                    #expect(nextLink == nil || nextLink?.contains("land_use=ODT") == true)
                    // A next page follows on after this one's last key, not after N skipped rows.
                    #expect(nextLink == nil || (nextLink?.contains("cursor=") == true && nextLink?.contains("offset=") == false), "\(nextLink ?? "")")
                    uri = nextLink.map { link in link.range(of: "/collections").map { String(link[$0.lowerBound...]) } ?? link }
                    #expect(uri == nil || uri?.hasPrefix("/collections/parcels/items?") == true, "next: \(nextLink ?? "")")
                }
                pages += 1
                if pages > 100 { Issue.record("more than 100 pages: the next links loop"); break }
            }
            #expect(matched > 1000 && ids.count == Int(matched) && Set(ids).count == ids.count && pages > 1)
            // limit and offset: windows of one stable order.
            func page(_ query: String) async throws -> [String] {
                try await client.execute(uri: "/collections/parcels/items?\(query)", method: .get) { r in
                    #expect(r.status == .ok, "\(query)")
                    return r.json.value?["features"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                }
            }
            let ten = try await page("land_use=ODT&limit=10")
            #expect(ten.count == 10)
            #expect(try await page("land_use=ODT&limit=5&offset=5") == Array(ten.suffix(5)))
            #expect(try await page("land_use=ODT&limit=10&offset=\(matched)").isEmpty)
            try await client.execute(uri: "/collections/parcels/items?land_use=ODT&limit=10&offset=\(matched - 3)", method: .get) { r in
                #expect(r.json.value?["features"]?.arrayValue?.count == 3)
                #expect(r.json.value?["links"]?.arrayValue?.contains { $0["rel"] == "next" } == false)
            }
            // The whole layer too pages by key: the cursor's page is the offset's.
            var cursor = ""
            try await client.execute(uri: "/collections/parcels/items?limit=7", method: .get) { r in
                let next = r.json.value?["links"]?.arrayValue?.first { $0["rel"] == "next" }?["href"]?.stringValue ?? ""
                cursor = next.components(separatedBy: "cursor=").last?.components(separatedBy: "&").first ?? ""
            }
            #expect(cursor.hasPrefix("7."), "\(cursor)")
            #expect(try await page("limit=7&cursor=\(cursor)") == page("limit=7&offset=7"))
            // A property filter that is no CQL2 equality of its type is answered as before such
            // filters ran as CQL2: the store's 400, naming the field and what it must be.
            try await client.execute(uri: "/collections/parcels/items?sheet=abc", method: .get) { r in
                #expect(r.status == .badRequest)
                #expect(r.json.value?["detail"]?.stringValue?.contains("field 'sheet' must be a whole number, not 'abc'") == true)
            }
            for bad in ["cursor=x", "cursor=7", "cursor=-1.5", "cursor=7.1&offset=7", "cursor=7.99999999999999999999"] {
                try await client.execute(uri: "/collections/parcels/items?\(bad)", method: .get) { r in
                    #expect(r.status == .badRequest, "\(bad)")
                }
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func crsAndBBoxFollowPart2(_ backend: Backend) async throws {
        try await ServerFixture.test(backend) { client in
            let id = "27484-56-1"
            try await client.execute(uri: "/collections/parcels/items/\(id)?crs=http://www.opengis.net/def/crs/EPSG/0/9210", method: .get) { r in
                #expect(r.headers[HTTPField.Name("Content-Crs")!] == "<http://www.opengis.net/def/crs/EPSG/0/9210>")
                let first = r.json.value?["geometry"]?["coordinates"]?.arrayValue?.first?.arrayValue?.first?.arrayValue?.first?.arrayValue
                #expect((600_000...620_000).contains(first?[0].doubleValue ?? 0) && (1_180_000...1_195_000).contains(first?[1].doubleValue ?? 0))
            }
            // EPSG:4326 is latitude first; CRS84 longitude first.
            try await client.execute(uri: "/collections/parcels/items/\(id)?crs=http://www.opengis.net/def/crs/EPSG/0/4326", method: .get) { r in
                let first = r.json.value?["geometry"]?["coordinates"]?.arrayValue?.first?.arrayValue?.first?.arrayValue?.first?.arrayValue
                #expect((10...11).contains(first?[0].doubleValue ?? 0) && (106...107).contains(first?[1].doubleValue ?? 0))
            }
            // The same 100 m box in CRS84 and in VN-2000 selects the same parcels.
            var inLonLat = Set<String>(), inVN = Set<String>()
            try await client.execute(uri: "/collections/parcels/items?limit=10000&bbox=106.7475,10.7340,106.7485,10.7350", method: .get) { r in
                inLonLat = Set(r.json.value?["features"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
            }
            try await client.execute(uri: "/collections/parcels/items?limit=10000&bbox=608900,1187200,609000,1187300&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/9210", method: .get) { r in
                #expect(r.status == .ok)
                inVN = Set(r.json.value?["features"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
            }
            #expect(!inLonLat.isEmpty && !inVN.isEmpty)
            #expect(inLonLat.contains(id))
            for bad in ["bbox=1,2,3", "bbox=5,5,1,1", "limit=0", "limit=10001", "crs=EPSG:1234", "bbox-crs=urn:x&bbox=1,2,3,4", "color=red", "offset=-1", "datetime=yesterday"] {
                try await client.execute(uri: "/collections/parcels/items?\(bad)", method: .get) { r in
                    #expect(r.status == .badRequest, "\(bad)")
                    #expect(r.headers[.contentType] == "application/problem+json", "\(bad)")
                }
            }
        }
    }

    /// `datetime`: the data as it was at an instant, or at the end of an interval.
    @Test(arguments: Backend.allCases)
    func datetimeReadsTheDataAsItWas(_ backend: Backend) async throws {
        try await ServerFixture.test(backend) { client in
            func matched(_ query: String) async throws -> Int64? {
                try await client.execute(uri: "/collections/zoning/items?limit=1&\(query)", method: .get) { r in
                    #expect(r.status == .ok, "\(query): \(r.status)")
                    if case .integer(let n)? = r.json.value?["numberMatched"] { return n }
                    return nil
                }
            }
            let now = try #require(try await matched(""))
            #expect(now > 0)
            let later = Timestamp.string(Date().addingTimeInterval(86_400))
            #expect(try await matched("datetime=2000-01-01T00:00:00Z") == 0)  // before the sample was loaded
            #expect(try await matched("datetime=../2000-01-01T00:00:00Z") == 0)
            #expect(try await matched("datetime=\(later)") == now)
            #expect(try await matched("datetime=2000-01-01T00:00:00Z/..") == now)
            try await client.execute(uri: "/collections/zoning/items/d7_zoning_plots-76?datetime=2000-01-01T00:00:00Z", method: .get) { r in
                #expect(r.status == .notFound)
            }
            try await client.execute(uri: "/collections/zoning/items/d7_zoning_plots-76?datetime=\(later)", method: .get) { r in
                #expect(r.status == .ok && r.json.value?["id"] == "d7_zoning_plots-76")
            }
        }
    }

    @Test func cachingCompressionAndCORS() async throws {
        try await ServerFixture.test { client in
            let etag = try await client.execute(uri: "/collections/zoning/items?limit=50", method: .get) { r in
                #expect(r.headers[.cacheControl] != nil)
                return r.headers[.eTag]
            }
            #expect(etag != nil)
            try await client.execute(uri: "/collections/zoning/items?limit=50", method: .get, headers: [.ifNoneMatch: etag ?? ""]) { r in
                #expect(r.status == .notModified && r.body.readableBytes == 0)
            }
            try await client.execute(uri: "/collections/zoning/items?limit=50", method: .get, headers: [.acceptEncoding: "gzip, deflate"]) { r in
                #expect(r.headers[.contentEncoding] == "gzip")
                #expect(Array(r.body.readableBytesView.prefix(2)) == [0x1f, 0x8b])
            }
            try await client.execute(uri: "/collections", method: .get, headers: [.origin: "https://map.example.vn"]) { r in
                #expect(r.headers[.accessControlAllowOrigin] == "*")
            }
        }
    }

    @Test func openAPIDocumentsEveryRoute() async throws {
        try await ServerFixture.test { client in
            try await client.execute(uri: "/api", method: .get) { r in
                #expect(r.headers[.contentType] == "application/vnd.oai.openapi+json;version=3.0")
                let paths = r.json.value?["paths"]?.objectValue?.keys.sorted() ?? []
                for p in ["/", "/conformance", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items",
                          "/collections/{collectionId}/items/{featureId}", "/parcels/at", "/parcels", "/parcels/{id}/history", "/health", "/metrics"] {
                    #expect(paths.contains(p), "\(p)")
                }
                #expect(r.json.value?["openapi"] == "3.0.3")
            }
        }
    }

    /// The responses validate against OGC's own schemas (YAML in ../shared/data), through
    /// Tools/validate-ogc.py (Python jsonschema).
    @Test(.enabled(if: SharedData.isPresent && SharedData.which("python3") != nil, Comment(rawValue: SharedData.skipReason)))
    func responsesValidateAgainstTheOGCSchemas() async throws {
        let dir = try SharedData.temporaryDirectory("ogc")
        let documents: [(String, String)] = [
            ("landingPage", "/?f=json"), ("confClasses", "/conformance"), ("collections", "/collections"),
            ("collection", "/collections/parcels"), ("featureCollectionGeoJSON", "/collections/parcels/items?limit=20"),
            ("featureCollectionGeoJSON", "/collections/admin/items?limit=3"), ("featureGeoJSON", "/collections/zoning/items/d7_zoning_plots-76"),
        ]
        var args = [try #require(SharedData.url("ogcapi-features-conformance/core/openapi/schemas")).path]
        let texts = try await ServerFixture.test { client in
            var out = [String]()
            for (_, uri) in documents {
                out.append(try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .ok, "\(uri)")
                    return r.text
                })
            }
            return out
        }
        for (i, ((schema, _), text)) in zip(documents, texts).enumerated() {
            let file = dir.appendingPathComponent("doc\(i).json")
            try Data(text.utf8).write(to: file)
            args += [schema, file.path]
        }
        let check = try SharedData.run(try #require(SharedData.which("python3")), [SharedData.packageRoot.appendingPathComponent("Tools/validate-ogc.py").path] + args)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == documents.count, "\(check.output)")
    }
}
