import ArgumentParser
import Backends
import Foundation
import Formats
import Geometry
import Store

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy layers with their whole history, batches, metadata, tokens and audit into another database.",
        discussion: """
            SRC and DST are each a GeoPackage file or a PostgreSQL URL: a city moves from \
            one file to a database server and back. SRC is only read. DST must hold no \
            LandMap data (a new file, or an empty database). Everything lands in one \
            transaction: after an error DST is as it was, and a GeoPackage the copy made \
            is removed. Ids, versions, batches and timestamps are kept, so both sides \
            show the same counts and fingerprints (`landmap layers --json`) and the same \
            `landmap history ID`. Tokens and the audit log are copied whole, also with \
            --layers; DST's audit log then records the copy.

            Examples:
              landmap copy landmap.gpkg postgresql://landmap@db.example/hcmc
              landmap copy postgresql://landmap@db.example/hcmc hcmc-copy.gpkg
              landmap copy landmap.gpkg parcels.gpkg --layers parcels,admin --verify
            """)

    @Argument(help: ArgumentHelp("The database to copy from (a GeoPackage file or a PostgreSQL URL); only read.", valueName: "src"))
    var source: String

    @Argument(help: ArgumentHelp("The database to copy into: a new GeoPackage file or an empty PostgreSQL database.", valueName: "dst"))
    var destination: String

    @Option(help: ArgumentHelp("Only these layers (and their batches), comma-separated.", valueName: "l,…"))
    var layers: String?

    @Flag(help: "Afterwards, compare each layer's count, versions and fingerprint on both sides (reads both again).")
    var verify = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        let from = StoreLocation(source), to = StoreLocation(destination)
        guard !from.isSame(as: to) else { throw CLIError("SRC and DST are the same database (\(from.display)): copy into a new file or an empty database") }
        for file in [from.localFile, to.localFile].compactMap({ $0 }) { SourcePolicy.protect(database: file) }
        let chosen = layers.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        if let chosen, chosen.isEmpty { throw CLIError("--layers needs at least one layer name (e.g. --layers parcels,admin)") }

        let src = try from.open(readOnly: true)
        let total = try src.versionCounts().filter { chosen?.contains($0.key) ?? true }.values.reduce(0, +)
        // A GeoPackage this command creates is removed again if the copy fails.
        let created = to.localFile.map { !FileManager.default.fileExists(atPath: $0) } ?? false
        let began = Date()
        let summary: CopySummary
        var seconds = 0.0
        let progress = ProgressBar(label: "copying", unit: "versions")
        do {
            let dst = try to.open(create: true)
            summary = try StoreCopy.copy(from: src, to: dst, layers: chosen) { progress.update($0, total) }
            seconds = Date().timeIntervalSince(began)
            progress.finish()
            try dst.audit(actor: cliActor, action: "copy", target: from.display,
                          detail: "\(summary.layers) layers, \(summary.versions) versions, \(summary.batches) batches")
            if verify { try Self.verify(src, dst, layers: chosen) }
        } catch {
            progress.finish()
            if created, let file = to.localFile {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            }
            throw error
        }
        if json {
            printJSON(.object([
                "source": .string(from.display), "destination": .string(to.display),
                "layers": .integer(Int64(summary.layers)), "features": .integer(Int64(summary.features)),
                "versions": .integer(Int64(summary.versions)), "batches": .integer(Int64(summary.batches)),
                "tokens": .integer(Int64(summary.tokens)), "audit_entries": .integer(Int64(summary.auditEntries)),
                "seconds": .number((seconds * 1000).rounded() / 1000), "verified": .bool(verify),
            ]))
            return
        }
        func n(_ count: Int, _ one: String, _ many: String) -> String { "\(count.formatted()) \(count == 1 ? one : many)" }
        let rate = Int(Double(summary.versions) / max(seconds, 0.001)).formatted()
        print("copied \(from.display) → \(to.display): \(n(summary.layers, "layer", "layers")), \(n(summary.features, "feature", "features")) "
            + "(\(n(summary.versions, "version", "versions"))), \(n(summary.batches, "batch", "batches")), \(n(summary.tokens, "token", "tokens")), "
            + "\(n(summary.auditEntries, "audit entry", "audit entries")) in \(String(format: "%.1f", seconds)) s (\(rate) versions/s)"
            + (verify ? "; counts, versions and fingerprints match" : ""))
    }

    /// Each copied layer's feature count, version count and fingerprint, compared on both sides.
    static func verify(_ src: any LandMapStore, _ dst: any LandMapStore, layers chosen: [String]?) throws {
        let names = try chosen ?? src.layers().map(\.schema.name)
        let before = try src.versionCounts(), after = try dst.versionCounts()
        for name in names {
            let a = try LayerFingerprint.of(layer: name, in: src), b = try LayerFingerprint.of(layer: name, in: dst)
            guard a == b, before[name] == after[name] else {
                throw CLIError("layer '\(name)' differs after the copy: \(a.count) features, \(before[name] ?? 0) versions, fingerprint \(a.hex) in SRC; \(b.count), \(after[name] ?? 0), \(b.hex) in DST")
            }
        }
    }
}
