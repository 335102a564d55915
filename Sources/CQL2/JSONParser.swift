import Foundation
import Geometry

/// Reads CQL2 JSON (OGC 21-065, `filter-lang=cql2-json`) into an `CQL2Expression`.
public enum CQL2JSON {
    /// Parses a filter document. Errors name the JSON path of the offending member.
    public static func parse(_ data: Data) throws -> CQL2Expression {
        guard data.count <= CQL2.maxInputLength else {
            throw CQL2Error("the filter is longer than \(CQL2.maxInputLength) bytes", at: .json(path: ""))
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw CQL2Error("not JSON: \(error)", at: .json(path: ""))
        }
        return try parse(json)
    }

    public static func parse(_ text: String) throws -> CQL2Expression {
        try parse(Data(text.utf8))
    }

    /// Reads an already parsed document (the `filter` member of a request body, say).
    public static func parse(_ json: JSONValue) throws -> CQL2Expression {
        try JSONReader().expression(json, path: "", depth: 0)
    }
}

struct JSONReader {
    /// Function names that would read back as something else in CQL2 text (where `isNull(…)`
    /// is refused rather than read as a function).
    static let reserved = TextParser.reserved.union(["ISNULL"])

    func expression(_ json: JSONValue, path: String, depth: Int) throws -> CQL2Expression {
        let at = SourcePosition.json(path: path)
        // `depth` counts JSON arrays, which may be two per level of the tree (IN's list is an
        // array in an array); the tree's own height is checked by `CQL2.node`.
        guard depth < 2 * CQL2.maxDepth else { throw CQL2Error("the filter nests deeper than \(CQL2.maxDepth) levels", at: at) }
        switch json {
        case .null:
            throw CQL2Error("null is not a CQL2 value", at: at)
        case .bool(let b):
            return try CQL2.node(.boolean(b), at: at)
        case .integer(let i):
            return try CQL2.node(.number(.integer(i)), at: at)
        case .number(let d):
            guard d.isFinite else { throw CQL2Error("a number is not finite", at: at) }
            return try CQL2.node(.number(.double(d)), at: at)
        case .string(let s):
            return try CQL2.node(.string(s), at: at)
        case .array(let items):
            return try CQL2.node(.array(try list(items, path: path, depth: depth)), at: at)
        case .object(let o):
            return try object(o, path: path, depth: depth)
        }
    }

    func list(_ items: [JSONValue], path: String, depth: Int) throws -> [CQL2Expression] {
        try items.enumerated().map { try expression($1, path: "\(path)/\($0)", depth: depth + 1) }
    }

    func object(_ o: [String: JSONValue], path: String, depth: Int) throws -> CQL2Expression {
        let at = SourcePosition.json(path: path)
        func only(_ key: String) throws -> JSONValue {
            guard o.count == 1, let v = o[key] else {
                let extra = o.keys.filter { $0 != key }.sorted().first.map(CQL2.clip) ?? ""
                throw CQL2Error("unexpected member '\(extra)' beside '\(key)'", at: at)
            }
            return v
        }
        func string(_ key: String) throws -> String {
            guard let s = try only(key).stringValue else { throw CQL2Error("'\(key)' must be a string", at: .json(path: "\(path)/\(key)")) }
            return s
        }
        if o["op"] != nil { return try operation(o, path: path, depth: depth) }
        if o["property"] != nil {
            let name = try string("property")
            try CQL2.checkName(name, what: "property", at: at)
            return try CQL2.node(.property(name), at: at)
        }
        if o["date"] != nil { return try CQL2.node(try CQL2.date(try string("date"), at: at), at: at) }
        if o["timestamp"] != nil { return try CQL2.node(try CQL2.timestamp(try string("timestamp"), at: at), at: at) }
        if o["interval"] != nil {
            let ipath = "\(path)/interval"
            guard let ends = try only("interval").arrayValue, ends.count == 2 else {
                throw CQL2Error("'interval' must be an array of two instants", at: .json(path: ipath))
            }
            let parts = try ends.enumerated().map { i, end -> CQL2Expression in
                let epath = "\(ipath)/\(i)"
                if let s = end.stringValue { return try CQL2.node(try CQL2.instant(s, at: .json(path: epath)), at: .json(path: epath)) }
                return try expression(end, path: epath, depth: depth + 1)
            }
            return try CQL2.node(.interval(parts[0], parts[1]), at: at)
        }
        if o["bbox"] != nil {
            guard let items = try only("bbox").arrayValue, items.count == 4 || items.count == 6 else {
                throw CQL2Error("'bbox' must be an array of 4 or 6 numbers", at: .json(path: "\(path)/bbox"))
            }
            let numbers = try items.enumerated().map { i, v -> Double in
                guard let d = v.doubleValue, d.isFinite else { throw CQL2Error("not a number", at: .json(path: "\(path)/bbox/\(i)")) }
                return d
            }
            return try CQL2.node(.bbox(numbers), at: at)
        }
        if o["type"] != nil {
            do {
                return try CQL2.node(.geometry(try CQL2.geometry(try GeoJSONGeometry.decode(.object(o)), at: at)), at: at)
            } catch let e as CQL2Error {
                throw e
            } catch {
                throw CQL2Error("bad GeoJSON geometry: \(error)", at: at)
            }
        }
        let keys = o.keys.sorted().prefix(3).map { "'\(CQL2.clip($0))'" }.joined(separator: ", ")
        throw CQL2Error("an object with \(keys.isEmpty ? "no members" : keys) is not a CQL2 expression (expected op, property, date, timestamp, interval, bbox or a GeoJSON geometry)", at: at)
    }

