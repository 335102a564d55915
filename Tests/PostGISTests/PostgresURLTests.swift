import Foundation
@testable import PostGIS
import Testing

@Suite struct PostgresURLTests {
    @Test func readsHostPortAndDatabase() throws {
        let u = try PostgresURL("postgresql://landmap:secret@db.example.vn:6543/hcm")
        #expect(u.user == "landmap" && u.password == "secret")
        #expect(u.host == "db.example.vn" && u.port == 6543 && u.database == "hcm")
        #expect(u.socketPath == nil && u.sslMode == .prefer)
        #expect(u.description == "postgresql://landmap@db.example.vn:6543/hcm")  // no password
        #expect(try PostgresURL("postgres://u@h/d").port == 5432)
    }

    @Test func readsASocketDirectory() throws {
        let u = try PostgresURL("postgresql://landmap@localhost/x?host=/tmp/pg-h-pg")
        #expect(u.socketPath == "/tmp/pg-h-pg/.s.PGSQL.5432")
        let v = try PostgresURL("postgresql://landmap@/x?host=/run/postgresql/&port=5433")
        #expect(v.socketPath == "/run/postgresql/.s.PGSQL.5433")
        #expect(v.serverDescription == "socket /run/postgresql/.s.PGSQL.5433")
        #expect(try PostgresURL(v.description) == v)
    }

    @Test func decodesPercentEncoding() throws {
        let u = try PostgresURL("postgresql://ng%C6%B0%E1%BB%9Di:p%40ss%3Aw%2Fo@h/d%C3%A1t")
        #expect(u.user == "người" && u.password == "p@ss:w/o" && u.database == "dát")
    }

    @Test func readsSSLMode() throws {
        #expect(try PostgresURL("postgresql://u@h/d?sslmode=disable").sslMode == .disable)
        #expect(try PostgresURL("postgresql://u@h/d?sslmode=require").sslMode == .require)
        #expect(try PostgresURL("postgresql://u@h/d?sslmode=verify-full").sslMode == .require)
    }

    @Test(arguments: [
        ("mysql://u@h/d", "must start with postgresql://"),
        ("postgresql://h/d", "names no user"),
        ("postgresql://u@h", "names no database"),
        ("postgresql://u@h/", "names no database"),
        ("postgresql://u@/d", "names no host"),
        ("postgresql://u@h/d?sslmode=maybe", "sslmode 'maybe'"),
        ("postgresql://u@h/d?port=99999", "not a port number"),
        ("postgresql://u@h/d?options=-csearch_path", "'options' is not supported"),
        ("postgresql://u@h/d/extra", "names no database"),
        ("postgresql://u@h:port/d", "not a valid URL"),
    ])
    func refusesBadURLs(text: String, expected: String) {
        do {
            _ = try PostgresURL(text)
            Issue.record("\(text) was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains(expected), "\(message)")
            #expect(message.hasPrefix("not a usable PostgreSQL URL"))
            #expect(!message.contains("\n"))
        }
    }
}
