#!/usr/bin/env python3
"""Renders the HTML reports the tests wrote in headless Chromium, with no network and a fresh
profile, and asserts on the rendered page: the verdict and findings are there, hostile advisory
text stayed text, the report's own script is the only one, no page is wider than the window
(hostile.html holds a 600-character word, which must wrap), and a screenshot was taken.

usage: check_html.py CHROMIUM SAMPLES
"""
import pathlib
import re
import subprocess
import sys
import tempfile

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

EXPECT = {
    "demo.html": [
        "<strong>FAIL</strong>",
        "RUSTSEC-2022-0013",
        "upgrade regex 1.5.4 → 1.5.5: fix available for 1,630 days, window 14",
        'id="coverage-gaps"',
        "What this release evidences",
        'id="principles"',
        '<a href="attestation.cdx.json" id="cyclonedx-attestation">',
    ],
    "hostile.html": [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<strong>FAIL</strong>",
    ],
    # The page `verify --format html` writes for the recipient: no script at all.
    "verified.html": [
        "<strong>AUTHENTIC, BUT NOT ACCEPTED</strong>",
        "What this release evidences",
        "attestation.cdx.json was checked",
    ],
}
# How many script elements each page has: the report's own sorting script, or none.
SCRIPTS = {"verified.html": 0}


def chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )


WIDTH = 1024


def page_width(binary: str, page: pathlib.Path) -> int:
    """The rendered page's scroll width at a window WIDTH pixels wide: measured by a copy of the
    page whose one script (and the policy that allows only it) is replaced by a measuring one,
    or, on a page with none, given one."""
    html = page.read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    measure = (
        "<script>document.body.setAttribute('data-width', "
        "String(document.documentElement.scrollWidth));</script>"
    )
    html, replaced = re.subn(
        r"<script\b[^>]*>.*?</script>", lambda _: measure, html, flags=re.DOTALL
    )
    if replaced == 0:
        # A page with no script of its own (verify's page): the measuring one goes at its end.
        html = html.replace("</body>", measure + "</body>", 1)
    with tempfile.TemporaryDirectory() as out:
        copy = pathlib.Path(out) / page.name
        copy.write_text(html, encoding="utf-8")
        dom = chromium(binary, f"--window-size={WIDTH},800", "--dump-dom", copy.as_uri()).stdout
    found = re.search(r'data-width="(\d+)"', dom)
    return int(found.group(1)) if found else -1


def main() -> int:
    binary, samples = sys.argv[1], pathlib.Path(sys.argv[2])
    failed = 0
    for name, expected in EXPECT.items():
        page = samples / name
        dom = chromium(binary, "--dump-dom", page.resolve().as_uri()).stdout
        for text in expected:
            if text not in dom:
                print(f"{name}: the rendered page lacks {text!r}")
                failed += 1
        # Readable with JavaScript off: the same content when the script never runs. Chromium's
        # headless mode ignores --disable-javascript, so the page is rendered with its one
        # script element taken out, which is what a browser with scripts off executes.
        html = page.read_text(encoding="utf-8")
        scripts = SCRIPTS.get(name, 1)
        without, removed = re.subn(r"<script\b[^>]*>.*?</script>", "", html, flags=re.DOTALL)
        if removed != scripts:
            print(f"{name}: {removed} script elements in the file, expected {scripts}")
            failed += 1
        with tempfile.TemporaryDirectory() as out:
            scriptless = pathlib.Path(out) / name
            scriptless.write_text(without, encoding="utf-8")
            plain = chromium(binary, "--dump-dom", scriptless.as_uri()).stdout
        if "<script" in plain or "</html>" not in plain:
            print(f"{name}: the page without its script did not render as expected")
            failed += 1
        for text in expected:
            if text not in plain:
                print(f"{name}: with JavaScript off, the page lacks {text!r}")
                failed += 1
        width = page_width(binary, page)
        if not 0 < width <= WIDTH:
            print(f"{name}: the page is {width} px wide in a {WIDTH} px window: a long string did not wrap")
            failed += 1
        if dom.count("<script") != scripts:
            print(f"{name}: {dom.count('<script')} script elements rendered, expected {scripts}")
            failed += 1
        with tempfile.TemporaryDirectory() as out:
            shot = pathlib.Path(out) / "shot.png"
            chromium(binary, f"--screenshot={shot}", "--window-size=1280,1600", page.resolve().as_uri())
            if not shot.exists() or shot.stat().st_size < 10_000:
                print(f"{name}: no screenshot")
                failed += 1
            else:
                print(f"{name}: rendered, {len(dom)} bytes of DOM, screenshot {shot.stat().st_size} bytes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
