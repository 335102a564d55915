import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// One-off statements outside any store (creating or dropping a database), each in its own
/// implicit transaction, on a connection and event loop made for the call.
public enum PostgresAdmin {
    public static func execute(_ url: PostgresURL, _ statements: [String], timeout: Duration = .seconds(5)) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var logger = Logger(label: "landmap.postgis.admin")
        logger.logLevel = .critical
        let session = try PGSession.connect(url, group: group, timeout: TimeAmount(timeout), logger: logger)
        defer { session.close() }
        for statement in statements { try session.execute(statement) }
    }
}
