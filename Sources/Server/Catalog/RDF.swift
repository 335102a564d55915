import Geometry

/// A node or value of an RDF graph (RDF 1.1): an IRI, a blank node, or a literal with a
/// language tag or a datatype (`xsd:string` when it has neither).
enum RDFTerm: Hashable, Sendable {
    case iri(String)
    case blank(String)
    case literal(String, language: String? = nil, datatype: String? = nil)

    static func text(_ s: String, _ language: String) -> RDFTerm { .literal(s, language: language) }
    static func typed(_ s: String, _ datatype: String) -> RDFTerm { .literal(s, datatype: datatype) }
}

/// One statement.
struct RDFTriple: Hashable, Sendable {
    let subject: RDFTerm
    let predicate: String
    let object: RDFTerm
}

/// The well-known namespaces the catalogue uses, by prefix: both serialisations abbreviate with them.
enum RDFNamespace {
    static let all: [(prefix: String, iri: String)] = [
        ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
        ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
        ("xsd", "http://www.w3.org/2001/XMLSchema#"),
        ("dcat", "http://www.w3.org/ns/dcat#"),
        ("dct", "http://purl.org/dc/terms/"),
        ("foaf", "http://xmlns.com/foaf/0.1/"),
        ("vcard", "http://www.w3.org/2006/vcard/ns#"),
        ("skos", "http://www.w3.org/2004/02/skos/core#"),
        ("locn", "http://www.w3.org/ns/locn#"),
        ("hydra", "http://www.w3.org/ns/hydra/core#"),
        ("geosparql", "http://www.opengis.net/ont/geosparql#"),
        ("adms", "http://www.w3.org/ns/adms#"),
        ("dcatap", "http://data.europa.eu/r5r/"),
    ]

    static func expand(_ name: String) -> String {
        if let colon = name.firstIndex(of: ":"), let ns = all.first(where: { $0.prefix == name[..<colon] }) {
            return ns.iri + name[name.index(after: colon)...]
        }
        return name
    }
}

/// A small RDF graph, kept in the order statements were added (so both serialisations come out
/// in a stable, readable order). Predicates, classes and datatypes may be given as `prefix:name`
/// of `RDFNamespace`; they are stored expanded.
struct RDFGraph: Sendable {
    private(set) var triples: [RDFTriple] = []
    private var seen = Set<RDFTriple>()

    mutating func add(_ s: RDFTerm, _ p: String, _ o: RDFTerm) {
        let o: RDFTerm = if case .literal(let v, let l, let d?) = o { .literal(v, language: l, datatype: RDFNamespace.expand(d)) } else { o }
        let t = RDFTriple(subject: s, predicate: RDFNamespace.expand(p), object: o)
        if seen.insert(t).inserted { triples.append(t) }
    }

    mutating func add(_ s: RDFTerm, _ p: String, _ o: RDFTerm?) {
        if let o { add(s, p, o) }
    }

    mutating func type(_ s: RDFTerm, _ classes: String...) {
        for c in classes { add(s, "rdf:type", .iri(RDFNamespace.expand(c))) }
    }

    /// Subjects in first-seen order, each with its statements in order.
    var bySubject: [(RDFTerm, [RDFTriple])] {
        var order = [RDFTerm](), groups = [RDFTerm: [RDFTriple]]()
        for t in triples {
            if groups[t.subject] == nil { order.append(t.subject) }
            groups[t.subject, default: []].append(t)
        }
        return order.map { ($0, groups[$0]!) }
    }

    // MARK: Turtle

    /// RDF 1.1 Turtle: prefixes, then one block per subject.
    var turtle: String {
        var out = RDFNamespace.all.map { "@prefix \($0.prefix): <\($0.iri)> .\n" }.joined() + "\n"
        for (subject, statements) in bySubject {
            out += Self.turtle(subject)
            var byPredicate = [(String, [RDFTerm])]()
            for t in statements {
                if let i = byPredicate.firstIndex(where: { $0.0 == t.predicate }) { byPredicate[i].1.append(t.object) } else { byPredicate.append((t.predicate, [t.object])) }
            }
            out += byPredicate.enumerated().map { i, pair in
                let p = pair.0 == RDFNamespace.expand("rdf:type") ? "a" : Self.turtleName(pair.0)
                return (i == 0 ? " " : "    ") + p + " " + pair.1.map(Self.turtle).joined(separator: ", ")
            }.joined(separator: " ;\n") + " .\n\n"
        }
        return out
    }

