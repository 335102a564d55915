import Foundation
import Testing
import TestSupport
@testable import Geometry

/// GEOS's own validity test cases (`../shared/data/wkt-wkb-vectors/geos-xmltester`): our
/// `validity()` must agree with the expected `isValid` of every case.
@Suite struct GeosValidityTests {
    struct Case: Sendable, CustomStringConvertible {
        let file: String
        let description: String
        let wkt: String
        let expected: Bool
    }

    static let files = [
        "general/TestValid.xml", "general/TestValid2.xml", "misc/TestIsValid.xml",
    ]

    /// A minimal reader for the xmltester format: `<case>…<a>WKT</a>…<op name="isValid" …>true</op>`.
    static func cases(in file: String) -> [Case] {
        guard let url = SharedData.url("wkt-wkb-vectors/geos-xmltester/tests/xmltester/tests/\(file)"),
              let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        var out = [Case]()
        for chunk in text.components(separatedBy: "<case>").dropFirst() {
            guard let a = between(chunk, "<a>", "</a>"), chunk.contains("name=\"isValid\""),
                  let op = between(chunk, "name=\"isValid\"", "</op>"),
                  let result = op.split(separator: ">").last?.trimmingCharacters(in: .whitespacesAndNewlines) else { continue }
            let desc = between(chunk, "<desc>", "</desc>") ?? "case \(out.count + 1)"
            out.append(Case(file: file, description: "\(file): \(desc)", wkt: a.trimmingCharacters(in: .whitespacesAndNewlines), expected: result == "true"))
        }
        return out
    }

    static func between(_ s: String, _ start: String, _ end: String) -> String? {
        guard let r1 = s.range(of: start), let r2 = s.range(of: end, range: r1.upperBound..<s.endIndex) else { return nil }
        return String(s[r1.upperBound..<r2.lowerBound])
    }

    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)))
    func everyCaseAgreesWithGEOSExpectations() throws {
        let context = try GeosContext()
        var checked = 0
        var disagreements = [String]()
        for file in Self.files {
            let cases = Self.cases(in: file)
            #expect(!cases.isEmpty, "no cases read from \(file)")
            // LINEARRING is a GEOS-internal type, not a simple-features geometry a layer holds.
            for c in cases where !c.wkt.uppercased().hasPrefix("LINEARRING") {
                // Cases GEOS itself writes in WKT are read by our WKT reader, then handed over.
                let g: Geometry
                do { g = try WKT.decode(c.wkt) } catch {
                    disagreements.append("\(c.description): our WKT reader refused it: \(error)")
                    continue
                }
                let validity = try context.geometry(g).validity()
                if validity.isValid != c.expected { disagreements.append(c.description) }
                checked += 1
            }
        }
        #expect(checked > 800)
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    }

    @Test func invalidGeometryReportsReasonAndLocation() throws {
        let context = try GeosContext()
        let bowtie = try context.geometry(WKT.decode("POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))"))
        guard case .invalid(let reason, let location) = try bowtie.validity() else {
            Issue.record("a bow-tie polygon must be invalid")
            return
        }
        #expect(reason.contains("Self-intersection"))
        #expect(location == Coordinate(5, 5))
        let fixed = try bowtie.makeValid()
        #expect(try fixed.isValid())
        #expect(abs(try fixed.area() - 50) < 1e-9)
    }

    @Test func operations() throws {
        let context = try GeosContext()
        let square = try context.geometry(WKT.decode("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))"))
        let other = try context.geometry(WKT.decode("POLYGON((5 5, 15 5, 15 15, 5 15, 5 5))"))
        #expect(try square.area() == 100)
        #expect(try square.intersection(other).area() == 25)
        #expect(try square.clipped(to: BoundingBox(minX: 0, minY: 0, maxX: 4, maxY: 10)).area() == 40)
        let prepared = try square.prepared()
        #expect(try prepared.covers(Coordinate(10, 5)))  // on the boundary
        #expect(try prepared.covers(Coordinate(3, 3)))
        #expect(try !prepared.covers(Coordinate(11, 3)))
        #expect(try prepared.intersects(other))
        #expect(try square.value().planarArea == 100)
    }
}
