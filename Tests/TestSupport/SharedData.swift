import Foundation

/// Where the peer corpora of `../shared/data` live, if they are present.
///
/// The big corpora are read in place, never copied; tests that need them are skipped with a
/// clear reason when the folder is absent (CI always has it). `LANDMAP_SHARED_DATA` overrides.
public enum SharedData {
    public static let root: URL? = {
        if let env = ProcessInfo.processInfo.environment["LANDMAP_SHARED_DATA"] {
            return URL(fileURLWithPath: env)
        }
        let candidate = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
        return FileManager.default.fileExists(atPath: candidate.path) ? candidate : nil
    }()

    public static var isPresent: Bool { root != nil }

    /// The note Swift Testing prints for a skipped test.
    public static let skipReason = "skipped: ../shared/data not present"

    public static func url(_ relative: String) -> URL? {
        root?.appendingPathComponent(relative)
    }

    /// The package's root folder (this file is Tests/TestSupport/SharedData.swift).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A fresh temporary directory, removed by the caller (or left for the OS).
    public static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("landmap-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The path of an executable on PATH, or nil.
    public static func which(_ tool: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in paths {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs a program and returns its exit status and standard output (stderr is appended).
    /// `environment` adds to (or, with nil values, removes from) this process's environment.
    public static func run(_ executable: String, _ arguments: [String], environment extra: [String: String?] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !extra.isEmpty {
            var environment = ProcessInfo.processInfo.environment
            for (k, v) in extra { environment[k] = v }
            process.environment = environment
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension SharedData {
    /// A product built beside the test bundle (`landmap`, `generate-parcels`), if it is there.
    public static func product(_ name: String) -> String? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        let fallback = packageRoot.appendingPathComponent(".build/debug/\(name)").path
        return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
    }
}
