/// Why a CRS could not be resolved or a coordinate transformed. The message is for a person.
public struct ProjectionError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
