#!/usr/bin/env python3
"""Remakes GeoData/admin: the units valid until 2025-06-30 and the dates of the 2025 ones.

Ho Chi Minh City's 273 wards/communes and 22 districts as they stood on 2025-06-30 are built
from the 322 wards of 2019 (hcmc-wards-2019-cityscope) dissolved by the GSO change record
(2019-01-01 → 2024-11-10, 322 → 312) and the GSO code list of 2025-03-01 (hcmc-districts-
2021-dvhcvn: 273 wards). The 39 wards of 2024 that the January 2025 mergers removed are named
in no list we have with their successor: each goes to the neighbour in its district that
shares the longest border with it among those the official crosswalk sends to the same new
unit; every such inference is written into GeoData/PROVENANCE.md. Each old unit is then
overlaid on the 168 new units (hcmc-wards-2025-vietnam3dmap) and compared with the official
crosswalk (vn-admin-reform-2025); every disagreement is listed in GeoData/PROVENANCE.md.

Writes GeoData/admin/hcmc_units_2025-06-30.geojson (ids CODE-until-2025-06-30: codes are reused,
so the old units need ids of their own; level ward, commune or district; valid_to; successors as
the official list has them) and rewrites GeoData/admin/hcmc_wards_2025.geojson (geometry
unchanged; adds valid_from and predecessors, the official list). Needs python3, shapely 2
and ogr2ogr (for the .xls). Usage: Tools/make-admin-units.py [SHARED_DATA_DIR] (default $LANDMAP_SHARED_DATA, else ../shared/data)
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import unicodedata

from shapely.geometry import mapping, shape
from shapely.ops import unary_union

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LANDMAP_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
OUT = os.path.join(ROOT, "GeoData", "admin")
LAST_DAY, FIRST_DAY = "2025-06-30", "2025-07-01"
# An overlap below this share of the old unit is a border mismatch between two sources drawn
# at different scales, not a piece of the unit: such pieces are counted but not judged.
SLIVER = 0.02


def nfc(s):
    return unicodedata.normalize("NFC", s).strip()


def load(path):
    with open(os.path.join(DATA, path), encoding="utf-8") as f:
        return json.load(f)


def area_m2(g):
    """Area on a local plane (lon scaled by cos 10.75°): only shares are read from it."""
    from shapely import affinity
    k = math.cos(math.radians(10.75))
    return affinity.scale(g, xfact=111320 * k, yfact=110574, origin=(0, 0)).area


def round_coords(geom, digits=6):
    def r(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(c[0], digits), round(c[1], digits)]
        return [r(x) for x in c]
    m = mapping(geom)
    return {"type": m["type"], "coordinates": r(m["coordinates"])}


def polygonal(g):
    """The polygons of g (a union may add stray lines), holes under 1 m² dropped."""
    from shapely.geometry import MultiPolygon, Polygon
    polys = []
    for p in getattr(g, "geoms", [g]):
        if isinstance(p, Polygon) and not p.is_empty:
            holes = [h for h in p.interiors if area_m2(Polygon(h)) > 1]
            polys.append(Polygon(p.exterior, holes))
        elif hasattr(p, "geoms"):
            polys.extend(polygonal(p).geoms)
    return MultiPolygon(polys)


def same_name(a, b):
    """Ward names as the lists spell them differently: "Phường 05" = "Phường 5"."""
    def norm(n):
        return " ".join(w.lstrip("0") or "0" if w.isdigit() else w for w in nfc(n).split())
    return norm(a) == norm(b)


def level_of(name):
    """The admin layer's level (SPEC §1): a thị trấn counts as a ward, as the importer has it."""
    return "commune" if name.startswith("Xã") else "ward"


