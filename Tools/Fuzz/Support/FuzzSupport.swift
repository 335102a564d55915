import Foundation

/// What every fuzz target shares: how one input is run, and the two ways to run inputs —
/// under libFuzzer (built with `-sanitize=fuzzer` and `-DLANDMAP_FUZZ`, see Tools/fuzz.sh), or
/// as a replay of saved inputs (`fuzz-geojson crash-1 corpus/…`) in a normal build.
public enum Fuzz {
    /// Runs every file named (or every file in every folder named) through `body`.
    public static func replay(_ arguments: [String], _ body: (Data) -> Void) {
        var count = 0
        for path in arguments {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { print("no such file: \(path)"); continue }
            let files = isDir.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                body(data)
                count += 1
            }
        }
        print("replayed \(count) inputs without a crash")
    }
}

import Geometry

extension Geometry {
    /// NaN never equals itself: round-trip checks skip geometries that hold one.
    public var hasNonFiniteCoordinate: Bool {
        var found = false
        _ = mapCoordinates { c in
            if !c.x.isFinite || !c.y.isFinite { found = true }
            return c
        }
        return found
    }
}
