import Dispatch

/// Runs work that blocks (a database write that may wait for another writer, an import that
/// takes minutes) on a Dispatch thread, so neither the event loops nor the cooperative pool
/// (two threads on a two-core machine) are held while it waits.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
