import Geometry

/// Reads CQL2 text (OGC 21-065, `filter-lang=cql2-text`) into an `CQL2Expression`.
public enum CQL2Text {
    /// Parses a filter. Errors name the line and column and what was expected there.
    public static func parse(_ text: String) throws -> CQL2Expression {
        guard text.utf8.count <= CQL2.maxInputLength else {
            throw CQL2Error("the filter is longer than \(CQL2.maxInputLength) bytes", at: .text(line: 1, column: 1, offset: 0))
        }
        let scalars = Array(text.unicodeScalars)
        var parser = TextParser(tokens: try Lexer.tokens(scalars), scalars: scalars)
        let e = try parser.expression()
        guard parser.current.kind == .end else { throw parser.unexpected("an operator or the end of the filter") }
        return e
    }
}

struct TextParser {
    let tokens: [Token]
    let scalars: [Unicode.Scalar]
    var index = 0
    var depth = 0
    /// A primary already read (see `predicateOperand`), for the next `primary()` to return.
    var pending: CQL2Expression?

    static let geometryKeywords: Set<String> = ["POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"]
    /// Words that are never property or function names in CQL2 text.
    static let reserved: Set<String> = Set(["AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "DIV", "TRUE", "FALSE",
                                        "DATE", "TIMESTAMP", "INTERVAL", "BBOX", "CASEI", "ACCENTI"])
        .union(geometryKeywords).union(Predicate.allCases.map(\.textName))

    var current: Token { tokens[min(index, tokens.count - 1)] }
    func ahead(_ n: Int) -> Token { tokens[min(index + n, tokens.count - 1)] }

    mutating func advance() -> Token {
        let t = current
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    func unexpected(_ expected: String) -> CQL2Error {
        CQL2Error("expected \(expected), found \(current.display)", at: current.position)
    }

    mutating func expect(_ symbol: String) throws {
        guard current.isSymbol(symbol) else { throw unexpected("'\(symbol)'") }
        _ = advance()
    }

    mutating func accept(keyword: String) -> Bool {
        guard current.keyword == keyword else { return false }
        _ = advance()
        return true
    }

    /// Runs `body` one level deeper, refusing input that nests past `CQL2.maxDepth`. Only
    /// `expression()` recurses through here: once for the whole filter, once for each bracket
    /// and each argument or list item. Prefixes and chains (`NOT NOT x`, `- - x`, `a ^ b ^ c`)
    /// are read in loops, so a printed tree nests no deeper than it is tall (`CQL2Text.print`).
    mutating func nested<T>(_ body: (inout TextParser) throws -> T) throws -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= CQL2.maxDepth else {
            throw CQL2Error("the filter nests deeper than \(CQL2.maxDepth) levels", at: current.position)
        }
        return try body(&self)
    }

    // MARK: Boolean levels

    mutating func expression() throws -> CQL2Expression {
        try nested { try $0.disjunction() }
    }

    mutating func disjunction() throws -> CQL2Expression {
        let position = current.position
        var terms = [try conjunction()]
        while accept(keyword: "OR") { terms.append(try conjunction()) }
        return terms.count == 1 ? terms[0] : try CQL2.node(.or(terms), at: position)
    }

    mutating func conjunction() throws -> CQL2Expression {
        let position = current.position
        var terms = [try negation()]
        while accept(keyword: "AND") { terms.append(try negation()) }
        return terms.count == 1 ? terms[0] : try CQL2.node(.and(terms), at: position)
    }

    mutating func negation() throws -> CQL2Expression {
        var nots: [SourcePosition] = []
        while pending == nil, current.keyword == "NOT" { nots.append(advance().position) }
        var e = try predicate()
        for position in nots.reversed() { e = try CQL2.node(.not(e), at: position) }
        return e
    }

    /// A comparison, LIKE, BETWEEN, IN or IS NULL on an arithmetic operand, or the operand alone.
    mutating func predicate() throws -> CQL2Expression {
        let position = current.position
        let left = try additive()
        if case .symbol(let s) = current.kind, let op = ComparisonOperator(rawValue: s) {
            _ = advance()
            return try CQL2.node(.comparison(op, left, try additive()), at: position)
        }
        let negated = current.keyword == "NOT" && ["LIKE", "BETWEEN", "IN"].contains(ahead(1).keyword ?? "")
        if negated { _ = advance() }
        var result: CQL2Expression.Kind
        switch current.keyword {
        case "LIKE":
            _ = advance()
            result = .like(left, try additive())
        case "BETWEEN":
            _ = advance()
            let low = try additive()
            guard accept(keyword: "AND") else { throw unexpected("AND (of BETWEEN … AND …)") }
            result = .between(left, low, try additive())
        case "IN":
            _ = advance()
            try expect("(")
            var items = [try expression()]
            while current.isSymbol(",") {
                _ = advance()
                items.append(try expression())
            }
            try expect(")")
            result = .in(left, items)
        case "IS":
            _ = advance()
            let not = accept(keyword: "NOT")
            guard accept(keyword: "NULL") else { throw unexpected("NULL (of IS [NOT] NULL)") }
            let isNull = try CQL2.node(.isNull(left), at: position)
            return not ? try CQL2.node(.not(isNull), at: position) : isNull
        default:
            return left
        }
        let node = try CQL2.node(result, at: position)
        return negated ? try CQL2.node(.not(node), at: position) : node
    }

