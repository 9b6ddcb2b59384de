#!/usr/bin/env python3
"""What `verify --bundle` accepts is what a person unpacks.

usage: check_bundles.py BIN SAMPLES

SAMPLES holds every bundle the tests built or tampered with (NAME.tar.gz) and the key each was
verified with (NAME.pub). For each, `BIN verify --bundle` decides: exit 0 or 1 is accepted,
3 refused, anything else fails this check. Every accepted bundle is unpacked twice, with GNU
`tar -xzf` and with Python's `tarfile.extractall`, and each unpacking must be exactly the files
charter-audit verified, byte for byte: only regular files with the names a bundle holds, and
`BIN bundle` run on the unpacked folder packs them back into the very tar stream that was
verified (the packer is reproducible, so any file unpacked differently, added or left out
shows; only the zeros after the archive's end may differ).
Fails if no sample was accepted (the comparison would then prove nothing).
"""
import gzip
import pathlib
import stat
import subprocess
import sys
import tarfile
import tempfile

NOW = "2026-08-26T00:00:00Z"
FILES = {
    "README.txt",
    "attestation.intoto.json",
    "attestations.intoto.jsonl",
    "sbom.cdx.json",
    "attestation.cdx.json",
    "report.json",
    "report.html",
    "vex.openvex.json",
    "vex.cdx.json",
    "signing-key.pub",
}


def unpack_gnu(bundle: pathlib.Path, out: pathlib.Path) -> None:
    subprocess.run(["tar", "-xzf", str(bundle), "-C", str(out)], check=True)


def unpack_python(bundle: pathlib.Path, out: pathlib.Path) -> None:
    with tarfile.open(bundle, "r:gz") as archive:
        # What an unwary script does: no filter, as Python did before 3.14.
        if hasattr(tarfile, "fully_trusted_filter"):
            archive.extractall(out, filter="fully_trusted")
        else:
            archive.extractall(out)


def tar_of(bundle: pathlib.Path) -> bytes:
    """The tar stream without the zeros after its last entry (a verifier takes more of them
    than `bundle` writes, as GNU tar pads to a record)."""
    return gzip.decompress(bundle.read_bytes()).rstrip(b"\0")


def problems(binary: str, bundle: pathlib.Path, out: pathlib.Path) -> list:
    found = []
    names = set()
    for path in out.rglob("*"):
        relative = path.relative_to(out).as_posix()
        mode = path.lstat().st_mode
        if not stat.S_ISREG(mode):
            found.append(f"{relative} is not a regular file")
        elif relative not in FILES:
            found.append(f"{relative} is not a file a bundle holds")
        names.add(relative)
    repacked = out.parent / (out.name + ".tar.gz")
    result = subprocess.run(
        [binary, "bundle", "--out-dir", str(out), "-o", str(repacked)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        found.append(f"`bundle` does not pack the unpacked files: {result.stderr.strip()}")
    elif tar_of(repacked) != tar_of(bundle):
        found.append("the unpacked files pack to other bytes than the verified bundle")
    return found


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, samples = sys.argv[1], pathlib.Path(sys.argv[2])
    accepted = refused = failed = 0
    for bundle in sorted(samples.glob("*.tar.gz")):
        key = bundle.with_name(bundle.name[: -len(".tar.gz")] + ".pub")
        verdict = subprocess.run(
            [binary, "verify", "--bundle", str(bundle), "--key", str(key), "--now", NOW],
            capture_output=True,
            text=True,
        )
        if verdict.returncode == 3:
            refused += 1
            continue
        if verdict.returncode not in (0, 1):
            print(f"{bundle.name}: verify exited {verdict.returncode}: {verdict.stderr.strip()}")
            failed += 1
            continue
        accepted += 1
        for tool, unpack in [("GNU tar", unpack_gnu), ("Python tarfile", unpack_python)]:
            with tempfile.TemporaryDirectory() as work:
                out = pathlib.Path(work) / "unpacked"
                out.mkdir()
                try:
                    unpack(bundle, out)
                except Exception as error:  # noqa: BLE001 - any failure to unpack is a finding
                    print(f"{bundle.name}: {tool} cannot unpack it: {error}")
                    failed += 1
                    continue
                for problem in problems(binary, bundle, out):
                    print(f"{bundle.name}: {tool}: {problem}")
                    failed += 1
    print(
        f"{accepted} bundle(s) accepted, {refused} refused; "
        f"{failed} problem(s) unpacking the accepted ones with GNU tar and Python"
    )
    if accepted == 0:
        print("no bundle was accepted: nothing was compared")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
