import ArgumentParser
import Foundation
import Formats
import Geometry
import Projection
import Store
import Backends

/// `landmap`: the command-line face of LandMap. Each command is thin and calls one use case.
@main
struct LandMap: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "landmap",
        abstract: "Ho Chi Minh City's cadastral parcels, zoning plans and administrative units: import, query, serve.",
        discussion: """
            LandMap keeps a city's land data in one GeoPackage file (default: landmap.gpkg here, \
            or $LANDMAP_DB), readable as it is by QGIS and GDAL. Every change is versioned.

            Coordinates: x is easting or longitude, y is northing or latitude, everywhere. (Cadastral \
            sheets print X = northing, Y = easting: swap them when you type them in.)

            Examples:
              landmap import wards.geojson --layer admin   load a file
              landmap validate thua_dat.shp --layer parcels  check a file, write nothing
              landmap layers                      what the database holds
              landmap layers --json               the same, for scripts
              landmap search "nguyen thi thap"     addresses, parcel keys, wards old and new
              landmap admin crosswalk 26740 --on 2025-06-30   where Phường Bến Nghé went
              landmap history 26734-12-5          every version of a parcel
              landmap copy landmap.gpkg postgresql://db.example/hcmc  move to PostGIS
              landmap serve                       the HTTP API on http://127.0.0.1:8080/
            """,
        version: "\(version) (GEOS \(GeosContext.libraryVersion), PROJ \(CRS.libraryVersion), SQLite \(StoreLocation.sqliteVersion))",
        subcommands: [ImportCommand.self, ValidateCommand.self, QueryCommand.self, SearchCommand.self, AdminCommand.self, ExportCommand.self, LayersCommand.self, LayerCommand.self,
                      HistoryCommand.self, ServeCommand.self, LoadSampleCommand.self, TilesCommand.self,
                      TokenCommand.self, ChangesCommand.self, AuditCommand.self, BackupCommand.self, CopyCommand.self, SyncCommand.self])
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The LandMap database: a GeoPackage file, or a PostgreSQL URL (postgresql://user:password@host:port/dbname, ?host=/socket/dir for a Unix socket).", valueName: "path|url"))
    var db: String = ProcessInfo.processInfo.environment["LANDMAP_DB"] ?? "landmap.gpkg"

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    /// The database; GDAL may never open it in this process (`SourcePolicy`).
    func openStore(create: Bool = false, replica: String? = nil) throws -> any LandMapStore {
        let location = StoreLocation(db)
        if let file = location.localFile { SourcePolicy.protect(database: file) }
        return try location.open(create: create, replica: replica)
    }
}

/// Writes JSON to standard output, one document per call.
func printJSON(_ value: JSONValue) {
    print(value.jsonText)
}

/// A failure the user can act on: printed as one line, exit status 1, no usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
