#!/usr/bin/python3
"""Makes a cadastral sheet as surveyors draw it, in DGN v7 and DXF, from real parcel shapes:
each parcel a closed shape on one level (DGN) or layer (DXF), its number, land-use code and
declared area as text elements inside it on three other levels, and its address in TCVN3
(.VnTime) bytes on a fourth. Written with GDAL's own DGN and DXF writers (python3-gdal).

The parcels are the first N of GeoData/parcels/d7_parcels.geojson (District 7), reprojected to
VN-2000 / TM-3 105°45′ (EPSG:9210) and kept to the millimetre. With --anomalies the sheet also
holds what the QA report must find: an island parcel drawn inside another (nested shapes), a
label outside every shape, a parcel with two different numbers, and a parcel with no label.

Beside the sheets, expected.json lists what each parcel should import as (the source's
attributes, for parcels with one label per field) and the anomalies, for the tests.

Usage: /usr/bin/python3 Tools/make-sheet.py --count 1000 --out DIR [--sheet 56] [--anomalies]
       (writes DIR/to56.dgn, DIR/to56.dxf, DIR/expected.json)
"""
import argparse
import json
import os
import re
import sys
import unicodedata

from osgeo import ogr, osr

ogr.UseExceptions()
osr.UseExceptions()

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Levels (DGN, 1-63) and layers (DXF) of a FAMIS-style sheet.
LEVELS = {"shapes": 10, "number": 13, "land_use": 14, "declared_area_m2": 15, "address": 16}
LAYERS = {"shapes": "RANH_THUA", "number": "SO_THUA", "land_use": "LOAI_DAT", "declared_area_m2": "DIEN_TICH", "address": "DIA_CHI"}


def tcvn3_table():
    """Unicode letter -> TCVN3 bytes, from the table the Swift decoder is generated from."""
    src = os.path.join(ROOT, "..", "shared", "data", "vietnamese-encodings", "vietnamese-conversion", "src", "charsets.ts")
    text = open(src, encoding="utf-8").read()
    rows = re.findall(r"\{\s*unicode:\s*(['\"])(.*?)\1,\s*vni:\s*(['\"])(.*?)\3,\s*tcvn3:\s*(['\"])(.*?)\5", text)
    table = {}
    for row in rows:
        uni, tcvn = row[1], row[5]
        if len(uni) == 1 and uni not in table:
            table[uni] = bytes(ord(c) for c in tcvn)
    return table


def encode_tcvn3(s, table):
    out = bytearray()
    for ch in unicodedata.normalize("NFC", s):
        if ch in table:
            out += table[ch]
        elif ord(ch) < 0x80:
            out.append(ord(ch))
        else:
            raise ValueError(f"no TCVN3 byte for {ch!r} in {s!r}")
    return bytes(out)


def rounded(geom):
    """The geometry with every coordinate kept to the millimetre, as a survey has it."""
    wkt = geom.ExportToWkt()
    wkt = re.sub(r"-?\d+\.\d+", lambda m: ("%.3f" % float(m.group(0))).rstrip("0").rstrip("."), wkt)
    return ogr.CreateGeometryFromWkt(wkt)


def nudged(geom):
    wkt = re.sub(r"-?\d+(\.\d+)?", lambda m: "%.4f" % (float(m.group(0)) + 0.0004), geom.ExportToWkt())
    return ogr.CreateGeometryFromWkt(wkt)


def inside_point(geom, avoid=None, step=0):
    """A point inside the polygon (and outside `avoid`), nudged so labels do not sit on one spot."""
    area = geom.Difference(avoid) if avoid is not None else geom
    p = area.PointOnSurface()
    x, y = p.GetX(), p.GetY()
    for dx, dy in ((0, -0.6 * step), (0.6 * step, 0), (-0.6 * step, 0), (0, 0.6 * step)):
        q = ogr.CreateGeometryFromWkt("POINT (%.3f %.3f)" % (x + dx, y + dy))
        if area.Contains(q):
            return q
    return ogr.CreateGeometryFromWkt("POINT (%.3f %.3f)" % (x, y))


