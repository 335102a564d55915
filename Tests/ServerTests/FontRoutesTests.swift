import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing
import TestSupport

/// The glyph ranges the style's labels are drawn with, read back with an independent protobuf
/// reader, and the style that names them.
@Suite struct FontRoutesTests {
    /// One glyph of a range: MapLibre's glyphs.proto fields.
    struct Glyph {
        var id: UInt64 = 0, bitmap = [UInt8](), width: UInt64 = 0, height: UInt64 = 0, left = 0, top = 0, advance: UInt64 = 0
    }

    static func decode(_ bytes: [UInt8]) throws -> (name: String, range: String, glyphs: [Glyph]) {
        var outer = ProtobufReader(bytes: bytes[...])
        var name = "", range = "", glyphs = [Glyph]()
        func zigzag(_ v: UInt64) -> Int { Int(v >> 1) ^ -Int(v & 1) }
        while let (field, wire) = try outer.key() {
            guard field == 1, wire == 2 else { try outer.skip(wire); continue }
            var stack = ProtobufReader(bytes: try outer.lengthDelimited())
            while let (field, wire) = try stack.key() {
                switch (field, wire) {
                case (1, 2): name = String(decoding: try stack.lengthDelimited(), as: UTF8.self)
                case (2, 2): range = String(decoding: try stack.lengthDelimited(), as: UTF8.self)
                case (3, 2):
                    var g = Glyph(), r = ProtobufReader(bytes: try stack.lengthDelimited())
                    while let (field, wire) = try r.key() {
                        switch (field, wire) {
                        case (1, 0): g.id = try r.varint()
                        case (2, 2): g.bitmap = Array(try r.lengthDelimited())
                        case (3, 0): g.width = try r.varint()
                        case (4, 0): g.height = try r.varint()
                        case (5, 0): g.left = zigzag(try r.varint())
                        case (6, 0): g.top = zigzag(try r.varint())
                        case (7, 0): g.advance = try r.varint()
                        default: try r.skip(wire)
                        }
                    }
                    glyphs.append(g)
                default: try stack.skip(wire)
                }
            }
        }
        return (name, range, glyphs)
    }

    static var installed: Bool {
        FileManager.default.fileExists(atPath: SharedData.packageRoot.appendingPathComponent("Styles/fonts/Noto Sans Regular/0-255.pbf").path)
    }

