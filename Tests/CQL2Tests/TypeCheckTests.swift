import CQL2
import Foundation
import Geometry
import Testing

/// `CQL2Filter.check`: filters against a layer's queryables, with errors that say where.
@Suite struct TypeCheckTests {
    /// A layer's queryables as the server builds them; `owner` is private, so it is not here.
    let queryables = Queryables([
        "id": .string, "geom": .geometry, "name": .string, "floors": .integer, "area": .number,
        "open": .boolean, "since": .date, "seen": .timestamp,
    ])

    func check(_ text: String) throws -> CQL2Filter {
        try CQL2Filter.check(try CQL2Text.parse(text), against: queryables)
    }

    func error(_ text: String) -> CQL2Error? {
        do {
            _ = try check(text)
            return nil
        } catch let e as CQL2Error {
            return e
        } catch {
            return nil
        }
    }

    @Test func wellTypedFiltersPassAndNameTheirProperties() throws {
        let f = try check("name LIKE 'Thủ%' AND floors BETWEEN 1 AND 3 AND area > 2.5 AND open = true AND since < DATE('2024-01-01')"
            + " AND S_INTERSECTS(geom, BBOX(106, 10, 107, 11)) AND T_AFTER(seen, TIMESTAMP('2024-01-01T00:00:00Z'))"
            + " AND ACCENTI(CASEI(name)) IN (accenti(casei('Thu Duc'))) AND id IS NOT NULL")
        #expect(f.kinds == ["name": .string, "floors": .integer, "area": .number, "open": .boolean, "since": .date,
                            "geom": .geometry, "seen": .timestamp, "id": .string])
        // Integers and numbers compare; so do dates and timestamps (as instants).
        _ = try check("floors = 2.0 AND since <= TIMESTAMP('2024-01-01T10:00:00Z')")
        _ = try check("T_DURING(INTERVAL(since, seen), INTERVAL('2020-01-01', '..'))")
        _ = try check("true")
    }

    @Test func anUnknownOrPrivatePropertyNamesItsPlaceAndListsTheQueryables() throws {
        let e = try #require(error("name = 'a' AND owner = 'Nguyễn'"))
        #expect(e.position == .text(line: 1, column: 16, offset: 15))
        #expect(e.message == "'owner' is not a queryable of this collection; queryables: area, floors, geom, id, name, open, seen, since")
        // The same error for a name that exists nowhere: a private field cannot be told apart.
        let unknown = try #require(error("name = 'a' AND nobody = 'Nguyễn'"))
        #expect(unknown.message.replacingOccurrences(of: "nobody", with: "owner") == e.message)
        // In CQL2 JSON the position is a path.
        let json = try CQL2JSON.parse(#"{"op":"and","args":[{"op":"=","args":[{"property":"name"},"a"]},{"op":"=","args":[{"property":"owner"},"x"]}]}"#)
        #expect(throws: CQL2Error("'owner' is not a queryable of this collection; queryables: area, floors, geom, id, name, open, seen, since",
                                  at: .json(path: "/args/1/args/0"))) { try CQL2Filter.check(json, against: queryables) }
    }

    @Test func operandsOfTheWrongTypeAreRefusedWhereTheyStand() throws {
        #expect(error("name = 3") == CQL2Error("'=' compares a string with a number", at: .text(line: 1, column: 8, offset: 7)))
        #expect(error("floors LIKE 'a%'")?.message == "LIKE takes a string here, not a number")
        #expect(error("S_INTERSECTS(name, POINT(1 2))")?.message == "S_INTERSECTS takes a geometry here, not a string")
        #expect(error("T_AFTER(floors, DATE('2020-01-01'))")?.message == "T_AFTER takes dates, timestamps or intervals, not a number")
        #expect(error("CASEI(floors) = 'a'")?.message == "CASEI takes a string here, not a number")
        #expect(error("name BETWEEN 'a' AND 'b'")?.message == "BETWEEN takes a number here, not a string")
        #expect(error("floors IN (1, 'two')")?.message == "IN compares a number with a string")
        #expect(error("geom = 1")?.message == "'=' compares strings, numbers, booleans, dates or timestamps, not a geometry")
        #expect(error("NOT floors")?.message == "NOT takes a boolean here, not a number")
        #expect(error("Buffer(geom, 3) = 1")?.message == "function 'Buffer' is not supported")
        #expect(error("A_CONTAINS(name, ('a'))")?.message == "array functions (A_CONTAINS) are not supported")
        #expect(error("floors + 1")?.message == "a filter must be a predicate (true or false), not a number")
    }

    @Test func filterCRSMapsEveryGeometryLiteralAndBoxes() throws {
        let f = try check("S_INTERSECTS(geom, POINT(10 106)) OR S_WITHIN(geom, BBOX(10, 106, 11, 107))")
        let swapped = try f.mappingGeometries { $0.mapCoordinates { Coordinate($0.y, $0.x) } }
        guard case .or(let parts) = swapped.expression.kind,
              case .predicate(_, _, let point) = parts[0].kind, case .predicate(_, _, let box) = parts[1].kind,
              case .geometry(let g) = box.kind else {
            Issue.record("unexpected tree \(swapped)")
            return
        }
        #expect(point.kind == .geometry(.point(Coordinate(106, 10))))
        #expect(g.boundingBox == BoundingBox(minX: 106, minY: 10, maxX: 107, maxY: 11))
    }

    @Test func instantsFromTheFormsStoresHold() {
        #expect(CQL2Instant.seconds("1970-01-02") == 86_400)
        #expect(CQL2Instant.seconds("2022-04-16T10:13:19Z") == 1_650_103_999)
        #expect(CQL2Instant.seconds("2022-04-16T17:13:19+07:00") == 1_650_103_999)
        #expect(CQL2Instant.seconds("2022/04/16 10:13:19") == 1_650_103_999)
        #expect(CQL2Instant.seconds("2022-04-16T10:13:19.5Z") == 1_650_103_999.5)
        #expect(CQL2Instant.seconds("1969-12-31") == -86_400)
        #expect(CQL2Instant.seconds("Thủ Đức") == nil)
        #expect(CQL2Instant.seconds("2022-13-01") == nil)
        #expect(CQL2Instant.seconds("2022-04-16T10:13:19Zjunk") == nil)
    }
}
