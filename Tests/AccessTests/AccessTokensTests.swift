@testable import Access
import GeoPackage
import Foundation
import Store
import Testing
import TestSupport

@Suite struct AccessTokensTests {
    func store() throws -> GeoPackageStore {
        try GeoPackageStore(path: SharedData.temporaryDirectory("access").appendingPathComponent("tokens.gpkg").path)
    }

    @Test func tokensAreShownOnceStoredHashedAndRevocable() throws {
        let store = try store()
        let tokens = AccessTokens(store: store)
        let (record, token) = try tokens.create(name: "qgis-office", role: .editor, actor: "cli:test")
        #expect(token.hasPrefix("lm_\(record.key)_") && token.count == 3 + 12 + 1 + 43)
        // Only the hash is kept: the secret appears nowhere in the file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: store.path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: store.path + "-wal"))) ?? Data())
        let secret = String(token.suffix(43))
        #expect(bytes.range(of: Data(secret.utf8)) == nil)
        #expect(record.hash == AccessTokens.hash(token) && record.hash.count == 32)

        let who = try tokens.authenticate(token)
        #expect(who.name == "qgis-office" && who.role == .editor && who.actor == "token:qgis-office")

        // One changed character of the secret, an unknown key, or another shape: refused.
        var wrong = Array(token)
        wrong[wrong.count - 1] = wrong[wrong.count - 1] == "A" ? "B" : "A"
        #expect(throws: TokenRefusal.unknown) { try tokens.authenticate(String(wrong)) }
        #expect(throws: TokenRefusal.unknown) { try tokens.authenticate("lm_000000000000_" + secret) }
        #expect(throws: TokenRefusal.malformed) { try tokens.authenticate("Bearer " + token) }
        #expect(throws: TokenRefusal.malformed) { try tokens.authenticate("") }

        #expect(try store.revokeToken(record.key, actor: "cli:test")?.revoked != nil)
        #expect(throws: TokenRefusal.revoked(key: record.key)) { try tokens.authenticate(token) }
        #expect(try store.revokeToken(record.key, actor: "cli:test") == nil)  // already revoked

        // Two tokens never share a key or a secret.
        let a = try tokens.create(name: "a", role: .reader, actor: "cli:test"), b = try tokens.create(name: "b", role: .reader, actor: "cli:test")
        #expect(a.record.key != b.record.key && a.token != b.token)

        let log = try store.auditLog(limit: 10, actor: nil, action: nil)
        #expect(log.map(\.action) == ["token.create", "token.create", "token.revoke", "token.create"])
        #expect(log.last?.target == record.key && log.last?.actor == "cli:test")
    }

    @Test func rolesAreOrdered() {
        #expect(Role.reader < .editor && Role.editor < .admin && !(Role.admin < .reader))
        #expect(AccessTokens.constantTimeEqual([1, 2, 3], [1, 2, 3]) && !AccessTokens.constantTimeEqual([1, 2, 3], [1, 2, 4])
                && !AccessTokens.constantTimeEqual([1, 2], [1, 2, 3]))
    }
}
