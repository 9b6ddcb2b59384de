#!/usr/bin/env python3
"""Validates the predicate of every charter-audit statement in the DSSE samples against
docs/predicate-v1.schema.json (JSON Schema 2020-12, with format checks).

usage: validate_predicates.py SCHEMA SAMPLES
"""
import base64
import json
import pathlib
import sys

import jsonschema


def main() -> int:
    schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    envelopes = sorted(pathlib.Path(sys.argv[2]).glob("*.intoto.json"))
    if not envelopes:
        print("no envelopes to validate")
        return 1
    failed = 0
    for path in envelopes:
        statement = json.loads(base64.b64decode(json.loads(path.read_text())["payload"]))
        errors = list(validator.iter_errors(statement["predicate"]))
        for error in errors:
            print(f"{path.name}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
        print(f"{path.name}: {'valid' if not errors else 'INVALID'}")
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
