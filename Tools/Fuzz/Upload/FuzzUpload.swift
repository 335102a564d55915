import FuzzHTTP
import FuzzSupport
import Foundation
import HTTPTypes

/// The upload path: `POST /imports` (dry run, so the sample stays as it is) with the input as
/// the body — raw, as a zip, or inside a multipart form — and as the file name and CRS.
func fuzzOne(_ data: Data) {
    guard data.count >= 2 else { return }
    let mode = data[data.startIndex], body = [UInt8](data.dropFirst())
    let names = ["upload.geojson", "upload.zip", "upload.csv", "upload.gpkg", "upload.shp", "../x.zip", "a.tab", "upload.dxf"]
    let layers = ["parcels", "zoning", "admin", "custom_layer"]
    let name = names[Int(mode & 0x07) % names.count], layer = layers[Int(mode >> 3 & 0x03)]
    var uri = "/imports?layer=\(layer)&dry_run=true&filename=\(name)"
    if mode & 0x20 != 0 { uri += "&crs=vn2000&fix=true" }
    var headers: HTTPFields = [.authorization: "Bearer \(FuzzServer.shared.editorToken)"]
    var payload = body
    if mode & 0x40 != 0 {
        let boundary = "fuzzboundary"
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        payload = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\n\r\n".utf8) + body
            + (mode & 0x80 != 0 ? Array("\r\n--\(boundary)--\r\n".utf8) : [])
    } else if mode & 0x80 != 0 {
        headers[.contentType] = "application/zip"
    }
    FuzzServer.shared.send(.post, uri, headers: headers, body: payload)
}

@main enum FuzzMain {
    static func main() { Fuzz.main { bytes, count in fuzzOne(Fuzz.data(bytes, count)); return 0 } }
}
