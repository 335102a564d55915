import CQL2
import Foundation
import Backends
import Hummingbird
import HummingbirdTesting
import Import
@testable import Server
import Store
import Testing
import TestSupport

/// The CQL2 Abstract Test Suite's known answers (OGC 21-065r2, annex A): the three Natural Earth
/// layers of `cql2-conformance/data/ne110m4cql2.gpkg` imported as they are, every predicate of
/// the annexes' tables sent to `items` in CQL2 text and in CQL2 JSON, `numberMatched` compared
/// with the expected count. Every row of a class `/conformance` declares must pass.
///
/// `LANDMAP_CONFORMANCE_DOC=Docs/CONFORMANCE.md` makes the run write the whole table there
/// (see that file for the command).
@Suite(.serialized) struct CQL2ConformanceTests {
    /// One known answer: its class (an annex's file), layer, predicate and expected count.
    struct Row: Sendable {
        let conformanceClass: String
        let layer: String
        let predicate: String
        let expected: Int
    }

    static let folder = SharedData.url("cql2-conformance")

    /// Published answers the test data contradicts, with the count it holds and where that is
    /// reported: `Ch%` matches Chișinău, Chicago and Chengdu; `chis%` Chișinău alone. These rows
    /// must give the corrected count; their class is not declared while they disagree.
    static let errata: [String: (count: Int, reference: String)] = [
        "ACCENTI(name) LIKE accenti('Ch%')": (3, "opengeospatial/ogcapi-features#1011"),
        "ACCENTI(CASEI(name)) LIKE accenti(casei('Chiș%'))": (1, "opengeospatial/ogcapi-features#1011"),
        "ACCENTI(CASEI(name)) LIKE accenti(casei('cHis%'))": (1, "opengeospatial/ogcapi-features#1011"),
    ]

