import Foundation
#if LANDMAP_FUZZ
import CFuzzer
#endif

/// What every fuzz target shares: how one input is run, and the two ways to run inputs —
/// under libFuzzer (built with `-sanitize=fuzzer` and `-DLANDMAP_FUZZ`, see Tools/fuzz.sh), or
/// as a replay of saved inputs (`fuzz-geojson crash-1 corpus/…`) in a normal build.
public enum Fuzz {
    /// What libFuzzer calls with each input.
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// The fuzz target's `main`: libFuzzer's driver in a fuzzing build, a replay of the files
    /// named on the command line otherwise.
    public static func main(_ callback: Callback) -> Never {
        #if LANDMAP_FUZZ
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
        #else
        replay(Array(CommandLine.arguments.dropFirst())) { data in
            data.withUnsafeBytes { raw in _ = callback(raw.bindMemory(to: UInt8.self).baseAddress, data.count) }
        }
        exit(0)
        #endif
    }

    /// The input libFuzzer passes, as `Data`.
    public static func data(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Data {
        guard let bytes, count > 0 else { return Data() }
        return Data(bytes: bytes, count: count)
    }

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