    // MARK: Arithmetic levels

    mutating func additive() throws -> CQL2Expression {
        var left = try multiplicative()
        while case .symbol(let s) = current.kind, s == "+" || s == "-" {
            let position = advance().position
            left = try CQL2.node(.arithmetic(s == "+" ? .add : .subtract, left, try multiplicative()), at: position)
        }
        return left
    }

    mutating func multiplicative() throws -> CQL2Expression {
        var left = try power()
        while true {
            let op: ArithmeticOperator
            switch current.kind {
            case .symbol("*"): op = .multiply
            case .symbol("/"): op = .divide
            case .symbol("%"): op = .modulo
            case .word(let w) where w.uppercased() == "DIV": op = .integerDivide
            default: return left
            }
            let position = advance().position
            left = try CQL2.node(.arithmetic(op, left, try power()), at: position)
        }
    }

    /// `a ^ b ^ c` is `a ^ (b ^ c)`: the operands are read in a loop and folded from the right.
    mutating func power() throws -> CQL2Expression {
        var operands = [try unary()]
        var positions: [SourcePosition] = []
        while current.isSymbol("^") {
            positions.append(advance().position)
            operands.append(try unary())
        }
        var e = operands.removeLast()
        while let base = operands.popLast(), let position = positions.popLast() {
            e = try CQL2.node(.arithmetic(.power, base, e), at: position)
        }
        return e
    }

    /// `-x` is a negative literal when x is a number, otherwise `-1 * x` (as CQL2 JSON writes it).
    mutating func unary() throws -> CQL2Expression {
        var minuses: [SourcePosition] = []
        while pending == nil, current.isSymbol("-") { minuses.append(advance().position) }
        var e = try primary()
        for position in minuses.reversed() {
            if case .number(let n) = e.kind {
                e = try CQL2.node(.number(n.negated), at: position)
            } else {
                e = try CQL2.node(.arithmetic(.multiply, try CQL2.node(.number(.integer(-1)), at: position), e), at: position)
            }
        }
        return e
    }

    // MARK: Primaries

    mutating func primary() throws -> CQL2Expression {
        if let e = pending {
            pending = nil
            return e
        }
        let token = current
        let position = token.position
        switch token.kind {
        case .number(let n):
            _ = advance()
            return try CQL2.node(.number(n), at: position)
        case .string(let s):
            _ = advance()
            return try CQL2.node(.string(s), at: position)
        case .quoted(let name):
            _ = advance()
            return try CQL2.node(.property(name), at: position)
        case .symbol("("):
            return try parenthesised(arrayOnly: false)
        case .word(let word):
            return try named(word, at: position)
        case .symbol, .end:
            throw unexpected("a value, property, function or '('")
        }
    }

    /// `(expr)`, or an array `()` / `(a, b, …)`; with `arrayOnly`, `(a)` is an array too.
    mutating func parenthesised(arrayOnly: Bool) throws -> CQL2Expression {
        // Each item goes through `expression()`, which counts the nesting.
        let position = advance().position
        if current.isSymbol(")") {
            _ = advance()
            return try CQL2.node(.array([]), at: position)
        }
        var items = [try expression()]
        while current.isSymbol(",") {
            _ = advance()
            items.append(try expression())
        }
        try expect(")")
        return items.count == 1 && !arrayOnly ? items[0] : try CQL2.node(.array(items), at: position)
    }

