/// Splits CQL2 text into tokens, each with its place in the text.
struct Token: Sendable {
    enum Kind: Equatable, Sendable {
        /// A plain identifier or keyword, as written.
        case word(String)
        /// A `"double-quoted"` property name, without the quotes.
        case quoted(String)
        /// A `'character literal'`, unescaped.
        case string(String)
        /// An unsigned number; a sign is the parser's business.
        case number(Number)
        /// `( ) , + - * / ^ % = <> < > <= >=`
        case symbol(String)
        case end
    }

    let kind: Kind
    let position: SourcePosition
    /// Scalar offsets of the token in the text: `start..<end`.
    let start: Int
    let end: Int

    /// The token as named in error messages.
    var display: String {
        switch kind {
        case .word(let w): "'\(CQL2.clip(w))'"
        case .quoted(let q): "\"\(CQL2.clip(q))\""
        case .string(let s): "the string '\(CQL2.clip(s))'"
        case .number: "a number"
        case .symbol(let s): "'\(s)'"
        case .end: "the end of the filter"
        }
    }

    /// The keyword this token is (upper-cased), if it is a plain word.
    var keyword: String? {
        if case .word(let w) = kind { return w.uppercased() }
        return nil
    }

    func isSymbol(_ s: String) -> Bool { kind == .symbol(s) }
}

struct Lexer {
    let scalars: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    private var lineStart = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    /// All tokens of the text, ending with `.end`.
    static func tokens(_ scalars: [Unicode.Scalar]) throws -> [Token] {
        var lexer = Lexer(scalars)
        var out: [Token] = []
        while true {
            let t = try lexer.next()
            out.append(t)
            if t.kind == .end { return out }
        }
    }

    private var here: SourcePosition { .text(line: line, column: i - lineStart + 1, offset: i) }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        i + ahead < scalars.count ? scalars[i + ahead] : nil
    }

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x3A, 0x5F, 0x41...0x5A, 0x61...0x7A: true
        // The BNF's letter ranges, roughly: everything past Latin-1 punctuation except the
        // symbol blocks it leaves out.
        case 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2FF, 0x370...0x37D, 0x37F...0x1FFF, 0x200C...0x200D,
             0x2070...0x218F, 0x2C00...0x2FEF, 0x3001...0xD7FF, 0xF900...0xFDCF, 0xFDF0...0xFFFD, 0x10000...0xEFFFF: true
        default: false
        }
    }

    static func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || c == "." || ("0"..."9").contains(c) || (0x300...0x36F).contains(c.value) || (0x203F...0x2040).contains(c.value)
    }

    private mutating func skipSpace() {
        while let c = peek(), c.properties.isWhitespace {
            i += 1
            if c == "\n" {
                line += 1
                lineStart = i
            }
        }
    }

    private mutating func next() throws -> Token {
        skipSpace()
        let position = here, start = i
        func token(_ kind: Token.Kind) -> Token { Token(kind: kind, position: position, start: start, end: i) }
        guard let c = peek() else { return token(.end) }
        if Self.isIdentifierStart(c) {
            while let d = peek(), Self.isIdentifierPart(d) { i += 1 }
            let word = String(String.UnicodeScalarView(scalars[start..<i]))
            // Counted in UTF-8 bytes, as `CQL2.checkName` counts quoted and JSON names.
            guard word.utf8.count <= CQL2.maxNameLength else { throw CQL2Error("a name longer than \(CQL2.maxNameLength) bytes", at: position) }
            return token(.word(word))
        }
        if ("0"..."9").contains(c) || (c == "." && peek(1).map { ("0"..."9").contains($0) } == true) {
            return token(.number(try number(at: position)))
        }
        switch c {
        case "'":
            return token(.string(try quoted(by: "'", at: position)))
        case "\"":
            let name = try quoted(by: "\"", at: position)
            try CQL2.checkName(name, what: "property", at: position)
            return token(.quoted(name))
        case "<":
            i += 1
            if peek() == ">" || peek() == "=" {
                i += 1
                return token(.symbol("<" + String(scalars[i - 1])))
            }
            return token(.symbol("<"))
        case ">":
            i += 1
            if peek() == "=" {
                i += 1
                return token(.symbol(">="))
            }
            return token(.symbol(">"))
        case "(", ")", ",", "+", "-", "*", "/", "^", "%", "=":
            i += 1
            return token(.symbol(String(c)))
        default:
            throw CQL2Error("unexpected character '\(c.escaped(asASCII: true))'", at: position)
        }
    }

    /// `digits [. digits] [e [+-] digits]`; whole numbers that fit stay integers.
    private mutating func number(at position: SourcePosition) throws -> Number {
        let start = i
        var isInteger = true
        func digits() { while let d = peek(), ("0"..."9").contains(d) { i += 1 } }
        digits()
        if peek() == "." {
            isInteger = false
            i += 1
            digits()
        }
        if peek() == "e" || peek() == "E" {
            isInteger = false
            i += 1
            if peek() == "+" || peek() == "-" { i += 1 }
            let before = i
            digits()
            guard i > before else { throw CQL2Error("a number's exponent has no digits", at: position) }
        }
        let text = String(String.UnicodeScalarView(scalars[start..<i]))
        if isInteger, let v = Int64(text) { return .integer(v) }
        guard let d = Double(text), d.isFinite else { throw CQL2Error("'\(CQL2.clip(text))' is not a finite number", at: position) }
        return .double(d)
    }

    /// A `'…'` or `"…"` run; in strings `''` and `\'` stand for a quote.
    private mutating func quoted(by quote: Unicode.Scalar, at position: SourcePosition) throws -> String {
        i += 1
        var out = String.UnicodeScalarView()
        while let c = peek() {
            i += 1
            if c == "\n" {
                line += 1
                lineStart = i
            }
            if c == quote {
                guard quote == "'", peek() == "'" else { return String(out) }
                i += 1
                out.append(c)
            } else if c == "\\", quote == "'", peek() == "'" {
                i += 1
                out.append("'")
            } else {
                out.append(c)
            }
        }
        throw CQL2Error(quote == "'" ? "a string is not closed (missing ')" : "a quoted name is not closed (missing \")", at: position)
    }
}
