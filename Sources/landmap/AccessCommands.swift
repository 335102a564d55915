import Access
import ArgumentParser
import Backends
import Features
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
            A token is sent as 'Authorization: Bearer <token>'. Roles, lowest first:
              reader       reads the layers it is granted, owners' names and ids included
              contributor  also proposes changes: its writes and uploads wait for a steward
              editor       also writes directly (features, uploads)
              steward      also approves or rejects proposals to its unit's layers
              admin        everything
            Scopes: --unit names the unit the holder works for (a steward reviews the layers \
            whose steward is that unit); --layers limits every right to those layers (a \
            restricted layer is readable only by tokens that name it, its steward unit and \
            admins); --wards limits writes and proposals to features inside those wards \
            (parcels by ward_code, other layers by geometry). Only a hash of each token is \
            stored: it is shown once, when it is made. --expires makes a token that is refused \
            from then on (12h, 90d, 8w from now, or a date: 2027-03-01 is 00:00 UTC that day); \
            --rate-limit gives it its own requests-per-minute limit instead of the server's \
            default for tokens (landmap serve --token-rate-limit), higher or lower. 'token list' \
            shows each token's expiry, last use and the client address of its last use.

            Examples:
              landmap token create --role reader --name citizen-app
              landmap token create --role reader --name survey-contractor --expires 90d --rate-limit 120/min
              landmap token create --role contributor --name tan-phong-clerk \\
                --unit phuong-tan-phong --layers parcels --wards 27487
              landmap token create --role steward --name d7-land-office \\
                --unit so-nnmt --layers parcels
              landmap token list
              landmap token revoke 3f9c1a7e20b4
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a token and print it (once).")
        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("reader, contributor, editor, steward or admin.", valueName: "role")) var role: String
        @Option(help: "Who or what holds it (shown in lists and the audit log).") var name: String
        @Option(help: ArgumentHelp("The unit the holder works for (e.g. so-nnmt, phuong-tan-phong).", valueName: "unit")) var unit: String?
        @Option(help: ArgumentHelp("Limit every right of the token to these layers.", valueName: "layer,…")) var layers: String?
        @Option(help: ArgumentHelp("Limit writes and proposals to features inside these wards (official codes).", valueName: "code,…")) var wards: String?
        @Option(help: ArgumentHelp("Refuse the token from then on: 12h, 90d, 8w from now, a date (2027-03-01, 00:00 UTC) or an instant.",
                                   valueName: "span|date")) var expires: String?
        @Option(help: ArgumentHelp("The token's own limit, e.g. 600/min (default: the server's --token-rate-limit).", valueName: "N/min"))
        var rateLimit: String?

        func run() throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be one of \(Role.names), not '\(role)'") }
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.contains(where: \.isNewline) else {
                throw ValidationError("--name must be 1 to 100 characters on one line")
            }
            let scope = TokenScope(unit: try unit.map { try Self.word($0, "--unit") }, layers: try layers.map { try Self.list($0, "--layers") },
                                   wards: try wards.map { try Self.list($0, "--wards") })
            if let layers = scope.layers, let bad = layers.first(where: { !LayerSchema.isValidName($0) }) {
                throw ValidationError("--layers: '\(bad)' is not a layer name (lower-case letters, digits and _)")
            }
            if let wards = scope.wards, let bad = wards.first(where: { !$0.allSatisfy(\.isNumber) }) {
                throw ValidationError("--wards: '\(bad)' is not a ward code (the official code, digits only, e.g. 27487)")
            }
            let terms: TokenTerms
            do {
                terms = TokenTerms(expires: try expires.map { try TermsText.expiry($0) }, rateLimit: try rateLimit.map { try TermsText.perMinute($0) })
            } catch {
                throw ValidationError("\(error)")
            }
            let store = try options.openStore(create: true)
            if let layers = scope.layers {
                let known = Set(try store.dataVersions().keys)
                if let missing = layers.first(where: { !known.contains($0) }) {
                    FileHandle.standardError.write(Data("warning: there is no layer '\(missing)' yet; the token is limited to it all the same\n".utf8))
                }
            }
            let (record, token) = try AccessTokens(store: store).create(name: trimmed, role: role, scope: scope, terms: terms, actor: cliActor)
            if options.json {
                printJSON(.object(["key": .string(record.key), "name": .string(record.name), "role": .string(record.role), "token": .string(token),
                                   "scope": (try? JSONValue.parse(scope.json)) ?? .object([:]),
                                   "expires": record.expires.map { .string(Timestamp.string($0)) } ?? .null,
                                   "rate_limit": record.rateLimit.map { .integer(Int64($0)) } ?? .null]))
            } else {
                print(token)
                let extra = terms == .none ? "" : "; " + terms.summary
                FileHandle.standardError.write(Data("token \(record.key) ('\(record.name)', \(record.role); \(scope.summary)\(extra)) made; it is shown only now: keep it secret\n".utf8))
            }
        }

        /// `a, b,c` → `[a, b, c]`; empty names are an error, so a typo never widens a scope.
        static func list(_ text: String, _ option: String) throws -> [String] {
            let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
                throw ValidationError("\(option) '\(text)' has an empty name: give names separated by single commas")
            }
            return names
        }

        static func word(_ text: String, _ option: String) throws -> String {
            let t = text.trimmingCharacters(in: .whitespaces)
            guard !t.isEmpty, t.count <= 100, !t.contains(where: { $0.isNewline || $0 == "," }) else {
                throw ValidationError("\(option) must be 1 to 100 characters, one name")
            }
            return t
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens: key, name, role, made, expiry, last used and from where, revoked, own rate limit, scope.",
            discussion: """
                An expired token shows 'expired <when>'; the last use and its client address are recorded \
                once a minute per token, and at once (at most once a second) when the address changes.
                """)
        @OptionGroup var options: GlobalOptions

        func run() throws {
            let tokens = try options.openStore().tokens()
            let f = ISO8601DateFormatter()
            let now = Date()
            if options.json {
                printJSON(.array(tokens.map { t in
                    .object(["key": .string(t.key), "name": .string(t.name), "role": .string(t.role), "created": .string(f.string(from: t.created)),
                             "expires": t.expires.map { .string(f.string(from: $0)) } ?? .null, "expired": .bool(t.isExpired(at: now)),
                             "last_used": t.lastUsed.map { .string(f.string(from: $0)) } ?? .null,
                             "last_address": t.lastAddress.map { .string($0) } ?? .null,
                             "revoked": t.revoked.map { .string(f.string(from: $0)) } ?? .null,
                             "rate_limit": t.rateLimit.map { .integer(Int64($0)) } ?? .null,
                             "scope": (try? JSONValue.parse(t.scope.json)) ?? .object([:])])
                }))
                return
            }
            guard !tokens.isEmpty else { print("no tokens (landmap token create --role reader --name N)"); return }
            func column(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
            print("key           role         name                  made                  expires                       last used             last address            revoked               limit      scope")
            for t in tokens {
                let expiry = t.expires.map { (t.isExpired(at: now) ? "expired " : "") + f.string(from: $0) } ?? "never"
                print([column(t.key, 13), column(t.role, 12), column(t.name, 21), column(f.string(from: t.created), 21), column(expiry, 29),
                       column(t.lastUsed.map { f.string(from: $0) } ?? "never", 21), column(t.lastAddress ?? "-", 23),
                       column(t.revoked.map { f.string(from: $0) } ?? "-", 21), column(t.rateLimit.map { "\($0)/min" } ?? "server", 10),
                       t.scope.summary].joined(separator: " "))
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

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database while it is in use: a consistent snapshot, even while the server writes.",
        discussion: """
            Uses SQLite's online backup; the copy is checked, then renamed into place, so OUT is \
            never a partial file. The copy opens in QGIS and GDAL like the original. From a \
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
