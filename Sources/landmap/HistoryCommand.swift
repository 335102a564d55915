import ArgumentParser
import Foundation
import Geometry
import Store

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show every version of a feature: when it was valid, which batch changed it, who wrote (or proposed and approved) it.",
        discussion: """
            A parcel's id is {ward_code}-{sheet}-{number} unless the import said otherwise. \
            Without --layer, every layer is searched for the id.

            Examples:
              landmap history 26734-12-5
              landmap history 26734-12-5 --layer parcels --json
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The feature's id.")
    var id: String

    @Option(help: "The layer to look in (default: every layer holding the id).")
    var layer: String?

    func run() throws {
        let store = try options.openStore()
        let layers = try layer.map { [$0] } ?? store.layers(containing: id)
        guard !layers.isEmpty else { throw CLIError("no layer has a feature with id '\(id)'") }
        var documents = [JSONValue]()
        for name in layers {
            let versions = try store.history(layer: name, id: id)
            guard !versions.isEmpty else {
                throw CLIError("layer '\(name)' has no feature with id '\(id)'")
            }
            let batches = try store.batches(ids: Array(Set(versions.map(\.batchID))))
            if options.json {
                documents.append(.object(["layer": .string(name), "id": .string(id), "versions": .array(versions.map { v in
                    guard case .object(var o) = v.json else { return v.json }
                    if let b = batches[v.batchID] {
                        o["written_by"] = .string(b.actor)
                        o["proposed_by"] = b.proposer.map { .string($0) } ?? .null
                        o["source"] = .string(b.source)
                    }
                    return .object(o)
                })]))
                continue
            }
            print("\(name) \(id): \(versions.count) version\(versions.count == 1 ? "" : "s")")
            for v in versions {
                let until = v.validTo.map(LayersCommand.humanDate) ?? "now"
                let end = v.endedByDeletion ? " (deleted)" : ""
                print("  v\(v.version)  \(LayersCommand.humanDate(v.validFrom)) → \(until)\(end)  batch \(v.batchID)\(Self.who(batches[v.batchID]))")
                let props = v.feature.properties.keys.sorted().map { "\($0)=\(v.feature.properties[$0]?.displayText ?? "")" }
                print("      " + props.joined(separator: "  "))
            }
        }
        if options.json { printJSON(documents.count == 1 ? documents[0] : .array(documents)) }
    }
}

extension HistoryCommand {
    /// `, by token:d7-land-office, proposed by token:tan-phong-clerk (change 12: to56.zip)`.
    static func who(_ batch: BatchRecord?) -> String {
        guard let batch else { return "" }
        guard let proposer = batch.proposer else { return ", by \(batch.actor) (\(batch.source))" }
        return ", proposed by \(proposer), approved by \(batch.actor) (\(batch.source))"
    }
}

extension FeatureVersion {
    var json: JSONValue {
        .object([
            "version": .integer(Int64(version)),
            "valid_from": .string(ISO8601DateFormatter().string(from: validFrom)),
            "valid_to": validTo.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null,
            "batch_id": .integer(batchID),
            "deleted": .bool(endedByDeletion),
            "feature": feature.geoJSON(),
        ])
    }
}

extension JSONValue {
    /// The value as a person reads it: strings bare, everything else as JSON.
    var displayText: String {
        if case .string(let s) = self { return s }
        return jsonText
    }
}
