#!/usr/bin/env python3
"""Validates every SARIF log in a folder with Microsoft's SARIF multitool (`validate`), which
checks the SARIF 2.1.0 schema and its rules. The multitool exits 0 even when it finds errors, so
its own SARIF output is read: any result at level "error" fails the check.

usage: validate_sarif.py MULTITOOL FOLDER EXPECTED_COUNT
"""
import json
import pathlib
import subprocess
import sys
import tempfile


def main() -> int:
    multitool, folder, expected = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3])
    logs = sorted(folder.glob("*.sarif"))
    if len(logs) != expected:
        print(f"expected {expected} SARIF logs in {folder}, found {len(logs)}")
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for log in logs:
            out = pathlib.Path(tmp) / (log.name + ".validation.sarif")
            run = subprocess.run(
                [multitool, "validate", "--output", str(out), str(log)],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0 or not out.exists():
                head = "\n".join((run.stdout + run.stderr).splitlines()[:12])
                print(f"{log}: the multitool did not run:\n{head}")
                failed += 1
                continue
            results = [r for run_ in json.loads(out.read_text())["runs"] for r in run_.get("results", [])]
            errors = [r for r in results if r.get("level") == "error"]
            warnings = [r for r in results if r.get("level", "warning") == "warning"]
            for r in errors:
                print(f"{log}: {r.get('ruleId')}: {r['message'].get('text', r['message'])}")
            print(f"{log.name}: {len(errors)} error(s), {len(warnings)} warning(s)")
            failed += bool(errors)
    print(f"{len(logs) - failed} of {len(logs)} SARIF logs valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
