/// The properties a caller may filter a layer on, each with its type (OGC API – Features
/// Part 3 queryables). Built by whoever knows the layer (the server, from its public
/// properties), so a private field is simply not in it: a filter naming it fails like an unknown
/// name, and nobody can probe private values through filters.
public struct Queryables: Hashable, Sendable {
    /// The data types of CQL2 a queryable can have.
    public enum Kind: String, Hashable, Sendable {
        case string, number, integer, boolean, date, timestamp, geometry
    }

    public let kinds: [String: Kind]

    public init(_ kinds: [String: Kind]) {
        self.kinds = kinds
    }

    public subscript(name: String) -> Kind? { kinds[name] }

    /// Every name, sorted, for the error that lists them.
    public var names: [String] { kinds.keys.sorted() }
}
