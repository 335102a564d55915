/// Why a geometry could not be read, written or computed. The message is meant for a person.
public struct GeometryError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
