import Foundation
import Logging
import NIOCore
import NIOPosix
@testable import PostGIS
import Store
import Testing

/// `ReadRouting`'s rules without servers: the pools are never connected, the bodies stand in
/// for reads and fail as a server would.
@Suite struct ReadRoutingTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static func routing() throws -> ReadRouting {
        func pool(_ host: String) throws -> ConnectionPool {
            ConnectionPool(url: try PostgresURL("postgresql://landmap@\(host)/hcmc"), maxConnections: 1, group: group,
                           connectTimeout: .seconds(1), logger: Logger(label: "test"))
        }
        return ReadRouting(primary: try pool("primary.internal"), replica: try pool("replica.internal"))
    }

    static let down = PostGISError.unreachable(server: "replica.internal:5432", detail: "refused")

    @Test func aReplicaThatCannotAnswerSendsTheReadToThePrimaryAndIsLeftAlone() throws {
        let r = try Self.routing()
        var tried = [Endpoint]()
        var failedOver = 0
        let answer = try r.run(.replica, onFailover: { failedOver += 1 }) { _, endpoint, _ in
            tried.append(endpoint)
            if endpoint == .replica { throw Self.down }
            return "primary's"
        }
        #expect(answer == "primary's")
        #expect(tried == [.replica, .primary])
        #expect(failedOver == 1)
        #expect(r.replicaMarkedDown)
        // Within the second it is skipped.
        tried = []
        _ = try r.run(.replica) { _, endpoint, _ in tried.append(endpoint) }
        #expect(tried == [.primary])
    }

    @Test func aReadThatStartedAnsweringIsNeverRunAgain() throws {
        let r = try Self.routing()
        var tried = [Endpoint]()
        #expect(throws: PostGISError.self) {
            try r.run(.replica) { _, endpoint, attempt in
                tried.append(endpoint)
                attempt.started = true
                throw PostGISError.connectionLost("cut mid-stream")
            }
        }
        #expect(tried == [.replica])
        #expect(r.replicaMarkedDown)
    }

    @Test func theReadsOwnFailureIsTheSameEverywhere() throws {
        let r = try Self.routing()
        var tried = 0
        #expect(throws: StoreError.self) {
            try r.run(.replica) { _, _, _ in
                tried += 1
                throw StoreError.unknownLayer("nowhere")
            }
        }
        #expect(tried == 1)
        #expect(!r.replicaMarkedDown)
    }

    @Test func aQueryCancelledByRecoveryGoesToThePrimaryWithoutMarkingTheReplicaDown() throws {
        let r = try Self.routing()
        var tried = [Endpoint]()
        _ = try r.run(.replica) { _, endpoint, _ in
            tried.append(endpoint)
            if endpoint == .replica { throw PostGISError.server(sqlState: "40001", message: "conflict with recovery", detail: nil) }
        }
        #expect(tried == [.replica, .primary])
        #expect(!r.replicaMarkedDown)
    }

    /// After the pause, one caller probes the server; the others keep away until it answers.
    @Test func oneCallerProbesAServerThatFailed() throws {
        let r = try Self.routing()
        r.markDown(.replica)
        #expect(!r.usable(.replica))
        Thread.sleep(forTimeInterval: 1.05)
        #expect(r.usable(.replica))
        #expect(!r.usable(.replica))
        r.markUp(.replica)
        #expect(r.usable(.replica))
    }

    @Test func unavailableIsNotEveryServerError() {
        #expect(PostGISError.server(sqlState: "57P01", message: "terminating connection due to administrator command", detail: nil).unavailableCause != nil)
        #expect(PostGISError.server(sqlState: "25006", message: "cannot execute UPDATE in a read-only transaction", detail: nil).unavailableCause != nil)
        // A statement past its timeout is slow, not unavailable: not retried elsewhere, not a 503.
        #expect(PostGISError.server(sqlState: "57014", message: "canceling statement due to statement timeout", detail: nil).unavailableCause == nil)
        #expect(PostGISError.server(sqlState: "23505", message: "duplicate key", detail: nil).unavailableCause == nil)
        #expect(!PostGISError.connectionLost("reset").writeMayHaveLanded)
        #expect(PostGISError.commitOutcomeUnknown("reset during COMMIT").writeMayHaveLanded)
        #expect(PostGISError.commitOutcomeUnknown("reset during COMMIT").unavailableCause != nil)
    }
}
