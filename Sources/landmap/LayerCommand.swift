import ArgumentParser
import Features
import Foundation
import Geometry
import Store

/// `landmap layer set|show`: a layer's metadata (SPEC §8). Only `--private-fields` so far.
struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer",
        abstract: "Show or set a layer's metadata (private fields).",
        subcommands: [LayerSet.self, LayerShow.self])
}

struct LayerSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a layer's metadata: which fields only token holders see.",
        discussion: """
            --private-fields replaces the layer's list; an empty value clears it. Owners' names
            and ids (owner, owner_id, ChuSuDung, TenChuSuDung, HoTen, CCCD, CMND, SoCCCD, SoCMND,
            in any case) are private in every layer without being listed. Names match in any
            case, with or without underscores, spaces or diacritics. Cached tiles and ETags
            change at once: the layer gets a new data version. (Title, steward, access and the
            other options of SPEC §8 are not implemented yet.)

            Examples:
              landmap layer set shops --private-fields phone,email
              landmap layer set parcels --private-fields ""
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The layer.")
    var layer: String

    @Option(help: ArgumentHelp("Fields only token holders see, separated by commas.", valueName: "f,…"))
    var privateFields: String?

    func run() throws {
        guard let privateFields else { throw CLIError("nothing to set: give --private-fields f,… (or \"\" to clear the list)") }
        let names = try Self.fieldList(privateFields)
        let store = try options.openStore()
        try store.setMetadata(LayerMetadata(privateFields: names), of: layer, actor: cliActor)
        print(names.isEmpty ? "layer '\(layer)': no fields marked private" : "layer '\(layer)': private fields \(names.joined(separator: ", "))")
    }

    /// `a, b,c` → `[a, b, c]`; an empty text clears; an empty name between commas is an error.
    static func fieldList(_ text: String) throws -> [String] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return [] }
        let names = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.contains(where: \.isEmpty) else {
            throw CLIError("--private-fields '\(text)' has an empty field name: give names separated by single commas")
        }
        return names
    }
}

struct LayerShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a layer's fields, which are private, and its metadata.",
        discussion: """
            Examples:
              landmap layer show parcels
              landmap layer show shops --json
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The layer.")
    var layer: String

    func run() throws {
        guard let info = try options.openStore().layer(layer) else { throw StoreError.unknownLayer(layer) }
        let schema = info.schema
        if options.json {
            printJSON(.object([
                "name": .string(schema.name),
                "title": .string(schema.title),
                "feature_count": .integer(Int64(info.featureCount)),
                "data_version": .integer(info.dataVersion),
                "fields": .array(schema.fields.map { .object(["name": .string($0.name), "type": .string($0.type.rawValue), "private": .bool(schema.isPrivate($0.name))]) }),
                "private_fields": .array(schema.metadata.privateFields.map { .string($0) }),
                "always_private": .string(Self.rule),
            ]))
            return
        }
        print("\(schema.name): \(schema.title), \(info.featureCount.formatted()) features, data version \(info.dataVersion)")
        if !schema.fields.isEmpty {
            print("fields: " + schema.fields.map { schema.isPrivate($0.name) ? "\($0.name) (private)" : $0.name }.joined(separator: ", "))
        }
        print("private fields set: " + (schema.metadata.privateFields.isEmpty ? "none" : schema.metadata.privateFields.joined(separator: ", ")))
        print("always private: " + Self.rule)
    }

    static let rule = "owners' names and ids under any name (owner, owner_id, ChuSuDung, TenChuSuDung, HoTen, CCCD, CMND, SoCCCD, SoCMND, any case)"
}
