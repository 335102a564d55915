/// Allen's relations between two intervals (an instant is an interval of no length) as
/// comparisons of their ends, written in the SQL both backends read: one table, so the two
/// translators cannot disagree on what T_OVERLAPS means.
public enum AllenRelations {
    /// Which ends a relation reads: start and end of the first operand, then of the second.
    /// Translators bind only these (SQLite counts arguments up to the highest placeholder used).
    public static func ends(of p: CQL2Predicate) -> (start1: Bool, end1: Bool, start2: Bool, end2: Bool) {
        switch p {
        case .tAfter, .tMetBy: (true, false, false, true)
        case .tBefore, .tMeets: (false, true, true, false)
        default: (true, true, true, true)
        }
    }

    /// The condition, parenthesised, over the SQL of the four ends; nil for a predicate that
    /// is not temporal.
    public static func condition(_ p: CQL2Predicate, s1: String, e1: String, s2: String, e2: String) -> String? {
        let sql: String? = switch p {
        case .tAfter: "\(s1) > \(e2)"
        case .tBefore: "\(e1) < \(s2)"
        case .tContains: "\(s1) < \(s2) AND \(e1) > \(e2)"
        case .tDisjoint: "(\(e1) < \(s2) OR \(s1) > \(e2))"
        case .tDuring: "\(s1) > \(s2) AND \(e1) < \(e2)"
        case .tEquals: "\(s1) = \(s2) AND \(e1) = \(e2)"
        case .tFinishedBy: "\(s1) < \(s2) AND \(e1) = \(e2)"
        case .tFinishes: "\(s1) > \(s2) AND \(e1) = \(e2)"
        case .tIntersects: "\(s1) <= \(e2) AND \(e1) >= \(s2)"
        case .tMeets: "\(e1) = \(s2)"
        case .tMetBy: "\(s1) = \(e2)"
        case .tOverlappedBy: "\(s1) > \(s2) AND \(s1) < \(e2) AND \(e1) > \(e2)"
        case .tOverlaps: "\(s1) < \(s2) AND \(e1) > \(s2) AND \(e1) < \(e2)"
        case .tStartedBy: "\(s1) = \(s2) AND \(e1) > \(e2)"
        case .tStarts: "\(s1) = \(s2) AND \(e1) < \(e2)"
        default: nil
        }
        return sql.map { "(\($0))" }
    }
}
