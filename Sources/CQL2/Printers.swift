import Geometry

extension CQL2Text {
    /// The CQL2 text of a tree; it parses back to an equal tree. Property names are always
    /// double-quoted and every operand that is not a single value is bracketed, so no keyword
    /// or precedence can change it. Each level of the tree adds at most one level of nesting
    /// (a bracket, or an argument or list item), which is all the parser counts: a tree the
    /// parsers accept prints to text they accept.
    ///
    /// Two things CQL2 JSON can hold have no CQL2 text (see `canWrite`): a string that ends in a
    /// backslash, and an array of one item anywhere but as an operand of A_EQUALS, A_CONTAINS,
    /// A_CONTAINEDBY or A_OVERLAPS. Their text reads back as something else, or not at all.
    public static func print(_ e: CQL2Expression) -> String {
        var out = ""
        write(e, into: &out)
        return out
    }

    /// Whether `print(e)` reads back to `e`, for a tree either parser built. False for what CQL2
    /// text cannot write: a string ending in a backslash (`'a\'` reads `\'` as a quote, the
    /// grammar's escape, and is not closed), and an array of one item outside an array
    /// predicate's operands (`('a')` is 'a' in brackets; only an array predicate's operand
    /// reads brackets as an array).
    public static func canWrite(_ e: CQL2Expression) -> Bool {
        canWrite(e, arrayOperand: false)
    }

    private static func canWrite(_ e: CQL2Expression, arrayOperand: Bool) -> Bool {
        switch e.kind {
        case .string(let s):
            return s.unicodeScalars.last != "\\"
        case .array(let items) where items.count == 1 && !arrayOperand:
            return false
        case .predicate(let p, let a, let b) where p.isArray:
            return canWrite(a, arrayOperand: true) && canWrite(b, arrayOperand: true)
        default:
            return e.kind.children.allSatisfy { canWrite($0, arrayOperand: false) }
        }
    }

    /// Nodes that must be bracketed where an operand is expected.
    private static func isCompound(_ e: CQL2Expression) -> Bool {
        switch e.kind {
        case .and, .or, .not, .comparison, .like, .between, .in, .isNull, .arithmetic: true
        default: false
        }
    }

    /// An operand of an operator: bracketed unless a single value. Elsewhere (the whole filter,
    /// arguments, list items, inside NOT's brackets) a node is written bare.
    private static func operand(_ e: CQL2Expression, into out: inout String) {
        if isCompound(e) {
            out += "("
            write(e, into: &out)
            out += ")"
        } else {
            write(e, into: &out)
        }
    }

    private static func list(_ items: [CQL2Expression], into out: inout String) {
        for (i, item) in items.enumerated() {
            if i > 0 { out += ", " }
            write(item, into: &out)
        }
    }

    /// `s` between quotes `q`, a quote inside doubled (`''`), scalar by scalar (a quote followed
    /// by a combining mark is one `Character`, but two scalars to the lexer). In a string, a
    /// quote right after a backslash is written `\'` instead: the lexer reads `\'` as a quote,
    /// so `\''` would be a quote and then the end of the string.
    static func quote(_ s: String, _ q: Unicode.Scalar, into out: inout String) {
        var text = String.UnicodeScalarView()
        text.append(q)
        var previous: Unicode.Scalar?
        for c in s.unicodeScalars {
            if c == q { text.append(q == "'" && previous == "\\" ? "\\" : q) }
            text.append(c)
            previous = c
        }
        text.append(q)
        out += String(text)
    }

    static func number(_ n: Number) -> String {
        switch n {
        case .integer(let i): String(i)
        case .double(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) + ".0" : d.description
        }
    }

