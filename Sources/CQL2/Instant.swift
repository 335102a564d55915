/// Dates and timestamps as seconds since 1970-01-01T00:00:00Z, so that every backend compares
/// instants alike whatever text they were stored as: `2022-04-16`, `2022-04-16T10:13:19Z`,
/// `2022-04-16T10:13:19.5+07:00`, `2022/04/16 10:13:19` (OGR's form). A timestamp without a
/// zone is taken as UTC; a date is its first instant.
public enum CQL2Instant {
    public static func seconds(_ text: String) -> Double? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                guard (48...57).contains(b[k]) else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            i += n
            return v
        }
        func skip(_ allowed: [UInt8]) -> Bool {
            guard i < b.count, allowed.contains(b[i]) else { return false }
            i += 1
            return true
        }
        let dash = [UInt8(ascii: "-"), UInt8(ascii: "/")]
        guard let y = number(4), skip(dash), let m = number(2), skip(dash), let d = number(2), (1...12).contains(m), (1...31).contains(d) else { return nil }
        var seconds = Double(daysFromCivil(y, m, d)) * 86_400
        guard i < b.count else { return seconds }
        guard skip([UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")]),
              let hh = number(2), skip([UInt8(ascii: ":")]), let mm = number(2), skip([UInt8(ascii: ":")]), let ss = number(2),
              hh < 24, mm < 60, ss <= 60 else { return nil }
        seconds += Double(hh * 3600 + mm * 60 + ss)
        if skip([UInt8(ascii: ".")]) {
            var scale = 0.1
            var digits = 0
            while i < b.count, (48...57).contains(b[i]) {
                seconds += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
                digits += 1
            }
            guard digits > 0 else { return nil }
        }
        guard i < b.count else { return seconds }
        if skip([UInt8(ascii: "Z"), UInt8(ascii: "z")]) { return i == b.count ? seconds : nil }
        let sign: Double = b[i] == UInt8(ascii: "-") ? -1 : 1
        guard skip([UInt8(ascii: "+"), UInt8(ascii: "-")]), let oh = number(2) else { return nil }
        _ = skip([UInt8(ascii: ":")])
        let om = i < b.count ? number(2) ?? -1 : 0
        guard om >= 0, i == b.count else { return nil }
        return seconds - sign * Double(oh * 3600 + om * 60)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
