import ArgumentParser
import Features
import Foundation
import Geometry
import Query
import Store

/// `landmap search TEXT`: SPEC §10's search from the command line (all layers: the database's
/// own user reads everything; the index holds no private field either way).
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find addresses, parcels by key, wards old and new, and zones, typed with or without tone marks.",
        discussion: """
            Case, tone marks and đ/d are ignored; the last word may be unfinished. A parcel's key \
            may be written 27484-56-1, 27484/56/1 or "tờ 56 thửa 1".

            Examples:
              landmap search "nguyen thi thap"
              landmap search "Nguyễn Thị Thập 206" --layers parcels
              landmap search "ben nghe" --json
              landmap search 27484-56-1
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "What to look for.") var text: String
    @Option(help: "Only these layers, comma-separated (default: all).") var layers: String?
    @Option(help: "At most this many hits (1…\(Searcher.maxLimit)).") var limit: Int = 10

    func validate() throws {
        guard (1...Searcher.maxLimit).contains(limit) else { throw ValidationError("--limit must be in 1…\(Searcher.maxLimit)") }
    }

    func run() throws {
        let store = try options.openStore()
        let all = try store.dataVersions().keys.sorted()
        let wanted = layers.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? all
        for name in wanted where !all.contains(name) { throw CLIError("no layer named '\(name)' (see `landmap layers`)") }
        let hits = try Searcher(store: store).search(text, layers: wanted, limit: limit)
        if options.json {
            printJSON(.object(["query": .string(text), "hits": .array(hits.map { $0.json() })]))
            return
        }
        if hits.isEmpty { print("Không tìm thấy (nothing found) for '\(text)'") }
        for hit in hits {
            let at = hit.point.map { String(format: " @ %.6f, %.6f", $0.x, $0.y) } ?? ""
            print("\(hit.layer)/\(hit.id): \(hit.label)\(at)")
        }
    }
}

/// `landmap admin crosswalk CODE`: SPEC §10's crosswalk across the 1 July 2025 reform.
struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Administrative units across the 1 July 2025 reform.",
        subcommands: [AdminCrosswalk.self])
}

struct AdminCrosswalk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crosswalk",
        abstract: "An old unit's successors, or a new unit's predecessors, with area shares and the official list's word.",
        discussion: """
            Codes were reused on 2025-07-01 (26740 was Phường Bến Nghé and is now Phường Sài Gòn), \
            so a code is read with a date: --on (default today).

            Examples:
              landmap admin crosswalk 26740                    # Phường Sài Gòn: what it came from
              landmap admin crosswalk 26740 --on 2025-06-30    # Phường Bến Nghé: where it went
              landmap admin crosswalk 26806 --on 2025-06-30 --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The unit's code (mã ĐVHC).") var code: String
    @Option(help: "The day the code is read on (2025-06-30 for the old units; default today).") var on: String?

    func run() throws {
        let day: String
        if let on {
            guard let parsed = Reform.day(parsing: on) else { throw CLIError("--on must be a date such as 2025-06-30, not '\(on)'") }
            day = parsed
        } else {
            day = Reform.day(of: Date())
        }
        guard let walk = try Crosswalk.make(code: code, on: day, store: options.openStore()) else {
            throw CLIError("no administrative unit with code \(code) was valid on \(day) (codes were reused on 2025-07-01: try --on 2025-06-30)")
        }
        if options.json {
            printJSON(walk.json())
            return
        }
        let u = walk.unit
        let span = [u.validFrom.map { "from \($0)" }, u.validTo.map { "until \($0)" }].compactMap { $0 }.joined(separator: ", ")
        print("\(u.fullName) (\(u.code)\(span.isEmpty ? "" : ", \(span)"))")
        print(walk.direction == "successors" ? "Nay thuộc (now part of):" : "Hình thành từ (formed from):")
        for l in walk.links {
            let word = l.official ? "official\(l.officialType.map { ": \($0)" } ?? "")" : "not in the official list"
            print(String(format: "  %@ (%@): %.1f %% (%.0f m²) — %@", l.unit.fullName, l.unit.code, l.share * 100, l.areaM2, word))
        }
        print(String(format: "  (shares from the geometry, normalised over %.1f %% of the unit's area)", walk.coverage * 100))
    }
}
