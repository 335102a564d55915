@testable import Formats
import Foundation
import Geometry
import Testing

/// The parts of a CAD sheet's reading that need no file: numbers as written on sheets, sheet
/// numbers in file names, `--label` values, and the join's point-in-shape rules.
struct CADSheetTests {
    @Test(arguments: [
        ("1.234,5", 1234.5), ("1234.5", 1234.5), ("1234,5", 1234.5), ("1 234,5", 1234.5), ("1,234.5", 1234.5),
        ("45,6", 45.6), ("45.6 m2", 45.6), ("45,6m²", 45.6), ("1.234.567", 1_234_567), ("12", 12), ("-3,5", -3.5),
    ])
    func numbersAsWrittenOnSheets(text: String, value: Double) {
        #expect(SheetNumber.parse(text) == value, "\(text)")
    }

    @Test(arguments: ["", "abc", "12a", "1,2,3.4.5", "1.2,3,4", "--", "٣"])
    func textsThatAreNotNumbers(text: String) {
        #expect(SheetNumber.parse(text) == nil, "\(text)")
    }

    @Test func sheetNumbersInFileNames() {
        #expect(SheetLayout.sheetNumber(fromFileName: "/data/to56.dgn") == 56)
        #expect(SheetLayout.sheetNumber(fromFileName: "TO_56.DXF") == 56)
        #expect(SheetLayout.sheetNumber(fromFileName: "To-056.dgn") == 56)
        #expect(SheetLayout.sheetNumber(fromFileName: "bando_to12_phuong.dgn") == 12)
        #expect(SheetLayout.sheetNumber(fromFileName: "tờ 7.dgn") == 7)
        #expect(SheetLayout.sheetNumber(fromFileName: "toan_phuong.dgn") == nil)
        #expect(SheetLayout.sheetNumber(fromFileName: "photo12.dgn") == nil)
        #expect(SheetLayout.sheetNumber(fromFileName: "sheet.dxf") == nil)
    }

    @Test func labelOptions() throws {
        #expect(try SheetLayout.label("number=13") == SheetLayout.Label(field: "number", level: "13"))
        #expect(try SheetLayout.label("land_use = LOAI_DAT") == SheetLayout.Label(field: "land_use", level: "LOAI_DAT"))
        for bad in ["number", "=13", "number=", ""] {
            #expect(throws: SheetLayoutError.self, "\(bad)") { try SheetLayout.label(bad) }
        }
        #expect(try SheetLayout.setting("ward_code=27484") == ("ward_code", "27484"))
        #expect(try SheetLayout.setting("address=") == ("address", ""))
        #expect(try SheetLayout.setting("note=a=b") == ("note", "a=b"))
        for bad in ["ward_code", "=27484", ""] {
            #expect(throws: SheetLayoutError.self, "\(bad)") { try SheetLayout.setting(bad) }
        }
    }

    /// Damaged hatch loops (holes of fewer than four points, a polygon without rings) are left
    /// out or refused, never indexed past their end.
    @Test func degenerateRingsAreLeftOut() {
        let square = [Coordinate(0, 0), Coordinate(1, 0), Coordinate(1, 1), Coordinate(0, 1), Coordinate(0, 0)]
        #expect(SheetReader.shapeRings(.polygon([square, [], [Coordinate(0.5, 0.5)]])) == [square])
        #expect(SheetReader.shapeRings(.multiPolygon([[]])) == nil)
        #expect(SheetReader.shapeRings(.polygon([])) == nil)
        #expect(SheetReader.inside(Coordinate(0.5, 0.5), rings: [square, []]))
        #expect(SheetReader.probe([]) == Coordinate(0, 0))
    }

    @Test func millimetresRoundHalfAway() {
        let g = Geometry.point(Coordinate(609187.97800000001, 1186924.0914999))
        #expect(SheetReader.millimetres(g) == .point(Coordinate(609187.978, 1186924.091)))
    }
}
