import Foundation
import Geometry
import Logging

/// Log lines as JSON objects, one per line on stderr, for the city's log collection
/// (`landmap serve --log-format json`): `{"at": "2026-11-30T23:59:59.123Z", "level": "info",
/// "label": "landmap", "message": "request", "method": "GET", "path": "/parcels/at", …}` —
/// the metadata flattened beside the message, so a collector indexes each field without a
/// parser of its own. Each line is one `write(2)` (lines up to the pipe's atomic size, 4 KiB, never interleave).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Self.line(at: Date(), level: event.level, label: label, message: "\(event.message)",
                             metadata: metadata.merging(metadataProvider?.get() ?? [:]) { _, new in new }.merging(event.metadata ?? [:]) { _, new in new })
        line.append("\n")
        // One write(2) for the whole line in the usual case; a long line a pipe takes in parts is finished.
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if n > 0 { offset += n } else if n < 0, errno == EINTR { continue } else { return }
            }
        }
    }

    /// One log line (without its newline); fields of the metadata never replace `at`, `level`,
    /// `label` or `message`.
    static func line(at: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var object: [String: JSONValue] = [:]
        for (key, value) in metadata { object[key] = json(value) }
        object["at"] = .string(at.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        object["level"] = .string(level.rawValue)
        object["label"] = .string(label)
        object["message"] = .string(message)
        return JSONValue.object(object).jsonText
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): .string(s)
        case .stringConvertible(let c): .string(c.description)
        case .array(let a): .array(a.map(json))
        case .dictionary(let d): .object(d.mapValues(json))
        }
    }
}