    mutating func named(_ word: String, at position: SourcePosition) throws -> CQL2Expression {
        let upper = word.uppercased()
        let call = ahead(1).isSymbol("(")
        switch upper {
        case "TRUE", "FALSE":
            _ = advance()
            return try CQL2.node(.boolean(upper == "TRUE"), at: position)
        case "DATE" where call, "TIMESTAMP" where call:
            _ = advance()
            _ = advance()
            let s = try string(what: "a \(upper == "DATE" ? "date" : "timestamp") in quotes")
            try expect(")")
            return try CQL2.node(upper == "DATE" ? try CQL2.date(s, at: position) : try CQL2.timestamp(s, at: position), at: position)
        case "INTERVAL" where call:
            _ = advance()
            _ = advance()
            let start = try instant()
            try expect(",")
            let end = try instant()
            try expect(")")
            return try CQL2.node(.interval(start, end), at: position)
        case "BBOX" where call:
            _ = advance()
            _ = advance()
            var numbers = [try signedNumber()]
            while current.isSymbol(",") {
                _ = advance()
                numbers.append(try signedNumber())
            }
            try expect(")")
            guard numbers.count == 4 || numbers.count == 6 else {
                throw CQL2Error("BBOX takes 4 or 6 numbers, not \(numbers.count)", at: position)
            }
            return try CQL2.node(.bbox(numbers), at: position)
        case _ where Self.geometryKeywords.contains(upper) && (call || ["Z", "EMPTY"].contains(ahead(1).keyword ?? "")):
            return try CQL2.node(.geometry(try geometry(at: position)), at: position)
        case "CASEI" where call, "ACCENTI" where call:
            _ = advance()
            _ = advance()
            let inner = try expression()
            try expect(")")
            return try CQL2.node(upper == "CASEI" ? .casei(inner) : .accenti(inner), at: position)
        case _ where call && Predicate(name: word) != nil:
            guard let p = Predicate(name: word) else { throw unexpected("a predicate") }
            _ = advance()
            _ = advance()
            let a = try predicateOperand(p)
            try expect(",")
            let b = try predicateOperand(p)
            try expect(")")
            return try CQL2.node(.predicate(p, a, b), at: position)
        case "ISNULL" where call:
            // Not a function: CQL2 JSON's name of IS NULL, which the JSON reader reads as such.
            throw CQL2Error("isNull(…) is CQL2 JSON; CQL2 text writes '… IS NULL'", at: position)
        case _ where Self.reserved.contains(upper):
            throw unexpected("a value, property, function or '('")
        case _ where call:
            _ = advance()
            _ = advance()
            var args: [CQL2Expression] = []
            if !current.isSymbol(")") {
                args.append(try expression())
                while current.isSymbol(",") {
                    _ = advance()
                    args.append(try expression())
                }
            }
            try expect(")")
            return try CQL2.node(.function(word, args), at: position)
        default:
            _ = advance()
            return try CQL2.node(.property(word), at: position)
        }
    }

    /// An argument of S_/T_/A_. For array predicates a bracket opens an array (`(a)` is one of
    /// one item), unless what follows the bracket shows that it began an expression
    /// (`(a * b) + c`): then the bracket is that expression's first operand, read once.
    mutating func predicateOperand(_ p: Predicate) throws -> CQL2Expression {
        guard p.isArray, current.isSymbol("(") else { return try expression() }
        let group = try parenthesised(arrayOnly: true)
        if current.isSymbol(",") || current.isSymbol(")") { return group }
        if case .array(let items) = group.kind, items.count == 1 {
            pending = items[0]
        } else {
            pending = group
        }
        return try expression()
    }

    /// One end of INTERVAL: a quoted date, timestamp or `..`, or any expression (property,
    /// function). A string is always an instant, as in CQL2 JSON, however it is bracketed; a
    /// string that only begins the end (`'a' = b`) belongs to the expression.
    mutating func instant() throws -> CQL2Expression {
        if case .string(let s) = current.kind, ahead(1).isSymbol(",") || ahead(1).isSymbol(")") {
            let position = advance().position
            return try CQL2.node(try CQL2.instant(s, at: position), at: position)
        }
        let e = try expression()
        if case .string(let s) = e.kind { return try CQL2.node(try CQL2.instant(s, at: e.position), at: e.position) }
        return e
    }

    mutating func string(what: String) throws -> String {
        guard case .string(let s) = current.kind else { throw unexpected(what) }
        _ = advance()
        return s
    }

    mutating func signedNumber() throws -> Double {
        var sign = 1.0
        if current.isSymbol("-") || current.isSymbol("+") {
            if current.isSymbol("-") { sign = -1 }
            _ = advance()
        }
        guard case .number(let n) = current.kind else { throw unexpected("a number") }
        _ = advance()
        return sign * n.doubleValue
    }

    /// A WKT geometry: the tokens from its keyword to the matching `)` (or `EMPTY`) are handed
    /// to the WKT reader as the text they came from.
    mutating func geometry(at position: SourcePosition) throws -> Geometry {
        let start = advance().start
        var end = start
        var open = 0
        while true {
            let t = current
            switch t.kind {
            case .symbol("("): open += 1
            case .symbol(")"): open -= 1
            case .end: throw CQL2Error("the geometry is not closed (missing ')')", at: position)
            default: break
            }
            guard open >= 0 else { throw CQL2Error("the geometry has an unmatched ')'", at: t.position) }
            guard open <= CQL2.maxDepth else { throw CQL2Error("the geometry nests deeper than \(CQL2.maxDepth) levels", at: t.position) }
            _ = advance()
            end = t.end
            if open == 0, t.isSymbol(")") || t.keyword == "EMPTY" { break }
        }
        let wkt = String(String.UnicodeScalarView(scalars[start..<end]))
        let g: Geometry
        do {
            g = try WKT.decode(wkt)
        } catch {
            throw CQL2Error("bad geometry: \(error)", at: position)
        }
        return try CQL2.geometry(g, at: position)
    }
}
