import Foundation

/// A `--expires` or `--rate-limit` value that is not one, with what would be.
public struct TermsTextError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
}

/// Parses the command-line forms of a token's terms (SPEC §12), so `token create` and `serve`
/// accept the same text and refuse the same nonsense.
public enum TermsText {
    /// The longest `--expires` accepted: a longer-lived token is one that never expires, say so.
    public static let longestExpiry: TimeInterval = 3_660 * 86_400

    /// `--expires`: a span from `now` (`12h`, `90d`, `8w`) or a moment, a date (`2027-03-01`,
    /// 00:00 UTC of that day) or an ISO 8601 instant (`2027-03-01T08:00:00+07:00`). It must lie
    /// in the future and within ten years.
    public static func expiry(_ text: String, now: Date = Date()) throws(TermsTextError) -> Date {
        let t = text.trimmingCharacters(in: .whitespaces)
        let date: Date
        if let unit = t.last, let seconds = ["h": 3_600.0, "d": 86_400.0, "w": 604_800.0][unit.lowercased()],
           case let digits = t.dropLast(), !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
            guard let n = Int(digits), n > 0, Double(n) * seconds <= longestExpiry else {
                throw TermsTextError(description: "--expires \(t): give a span of 1h to 3660d (about ten years); leave --expires out for a token that never expires")
            }
            date = now.addingTimeInterval(Double(n) * seconds)
        } else if let moment = instant(t) {
            date = moment
        } else {
            throw TermsTextError(description: "--expires '\(text)' is neither a span (12h, 90d, 8w) nor a date (2027-03-01) or instant (2027-03-01T08:00:00+07:00)")
        }
        guard date > now else { throw TermsTextError(description: "--expires \(t) is in the past: a token must expire later than now") }
        guard date.timeIntervalSince(now) <= longestExpiry else {
            throw TermsTextError(description: "--expires \(t) is more than ten years away: leave --expires out for a token that never expires")
        }
        return date
    }

    /// A date (`2027-03-01`, UTC midnight) or an ISO 8601 instant with a zone, or nil.
    static func instant(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        let forms: [ISO8601DateFormatter.Options] = [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]]
        for form in forms {
            f.formatOptions = form
            // `withFullDate` alone also reads the date part of longer text: take whole dates only.
            if form == [.withFullDate], text.count != 10 { continue }
            if let date = f.date(from: text) { return date }
        }
        return nil
    }

    /// The most requests per minute a limit may allow (one every 60 µs): more is no limit at all.
    public static let highestRate = 1_000_000

    /// `--rate-limit N/min` (also `N/minute`): N requests per minute, 1 to 1 000 000.
    public static func perMinute(_ text: String, option: String = "--rate-limit") throws(TermsTextError) -> Int {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = t.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, ["min", "minute"].contains(parts[1]), parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
              let n = Int(parts[0]), (1...highestRate).contains(n) else {
            throw TermsTextError(description: "\(option) '\(text)' must be N/min with N from 1 to \(highestRate) (e.g. 600/min)")
        }
        return n
    }
}
