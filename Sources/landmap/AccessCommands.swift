import Access
import ArgumentParser
import Backends
import Foundation
import Geometry
import Store

/// Who runs a command, as the audit log and batch records name them.
var cliActor: String { "cli:\(ProcessInfo.processInfo.environment["USER"] ?? NSUserName())" }

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make, list and revoke API tokens.",
        discussion: """
            A token is sent as 'Authorization: Bearer <token>'. Roles: reader (sees owners' names
            and ids), editor (also writes features and imports over HTTP), admin. Only a hash of
            each token is stored: it is shown once, when it is made.

            Examples:
              landmap token create --role reader --name citizen-app
              landmap token list
              landmap token revoke 3f9c1a7e20b4
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a token and print it (once).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "reader, editor or admin.") var role: String
        @Option(help: "Who or what holds it (shown in lists and the audit log).") var name: String

        func run() throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be reader, editor or admin, not '\(role)'") }
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.contains(where: \.isNewline) else {
                throw ValidationError("--name must be 1 to 100 characters on one line")
            }
            let (record, token) = try AccessTokens(store: options.openStore(create: true)).create(name: trimmed, role: role, actor: cliActor)
            if options.json {
                printJSON(.object(["key": .string(record.key), "name": .string(record.name), "role": .string(record.role), "token": .string(token)]))
            } else {
                print(token)
                FileHandle.standardError.write(Data("token \(record.key) ('\(record.name)', \(record.role)) made; it is shown only now: keep it secret\n".utf8))
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens: key, name, role, made, last used, revoked.")
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let tokens = try options.openStore().tokens()
            let f = ISO8601DateFormatter()
            if options.json {
                printJSON(.array(tokens.map { t in
                    .object(["key": .string(t.key), "name": .string(t.name), "role": .string(t.role), "created": .string(f.string(from: t.created)),
                             "last_used": t.lastUsed.map { .string(f.string(from: $0)) } ?? .null,
                             "revoked": t.revoked.map { .string(f.string(from: $0)) } ?? .null])
                }))
                return
            }
            guard !tokens.isEmpty else { print("no tokens (landmap token create --role reader --name N)"); return }
            print("key           role    name                  made                  last used             revoked")
            for t in tokens {
                print([t.key.padding(toLength: 13, withPad: " ", startingAt: 0), t.role.padding(toLength: 7, withPad: " ", startingAt: 0),
                       t.name.padding(toLength: 21, withPad: " ", startingAt: 0), f.string(from: t.created).padding(toLength: 21, withPad: " ", startingAt: 0),
                       (t.lastUsed.map { f.string(from: $0) } ?? "never").padding(toLength: 21, withPad: " ", startingAt: 0),
                       t.revoked.map { f.string(from: $0) } ?? "-"].joined(separator: " "))
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by key or name: refused from the next request on.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The token's key (from 'token list') or name.") var token: String

        func run() throws {
            guard let revoked = try options.openStore().revokeToken(token, actor: cliActor) else {
                throw CLIError("no active token has the key or name '\(token)' (landmap token list)")
            }
            print("revoked token \(revoked.key) ('\(revoked.name)', \(revoked.role))")
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the audit log: every write, token made, revoked or used, refused request.",
        discussion: """
            Newest first. Token use is recorded once a minute per token; refused tokens at most
            once a second, with a count of the others.

            Examples:
              landmap audit
              landmap audit --action write --limit 20
              landmap audit --actor token:qgis-office --json
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "How many entries.") var limit = 50
    @Option(help: "Only this actor (cli:<user>, token:<name>, anonymous).") var actor: String?
    @Option(help: "Only this action (write, token.create, token.revoke, token.use, auth.refused, import.refused, backup).") var action: String?

    func run() throws {
        let entries = try options.openStore().auditLog(limit: limit, actor: actor, action: action)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if options.json {
            printJSON(.array(entries.map { e in
                .object(["id": .integer(e.id), "at": .string(f.string(from: e.at)), "actor": .string(e.actor), "action": .string(e.action),
                         "target": .string(e.target), "detail": .string(e.detail)])
            }))
            return
        }
        for e in entries { print("\(f.string(from: e.at))  \(e.actor)  \(e.action)  \(e.target)  \(e.detail)") }
    }
}

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database while it is in use: a consistent snapshot, even while the server writes.",
        discussion: """
            Uses SQLite's online backup; the copy is checked, then renamed into place, so OUT is
            never a partial file. The copy opens in QGIS and GDAL like the original. From a
            PostgreSQL database OUT is a GeoPackage made as `landmap copy URL OUT` makes it.

            Example:
              landmap backup /backups/landmap-$(date +%F).gpkg
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Where to write the copy (replaced if it exists).") var out: String

    func run() throws {
        let store = try options.openStore()
        let began = Date()
        if store.localFile == nil {
            // A database server: the copy is `landmap copy` into a new GeoPackage, made beside
            // OUT and renamed into place, so OUT is never a partial file.
            try Self.copy(store, to: out)
        } else {
            try store.backup(to: out)
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        try store.audit(actor: cliActor, action: "backup", target: out, detail: "\(bytes) bytes")
        print(String(format: "backed up %@ to %@ (%.1f MB in %.1f s)", StoreLocation.redacted(options.db), out, Double(bytes) / 1e6, Date().timeIntervalSince(began)))
    }

    /// A whole copy of a store into a new GeoPackage at `out` (replaced if it exists).
    static func copy(_ store: any LandMapStore, to out: String) throws {
        let target = URL(fileURLWithPath: out)
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString)").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) } }
        do {
            let copy = try StoreLocation(partial).open(create: true)
            try StoreCopy.copy(from: store, to: copy, layers: nil)
            _ = copy.upkeep()
        }
        if FileManager.default.fileExists(atPath: out) { _ = try FileManager.default.replaceItemAt(target, withItemAt: URL(fileURLWithPath: partial)) } else {
            try FileManager.default.moveItem(atPath: partial, toPath: out)
        }
    }
}
