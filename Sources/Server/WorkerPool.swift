import Foundation
import Geometry
import Projection
import Query
import Store
import Synchronization

/// Workers lent to one request at a time: a request takes a free worker, or waits for the first
/// one given back. Taken in turn instead, a request could wait behind another's slow one on a
/// busy worker while another sat idle, which lengthened the tail of items pages under load.
final class WorkerPool<Worker: Sendable>: Sendable {
    private struct State {
        var free: [Worker]
        var waiting: [CheckedContinuation<Worker, Never>] = []
    }

    private let state: Mutex<State>

    init(_ workers: [Worker]) {
        precondition(!workers.isEmpty, "a worker pool needs a worker")
        state = Mutex(State(free: workers))
    }

    /// Runs `body` with a worker no other request holds meanwhile.
    func borrow<T: Sendable>(_ body: (Worker) async throws -> T) async throws -> T {
        let worker = await take()
        defer { giveBack(worker) }
        return try await body(worker)
    }

    private func take() async -> Worker {
        if let worker = state.withLock({ $0.free.popLast() }) { return worker }
        return await withCheckedContinuation { continuation in
            // Given back between the two looks: take it now rather than wait for the next one.
            let worker = state.withLock { s -> Worker? in
                if let w = s.free.popLast() { return w }
                s.waiting.append(continuation)
                return nil
            }
            if let worker { continuation.resume(returning: worker) }
        }
    }

    private func giveBack(_ worker: Worker) {
        let waiter = state.withLock { s -> CheckedContinuation<Worker, Never>? in
            guard !s.waiting.isEmpty else {
                s.free.append(worker)
                return nil
            }
            return s.waiting.removeFirst()
        }
        waiter?.resume(returning: worker)
    }
}

/// One `ParcelLookup` (GEOS context, PROJ transformer, prepared-geometry caches) per actor:
/// those are not thread-safe, and their caches are worth keeping between requests.
actor LookupWorker {
    private let lookup: ParcelLookup

    init(store: any FeatureStore) throws {
        lookup = try ParcelLookup(store: store)
    }

    func at(_ point: Coordinate, in crs: CRS, asOf: Date?) throws -> LookupResult {
        try lookup.at(point, in: crs, asOf: asOf)
    }
}

/// One `ItemsQuery` per actor: its GEOS context and read connection are not thread-safe, and
/// opening them for every page cost more than the page's own reads.
actor ItemsWorker {
    private let query: ItemsQuery

    init(store: any FeatureStore, matches: MatchedKeys, boxes: LayerBoxes) throws {
        query = try ItemsQuery(store: store, matches: matches, boxes: boxes)
    }

    func page(_ request: ItemsRequest) throws -> ItemsPage {
        try query.page(request)
    }
}