    @Test(.enabled(if: installed, "Tools/setup.sh makes Styles/fonts/"))
    func vietnameseRangesHoldSDFGlyphs() async throws {
        try await ServerFixture.test { client in
            // Every range Vietnamese needs, each a decodable range of SDF glyphs with a 3 px border.
            for (range, letters) in [("0-255", "Aa"), ("256-511", "ĂăĐđƠơƯư"), ("768-1023", "\u{300}\u{301}\u{303}\u{309}\u{323}"), ("7680-7935", "ẠạẢảỆệỮữỳ")] {
                let bytes = try await client.execute(uri: "/fonts/Noto%20Sans%20Regular/\(range).pbf", method: .get) { r in
                    #expect(r.status == .ok && r.headers[.contentType] == "application/x-protobuf")
                    return Array(r.body.readableBytesView)
                }
                let decoded = try Self.decode(bytes)
                #expect(decoded.name == "Noto Sans Regular" && decoded.range == range)
                let ids = Set(decoded.glyphs.map(\.id))
                for scalar in letters.unicodeScalars { #expect(ids.contains(UInt64(scalar.value)), "U+\(String(scalar.value, radix: 16)) in \(range)") }
                for g in decoded.glyphs where g.width > 0 {
                    #expect(g.bitmap.count == Int((g.width + 6) * (g.height + 6)), "glyph \(g.id): bitmap is not (w+6)×(h+6)")
                }
            }
            // 'H' at 24 px: about 17 px tall, below the ascender line (top ≤ 0), inside bright, outside dark.
            let latin = try Self.decode(try await client.execute(uri: "/fonts/Noto%20Sans%20Regular/0-255.pbf", method: .get) { Array($0.body.readableBytesView) })
            let h = try #require(latin.glyphs.first { $0.id == 72 })
            #expect((15...19).contains(h.height) && (14...20).contains(h.advance) && (-12...0).contains(h.top))
            let w = Int(h.width) + 6
            #expect(h.bitmap[0] < 128)                                   // 4 px outside the corner: well below the edge (192)
            #expect(h.bitmap[(3 + Int(h.height) / 2) * w + 3 + 1] > 191)  // on the left stem: inside (> 255 × 0.75)
            let space = try #require(latin.glyphs.first { $0.id == 32 })
            #expect(space.bitmap.isEmpty && space.advance > 0)
        }
    }

    @Test(.enabled(if: installed, "Tools/setup.sh makes Styles/fonts/"))
    func stacksRangesAndErrors() async throws {
        try await ServerFixture.test { client in
            // A comma list: the first installed stack answers.
            try await client.execute(uri: "/fonts/Open%20Sans%20Semibold,Noto%20Sans%20Bold/0-255.pbf", method: .get) { r in
                let decoded = try Self.decode(Array(r.body.readableBytesView))
                #expect(decoded.name == "Noto Sans Bold")
            }
            // A range the font has nothing in: a valid, empty range, not an error.
            try await client.execute(uri: "/fonts/Noto%20Sans%20Regular/57344-57599.pbf", method: .get) { r in
                #expect(r.status == .ok)
                let decoded = try Self.decode(Array(r.body.readableBytesView))
                #expect(decoded.name == "Noto Sans Regular" && decoded.range == "57344-57599" && decoded.glyphs.isEmpty)
            }
            for (bad, status) in [("/fonts/Noto%20Sans%20Regular/0-300.pbf", HTTPResponse.Status.badRequest),
                                  ("/fonts/Noto%20Sans%20Regular/65536-65791.pbf", .badRequest),
                                  ("/fonts/Noto%20Sans%20Regular/0-255.png", .badRequest),
                                  ("/fonts/..%2F..%2FPackage.swift/0-255.pbf", .notFound),
                                  ("/fonts/Comic%20Sans/0-255.pbf", .notFound)] {
                try await client.execute(uri: bad, method: .get) { r in
                    #expect(r.status == status, "\(bad)")
                    #expect(r.headers[.contentType] == "application/problem+json", "\(bad)")
                }
            }
        }
    }

    @Test(.enabled(if: installed, "Tools/setup.sh makes Styles/fonts/"))
    func everyFontTheStyleNamesIsServed() async throws {
        try await ServerFixture.test { client in
            let style = try await client.execute(uri: "/styles/landmap.json", method: .get) { try #require($0.json.value) }
            let glyphs = try #require(style["glyphs"]?.stringValue)
            #expect(glyphs.hasSuffix("/fonts/{fontstack}/{range}.pbf") && !glyphs.contains("{base}"))
            let symbols = (style["layers"]?.arrayValue ?? []).filter { $0["type"] == "symbol" }
            #expect(Set(symbols.compactMap { $0["source-layer"]?.stringValue }) == ["admin-label", "zoning-label", "parcels-label"], "text comes from the label points, one per feature")
            let stacks = Set(symbols.flatMap { $0["layout"]?["text-font"]?.arrayValue ?? [] }.compactMap(\.stringValue))
            #expect(!stacks.isEmpty)
            for stack in stacks {
                let path = "/fonts/\(stack.replacingOccurrences(of: " ", with: "%20"))/7680-7935.pbf"
                try await client.execute(uri: path, method: .get) { r in #expect(r.status == .ok, "\(stack)") }
            }
        }
    }

    @Test func basemapIsDrawnUnderTheLayersWhenConfigured() async throws {
        var configuration = ServerConfiguration()
        configuration.lookupWorkers = 1
        configuration.basemap = .init(url: "https://tile.example.org/{z}/{x}/{y}.png", attribution: "© Example")
        let state = try ServerState(store: try ServerFixture.shared.get().store, configuration: configuration)
        let app = Application(router: LandMapServer.router(state))
        try await app.test(.router) { client in
            try await client.execute(uri: "/styles/landmap.json", method: .get) { r in
                let style = try #require(r.json.value)
                #expect(style["sources"]?["basemap"]?["tiles"]?.arrayValue?.first == "https://tile.example.org/{z}/{x}/{y}.png")
                #expect(style["sources"]?["basemap"]?["attribution"] == "© Example")
                let ids = (style["layers"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
                #expect(Array(ids.prefix(2)) == ["background", "basemap"])
                #expect(style["sources"]?["landmap"]?["url"]?.stringValue?.contains("{base}") == false)
            }
        }
        // Without one, nothing is fetched from the internet.
        try await ServerFixture.test { client in
            try await client.execute(uri: "/styles/landmap.json", method: .get) { r in
                #expect(r.json.value?["sources"]?["basemap"] == nil)
                #expect(!r.text.contains("http://tile") && !r.text.contains("https://"))
            }
        }
    }
}
