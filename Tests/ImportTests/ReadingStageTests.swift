import Foundation
@testable import Import
import Testing

/// The reading half of an import runs on its own thread; what it hands over must be every
/// feature in file order, and stopping it early must neither hang nor leave it running.
@Suite struct ReadingStageTests {
    static let count = 3_000  // more than the hand-off holds (8 batches of 256), so the reader blocks

    func path() throws -> String {
        try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: Self.count, bowtieAt: 7), name: "stage.geojson")
    }

    @Test func handsOverEveryFeatureInFileOrder() throws {
        let pipe = ReadingStage.start(path: try path(), options: ImportOptions(layer: "parcels"), lintRefused: [11])
        guard case .opened(let summary, let total) = pipe.take() else { Issue.record("no .opened first"); return }
        #expect(summary.mapping["SoThua"] == "number" && total == Self.count)
        var indices = [Int](), refused = [Int]()
        loop: while true {
            switch pipe.take() {
            case .features(let batch):
                #expect(batch.count <= ReadingStage.batchSize)
                indices += batch.map(\.index)
                refused += batch.filter(\.refused).map(\.index)
            case .finished: break loop
            case .failed(let error): Issue.record("failed: \(error)"); break loop
            case .opened: Issue.record("opened twice")
            case .findings(let found): Issue.record("findings about no feature in a Shapefile: \(found)")
            }
        }
        #expect(indices == Array(indices.sorted()) && indices.count == Self.count)
        // The bow-tie is invalid without --fix; the lint's verdict on feature 11 is kept.
        #expect(refused == [indices[7], 11].sorted())
    }

    @Test func stoppingEarlyEndsTheReaderWithoutHanging() throws {
        for _ in 0..<3 {
            let pipe = ReadingStage.start(path: try path(), options: ImportOptions(layer: "parcels"), lintRefused: [])
            guard case .opened = pipe.take() else { Issue.record("no .opened first"); return }
            guard case .features = pipe.take() else { Issue.record("no features"); return }
            ReadingStage.stop(pipe)  // returns only after the reader's last message
        }
        let missing = ReadingStage.start(path: "/nonexistent/parcels.geojson", options: ImportOptions(layer: "parcels"), lintRefused: [])
        guard case .failed(let error) = missing.take() else { Issue.record("a missing file must fail"); return }
        #expect("\(error)".contains("parcels.geojson: no such file"))
    }
}