    /// An IRI as `prefix:local` when the local part is plainly safe, else `<…>`.
    static func turtleName(_ iri: String) -> String {
        for ns in RDFNamespace.all where iri.hasPrefix(ns.iri) {
            let local = iri.dropFirst(ns.iri.count)
            if let first = local.first, first.isASCII, first.isLetter,
               local.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
                return "\(ns.prefix):\(local)"
            }
        }
        return turtleIRI(iri)
    }

    /// `<iri>`, with the characters IRIREF forbids (controls, space, `<>"{}|^\``, backslash) as `\uXXXX`.
    static func turtleIRI(_ iri: String) -> String {
        var out = "<"
        for u in iri.unicodeScalars {
            if u.value <= 0x20 || "<>\"{}|^`\\".unicodeScalars.contains(u) {
                out += "\\u" + hex(u.value, 4)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out + ">"
    }

    /// A quoted string (STRING_LITERAL_QUOTE): JSON's string escapes (`\"`, `\\`, `\n`, `\r`,
    /// `\t`, `\uXXXX` for other controls) are all Turtle escapes too.
    static func turtleString(_ s: String) -> String {
        var out = ""
        JSONValue.writeString(s, into: &out)
        return out
    }

    static func turtle(_ term: RDFTerm) -> String {
        switch term {
        case .iri(let iri): return turtleName(iri)
        case .blank(let id): return "_:\(id)"
        case .literal(let v, let language?, _): return turtleString(v) + "@" + language
        case .literal(let v, nil, let datatype?): return turtleString(v) + "^^" + turtleName(datatype)
        case .literal(let v, nil, nil): return turtleString(v)
        }
    }

    private static func hex(_ v: UInt32, _ width: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    // MARK: JSON-LD

    /// JSON-LD 1.1: a `@context` of the prefixes and one node object per subject in `@graph`,
    /// every value as a value or node object, so no term definition can change its meaning.
    var jsonLD: JSONValue {
        var context = [String: JSONValue]()
        for ns in RDFNamespace.all { context[ns.prefix] = .string(ns.iri) }
        let type = RDFNamespace.expand("rdf:type")
        let nodes: [JSONValue] = bySubject.map { subject, statements in
            var node: [String: JSONValue] = ["@id": .string(Self.jsonID(subject))]
            var order = [String]()
            var values = [String: [JSONValue]]()
            for t in statements {
                let key: String
                let value: JSONValue
                if t.predicate == type, case .iri(let c) = t.object {
                    key = "@type"
                    value = .string(Self.compact(c))
                } else {
                    key = Self.compact(t.predicate)
                    value = Self.jsonValue(t.object)
                }
                if values[key] == nil { order.append(key) }
                values[key, default: []].append(value)
            }
            for key in order { node[key] = .array(values[key]!) }
            return .object(node)
        }
        return .object(["@context": .object(context), "@graph": .array(nodes)])
    }

    /// `prefix:local` for an IRI in a known namespace whose local part cannot be misread, else the IRI.
    static func compact(_ iri: String) -> String {
        let name = turtleName(iri)
        return name.hasPrefix("<") ? iri : name
    }

    static func jsonID(_ term: RDFTerm) -> String {
        switch term {
        case .iri(let iri): iri
        case .blank(let id): "_:\(id)"
        case .literal(let v, _, _): v
        }
    }

    static func jsonValue(_ term: RDFTerm) -> JSONValue {
        switch term {
        case .iri, .blank: .object(["@id": .string(jsonID(term))])
        case .literal(let v, let language?, _): .object(["@value": .string(v), "@language": .string(language)])
        case .literal(let v, nil, let datatype?): .object(["@value": .string(v), "@type": .string(compact(datatype))])
        case .literal(let v, nil, nil): .object(["@value": .string(v)])
        }
    }
}
