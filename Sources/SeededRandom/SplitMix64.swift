/// SplitMix64: a tiny pseudo-random generator that gives the same sequence on every machine,
/// so generated sample data, benchmark points and test points are reproducible by seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// A double in [a, b).
    public mutating func range(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }

    /// One of the items, chosen with probability proportional to its weight.
    public mutating func pick<T>(_ items: [(T, Double)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var r = unit() * total
        for (item, weight) in items {
            r -= weight
            if r <= 0 { return item }
        }
        return items[items.count - 1].0
    }
}
