/// The time by which the work of the current request must end (SPEC §5: 30 s per request).
///
/// The server sets it as a task-local around each request; long loops over features call
/// `check()` and stop with `DeadlinePassed` once it is past. Outside a request (the CLI, an
/// export) there is no deadline and `check()` costs a task-local read.
public enum Deadline {
    @TaskLocal public static var current: ContinuousClock.Instant?

    /// Throws `DeadlinePassed` when the current deadline is past.
    @inlinable public static func check() throws {
        if let deadline = current, ContinuousClock.now >= deadline { throw DeadlinePassed() }
    }
}

/// Work stopped because its request ran past its time limit.
public struct DeadlinePassed: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "the time limit for this request has passed" }
}