    private static func write(_ e: CQL2Expression, into out: inout String) {
        switch e.kind {
        case .property(let name): out += "\"\(name)\""
        case .string(let s): quote(s, "'", into: &out)
        case .number(let n): out += number(n)
        case .boolean(let b): out += b ? "TRUE" : "FALSE"
        case .date(let d): out += "DATE('\(d)')"
        case .timestamp(let t): out += "TIMESTAMP('\(t)')"
        case .unbounded: out += "'..'"
        case .interval(let a, let b):
            out += "INTERVAL("
            for (i, end) in [a, b].enumerated() {
                if i > 0 { out += ", " }
                switch end.kind {
                case .date(let s), .timestamp(let s): out += "'\(s)'"
                default: write(end, into: &out)
                }
            }
            out += ")"
        case .geometry(let g): out += WKT.encode(g)
        case .bbox(let ns): out += "BBOX(" + ns.map(WKT.number).joined(separator: ", ") + ")"
        case .array(let items):
            out += "("
            list(items, into: &out)
            out += ")"
        case .not(let x):
            out += "NOT ("
            write(x, into: &out)
            out += ")"
        case .and(let xs), .or(let xs):
            let joiner: String
            if case .and = e.kind { joiner = " AND " } else { joiner = " OR " }
            for (i, x) in xs.enumerated() {
                if i > 0 { out += joiner }
                switch x.kind {
                case .and, .or:
                    out += "("
                    write(x, into: &out)
                    out += ")"
                default: write(x, into: &out)
                }
            }
        case .comparison(let op, let a, let b):
            operand(a, into: &out)
            out += " \(op.rawValue) "
            operand(b, into: &out)
        case .like(let a, let b):
            operand(a, into: &out)
            out += " LIKE "
            operand(b, into: &out)
        case .between(let a, let low, let high):
            operand(a, into: &out)
            out += " BETWEEN "
            operand(low, into: &out)
            out += " AND "
            operand(high, into: &out)
        case .in(let a, let items):
            operand(a, into: &out)
            out += " IN ("
            list(items, into: &out)
            out += ")"
        case .isNull(let a):
            operand(a, into: &out)
            out += " IS NULL"
        case .arithmetic(let op, let a, let b):
            operand(a, into: &out)
            out += " \(op.rawValue) "
            operand(b, into: &out)
        case .predicate(let p, let a, let b):
            out += "\(p.textName)("
            list([a, b], into: &out)
            out += ")"
        case .casei(let x), .accenti(let x):
            if case .casei = e.kind { out += "CASEI(" } else { out += "ACCENTI(" }
            write(x, into: &out)
            out += ")"
        case .function(let name, let args):
            out += "\(name)("
            list(args, into: &out)
            out += ")"
        }
    }
}

extension CQL2JSON {
    /// The CQL2 JSON of a tree; it parses back to an equal tree.
    public static func encode(_ e: CQL2Expression) -> JSONValue {
        func op(_ name: String, _ args: [CQL2Expression]) -> JSONValue {
            .object(["op": .string(name), "args": .array(args.map(encode))])
        }
        switch e.kind {
        case .property(let name): return ["property": .string(name)]
        case .string(let s): return .string(s)
        case .number(.integer(let i)): return .integer(i)
        case .number(.double(let d)): return .number(d)
        case .boolean(let b): return .bool(b)
        case .date(let d): return ["date": .string(d)]
        case .timestamp(let t): return ["timestamp": .string(t)]
        case .unbounded: return .string("..")
        case .interval(let a, let b):
            let ends = [a, b].map { end -> JSONValue in
                switch end.kind {
                case .date(let s), .timestamp(let s): .string(s)
                default: encode(end)
                }
            }
            return ["interval": .array(ends)]
        case .geometry(let g): return GeoJSONGeometry.encode(g)
        case .bbox(let ns): return ["bbox": .array(ns.map { .number($0) })]
        case .array(let items): return .array(items.map(encode))
        case .not(let x): return op("not", [x])
        case .and(let xs): return op("and", xs)
        case .or(let xs): return op("or", xs)
        case .comparison(let o, let a, let b): return op(o.rawValue, [a, b])
        case .like(let a, let b): return op("like", [a, b])
        case .between(let a, let b, let c): return op("between", [a, b, c])
        case .in(let a, let items): return .object(["op": "in", "args": .array([encode(a), .array(items.map(encode))])])
        case .isNull(let a): return op("isNull", [a])
        case .arithmetic(let o, let a, let b): return op(o.rawValue, [a, b])
        case .predicate(let p, let a, let b): return op(p.rawValue, [a, b])
        case .casei(let x): return op("casei", [x])
        case .accenti(let x): return op("accenti", [x])
        case .function(let name, let args): return op(name, args)
        }
    }

    /// `encode` as compact JSON text.
    public static func text(_ e: CQL2Expression) -> String { encode(e).jsonText }
}
