import Dispatch
import Store

/// Runs work that blocks (a database write that may wait for another writer, an import that
/// takes minutes) on a Dispatch thread, so neither the event loops nor the cooperative pool
/// (two threads on a two-core machine) are held while it waits. The request's task-locals go
/// with the work to that thread: its deadline (`Deadline`) and its read consistency
/// (`ReadConsistency.latest`).
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let latest = ReadConsistency.latest
        let deadline = Deadline.current
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result {
                    try ReadConsistency.$latest.withValue(latest) { try Deadline.$current.withValue(deadline) { try work() } }
                })
            }
        }
    }
}
