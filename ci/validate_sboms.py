"""Validate the SBOMs that charter-audit's tests wrote, with cyclonedx-python-lib.

Every file must pass the strict schema validator for its spec version and format, and load into
cyclonedx-python-lib's `Bom` model with `bom.validate()` passing (it rejects dangling dependency
references). CycloneDX 1.6, the default, must be among them in both formats. Usage:
validate_sboms.py DIR MIN_COUNT
"""

import json
import sys
import warnings
from pathlib import Path
from xml.etree import ElementTree

from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator

VERSIONS = {"1.4": SchemaVersion.V1_4, "1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}
XML_NS = "{http://cyclonedx.org/schema/bom/"


def spec_of_xml(text):
    root = ElementTree.fromstring(text)
    if not root.tag.startswith(XML_NS):
        raise ValueError(f"not a CycloneDX document: root element {root.tag}")
    return root.tag[len(XML_NS):].split("}")[0], root


def check(path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        spec = json.loads(text)["specVersion"]
        error = JsonStrictValidator(VERSIONS[spec]).validate_str(text)
        if error is not None:
            raise ValueError(f"schema ({spec} JSON): {error}")
        bom = Bom.from_json(json.loads(text))  # type: ignore[attr-defined]
    elif path.suffix == ".xml":
        spec, root = spec_of_xml(text)
        error = XmlValidator(VERSIONS[spec]).validate_str(text)
        if error is not None:
            raise ValueError(f"schema ({spec} XML): {error}")
        bom = Bom.from_xml(root)  # type: ignore[attr-defined]
    else:
        raise ValueError("unexpected file type")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bom.validate()
    return spec, len(bom.components)


# Every (spec version, format) that must have been validated at least once.
REQUIRED = {("1.6", ".json"), ("1.6", ".xml"), ("1.5", ".json"), ("1.5", ".xml")}


def main():
    folder = Path(sys.argv[1])
    minimum = int(sys.argv[2])
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".xml"))
    failures = 0
    seen = set()
    for path in files:
        try:
            spec, count = check(path)
            seen.add((spec, path.suffix))
            print(f"ok   {path.name}: CycloneDX {spec}, {count} components")
        except Exception as error:  # noqa: BLE001 - report every file, then fail
            failures += 1
            print(f"FAIL {path.name}: {error}")
    print(f"{len(files) - failures} passed, {failures} failed")
    if len(files) < minimum:
        print(f"expected at least {minimum} SBOMs in {folder}, found {len(files)}")
        return 1
    missing = sorted(REQUIRED - seen)
    if missing:
        print(f"no valid SBOM of {missing} (spec version, format) in {folder}")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
