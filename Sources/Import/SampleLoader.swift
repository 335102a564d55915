import Foundation
import Store

/// Finds a folder that ships with LandMap (GeoData/, Styles/) at run time: from an environment
/// variable, the working directory, or beside the binary (`.build/<config>/landmap` → the
/// package root).
public enum ProjectFolder {
    public static func locate(_ name: String, containing marker: String, environment: String,
                              executable: String = CommandLine.arguments[0]) -> URL? {
        var candidates = [URL]()
        if let env = ProcessInfo.processInfo.environment[environment] { candidates.append(URL(fileURLWithPath: env)) }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(name))
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent(name))
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent(marker).path) }
    }
}

/// Loads the sample that ships in `GeoData/`: HCMC's units (admin: the 168 from 2025-07-01 and
/// the 273 wards and 22 districts valid until 2025-06-30), District 7's zoning plots and the
/// generated parcels. What `make run` and `landmap serve` on an empty database do.
public enum SampleLoader {
    /// Where GeoData/ is: `LANDMAP_SAMPLE_DIR`, the working directory, or beside the binary.
    public static func locate() -> URL? {
        ProjectFolder.locate("GeoData", containing: "PROVENANCE.md", environment: "LANDMAP_SAMPLE_DIR")
    }

    /// Imports the three layers, each as one batch; returns the reports in order.
    public static func load(from dir: URL, into store: any FeatureStore, actor: String) throws -> [QAReport] {
        var admin = ImportOptions(layer: "admin")
        admin.fix = true  // two 2025 wards have self-intersecting rings in the source
        admin.mappings = ["province_code": "parent_code"]
        admin.keyField = "id"  // the old units' ids (codes are reused); the new units' are their codes
        var zoning = ImportOptions(layer: "zoning")
        var parcels = ImportOptions(layer: "parcels")
        parcels.fix = true  // the generator draws a few bow-ties on purpose
        admin.actor = actor
        zoning.actor = actor
        parcels.actor = actor
        let importer = Importer(store: store)
        return try [
            importer.run(["admin/hcmc_wards_2025.geojson", "admin/hcmc_units_2025-06-30.geojson"].map { dir.appendingPathComponent($0).path }, admin),
            importer.run([dir.appendingPathComponent("zoning/d7_zoning_plots.shp").path], zoning),
            importer.run([dir.appendingPathComponent("parcels/d7_parcels.geojson").path], parcels),
        ]
    }
}
