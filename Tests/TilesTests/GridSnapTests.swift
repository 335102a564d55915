import Foundation
import Geometry
import SeededRandom
import Testing
@testable import Tiles

/// `GridSnap` draws most parcels without GEOS, so what it returns must be what GEOS would
/// accept: valid, on the grid, inside the clip, and no further from the input than rounding
/// and the simplifier's tolerance allow. What it cannot vouch for it must hand back (nil).
@Suite struct GridSnapTests {
    static let clip = BoundingBox(minX: -64, minY: -64, maxX: 4160, maxY: 4160)

    @Test func aSquareComesBackOnTheGrid() throws {
        let square = [Coordinate(10.2, 10.4), Coordinate(20.4, 9.8), Coordinate(19.7, 20.3), Coordinate(9.6, 19.9), Coordinate(10.2, 10.4)]
        let out = try #require(GridSnap.ring(square, inside: Self.clip, tolerance: 1.5))
        #expect(out == [Coordinate(10, 10), Coordinate(20, 10), Coordinate(20, 20), Coordinate(10, 20), Coordinate(10, 10)])
    }

    @Test func whatItCannotVouchForGoesToGEOS() {
        let c = { (x: Double, y: Double) in Coordinate(x, y) }
        // A bow tie, a sliver that rounds to a line, a ring crossing the clip edge, an open ring.
        #expect(GridSnap.ring([c(0, 0), c(10, 10), c(10, 0), c(0, 10), c(0, 0)], inside: Self.clip, tolerance: 0.5) == nil)
        #expect(GridSnap.ring([c(0, 0), c(30, 0.2), c(60, 0.1), c(0, 0)], inside: Self.clip, tolerance: 0.5) == nil)
        #expect(GridSnap.ring([c(-70, 0), c(10, 0), c(10, 10), c(-70, 0)], inside: Self.clip, tolerance: 0.5) == nil)
        #expect(GridSnap.ring([c(0, 0), c(10, 0), c(10, 10), c(0, 10)], inside: Self.clip, tolerance: 0.5) == nil)
        // Rounding makes two vertices of this ring meet: it would touch itself.
        #expect(GridSnap.ring([c(0, 0), c(20, 0), c(10.3, 5), c(20, 10), c(0, 10), c(10.2, 5.1), c(0, 0)], inside: Self.clip, tolerance: 0.1) == nil)
    }

    /// Thousands of small random polygons, many of them thin or star-shaped: every ring
    /// returned is valid for GEOS, on integers, and its area within rounding of the input's.
    @Test func everyRingReturnedIsValidAndClose() throws {
        let geos = try GeosContext()
        var random = SplitMix64(seed: 2_026_1124)
        var returned = 0, handedBack = 0
        for _ in 0..<4_000 {
            let centre = Coordinate(random.range(0, 4096), random.range(0, 4096))
            let size = random.range(0.5, 40)
            let n = Int(random.range(3, 12))
            var ring = (0..<n).map { i -> Coordinate in
                let angle = Double(i) / Double(n) * 2 * .pi, r = size * random.range(0.2, 1)
                return Coordinate(centre.x + r * cos(angle), centre.y + r * sin(angle) * random.range(0.05, 1))
            }
            ring.append(ring[0])
            let tolerance = random.unit() < 0.5 ? 0.5 : 1.5
            guard let out = GridSnap.ring(ring, inside: Self.clip, tolerance: tolerance) else { handedBack += 1; continue }
            returned += 1
            #expect(out.allSatisfy { $0.x == $0.x.rounded() && $0.y == $0.y.rounded() })
            let polygon = Geometry.polygon([out])
            #expect(try geos.geometry(polygon).isValid(), "\(ring) → \(out)")
            let area = abs(Geometry.signedRingArea(ring)), snapped = abs(Geometry.signedRingArea(out))
            // Each vertex moves by at most 0.71 (rounding), and the simplifier drops bumps
            // of at most `tolerance`: the area moves by at most that band around the outline.
            let perimeter = zip(ring, ring.dropFirst()).reduce(0.0) { $0 + hypot($1.1.x - $1.0.x, $1.1.y - $1.0.y) }
            #expect(abs(snapped - area) <= perimeter * (tolerance + 0.71) + 1, "\(ring) → \(out)")
        }
        #expect(returned > 2_000 && handedBack > 100)
    }
}
