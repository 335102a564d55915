import ArgumentParser
import Features
import Foundation
import Geometry
import Store

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Keep a copy of another LandMap's layer up to date through its change feed.",
        discussion: """
            Pulls the changes of LAYER since the last sync from URL (GET /collections/LAYER/changes) \
            and applies them as one batch whose source names the URL and the version reached \
            (`sync URL/collections/LAYER@V`): that batch record is where the next run starts, so a \
            run that fails or is killed leaves the copy and its place as they were. Running it \
            again fetches only what is new. A layer written by anything else is refused unless \
            --force. A missing target layer is made with the source's schema. The token (for \
            internal and restricted layers, and to receive private fields) is never printed.

            Examples:
              landmap sync --from https://landmap.example.gov.vn --layer parcels
              LANDMAP_TOKEN=lm_… landmap sync --from http://10.0.0.5:8080 \\
                --layer zoning --to-layer zoning_q7
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The other LandMap server's address (http://host:port).", valueName: "url"))
    var from: String

    @Option(help: ArgumentHelp("The layer to copy from it.", valueName: "layer"))
    var layer: String

    @Option(name: .customLong("to-layer"), help: ArgumentHelp("The layer of this database to keep in sync (default: the same name).", valueName: "layer"))
    var toLayer: String?

    @Option(help: ArgumentHelp("A token of the other server (default: $LANDMAP_TOKEN).", valueName: "token"))
    var token: String?

    @Flag(help: "Sync into a layer that also holds batches from elsewhere (local edits, another URL).")
    var force = false

    @Option(help: ArgumentHelp("Changes per request.", valueName: "n"))
    var pageSize = 5000

    func run() throws {
        var base = from
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw CLIError("--from '\(from)' is not an http(s) URL of a LandMap server (e.g. http://10.0.0.5:8080)")
        }
        let target = toLayer ?? layer
        guard LayerSchema.isValidName(target) else { throw StoreError.invalidLayerName(target) }
        let store = try global.openStore(create: true)
        let secret = token ?? ProcessInfo.processInfo.environment["LANDMAP_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let interactive = isatty(STDERR_FILENO) != 0
        let began = Date()
        var lastShown = Date.distantPast
        let sync = LayerSync(base: base, layer: layer, target: target, token: secret, force: force, pageSize: max(1, min(pageSize, 10_000)),
                             actor: cliActor) { changes, version in
            guard Date().timeIntervalSince(lastShown) >= (interactive ? 0.2 : 5) else { return }
            lastShown = Date()
            let rate = Int(Double(changes) / max(Date().timeIntervalSince(began), 0.001))
            FileHandle.standardError.write(Data("\(interactive ? "\r" : "")syncing \(layer): \(changes) changes, version \(version) (\(rate)/s)\(interactive ? "" : "\n")".utf8))
        }
        let result = try sync.run(store)
        if interactive && lastShown != .distantPast { FileHandle.standardError.write(Data("\n".utf8)) }
        let seconds = Date().timeIntervalSince(began)
        if global.json {
            printJSON(.object([
                "from": .string(sync.feedURL), "layer": .string(target), "since": .integer(result.since), "to": .integer(result.to),
                "changes": .integer(Int64(result.changes)), "inserted": .integer(Int64(result.summary?.inserted ?? 0)),
                "updated": .integer(Int64(result.summary?.updated ?? 0)), "deleted": .integer(Int64(result.summary?.deleted ?? 0)),
                "seconds": .number((seconds * 1000).rounded() / 1000),
            ]))
        } else if let s = result.summary {
            print("synced \(target) from \(sync.feedURL): version \(result.since) → \(result.to), \(result.changes) changes "
                + "(+\(s.inserted) ~\(s.updated) -\(s.deleted)) in \(String(format: "%.1f", seconds)) s (\(Int(Double(result.changes) / max(seconds, 0.001))) changes/s)")
        } else {
            print("\(target) is already up to date with \(sync.feedURL) (version \(result.to))")
        }
    }
}
