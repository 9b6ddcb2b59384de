"""Validate the CycloneDX 1.6 attestations that charter-audit's tests wrote, with
cyclonedx-python-lib: each must pass its strict JSON schema validator for 1.6 (the official
schema, loaded by the library, not the copy charter-audit vendors), load into its `Bom` model
with `bom.validate()` passing and the same standards and requirements read back (the model has
`definitions` but, as of 11.x, no `declarations`, which the schema check covers), and say what an
attestation of a run says: every map entry points at a requirement the document defines, every
claim at evidence it holds, and a `not-assessed` entry carries no score and no claim.

Usage: validate_attestations.py DIR MIN_COUNT
"""

import json
import sys
import warnings
from pathlib import Path

from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator


def check(path):
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    if document.get("specVersion") != "1.6":
        raise ValueError(f"specVersion is {document.get('specVersion')!r}, not 1.6")
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ValueError(f"schema (1.6 JSON): {error}")
    requirements = {
        r["bom-ref"]
        for s in document["definitions"]["standards"]
        for r in s["requirements"]
    }
    bom = Bom.from_json(document)  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bom.validate()
    modelled = {
        str(r.bom_ref)
        for s in bom.definitions.standards
        for r in s.requirements
    }
    if modelled != requirements:
        raise ValueError(f"the model reads other requirements: {sorted(modelled ^ requirements)}")
    declarations = document["declarations"]
    evidence = {e["bom-ref"] for e in declarations["evidence"]}
    claims = {c["bom-ref"]: c for c in declarations["claims"]}
    entries = 0
    for attestation in declarations["attestations"]:
        for entry in attestation["map"]:
            entries += 1
            if entry["requirement"] not in requirements:
                raise ValueError(f"{entry['requirement']}: not a defined requirement")
            assessed = not entry["conformance"]["rationale"].startswith("not-assessed")
            if assessed != ("score" in entry["conformance"]) or assessed != bool(
                entry.get("claims")
            ):
                raise ValueError(f"{entry['requirement']}: score and claims disagree with it")
            for claim in entry.get("claims", []):
                for reference in claims[claim]["evidence"]:
                    if reference not in evidence:
                        raise ValueError(f"{claim}: evidence {reference} is not there")
    return entries, len(claims)


def main():
    folder = Path(sys.argv[1])
    minimum = int(sys.argv[2])
    files = sorted(folder.glob("*.json"))
    failures = 0
    for path in files:
        try:
            entries, claims = check(path)
            print(f"ok   {path.name}: CycloneDX 1.6, {entries} map entries, {claims} claims")
        except Exception as error:  # noqa: BLE001 - every failure is reported, then counted
            failures += 1
            print(f"FAIL {path.name}: {error}")
    if len(files) < minimum:
        print(f"expected at least {minimum} attestations in {folder}, found {len(files)}")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
