#!/usr/bin/env python3
"""Validates LandMap's DCAT-AP 3.0 catalogue (SPEC §9) with rdflib and pyshacl.

  Tools/validate-catalog.py http://127.0.0.1:8080/catalog [--token T]
  Tools/validate-catalog.py --jsonld catalog.jsonld --turtle catalog.ttl

Fetches (or reads) the catalogue as JSON-LD and as Turtle, checks that both parse to
isomorphic graphs, then validates the graph with DCAT-AP 3.0.0's SHACL shapes
(../shared/data/dcat-ap-3/shacl, or --shacl DIR), the way the DCAT-AP release splits them:

  mandatory:   shapes.ttl (cardinalities, datatypes) + range.ttl (the classes of values:
               the catalogue types every node itself, so no ontology import is needed)
               + mdr-vocabularies.shape.ttl (EU controlled vocabularies; checked on the
               skos:inScheme the catalogue states, the vocabularies themselves are not fetched)
               + deprecateduris.ttl. Violations fail the check (exit 1).
  recommended: shapes_recommended.ttl: every result is reported (count and messages), never fails.

Prints `isomorphic: yes`, `mandatory violations: N` (and N warnings), `recommended results: N`.
Exit 0 when both parse, are isomorphic and no mandatory shape is violated; 2 when rdflib or
pyshacl is missing.
"""
import argparse
import os
import sys
import urllib.request

try:
    import rdflib
    from rdflib.compare import isomorphic
    from pyshacl import validate
except ImportError as e:
    print(f"skip: rdflib and pyshacl are needed ({e}); pip install rdflib pyshacl", file=sys.stderr)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SHACL = os.path.join(os.environ.get("LANDMAP_SHARED_DATA", os.path.join(HERE, "..", "..", "shared", "data")), "dcat-ap-3", "shacl")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def fetch(url, accept, token):
    request = urllib.request.Request(url, headers={"Accept": accept})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as r:
        return r.read().decode("utf-8"), r.headers.get("Content-Type", "")


def shapes(directory, names):
    g = rdflib.Graph()
    for name in names:
        g.parse(os.path.join(directory, name), format="turtle")
    return g


def run(data, shapes_graph):
    conforms, results, _ = validate(data, shacl_graph=shapes_graph, inference="none", abort_on_first=False,
                                    allow_warnings=True, meta_shacl=False, advanced=True)
    found = []
    # The report's own results: those nested in sh:detail explain a result, they are not more of them.
    tops = [r for report in results.subjects(rdflib.RDF.type, SH.ValidationReport) for r in results.objects(report, SH.result)]
    for r in tops:
        severity = str(results.value(r, SH.resultSeverity)).rsplit("#", 1)[-1]
        focus = results.value(r, SH.focusNode)
        path = results.value(r, SH.resultPath)
        message = results.value(r, SH.resultMessage)
        found.append((severity, str(focus), str(path), str(message)))
    return sorted(found)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", nargs="?", help="the catalogue's URL (…/catalog)")
    p.add_argument("--token", help="a bearer token (the catalogue of what it may read)")
    p.add_argument("--jsonld", help="a file of the catalogue as JSON-LD, instead of a URL")
    p.add_argument("--turtle", help="a file of the catalogue as Turtle, instead of a URL")
    p.add_argument("--shacl", default=DEFAULT_SHACL, help="DCAT-AP 3.0.0's shacl folder")
    p.add_argument("--quiet", action="store_true", help="counts only, not every recommended result")
    a = p.parse_args()

    if a.url:
        jsonld, jtype = fetch(a.url, "application/ld+json", a.token)
        turtle, ttype = fetch(a.url, "text/turtle", a.token)
        if not jtype.startswith("application/ld+json") or not ttype.startswith("text/turtle"):
            print(f"FAIL: content types {jtype!r} and {ttype!r}")
            return 1
    elif a.jsonld and a.turtle:
        jsonld = open(a.jsonld, encoding="utf-8").read()
        turtle = open(a.turtle, encoding="utf-8").read()
    else:
        p.error("give a URL, or --jsonld and --turtle files")

    g1 = rdflib.Graph().parse(data=jsonld, format="json-ld")
    g2 = rdflib.Graph().parse(data=turtle, format="turtle")
    print(f"triples: json-ld {len(g1)}, turtle {len(g2)}")
    same = isomorphic(g1, g2)
    print(f"isomorphic: {'yes' if same else 'no'}")
    if not same:
        only1 = set(g1) - set(g2)
        only2 = set(g2) - set(g1)
        for t in list(only1)[:10]:
            print(f"  only in JSON-LD: {t}")
        for t in list(only2)[:10]:
            print(f"  only in Turtle: {t}")

    mandatory = run(g2, shapes(a.shacl, ["shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl", "deprecateduris.ttl"]))
    violations = [r for r in mandatory if r[0] == "Violation"]
    print(f"mandatory violations: {len(violations)} ({len(mandatory) - len(violations)} warnings or infos)")
    for r in mandatory:
        print(f"  mandatory {r[0]}: {r[1]} {r[2]}: {r[3]}")
    recommended = run(g2, shapes(a.shacl, ["shapes_recommended.ttl"]))
    print(f"recommended results: {len(recommended)}")
    if not a.quiet:
        for r in recommended:
            print(f"  recommended {r[0]}: {r[1]} {r[2]}: {r[3]}")
    return 0 if same and not violations else 1


if __name__ == "__main__":
    sys.exit(main())