def area_text(value, i):
    """Declared areas the two ways people write them: 1.234,5 and 1234.5."""
    if i % 2 == 0:
        whole, frac = ("%.1f" % value).split(".")
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        return ".".join(groups) + "," + frac
    return "%.1f" % value


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sheet", type=int, default=56)
    ap.add_argument("--ward", default="27484")
    ap.add_argument("--anomalies", action="store_true")
    ap.add_argument("--source", default=os.path.join(ROOT, "GeoData", "parcels", "d7_parcels.geojson"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    table = tcvn3_table()

    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    vn2000 = osr.SpatialReference()
    vn2000.ImportFromEPSG(9210)
    vn2000.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_vn = osr.CoordinateTransformation(wgs84, vn2000)

    src = ogr.Open(args.source)
    parcels = []
    for f in src.GetLayer(0):
        g = f.GetGeometryRef().Clone()
        if g.GetGeometryType() != ogr.wkbPolygon:
            continue
        g.Transform(to_vn)
        if len(parcels) == 2:
            g.Segmentize(0.2)  # past DGN's 101 vertices a shape: written as a complex shape
        g = rounded(g)
        if not g.IsValid():
            continue
        number = len(parcels) + 1
        parcels.append({
            "number": number, "shape": g, "land_use": f.GetField("LoaiDat"),
            "declared_area_m2": round(float(f.GetField("DienTich")), 1), "address": f.GetField("DiaChi"),
        })
        if len(parcels) == args.count:
            break
    if len(parcels) < args.count:
        sys.exit(f"make-sheet: the source has only {len(parcels)} polygons")

    # Each element: (kind, level key, geometry, text or None).
    elements = []
    expected = {}
    anomalies = {"unlabelled": [], "stray_labels": [], "conflicts": [], "nested": []}
    nested_outer = 3 if args.anomalies and len(parcels) > 8 else None
    island = None
    for i, p in enumerate(parcels):
        g = p["shape"]
        elements.append(("shape", "shapes", g, None))
        avoid = None
        if i == nested_outer:
            # An island parcel drawn inside this one: a 2 m square around a point well inside.
            c = g.Buffer(-1.5).PointOnSurface() if not g.Buffer(-1.5).IsEmpty() else g.PointOnSurface()
            x, y = round(c.GetX(), 3), round(c.GetY(), 3)
            island = ogr.CreateGeometryFromWkt(f"POLYGON (({x-1} {y-1},{x+1} {y-1},{x+1} {y+1},{x-1} {y+1},{x-1} {y-1}))")
            avoid = island
        if args.anomalies and i == 5:
            anomalies["unlabelled"].append({"id": None, "element_shape_of_number": p["number"]})
            continue
        labels = [("number", str(p["number"])), ("land_use", p["land_use"]),
                  ("declared_area_m2", area_text(p["declared_area_m2"], i)), ("address", p["address"])]
        for step, (field, text) in enumerate(labels):
            elements.append(("text", field, inside_point(g, avoid, step), text))
        if args.anomalies and i == 7:
            elements.append(("text", "number", inside_point(g, avoid, 4), str(9000 + p["number"])))
            anomalies["conflicts"].append({"field": "number", "texts": [str(p["number"]), str(9000 + p["number"])]})
            continue
        if i != nested_outer:
            expected[f"{args.ward}-{args.sheet}-{p['number']}"] = {k: p[k] for k in ("number", "land_use", "declared_area_m2", "address")}
    if island is not None:
        n = 9999
        elements.append(("shape", "shapes", island, None))
        for step, (field, text) in enumerate([("number", str(n)), ("land_use", "ODT"), ("declared_area_m2", "4,0"), ("address", "Hẻm 12 Nguyễn Thị Thập")]):
            elements.append(("text", field, inside_point(island, None, step * 0.3), text))
        expected[f"{args.ward}-{args.sheet}-{n}"] = {"number": n, "land_use": "ODT", "declared_area_m2": 4.0, "address": "Hẻm 12 Nguyễn Thị Thập"}
        anomalies["nested"].append({"inner": f"{args.ward}-{args.sheet}-{n}", "outer": f"{args.ward}-{args.sheet}-{parcels[nested_outer]['number']}"})
        # The outer parcel keeps its labels (placed outside the island): one label per field.
        p = parcels[nested_outer]
        expected[f"{args.ward}-{args.sheet}-{p['number']}"] = {k: p[k] for k in ("number", "land_use", "declared_area_m2", "address")}
    if args.anomalies:
        env = parcels[0]["shape"].GetEnvelope()
        for p in parcels:
            e = p["shape"].GetEnvelope()
            env = (min(env[0], e[0]), max(env[1], e[1]), min(env[2], e[2]), max(env[3], e[3]))
        stray = ogr.CreateGeometryFromWkt("POINT (%.3f %.3f)" % (env[0] - 25, env[2] - 25))
        elements.append(("text", "number", stray, "777"))
        anomalies["stray_labels"].append({"text": "777", "x": stray.GetX(), "y": stray.GetY()})
        # Things a sheet holds besides parcels: a road centre line and a sheet title on levels
        # nobody asked for; counted, never an error.
        elements.append(("line", "other", ogr.CreateGeometryFromWkt("LINESTRING (%.3f %.3f,%.3f %.3f)" % (env[0], env[2] - 10, env[1], env[2] - 10)), None))
        elements.append(("text", "title", ogr.CreateGeometryFromWkt("POINT (%.3f %.3f)" % (env[0], env[3] + 20)), f"TO BAN DO SO {args.sheet}"))

    # Text is written as ASCII placeholders of the TCVN3 bytes' length, then patched to the
    # bytes themselves: GDAL's writers take UTF-8, surveyors' files hold TCVN3.
    patches = []

    def placeholder(text):
        raw = encode_tcvn3(text, table)
        if raw.isascii():
            return text, None
        # "Q<n>" padded with "_": no token is a prefix of another once longer ones go first.
        token = ("Q%d" % len(patches)).ljust(len(raw), "_")
        assert len(token) == len(raw), text
        patches.append((token.encode("ascii"), raw))
        return token, raw

    texts = {}
    for k, (kind, level, g, text) in enumerate(elements):
        if text is not None and level == "address":
            texts[k] = placeholder(text)[0]

    shape_no, n = {}, 0
    for k, e in enumerate(elements):
        if e[0] == "shape":
            shape_no[k] = n
            n += 1
    stem = f"to{args.sheet}"
    extra_levels = {"other": 20, "title": 1}
    extra_layers = {"other": "GIAO_THONG", "title": "KHUNG"}
    for driver, ext in (("DGN", "dgn"), ("DXF", "dxf")):
        path = os.path.join(args.out, f"{stem}.{ext}")
        if os.path.exists(path):
            os.remove(path)
        opts = []
        if driver == "DGN":
            # A millimetre per unit of resolution with the origin at 0, 0: VN-2000 eastings and
            # northings (< 2 147 km) stay inside DGN v7's 32-bit range. (GDAL 3.6's writer
            # misplaces northings when it is given another origin with these units.)
            opts = ["ORIGIN=0,0,0", "MASTER_UNIT_NAME=m", "SUB_UNIT_NAME=mm", "SUB_UNITS_PER_MASTER_UNIT=1000", "UOR_PER_SUB_UNIT=1"]
        ds = ogr.GetDriverByName(driver).CreateDataSource(path, options=opts)
        lyr = ds.CreateLayer("elements")
        defn = lyr.GetLayerDefn()
        for k, (kind, level, g, text) in enumerate(elements):
            f = ogr.Feature(defn)
            geom = g.Clone()
            # Shapes drawn the ways drafters draw them: DXF closed polylines, with every tenth a
            # hatch (GDAL writes polygons as hatches); DGN shapes (complex shapes past 101
            # vertices), with every tenth a closed line string.
            if kind == "shape" and (driver == "DXF") != (shape_no[k] % 10 == 4):
                geom = ogr.ForceToLineString(geom)
                geom.FlattenTo2D()
            if driver == "DGN":
                # GDAL's DGN writer truncates to its unit of resolution: aim 0.4 mm above each
                # millimetre so the file holds the millimetre itself, as the DXF does.
                geom = nudged(geom)
            f.SetGeometry(geom)
            if driver == "DGN":
                f.SetField("Level", LEVELS.get(level) or extra_levels[level])
            else:
                f.SetField("Layer", LAYERS.get(level) or extra_layers[level])
            if text is not None:
                shown = texts.get(k, text).replace('"', "")
                f.SetStyleString(f'LABEL(f:".VnTime",t:"{shown}",s:1.5g)')
            lyr.CreateFeature(f)
        ds = None
        data = open(path, "rb").read()
        for token, raw in sorted(patches, key=lambda p: -len(p[0])):
            if driver == "DXF":
                data = data.replace(token, raw)
            else:
                assert len(token) == len(raw)
                data = data.replace(token, raw)
        open(path, "wb").write(data)

    with open(os.path.join(args.out, "expected.json"), "w", encoding="utf-8") as out:
        json.dump({"sheet": args.sheet, "ward_code": args.ward, "levels": LEVELS, "layers": LAYERS,
                   "parcels": expected, "anomalies": anomalies}, out, ensure_ascii=False, indent=1, sort_keys=True)
    print(f"make-sheet: {len(parcels) + (1 if island else 0)} shapes, {sum(1 for e in elements if e[0] == 'text')} texts -> {args.out}/{stem}.dgn, .dxf")


if __name__ == "__main__":
    main()
