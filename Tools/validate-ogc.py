#!/usr/bin/env python3
"""Validates JSON documents against the OGC API - Features schemas (YAML, relative $refs) in
../shared/data/ogcapi-features-conformance. Needs PyYAML, jsonschema and referencing (PyPI).

Usage: validate-ogc.py SCHEMA_DIR SCHEMA_NAME FILE [SCHEMA_NAME FILE ...]
  e.g. validate-ogc.py ../shared/data/ogcapi-features-conformance/core/openapi/schemas landingPage landing.json
Prints one line per document ("ok NAME FILE" or "FAIL NAME FILE: reason"); exit 1 on any failure.
"""
import json
import pathlib
import sys

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def main(argv):
    if len(argv) < 4 or len(argv) % 2:
        print(__doc__)
        return 2
    root = pathlib.Path(argv[1]).resolve()

    def null_types(node):
        # The YAML writes `type: null` unquoted, which loads as None; JSON Schema wants "null".
        if isinstance(node, dict):
            return {k: ("null" if k == "type" and v is None else
                        [("null" if t is None else t) for t in v] if k == "type" and isinstance(v, list) else null_types(v))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [null_types(v) for v in node]
        return node

    def retrieve(uri):
        path = root / uri.split("#")[0]
        return Resource.from_contents(null_types(yaml.safe_load(path.read_text(encoding="utf-8"))), default_specification=DRAFT202012)

    registry = Registry(retrieve=retrieve)
    failed = False
    for name, file in zip(argv[2::2], argv[3::2]):
        schema = {"$ref": f"{name}.yaml"}
        document = json.loads(pathlib.Path(file).read_text(encoding="utf-8"))
        errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(document), key=lambda e: list(e.path))
        if errors:
            failed = True
            e = errors[0]
            print(f"FAIL {name} {file}: {e.message} at {'/'.join(map(str, e.path))}")
        else:
            print(f"ok {name} {file}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
