"""Validate the VEX documents that charter-audit's tests wrote (tests/vex_out.rs).

CycloneDX VEX (`NAME.vex.cdx.json`), with cyclonedx-python-lib: each must pass the strict JSON
schema validator of its spec version (the official schema the library ships, not the copy
charter-audit vendors), load into its `Bom` model with `bom.validate()` passing and every
vulnerability and its analysis state read back, and join the SBOM of the same run
(`NAME.sbom.cdx.json`, saved beside it): every `affects` reference is a BOM-Link
`urn:cdx:SERIAL/VERSION#BOM-REF` naming that SBOM's serial number and version and one of its
components. Both 1.5 and 1.6 must be among them.

OpenVEX (`NAME.openvex.json`), with the Python `jsonschema` library (another implementation than
the Rust one `cargo test` uses) against OpenVEX 0.2.0's published schema, formats checked.

Usage: validate_vex.py DIR SCHEMA MIN_CYCLONEDX MIN_OPENVEX
"""

import json
import sys
import warnings
from pathlib import Path
from urllib.parse import unquote

import jsonschema
from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

VERSIONS = {"1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}


def bom_refs(components):
    for component in components:
        yield component.get("bom-ref")
        yield from bom_refs(component.get("components", []))


def check_cyclonedx(path):
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    spec = document["specVersion"]
    if spec not in VERSIONS:
        raise ValueError(f"specVersion is {spec!r}, not 1.5 or 1.6")
    error = JsonStrictValidator(VERSIONS[spec]).validate_str(text)
    if error is not None:
        raise ValueError(f"schema ({spec} JSON): {error}")
    bom = Bom.from_json(document)  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bom.validate()
    states = sorted(str(v.analysis.state.value) for v in bom.vulnerabilities)
    expected = sorted(v["analysis"]["state"] for v in document["vulnerabilities"])
    if states != expected:
        raise ValueError(f"the model reads the states {states}, the document has {expected}")
    sbom_path = path.with_name(path.name.replace(".vex.cdx.json", ".sbom.cdx.json"))
    sbom = json.loads(sbom_path.read_text(encoding="utf-8"))
    if sbom["specVersion"] != spec:
        raise ValueError(f"its spec version {spec} is not its SBOM's {sbom['specVersion']}")
    serial = sbom["serialNumber"].removeprefix("urn:uuid:")
    prefix = f"urn:cdx:{serial}/{sbom.get('version', 1)}#"
    refs = set(bom_refs(sbom.get("components", [])))
    refs.add(sbom["metadata"]["component"].get("bom-ref"))
    for vulnerability in document["vulnerabilities"]:
        for affected in vulnerability["affects"]:
            reference = affected["ref"]
            if not reference.startswith(prefix):
                raise ValueError(f"{reference}: not a BOM-Link into {sbom_path.name}")
            if unquote(reference[len(prefix):]) not in refs:
                raise ValueError(f"{reference}: no component of {sbom_path.name}")
    return spec, len(bom.vulnerabilities)


def check_openvex(path, validator):
    document = json.loads(path.read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    if errors:
        raise ValueError("; ".join(errors[:5]))
    return len(document["statements"])


def main():
    folder = Path(sys.argv[1])
    schema = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    min_cyclonedx, min_openvex = int(sys.argv[3]), int(sys.argv[4])
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    failures = 0
    specs = set()
    cyclonedx = sorted(folder.glob("*.vex.cdx.json"))
    openvex = sorted(folder.glob("*.openvex.json"))
    for path in cyclonedx:
        try:
            spec, count = check_cyclonedx(path)
            specs.add(spec)
            print(f"ok   {path.name}: CycloneDX {spec} VEX, {count} vulnerabilities, joins its SBOM")
        except Exception as error:  # noqa: BLE001 - every failure is reported, then counted
            failures += 1
            print(f"FAIL {path.name}: {error}")
    for path in openvex:
        try:
            count = check_openvex(path, validator)
            print(f"ok   {path.name}: OpenVEX 0.2.0, {count} statements")
        except Exception as error:  # noqa: BLE001
            failures += 1
            print(f"FAIL {path.name}: {error}")
    if len(cyclonedx) < min_cyclonedx or len(openvex) < min_openvex:
        print(
            f"expected at least {min_cyclonedx} CycloneDX and {min_openvex} OpenVEX documents in"
            f" {folder}, found {len(cyclonedx)} and {len(openvex)}"
        )
        return 1
    if not {"1.5", "1.6"} <= specs:
        print(f"expected CycloneDX VEX 1.5 and 1.6 among them, found {sorted(specs)}")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