    /// `{"op": name, "args": [...]}`.
    func operation(_ o: [String: JSONValue], path: String, depth: Int) throws -> CQL2Expression {
        let at = SourcePosition.json(path: path)
        guard let name = o["op"]?.stringValue else { throw CQL2Error("'op' must be a string", at: .json(path: "\(path)/op")) }
        if let extra = o.keys.first(where: { $0 != "op" && $0 != "args" }) {
            throw CQL2Error("unexpected member '\(CQL2.clip(extra))' in an operation", at: at)
        }
        let rawArgs: [JSONValue]
        switch o["args"] {
        case nil: rawArgs = []
        case .array(let a)?: rawArgs = a
        case let other?: throw CQL2Error("'args' must be an array, not \(other.kindWithArticle)", at: .json(path: "\(path)/args"))
        }
        let args = try list(rawArgs, path: "\(path)/args", depth: depth)
        func count(_ n: ClosedRange<Int>) throws {
            guard n.contains(args.count) else {
                let want = n.lowerBound == n.upperBound ? "\(n.lowerBound)" : n.upperBound == .max ? "at least \(n.lowerBound)" : "\(n.lowerBound)–\(n.upperBound)"
                throw CQL2Error("'\(CQL2.clip(name))' takes \(want) argument\(n == 1...1 ? "" : "s"), not \(args.count)", at: at)
            }
        }
        let lower = name.lowercased()
        let kind: CQL2Expression.Kind
        if let op = ComparisonOperator(rawValue: name) {
            try count(2...2)
            kind = .comparison(op, args[0], args[1])
        } else if let op = ArithmeticOperator(rawValue: lower) {
            try count(2...2)
            kind = .arithmetic(op, args[0], args[1])
        } else if let p = Predicate(name: name) {
            try count(2...2)
            kind = .predicate(p, args[0], args[1])
        } else {
            switch lower {
            case "and", "or":
                try count(2...Int.max)
                kind = lower == "and" ? .and(args) : .or(args)
            case "not":
                try count(1...1)
                kind = .not(args[0])
            case "like":
                try count(2...2)
                kind = .like(args[0], args[1])
            case "between":
                try count(3...3)
                kind = .between(args[0], args[1], args[2])
            case "in":
                try count(2...2)
                guard case .array(let items) = args[1].kind, !items.isEmpty else {
                    throw CQL2Error("the second argument of 'in' must be a non-empty array", at: .json(path: "\(path)/args/1"))
                }
                kind = .in(args[0], items)
            case "isnull":
                try count(1...1)
                kind = .isNull(args[0])
            case "casei", "accenti":
                try count(1...1)
                kind = lower == "casei" ? .casei(args[0]) : .accenti(args[0])
            default:
                try CQL2.checkName(name, what: "function", at: at)
                guard let first = name.unicodeScalars.first, Lexer.isIdentifierStart(first),
                      name.unicodeScalars.allSatisfy(Lexer.isIdentifierPart), !Self.reserved.contains(name.uppercased()) else {
                    throw CQL2Error("'\(CQL2.clip(name))' is not a known operator or a valid function name", at: .json(path: "\(path)/op"))
                }
                kind = .function(name, args)
            }
        }
        return try CQL2.node(kind, at: at)
    }
}
