import Foundation
import Synchronization

/// Fresh PostgreSQL + PostGIS databases for tests (SPEC §7: one conformance suite, both backends).
///
/// The cluster is the one `LANDMAP_TEST_PG` names (`make test` starts one with
/// `Tools/postgres run`); without it, a private cluster is started once for this test process,
/// in a temporary folder, on a Unix socket only, and stopped when the process exits. Every
/// database this process made is dropped at exit (with the private cluster, the whole cluster
/// goes); a test may drop its own earlier with `dropDatabase(url:)`.
public enum TestPostgres {
    public static let binaries = ProcessInfo.processInfo.environment["PGBIN"] ?? "/usr/lib/postgresql/15/bin"

    /// Why no database can be made, and what to do about it.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// A failed `psql` call, with its output.
    public struct CommandFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// True when a cluster is named by `LANDMAP_TEST_PG` or can be started here.
    public static var isAvailable: Bool {
        ProcessInfo.processInfo.environment["LANDMAP_TEST_PG"] != nil
            || FileManager.default.isExecutableFile(atPath: "\(binaries)/initdb")
    }

    /// The URL of the cluster's `postgres` database (the maintenance one).
    public static func clusterURL() throws -> String {
        try cluster.get().url
    }

    /// A new, empty database with PostGIS installed (`lm_<prefix>_<random>`), as a
    /// `postgresql://` URL LandMap's `--db` takes.
    public static func freshDatabaseURL(prefix: String) throws -> String {
        let cluster = try cluster.get()
        let safe = String(prefix.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" }.prefix(30))
        let name = "lm_\(safe)_\(UUID().uuidString.prefix(8).lowercased())"
        // A copy of a template that has PostGIS already: four times faster than CREATE EXTENSION
        // in every database, and the same result.
        let template = try self.template.get()
        try psql(cluster.url, "CREATE DATABASE \(name) TEMPLATE \(template)")
        created.append(name)
        return url(of: name, in: cluster.url)
    }

    /// Drops a database `freshDatabaseURL` made, closing whatever connections it still has.
    public static func dropDatabase(url: String) throws {
        guard let name = URLComponents(string: url)?.path.dropFirst(), !name.isEmpty else { return }
        try psql(try clusterURL(), "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        created.remove(String(name))
    }

    /// Runs SQL (one statement, or several separated by `;` in one transaction) through `psql`
    /// and returns its unaligned output. Throws `CommandFailed` with psql's message.
    @discardableResult
    public static func psql(_ url: String, _ sql: String) throws -> String {
        let psql = FileManager.default.isExecutableFile(atPath: "\(binaries)/psql") ? "\(binaries)/psql" : (SharedData.which("psql") ?? "psql")
        let (status, output) = try run(psql, ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        guard status == 0 else { throw CommandFailed(description: "psql failed (\(status)) on \(sql.prefix(200)): \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `url` with its database replaced by `name`.
    public static func url(of name: String, in url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/\(name)"
        return components.string ?? url
    }

    // MARK: - The cluster

    struct Cluster: Sendable {
        var url: String
        /// The folder of a cluster this process started (nil for `LANDMAP_TEST_PG`'s).
        var privateDirectory: String?
    }

    /// Started (or found) once, on first use.
    static let cluster: Result<Cluster, any Error> = Result {
        let cluster: Cluster
        if let url = ProcessInfo.processInfo.environment["LANDMAP_TEST_PG"], !url.isEmpty {
            cluster = Cluster(url: url, privateDirectory: nil)
        } else {
            cluster = try startPrivateCluster()
        }
        atexit { TestPostgres.cleanUp() }
        return cluster
    }

    static let template: Result<String, any Error> = Result {
        let url = try cluster.get().url
        let name = "lm_template_\(getpid())_\(UUID().uuidString.prefix(6).lowercased())"
        try psql(url, "CREATE DATABASE \(name)")
        created.append(name)
        try psql(Self.url(of: name, in: url), "CREATE EXTENSION postgis")
        return name
    }

    /// The databases this process made, shared by the tests' threads.
    static let created = Names()

    static var script: String { SharedData.packageRoot.appendingPathComponent("Tools/postgres").path }

    static func startPrivateCluster() throws -> Cluster {
        guard FileManager.default.isExecutableFile(atPath: "\(binaries)/initdb") else {
            throw Unavailable(description: """
                no PostgreSQL for the PostGIS tests: LANDMAP_TEST_PG is not set and \(binaries)/initdb does not exist. \
                Install postgresql-15-postgis-3 (Tools/setup.sh does), or run the tests with `make test`, \
                which starts a throwaway cluster (Tools/postgres run swift test)
                """)
        }
        removeAbandonedClusters()
        // Short: the socket path DIR/.s.PGSQL.5432 must fit in 107 bytes.
        let dir = "/tmp/landmap-pgtest-\(getpid())-\(UUID().uuidString.prefix(8))"
        let (status, output) = try run("/bin/bash", [script, "start", dir])
        guard status == 0, let url = urlLine(output) else {
            throw Unavailable(description: "could not start a PostgreSQL for the tests in \(dir): \(output)")
        }
        return Cluster(url: url, privateDirectory: dir)
    }

    /// The URL `Tools/postgres start|replica|restart` prints, from its output.
    static func urlLine(_ output: String) -> String? {
        output.split(separator: "\n").last(where: { $0.hasPrefix("postgresql://") }).map(String.init)
    }

    /// Private clusters of test processes that died without their exit handler (killed): stopped and removed.
    static func removeAbandonedClusters() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for name in names where name.hasPrefix("landmap-pgtest-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 3, let pid = Int32(parts[2]), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = try? run("/bin/bash", [script, "stop", "/tmp/\(name)"])
            try? FileManager.default.removeItem(atPath: "/tmp/\(name)")
        }
    }

    /// At exit: the private cluster stopped and removed; on a shared cluster, this process's databases dropped.
    static func cleanUp() {
        guard case .success(let cluster) = cluster else { return }
        if let dir = cluster.privateDirectory {
            _ = try? run("/bin/bash", [script, "stop", dir])
            try? FileManager.default.removeItem(atPath: dir)
        } else {
            for name in created.all.reversed() {
                _ = try? psql(cluster.url, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        }
    }

    /// Runs a program to its end and returns its exit status and output (stdout and stderr).
    ///
    /// posix_spawn and waitpid rather than Foundation's `Process`: on Linux `Process` learns of
    /// its child's exit through a Dispatch queue, which never runs when every thread of the
    /// (two-core) pool is blocked, and the first test to want PostgreSQL starts the cluster
    /// while the others wait for it on the same lazy initialiser: a deadlock. A file, not a
    /// pipe, takes the output: a daemon the child starts cannot hold it open.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("landmap-spawn-\(UUID().uuidString).log").path
        defer { unlink(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw CommandFailed(description: "could not run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw CommandFailed(description: "waitpid for \(executable): \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import: a signal's number as 128 + n.
        let exit = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (exit, output)
    }

    final class Names: Sendable {
        private let names = Mutex<[String]>([])

        func append(_ name: String) { names.withLock { $0.append(name) } }
        func remove(_ name: String) { names.withLock { list in list.removeAll { $0 == name } } }
        var all: [String] { names.withLock { $0 } }
    }
}

extension TestPostgres {
    /// A primary and its streaming replica of this test's own, in `/tmp/lm-rep-<random>` (for a
    /// test that stops one of them): their `postgres` database URLs. `stopCluster(at:)` both.
    public static func startPrimaryAndReplica() throws -> (directory: String, primary: String, replica: String) {
        let dir = "/tmp/lm-rep-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        let (s1, o1) = try run("/bin/bash", [script, "start", "\(dir)/p"])
        guard s1 == 0, let primary = urlLine(o1) else { throw Unavailable(description: "could not start a primary in \(dir): \(o1)") }
        let (s2, o2) = try run("/bin/bash", [script, "replica", "\(dir)/p", "\(dir)/r"])
        guard s2 == 0, let replica = urlLine(o2) else {
            stopCluster(at: dir)
            throw Unavailable(description: "could not start a replica in \(dir): \(o2)")
        }
        return (dir, primary, replica)
    }

    /// Stops one server (`<dir>/p` or `<dir>/r`) of `startPrimaryAndReplica`'s pair.
    public static func stopServer(_ folder: String) {
        _ = try? run("/bin/bash", [script, "stop", folder])
    }

    /// Resumes a paused replica's replay. Retried: the statement itself may be cancelled by a
    /// conflict with the recovery it resumes ("canceling statement due to conflict with recovery").
    public static func resumeReplay(_ replicaURL: String) throws {
        var last: (any Error)?
        for _ in 0..<10 {
            do { try psql(replicaURL, "SELECT pg_wal_replay_resume()"); return } catch { last = error }
            Thread.sleep(forTimeInterval: 0.1)
        }
        if let last { throw last }
    }

    /// Starts a server `stopServer` stopped again, with its data as it was.
    public static func restartServer(_ folder: String) throws {
        let (status, output) = try run("/bin/bash", [script, "restart", folder])
        guard status == 0 else { throw CommandFailed(description: "Tools/postgres restart \(folder): \(output)") }
    }

    /// Stops both and removes the folder.
    public static func stopCluster(at dir: String) {
        stopServer("\(dir)/r")
        stopServer("\(dir)/p")
        try? FileManager.default.removeItem(atPath: dir)
    }
}
