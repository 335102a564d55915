import ArgumentParser
import Features
import Foundation
import Geometry
import Store

/// `landmap layer set|show`: a layer's metadata (SPEC §8).
struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer",
        abstract: "Show or set a layer's metadata: titles, steward, access, licence, private fields.",
        subcommands: [LayerSet.self, LayerShow.self])
}

struct LayerSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a layer's metadata; options not given keep their value.",
        discussion: """
            --access: public (anyone reads it), internal (any token holder), restricted (only \
            tokens whose --layers name it, its steward unit's tokens and admins). A layer a \
            caller may not read does not exist for it: absent from /collections, tiles, \
            lookups, and 404 everywhere. \
            --steward names the responsible unit: tokens with that --unit and the steward role \
            approve or reject its proposals. \
            --private-fields replaces the layer's list; an empty value clears it. Owners' names \
            and ids (owner, owner_id, ChuSuDung, TenChuSuDung, HoTen, CCCD, CMND, SoCCCD, SoCMND, \
            in any case) are private in every layer without being listed. \
            An empty value ("") clears a text option. Cached tiles and ETags change at once: the \
            layer gets a new data version. The built-in layers start with defaults (landmap \
            layer show parcels).

            Examples:
              landmap layer set zoning --access restricted --steward so-qhkt
              landmap layer set shops --title "Cửa hàng" --title-en Shops --licence CC-BY-4.0 --attribution "Phường Tân Phong"
              landmap layer set shops --keywords "cửa hàng,shops" --update-frequency monthly --contact gis@tanphong.example
              landmap layer set shops --private-fields phone,email
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The layer.")
    var layer: String

    @Option(help: "Title in Vietnamese.") var title: String?
    @Option(help: "Title in English.") var titleEn: String?
    @Option(help: "Description in Vietnamese.") var description: String?
    @Option(help: "Description in English.") var descriptionEn: String?
    @Option(help: ArgumentHelp("The responsible unit (e.g. so-nnmt).", valueName: "unit")) var steward: String?
    @Option(help: ArgumentHelp("public, internal or restricted.", valueName: "level")) var access: String?
    @Option(help: ArgumentHelp("An SPDX licence id (CC-BY-4.0, ODbL-1.0, MIT, LicenseRef-…).", valueName: "spdx-id")) var licence: String?
    @Option(help: "The credit shown with the layer on maps and downloads.") var attribution: String?
    @Option(help: ArgumentHelp("Keywords, separated by commas.", valueName: "k,…")) var keywords: String?
    @Option(help: ArgumentHelp("daily, weekly, monthly, quarterly, annual or irregular.", valueName: "frequency")) var updateFrequency: String?
    @Option(help: ArgumentHelp("An e-mail address for questions about the layer.", valueName: "email")) var contact: String?
    @Option(help: ArgumentHelp("Fields only token holders see, separated by commas.", valueName: "f,…")) var privateFields: String?

    func run() throws {
        let store = try options.openStore()
        guard let schema = try store.schema(of: layer) else { throw StoreError.unknownLayer(layer) }
        var m = schema.metadata
        var changed = [String]()
        func text(_ value: String?, _ name: String, _ keyPath: WritableKeyPath<LayerMetadata, String?>) throws {
            guard let value else { return }
            let t = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard t.count <= 4000 else { throw CLIError("--\(name) may be at most 4000 characters") }
            m[keyPath: keyPath] = t
            changed.append(name)
        }
        try text(title, "title", \.title)
        try text(titleEn, "title-en", \.titleEn)
        try text(description, "description", \.description)
        try text(descriptionEn, "description-en", \.descriptionEn)
        try text(steward, "steward", \.steward)
        try text(attribution, "attribution", \.attribution)
        if let access {
            guard let level = AccessLevel(rawValue: access) else { throw CLIError("--access must be public, internal or restricted, not '\(access)'") }
            m.access = level
            changed.append("access")
        }
        if let licence {
            guard licence.isEmpty || Self.isSPDX(licence) else {
                throw CLIError("--licence '\(licence)' is not an SPDX licence id: use one like CC-BY-4.0, ODbL-1.0, MIT, or LicenseRef-<name> for your own")
            }
            m.licence = licence
            changed.append("licence")
        }
        if let keywords {
            m.keywords = keywords.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            changed.append("keywords")
        }
        if let updateFrequency {
            if updateFrequency.isEmpty { m.updateFrequency = nil } else {
                guard let f = UpdateFrequency(rawValue: updateFrequency) else {
                    throw CLIError("--update-frequency must be one of \(UpdateFrequency.allCases.map(\.rawValue).joined(separator: ", ")), not '\(updateFrequency)'")
                }
                m.updateFrequency = f
            }
            changed.append("update-frequency")
        }
        if let contact {
            guard contact.isEmpty || Self.isEmail(contact) else { throw CLIError("--contact must be an e-mail address (name@host), not '\(contact)'") }
            m.contact = contact
            changed.append("contact")
        }
        if let privateFields {
            m.setPrivateFields(try Self.fieldList(privateFields))
            changed.append("private-fields")
        }
        guard !changed.isEmpty else { throw CLIError("nothing to set: give one of the options (landmap layer set --help)") }
        try store.setMetadata(m, of: layer, actor: cliActor)
        print("layer '\(layer)': set \(changed.joined(separator: ", "))")
        if m.access != schema.metadata.access { print("access is now \(m.access.rawValue): \(LayerShow.meaning(m.access))") }
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

    /// An SPDX licence id's shape: letters, digits, `.`, `-` and `+` (the SPDX list's ids and
    /// `LicenseRef-` ids); not checked against the list, which grows.
    static func isSPDX(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 100 && id.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-+".unicodeScalars.contains($0)) }
    }

    static func isEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !s.contains(where: { $0.isWhitespace }) && s.count <= 254
    }
}

struct LayerShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a layer's metadata, fields, and which fields are private.",
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
        let schema = info.schema, m = schema.metadata
        if options.json {
            guard case .object(var metadata) = m.json else { return }
            metadata["private_fields"] = nil
            printJSON(.object([
                "name": .string(schema.name),
                "title": .string(schema.title),
                "feature_count": .integer(Int64(info.featureCount)),
                "data_version": .integer(info.dataVersion),
                "metadata": .object(metadata),
                "fields": .array(schema.fields.map { .object(["name": .string($0.name), "type": .string($0.type.rawValue), "private": .bool(schema.isPrivate($0.name))]) }),
                "private_fields": .array(m.privateFields.map { .string($0) }),
                "always_private": .string(Self.rule),
            ]))
            return
        }
        func line(_ label: String, _ value: String?) {
            print(label.padding(toLength: 18, withPad: " ", startingAt: 0) + ((value?.isEmpty ?? true) ? "—" : value ?? "—"))
        }
        print("\(schema.name): \(info.featureCount.formatted()) features, data version \(info.dataVersion)")
        line("title", m.title ?? schema.title)
        line("title (en)", m.titleEn)
        line("description", m.description)
        line("description (en)", m.descriptionEn)
        line("steward", m.steward)
        line("access", "\(m.access.rawValue): \(Self.meaning(m.access))")
        line("licence", m.licence)
        line("attribution", m.attribution)
        line("keywords", m.keywords.joined(separator: ", "))
        line("update frequency", m.updateFrequency?.rawValue)
        line("contact", m.contact)
        if !schema.fields.isEmpty {
            line("fields", schema.fields.map { schema.isPrivate($0.name) ? "\($0.name) (private)" : $0.name }.joined(separator: ", "))
        }
        line("private fields", m.privateFields.isEmpty ? "none set" : m.privateFields.joined(separator: ", "))
        line("always private", Self.rule)
    }

    static func meaning(_ level: AccessLevel) -> String {
        switch level {
        case .public: "anyone reads it; private fields only token holders"
        case .internal: "any token holder reads it; anonymous callers do not see it"
        case .restricted: "only tokens granted it (--layers), its steward unit's tokens and admins"
        }
    }

    static let rule = "owners' names and ids under any name (owner, owner_id, ChuSuDung, TenChuSuDung, HoTen, CCCD, CMND, SoCCCD, SoCMND, any case)"
}
