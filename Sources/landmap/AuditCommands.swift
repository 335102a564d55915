import ArgumentParser
import Foundation
import Geometry
import Store

/// `landmap audit`: the log itself (`show`, the default), its hash chain checked (`verify`),
/// and its entries as JSON lines for the city's log collection (`export`).
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show, verify and export the audit log: every write, token made, revoked or used, refused request.",
        discussion: """
            The log is hash-chained: each entry holds the SHA-256 of the entry before it and of \
            itself, so an entry edited, removed or slipped in by hand is found by 'audit verify'. \
            Whoever can write the database could recompute the whole chain, so keep what \
            'audit export --follow' writes somewhere else: 'audit verify --against' checks the \
            database against that copy.

            Examples:
              landmap audit --limit 20
              landmap audit verify
              landmap audit export --follow >> /var/log/landmap/audit.jsonl
              landmap audit verify --against /var/log/landmap/audit.jsonl
            """,
        subcommands: [AuditShowCommand.self, AuditVerifyCommand.self, AuditExportCommand.self],
        defaultSubcommand: AuditShowCommand.self)
}

struct AuditShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the audit log, newest first (what 'landmap audit' does).",
        discussion: """
            Token use is recorded once a minute per token; refused tokens at most \
            once a second, with a count of the others. Each entry names the unit its actor \
            works for (a token's --unit).

            Examples:
              landmap audit
              landmap audit --action write --limit 20
              landmap audit --actor token:qgis-office --json
              landmap audit --unit phuong-tan-phong --layer parcels --since 2026-11-01
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "How many entries.") var limit = 50
    @Option(help: "Only this actor (cli:<user>, token:<name>, anonymous).") var actor: String?
    @Option(help: "Only this action (write, write.refused, change.propose, change.approve, change.reject, token.create, token.revoke, token.use, auth.refused, import.refused, import.unsafe, backup).") var action: String?
    @Option(help: "Only entries of this unit.") var unit: String?
    @Option(help: "Only entries about this layer (its writes, refusals and proposals).") var layer: String?
    @Option(help: ArgumentHelp("Only entries from this date (YYYY-MM-DD, UTC) or instant (ISO 8601) on.", valueName: "date")) var since: String?

    func run() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        var from: Date?
        if let since {
            let f = ISO8601DateFormatter()
            let options: [ISO8601DateFormatter.Options] = [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]]
            from = options.lazy.compactMap { o -> Date? in f.formatOptions = o; return f.date(from: since) }.first
            guard from != nil else { throw ValidationError("--since must be a date (2026-11-01) or an ISO 8601 instant, not '\(since)'") }
        }
        let entries = try options.openStore().auditLog(AuditQuery(limit: limit, actor: actor, action: action, unit: unit, layer: layer, since: from))
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if options.json {
            printJSON(.array(entries.map { e in
                .object(["id": .integer(e.id), "at": .string(f.string(from: e.at)), "actor": .string(e.actor), "unit": .string(e.unit),
                         "action": .string(e.action), "target": .string(e.target), "detail": .string(e.detail)])
            }))
            return
        }
        for e in entries { print("\(f.string(from: e.at))  \(e.actor)\(e.unit.isEmpty ? "" : " (\(e.unit))")  \(e.action)  \(e.target)  \(e.detail)") }
    }
}

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit log's hash chain: exit 0 when whole, 1 naming the first entry changed, removed or inserted.",
        discussion: """
            Walks every entry in id order (a page at a time, whatever the log's length). When \
            whole it prints the number of entries and the last one's hash. Otherwise it names \
            the first break: an entry whose content no longer matches its hash (changed), a gap \
            the next entry's link passes over (removed), or an entry the chain does not pass \
            through (inserted).

            The chain alone cannot see entries removed from the end, nor a log rewritten with \
            every hash recomputed. --against FILE checks that every entry of a file 'audit \
            export' wrote is still in the database with the same hash.

            Examples:
              landmap audit verify
              landmap audit verify --db postgresql://landmap@db.internal/hcmc --json
              landmap audit verify --against /var/log/landmap/audit.jsonl
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Also check the database against this file of exported entries (JSON lines from 'audit export').", valueName: "file.jsonl"))
    var against: String?

    func run() throws {
        let store = try options.openStore()
        let verdict = try store.verifyAuditChain()
        var mismatch: AuditExportMismatch?
        var exported = 0
        if let against { (mismatch, exported) = try Self.check(store, against: against) }
        var out: [String: JSONValue] = ["ok": .bool(verdict.isWhole && mismatch == nil)]
        switch verdict {
        case .whole(let entries, let head):
            out["entries"] = .integer(Int64(entries))
            out["head"] = .string(head)
            if !options.json { print("audit log whole: \(entries) entries, head \(head)") }
        case .broken(let b):
            out["broken"] = .object(["kind": .string(b.kind.rawValue), "entry": .integer(b.entry), "after": b.after.map { .integer($0) } ?? .null,
                                     "verified": .integer(Int64(b.verified)), "message": .string(b.description)])
            if !options.json { print("audit log broken: \(b); \(b.verified == 1 ? "the 1 entry" : "the \(b.verified) entries") before it \(b.verified == 1 ? "is" : "are") whole") }
        }
        if let against {
            out["against"] = .object(["file": .string(against), "entries": .integer(Int64(exported)),
                                      "mismatch": mismatch.map { .string($0.description) } ?? .null])
            if !options.json {
                if let mismatch { print("audit log differs from \(against): \(mismatch)") } else {
                    print("all \(exported) entries of \(against) are in the database, unchanged")
                }
            }
        }
        if options.json { printJSON(.object(out)) }
        if !verdict.isWhole || mismatch != nil { throw ExitCode(1) }
    }

    /// The first exported entry the database no longer holds as it was, and how many lines
    /// were read. The file is read 2 000 lines at a time; its ids must ascend, as export writes them.
    static func check(_ store: any AccessStore, against path: String) throws -> (AuditExportMismatch?, Int) {
        guard let file = fopen(path, "r") else { throw CLIError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        var chunk = [(id: Int64, hash: String)]()
        var lineNumber = 0
        var lastID: Int64 = 0
        var count = 0
        while true {
            let read = getline(&buffer, &capacity, file)
            if read > 0, let buffer {
                lineNumber += 1
                let bytes = UnsafeRawBufferPointer(start: buffer, count: read)
                let line = bytes.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
                guard let value = try? JSONValue.parse(Data(line)), case .integer(let id)? = value["id"], let hash = value["hash"]?.stringValue else {
                    throw CLIError("line \(lineNumber) of \(path) is not an exported audit entry (JSON with id and hash)")
                }
                guard id > lastID else { throw CLIError("line \(lineNumber) of \(path): entry \(id) comes after entry \(lastID); export writes them in id order") }
                lastID = id
                chunk.append((id, hash))
                count += 1
            }
            if chunk.count >= 2000 || (read <= 0 && !chunk.isEmpty) {
                if let mismatch = try store.firstMismatch(against: chunk) { return (mismatch, count) }
                chunk.removeAll(keepingCapacity: true)
            }
            if read <= 0 { break }
        }
        return (nil, count)
    }
}

struct AuditExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write audit entries as JSON lines, oldest first; --follow keeps writing new ones.",
        discussion: """
            One object per line: id, at, actor, unit, action, target, detail, prev_hash, hash. \
            Give the city's log collection the output: kept apart from the database, it is what \
            'audit verify --against' compares the database with. --since-id resumes after the \
            last id a collector already has; --follow then polls for new entries (every \
            --interval seconds) until interrupted.

            Examples:
              landmap audit export > audit.jsonl
              landmap audit export --since-id "$(tail -n1 audit.jsonl | jq .id)" >> audit.jsonl
              landmap audit export --follow >> /var/log/landmap/audit.jsonl
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("since-id"), help: ArgumentHelp("Only entries after this id.", valueName: "id")) var sinceID: Int64 = 0
    @Flag(help: "Keep polling for new entries until interrupted.") var follow = false
    @Option(help: ArgumentHelp("Seconds between polls with --follow.", valueName: "seconds")) var interval: Double = 1

    func validate() throws {
        guard sinceID >= 0 else { throw ValidationError("--since-id must be 0 or more") }
        guard interval > 0 else { throw ValidationError("--interval must be more than 0 seconds") }
    }

    func run() throws {
        let store = try options.openStore()
        var after = sinceID
        while true {
            let page = try store.auditEntries(after: after, limit: 2000)
            if !page.isEmpty {
                var text = ""
                for entry in page { Self.write(entry, into: &text) }
                FileHandle.standardOutput.write(Data(text.utf8))
                after = page[page.count - 1].id
                if page.count == 2000 { continue }
            }
            guard follow else { return }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    /// One JSON line, its members in the order the help names them.
    static func write(_ e: AuditRow, into out: inout String) {
        out += "{\"id\":\(e.id)"
        for (key, value) in [("at", e.at), ("actor", e.actor), ("unit", e.unit), ("action", e.action), ("target", e.target), ("detail", e.detail)] {
            out += ",\"\(key)\":"
            JSONValue.writeString(value, into: &out)
        }
        for (key, value) in [("prev_hash", e.prevHash), ("hash", e.hash)] {
            out += ",\"\(key)\":"
            if let value { JSONValue.writeString(value, into: &out) } else { out += "null" }
        }
        out += "}\n"
    }
}
