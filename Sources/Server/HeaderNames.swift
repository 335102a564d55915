import HTTPTypes

extension HTTPField.Name {
    /// OGC API – Features Part 2: the CRS of the coordinates in the body.
    static let contentCrs = HTTPField.Name("Content-Crs")!  // safe: a constant, valid field name
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!  // safe: as above
    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!  // safe: as above
}
