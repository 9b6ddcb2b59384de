#!/usr/bin/env python3
"""Reads the output of `cargo test` and fails unless every test either passed or was ignored
with a reason (`#[ignore = "why"]`), and every test binary reported a result.

A fresh clone of the repository must pass its README's test command with nothing beside it;
tests that need more (the corpus in ../shared) say so in their ignore reason. A bare
`#[ignore]`, a failure, or a test binary that stopped without its summary line is an error.

Usage: check_test_log.py LOG [MIN_PASSED]
"""

import re
import sys

TEST = re.compile(r"^test (?P<name>.+?) \.\.\. (?P<outcome>ok|FAILED|ignored(?:, (?P<reason>.+))?)$")
RUNNING = re.compile(r"^\s*(Running|Doc-tests) ")
RESULT = re.compile(r"^test result: (?P<status>ok|FAILED)\. (?P<passed>\d+) passed; (?P<failed>\d+) failed; (?P<ignored>\d+) ignored;")


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    minimum = int(sys.argv[2]) if len(sys.argv) == 3 else 1
    with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
        lines = [line.rstrip("\n") for line in log]

    problems = []
    passed = ignored = 0
    reasons = {}
    binaries = results = 0
    for line in lines:
        if RUNNING.match(line):
            binaries += 1
            continue
        result = RESULT.match(line)
        if result:
            results += 1
            if result["status"] != "ok" or result["failed"] != "0":
                problems.append(f"a test binary failed: {line}")
            continue
        test = TEST.match(line)
        if not test:
            continue
        outcome = test["outcome"]
        if outcome == "ok":
            passed += 1
        elif outcome.startswith("ignored"):
            reason = (test["reason"] or "").strip()
            if not reason:
                problems.append(f"{test['name']}: ignored without a reason (use #[ignore = \"why\"])")
            else:
                ignored += 1
                reasons[reason] = reasons.get(reason, 0) + 1
        else:
            problems.append(f"{test['name']}: {outcome}")

    if binaries == 0:
        problems.append("no test binary ran: did the build fail?")
    if results != binaries:
        problems.append(
            f"{binaries} test binaries started but {results} reported a result: one stopped early"
        )
    if passed < minimum:
        problems.append(f"only {passed} tests passed, fewer than the {minimum} expected")

    print(f"{passed} passed, {ignored} ignored with a reason, in {binaries} test binaries")
    for reason, count in sorted(reasons.items()):
        print(f"  ignored ({count}): {reason}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
