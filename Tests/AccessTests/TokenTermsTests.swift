@testable import Access
import Foundation
import GeoPackage
import Store
import Testing
import TestSupport

@Suite struct TokenTermsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func expiryTakesSpansDatesAndInstants() throws {
        #expect(try TermsText.expiry("12h", now: now) == now.addingTimeInterval(12 * 3600))
        #expect(try TermsText.expiry("90d", now: now) == now.addingTimeInterval(90 * 86_400))
        #expect(try TermsText.expiry(" 8W ", now: now) == now.addingTimeInterval(8 * 7 * 86_400))
        #expect(try TermsText.expiry("2027-03-01", now: now) == ISO8601DateFormatter().date(from: "2027-03-01T00:00:00Z"))
        #expect(try TermsText.expiry("2027-03-01T08:00:00+07:00", now: now) == ISO8601DateFormatter().date(from: "2027-03-01T01:00:00Z"))
    }

    @Test(arguments: ["", "90", "d", "0d", "-5d", "1.5d", "90 days", "90m", "３d", "2027-13-01", "2027-03-01junk", "tomorrow",
                      "99999999999999999999d", "3661d", "2020-01-01", "2050-01-01"])
    func expiryRefusesNonsense(_ text: String) {
        // `now` is 2027-01-15: 2020 is past, 2050 more than ten years away.
        #expect(throws: TermsTextError.self) { try TermsText.expiry(text, now: now) }
    }

    @Test func rateIsPerMinute() throws {
        #expect(try TermsText.perMinute("600/min") == 600)
        #expect(try TermsText.perMinute(" 1/Minute") == 1)
        #expect(try TermsText.perMinute("1000000/min") == 1_000_000)
        for bad in ["600", "0/min", "-1/min", "600/s", "600/hour", "1000001/min", "six/min", "600/min/x", "+5/min", ""] {
            #expect(throws: TermsTextError.self, "\(bad)") { try TermsText.perMinute(bad) }
        }
    }

    @Test func anExpiredTokenIsRefusedAndSaysSo() throws {
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("expiry").appendingPathComponent("t.gpkg").path)
        let tokens = AccessTokens(store: store)
        let expires = Date().addingTimeInterval(3600)
        let (record, token) = try tokens.create(name: "contractor", role: .reader, terms: TokenTerms(expires: expires, rateLimit: 30), actor: "cli:test")
        #expect(record.expires.map { abs($0.timeIntervalSince(expires)) < 0.002 } == true && record.rateLimit == 30)
        let who = try tokens.authenticate(token)
        #expect(who.rateLimit == 30)
        #expect(throws: TokenRefusal.expired(key: record.key)) { try tokens.authenticate(token, at: expires) }
        #expect(throws: TokenRefusal.expired(key: record.key)) { try tokens.authenticate(token, at: expires.addingTimeInterval(86_400)) }
        #expect(TokenRefusal.expired(key: record.key).reason == "expired" && "\(TokenRefusal.expired(key: record.key))".contains("expired"))
        // Revoked and expired: revoked is the answer.
        _ = try store.revokeToken(record.key, actor: "cli:test")
        #expect(throws: TokenRefusal.revoked(key: record.key)) { try tokens.authenticate(token, at: expires.addingTimeInterval(1)) }
        #expect(Set([TokenRefusal.malformed, .unknown, .revoked(key: "k"), .expired(key: "k")].map(\.reason)) == Set(TokenRefusal.reasons))
    }
}