    /// The rows of every annex table, in the annexes' order; the logical combinations of
    /// basic-cql2 (four stored predicates in one expression) after its single predicates.
    static func rows() throws -> [Row] {
        guard let folder else { return [] }
        let classes = ["basic-cql2", "advanced-comparison-operators", "case-insensitive-comparison", "accent-insensitive-comparison",
                       "basic-spatial-functions", "basic-spatial-functions-plus", "spatial-functions", "temporal-functions"]
        var out = [Row]()
        for cls in classes {
            let text = try String(contentsOf: folder.appendingPathComponent("annex_ats_\(cls).adoc"), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("|") {
                let cells = line.dropFirst().split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard let count = cells.last.flatMap({ Int($0) }) else { continue }
                if let layer = cells.first(where: { $0.hasPrefix("ne_110m_") }), cells.count >= 3 {
                    out.append(Row(conformanceClass: cls, layer: layer, predicate: unescape(cells[cells.count - 2]), expected: count))
                } else if cells.count == 5, cls == "basic-cql2" {
                    let p = cells.prefix(4).map { "(\(unescape($0)))" }
                    let combined = "(NOT \(p[1]) AND \(p[0])) OR (\(p[2]) and \(p[3])) or not (\(p[0]) OR \(p[3]))"
                    out.append(Row(conformanceClass: "basic-cql2", layer: "ne_110m_populated_places_simple", predicate: combined, expected: count))
                }
            }
        }
        return out
    }

    /// A table cell's predicate: the backticks gone, AsciiDoc's `\<` and `\(` escapes undone.
    static func unescape(_ cell: String) -> String {
        var s = cell
        if s.hasPrefix("`"), s.hasSuffix("`"), s.count >= 2 { s = String(s.dropFirst().dropLast()) }
        return s.replacingOccurrences(of: "\\<", with: "<").replacingOccurrences(of: "\\(", with: "(")
    }

    static let geoPackage: Result<ServerState, any Error> = Result { try server(.geoPackage) }
    static let postGIS: Result<ServerState, any Error> = Result { try server(.postGIS) }

    /// A server over a new database holding the three layers, imported as `landmap import` would.
    static func server(_ backend: Backend) throws -> ServerState {
        guard let folder else { throw CancellationError() }
        let store = try StoreLocation(try backend.freshLocation("cql2-ats")).open(create: true)
        let gpkg = folder.appendingPathComponent("data/ne110m4cql2.gpkg").path
        for layer in ["ne_110m_admin_0_countries", "ne_110m_populated_places_simple", "ne_110m_rivers_lake_centerlines"] {
            var options = ImportOptions(layer: layer)
            options.sourceLayer = layer
            _ = try Importer(store: store).run([gpkg], options)
        }
        _ = try ServerFixture.shared.get()  // metrics bootstrapped once
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        return try ServerState(store: store, configuration: configuration, metrics: ServerFixture.registry)
    }

    /// What the server answered for one row: numberMatched in text and in JSON (nil: an error,
    /// whose detail is kept).
    struct Outcome: Sendable {
        var text: Int?
        var json: Int?
        var error: String?
    }

    static func run(_ rows: [Row], on backend: Backend) async throws -> [Outcome] {
        let app = Application(router: LandMapServer.router(try (backend == .geoPackage ? geoPackage : postGIS).get()))
        return try await app.test(.router) { client in
            var out = [Outcome]()
            for row in rows {
                var outcome = Outcome()
                func ask(_ filter: String, _ lang: String) async throws -> (Int?, String?) {
                    let uri = "/collections/\(row.layer)/items?limit=1&filter-lang=\(lang)&filter=\(encodeQuery(filter))"
                    return try await client.execute(uri: uri, method: .get) { response -> (Int?, String?) in
                        guard response.status == .ok else {
                            return (nil, "\(lang): \(response.status.code) \(response.json.value?["detail"]?.stringValue ?? "")")
                        }
                        return (response.json.value?["numberMatched"]?.doubleValue.map { Int($0) }, nil)
                    }
                }
                let (text, textError) = try await ask(row.predicate, "cql2-text")
                outcome.text = text
                outcome.error = textError
                if let tree = try? CQL2Text.parse(row.predicate) {
                    let (json, jsonError) = try await ask(CQL2JSON.encode(tree).jsonText, "cql2-json")
                    outcome.json = json
                    outcome.error = outcome.error ?? jsonError
                } else {
                    outcome.error = outcome.error ?? "the test's own parser refused the predicate"
                }
                out.append(outcome)
            }
            return out
        }
    }

    /// Whether `/conformance` declares a class.
    static func declared(_ cls: String) -> Bool {
        FilterParameters.conformance.contains { $0.hasSuffix("/conf/\(cls)") }
    }

    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)), arguments: Backend.allCases)
    func everyKnownAnswerOfTheDeclaredClasses(_ backend: Backend) async throws {
        let rows = try Self.rows()
        // The ATS's 139 single predicates, plus the 21 of CASEI/ACCENTI and basic-cql2's 77 combinations.
        #expect(rows.count == 237)
        let outcomes = try await Self.run(rows, on: backend)
        for (row, outcome) in zip(rows, outcomes) {
            if let corrected = Self.errata[row.predicate] {
                #expect(outcome.text == corrected.count && outcome.json == corrected.count, "\(backend): \(row.predicate) (\(corrected.reference))")
            }
            guard Self.declared(row.conformanceClass) else { continue }
            #expect(outcome.text == row.expected && outcome.json == row.expected,
                    "\(backend): \(row.conformanceClass) \(row.layer) \(row.predicate): expected \(row.expected), text \(outcome.text.map(String.init) ?? "-"), JSON \(outcome.json.map(String.init) ?? "-") \(outcome.error ?? "")")
        }
        if backend == .geoPackage, let target = ProcessInfo.processInfo.environment["LANDMAP_CONFORMANCE_DOC"] {
            let url = target.hasPrefix("/") ? URL(fileURLWithPath: target) : SharedData.packageRoot.appendingPathComponent(target)
            try Data(Self.document(rows, outcomes).utf8).write(to: url)
        }
    }

    /// Docs/CONFORMANCE.md: per class, passed of total and whether it is declared; then every row.
    static func document(_ rows: [Row], _ outcomes: [Outcome]) -> String {
        var text = """
            # CQL2 conformance (OGC API – Features Part 3)

            Made by `LANDMAP_SHARED_DATA=/work/shared/data LANDMAP_CONFORMANCE_DOC=Docs/CONFORMANCE.md swift test --filter CQL2ConformanceTests`
            (Tests/ServerTests/CQL2ConformanceTests.swift): the three layers of
            `cql2-conformance/data/ne110m4cql2.gpkg` imported into a GeoPackage store, each predicate of the
            Abstract Test Suite's tables (annex_ats_*.adoc) sent to `/collections/{layer}/items` as
            `filter-lang=cql2-text` and as `filter-lang=cql2-json` (the text parsed and encoded as CQL2 JSON),
            `numberMatched` compared with the expected count. The table is the GeoPackage store's; the test runs
            the same rows on PostGIS and holds it to the same answers. The ATS's 139 single predicates (basic-cql2 48,
            advanced comparison 14, basic spatial 8, basic spatial plus 7, spatial 26, temporal 36), the 21 of
            the CASEI and ACCENTI tables, and basic-cql2's 77 logical combinations
            (`(NOT (p2) AND (p1)) OR ((p3) and (p4)) or not ((p1) OR (p4))`). The test fails on any mismatch in a class `/conformance` declares, and
            when a row of the errata below does not give the count the data holds.

            accent-insensitive-comparison is not declared: three of its published answers (rows marked
            "erratum") disagree with the test data, as reported in opengeospatial/ogcapi-features#1011
            (`ACCENTI(name) LIKE accenti('Ch%')` matches Chișinău, Chicago and Chengdu: 3, not 2; the two
            `chis%` patterns match Chișinău alone: 1, not 2). LandMap gives the data's counts there.

            | class | rows | text passed | JSON passed | declared in /conformance |
            |---|---|---|---|---|

            """
        var order = [String]()
        for r in rows where !order.contains(r.conformanceClass) { order.append(r.conformanceClass) }
        for cls in order {
            let pairs = zip(rows, outcomes).filter { $0.0.conformanceClass == cls }
            let textOK = pairs.filter { $0.1.text == $0.0.expected }.count
            let jsonOK = pairs.filter { $0.1.json == $0.0.expected }.count
            text += "| \(cls) | \(pairs.count) | \(textOK) | \(jsonOK) | \(declared(cls) ? "yes" : "no") |\n"
        }
        text += "\n| # | class | layer | predicate | expected | text | JSON | note |\n|---|---|---|---|---|---|---|---|\n"
        for (i, (row, outcome)) in zip(rows, outcomes).enumerated() {
            func cell(_ v: Int?) -> String {
                guard let v else { return "error" }
                return v == row.expected ? "\(v)" : "**\(v)** ✗"
            }
            let predicate = row.predicate.replacingOccurrences(of: "|", with: "\\|")
            let note = Self.errata[row.predicate].map { "erratum: the data holds \($0.count) (\($0.reference))" } ?? outcome.error ?? ""
            text += "| \(i + 1) | \(row.conformanceClass) | \(row.layer) | `\(predicate)` | \(row.expected) | \(cell(outcome.text)) | \(cell(outcome.json)) | \(note) |\n"
        }
        return text
    }
}