def main():
    # 2019 → 2024: the GSO change record (sheet 1 of the .xls, read through GDAL).
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "changes.csv")
        subprocess.run(["ogr2ogr", "-f", "CSV", csv_path,
                        os.path.join(DATA, "hcmc-wards-2019-cityscope", "ward_change_record_2019-01-01_vs_2024-11-10.xls")],
                       check=True)
        with open(csv_path, encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if r and r[0] == "79"]
    to2024 = {r[4]: r[7] for r in rows}

    # The code list of 2025-03-01: 273 wards in 22 districts.
    codes = load("hcmc-districts-2021-dvhcvn/original/data_dvhcvn.json")
    hcm = next(p for p in codes["data"] if p["level1_id"] == "79")
    wards25, districts = {}, {}
    for d in hcm["level2s"]:
        districts[d["level2_id"]] = nfc(d["name"])
        for w in d["level3s"]:
            wards25[w["level3_id"]] = {"name": nfc(w["name"]), "district": d["level2_id"]}

    # The official crosswalk.
    splits = next(p for p in load("vn-admin-reform-2025/splits_hcmc.json")["data"] if p["level1_id"] == "79")
    successors = {u["level3_id"]: [{"code": s["new_id"], "name": nfc(s["name"])} for s in u["splits"]] for u in splits["level3s"]}
    merges = load("vn-admin-reform-2025/merges_hcmc.json")["data"][0]["level2s"]
    predecessors = {u["level2_id"]: [{"code": m["old_id"], "name": nfc(m["name"]), "type": m["type"]} for m in u["merges"]] for u in merges}

    # The 168 new units.
    new = load("hcmc-wards-2025-vietnam3dmap/hcmc_wards_2025.geojson")
    new_geoms = {f["properties"]["code"]: shape(f["geometry"]).buffer(0) for f in new["features"]}
    new_names = {f["properties"]["code"]: f"{f['properties']['type']} {nfc(f['properties']['name'])}" for f in new["features"]}

    def new_shares(g):
        total = area_m2(g)
        out = {}
        for code, ng in new_geoms.items():
            if ng.intersects(g):
                a = area_m2(ng.intersection(g))
                if a > 0:
                    out[code] = a / total
        return out

    # 2019 wards grouped into the units of 2024.
    wards19 = load("hcmc-wards-2019-cityscope/wards_2019_wgs84.geojson")["features"]
    groups = {}
    for f in wards19:
        groups.setdefault(to2024[f["properties"]["Com_ID"]], []).append(shape(f["geometry"]))
    geom2024 = {c: unary_union(gs) for c, gs in groups.items()}

    # 2024 → 2025-03: the 39 wards merged on 2025-01-01, each into a neighbour (inferred).
    inferred = []
    members = {c: [c] for c in geom2024 if c in wards25}
    gone = sorted(c for c in geom2024 if c not in wards25)
    district2024 = {r[7]: r[9] for r in rows}
    name2024 = {r[7]: nfc(r[6]) for r in rows}
    for c in gone:
        g = geom2024[c]
        shares = new_shares(g)
        main_new = max(shares, key=shares.get)
        best = None
        for s, info in wards25.items():
            if info["district"] != district2024[c] or s not in geom2024:
                continue
            # The shared border (2019 neighbours share vertices); wards apart across a canal
            # rank by distance after every ward that touches.
            border = g.boundary.intersection(geom2024[s].boundary.buffer(1e-6)).length
            same_new = any(x["code"] == main_new for x in successors.get(s, []))
            # A ward renamed on 2025-01-01 to the name of the one it absorbed (13 → "Phường 15"
            # when 15 went) is the surest sign there is.
            took_name = same_name(info["name"], name2024[c]) and not same_name(name2024.get(s, ""), info["name"])
            score = (took_name, same_new, border, -g.distance(geom2024[s]))
            if best is None or score > best[0]:
                best = (score, s)
        if best is None:
            sys.exit(f"no neighbour in district {district2024[c]} for ward {c} {name2024[c]}")
        (_, same_new, _, _), s = best
        members[s].append(c)
        inferred.append((c, name2024[c], districts.get(district2024[c], district2024[c]), s, wards25[s]["name"], same_new))

    missing = sorted(set(wards25) - set(members))
    if missing:
        sys.exit(f"no 2019 geometry for the 2025-03 wards {missing}")

    old_units, district_parts = [], {}
    disagreements = []
    for code in sorted(members):
        info = wards25[code]
        g = polygonal(unary_union([geom2024[m] for m in members[code]]))
        district_parts.setdefault(info["district"], []).append(g)
        official = successors.get(code, [])
        shares = new_shares(g)
        official_codes = {s["code"] for s in official}
        label = f"{code} {info['name']} ({districts[info['district']]})"
        for s in official:
            share = shares.get(s["code"], 0)
            if share < SLIVER:
                disagreements.append(f"{label}: the official list sends it to {s['code']} {s['name']}, "
                                     f"which holds {share:.1%} of its area in the geometry")
        for nc, share in sorted(shares.items(), key=lambda x: -x[1]):
            if nc not in official_codes and share >= SLIVER:
                disagreements.append(f"{label}: {share:.1%} of its area lies in {nc} {new_names[nc]}, "
                                     f"which the official list does not name")
        if len(official) == 1 and shares and max(shares.values()) < 1 - SLIVER - 0.03:
            big = [f"{nc} {share:.0%}" for nc, share in sorted(shares.items(), key=lambda x: -x[1]) if share >= SLIVER]
            disagreements.append(f"{label}: the official list has it whole in {official[0]['code']}, the geometry splits it ({', '.join(big)})")
        props = {
            "id": f"{code}-until-{LAST_DAY}", "code": code, "name": info["name"], "level": level_of(info["name"]),
            "parent_code": info["district"], "district_name": districts[info["district"]],
            "valid_to": LAST_DAY, "successors": official,
        }
        if len(members[code]) > 1 and any(m in gone for m in members[code]):
            props["valid_from"] = "2025-01-01"
            props["absorbed_2025_01_01"] = [m for m in members[code] if m in gone]
        old_units.append({"type": "Feature", "properties": props, "geometry": round_coords(g)})

    for dcode, parts in sorted(district_parts.items()):
        name = districts[dcode]
        props = {"id": f"{dcode}-until-{LAST_DAY}", "code": dcode, "name": name, "level": "district",
                 "parent_code": "79", "valid_to": LAST_DAY}
        if dcode == "769":
            props["valid_from"] = "2021-01-01"  # Thành phố Thủ Đức: Quận 2, Quận 9 and Quận Thủ Đức
        old_units.append({"type": "Feature", "properties": props, "geometry": round_coords(polygonal(unary_union(parts)))})

    with open(os.path.join(OUT, "hcmc_units_2025-06-30.geojson"), "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": old_units}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")

    # The 168 new units: dated, with the official list of what each came from.
    for feat in new["features"]:
        p = feat["properties"]
        p["valid_from"] = FIRST_DAY
        p["predecessors"] = [x for x in predecessors.get(p["code"], []) if x["code"] in wards25]
    with open(os.path.join(OUT, "hcmc_wards_2025.geojson"), "w", encoding="utf-8") as f:
        json.dump(new, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")

    # The report, between markers in GeoData/PROVENANCE.md.
    lines = ["<!-- make-admin-units: begin (written by Tools/make-admin-units.py; do not edit) -->", "",
             f"Built: {len(members)} wards/communes and {len(district_parts)} districts valid until {LAST_DAY}, "
             f"from {len(wards19)} wards of 2019 → {len(geom2024)} of 2024-11-10 → {len(members)} of 2025-03-01.", "",
             f"**Inferred, not official** — the {len(inferred)} wards merged on 2025-01-01 (Resolution 1278/NQ-UBTVQH15) "
             "and the ward each was given to: the ward of its district renamed to its name on that day where there is one, "
             "else the neighbour with the longest shared border among those the crosswalk sends to the same new unit "
             "where one does (the nearest where none touches):", ""]
    for c, n, d, s, sn, same in inferred:
        lines.append(f"- {c} {n} ({d}) → {s} {sn}" + ("" if same else " (no neighbour shares its new unit: longest border only)"))
    lines += ["", f"**Geometry against the official crosswalk** — {len(disagreements)} disagreements "
              f"(a share is the part of the old unit's area, 2019 geometry, inside the new unit's, vietnam3dmap "
              f"geometry; pieces under {SLIVER:.0%} are border mismatches between the two sources and are not listed):", ""]
    lines += [f"- {d}" for d in disagreements] or ["- none"]
    lines += ["", "<!-- make-admin-units: end -->"]
    prov = os.path.join(ROOT, "GeoData", "PROVENANCE.md")
    with open(prov, encoding="utf-8") as f:
        text = f.read()
    begin, end = "<!-- make-admin-units: begin", "<!-- make-admin-units: end -->"
    if begin in text:
        text = text[:text.index(begin)] + "\n".join(lines) + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n## The units valid until 2025-06-30, checked\n\n" + "\n".join(lines) + "\n"
    with open(prov, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"{len(old_units)} old units, {len(inferred)} inferred mergers, {len(disagreements)} disagreements")


if __name__ == "__main__":
    main()
