//! End-to-end: patch-age exposure on real lockfiles (`../shared/lockfiles`), with the RustSec
//! snapshot, the offline registry index and a pinned `--now`, checked against values worked out
//! by hand from the raw data files (STANDARDS.md, "Cyber Essentials"), not from the tool's code.
//!
//! How every expected value below was derived:
//! - fix version: the registry versions (`../shared/registry-index`, one JSON line per version)
//!   with `pubtime` <= now, above the version in use, not matched by the advisory's `patched` or
//!   `unaffected` requirements (so not affected), not yanked, not a pre-release: the one with the
//!   earliest `pubtime`.
//! - upgrade to: the lowest such version that is caret-compatible with the version in use, else
//!   the lowest such version.
//! - clock start = max(fix `pubtime`, advisory `date` at 00:00:00Z); exposure = now - clock
//!   start; `exposure_days` = whole days rounded down; a violation when exposure > window x 24 h.
//! - window (policy nhs-charter): critical/high/unscored 14, medium 30, low 90 days; severity
//!   from the advisory's CVSS v3 base score (computed from the vector with the CVSS 3.1
//!   formulas); `no-fix = 90` in `policies/nhs-charter.toml` when no version qualifies.
//!
//! now = 2026-09-01T00:00:00Z throughout.
//!
//! `../shared` is not in a fresh clone: these tests are ignored there, with that reason, and
//! `.ci/run` runs them (`cargo test --locked -- --include-ignored`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};

use serde_json::Value;
use util::{CargoHome, charter_audit};

const NOW: &str = "2026-09-01T00:00:00Z";

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(relative)
}

/// Runs `audit` on a shared lockfile, offline, as JSON; returns the report and the exit code.
fn audit(lockfile: &str) -> (Value, i32) {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .arg("audit")
        .arg("--lockfile")
        .arg(shared(&format!("lockfiles/{lockfile}")))
        .arg("--offline")
        .arg("--advisory-db")
        .arg(shared("advisory-db/rustsec"))
        .args(["--advisory-db-date", "2026-08-21"])
        .arg("--registry-index")
        .arg(shared("registry-index"))
        .args(["--now", NOW, "--format", "json"])
        .args(["--supplier", "Example Health Ltd"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or(-1);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("exit {code}, not JSON ({e}); stderr:\n{stderr}"));
    (report, code)
}

/// The values a finding must carry, worked out by hand.
struct Expected {
    name: &'static str,
    version: &'static str,
    id: &'static str,
    date: &'static str,
    severity: &'static str,
    fix_version: Option<&'static str>,
    fix_published_at: Option<&'static str>,
    upgrade_to: Option<&'static str>,
    clock_start: &'static str,
    clock_start_from: &'static str,
    exposure_days: u64,
    window_days: u64,
    verdict: &'static str,
}

fn opt(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn check(report: &Value, expected: &Expected) {
    let matches: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["id"] == expected.id
                && f["package"]["name"] == expected.name
                && f["package"]["version"] == expected.version
        })
        .collect();
    let what = format!("{} {} {}", expected.name, expected.version, expected.id);
    assert_eq!(matches.len(), 1, "{what}: findings {matches:?}");
    let f = matches[0];
    assert_eq!(f["kind"], "vulnerability", "{what}: kind");
    assert_eq!(f["rule"], "patch-age", "{what}: rule");
    assert_eq!(
        f["package"]["purl"],
        format!("pkg:cargo/{}@{}", expected.name, expected.version),
        "{what}: purl"
    );
    assert_eq!(f["date"], expected.date, "{what}: date");
    assert_eq!(f["severity"], expected.severity, "{what}: severity");
    assert_eq!(
        f["fix_version"],
        opt(expected.fix_version),
        "{what}: fix_version"
    );
    assert_eq!(
        f["fix_published_at"],
        opt(expected.fix_published_at),
        "{what}: fix_published_at"
    );
    assert_eq!(
        f["upgrade_to"],
        opt(expected.upgrade_to),
        "{what}: upgrade_to"
    );
    assert_eq!(
        f["clock_start"], expected.clock_start,
        "{what}: clock_start"
    );
    assert_eq!(
        f["clock_start_from"], expected.clock_start_from,
        "{what}: clock_start_from"
    );
    assert_eq!(
        f["exposure_days"], expected.exposure_days,
        "{what}: exposure_days"
    );
    assert_eq!(
        f["window_days"], expected.window_days,
        "{what}: window_days"
    );
    assert_eq!(f["verdict"], expected.verdict, "{what}: verdict");
}

/// The whole report fails (exit 1): patch-age violations below, and also the database rule
/// (snapshot 2026-08-21, now 2026-09-01: 11 days old > the policy's 7).
fn assert_fails(report: &Value, code: i32) {
    assert_eq!(code, 1);
    assert_eq!(report["result"], "fail");
    assert_eq!(report["evaluated_at"], NOW);
    assert!(
        report["rule_findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "advisory-db-age" && r["verdict"] == "violation"),
        "{}",
        report["rule_findings"]
    );
}

#[test]
#[ignore = "needs ../shared: run by .ci/run"]
fn nushell_2021_12_exposure() {
    let (report, code) = audit("nushell-2021-12.Cargo.lock");
    assert_fails(&report, code);

    // regex 1.5.4, RUSTSEC-2022-0013, date 2022-03-08, patched [">= 1.5.5"].
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H: impact 6.42 x 0.56 = 3.5952, exploitability
    // 8.22 x 0.85 x 0.77 x 0.85 x 0.85 = 3.887; roundup(7.482) = 7.5, high, window 14.
    // Candidates: 1.5.5 2022-03-08T13:59:00Z, 1.5.6 2022-05-20T18:06:08Z, 1.6.0 2022-07-05...
    // (1.12.0 is yanked). Fix 1.5.5 (also the lowest 1.x, so upgrade to 1.5.5).
    // Clock start = max(2022-03-08T13:59:00Z, 2022-03-08T00:00:00Z) = the fix's publication.
    // 2026-09-01T00:00:00Z - 2022-03-08T13:59:00Z = 1637 d 10 h 01 m > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "regex",
            version: "1.5.4",
            id: "RUSTSEC-2022-0013",
            date: "2022-03-08",
            severity: "high",
            fix_version: Some("1.5.5"),
            fix_published_at: Some("2022-03-08T13:59:00Z"),
            upgrade_to: Some("1.5.5"),
            clock_start: "2022-03-08T13:59:00Z",
            clock_start_from: "fix-published",
            exposure_days: 1637,
            window_days: 14,
            verdict: "violation",
        },
    );

    // time 0.1.44, RUSTSEC-2020-0071, date 2020-11-18, patched [">= 0.2.23"],
    // unaffected ["=0.2.0", ..., "=0.2.6"].
    // CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H: impact 3.5952, exploitability
    // 8.22 x 0.55 x 0.77 x 0.85 x 0.85 = 2.515; roundup(6.111) = 6.2, medium, window 30.
    // Candidates by pubtime: 0.2.0 2019-12-19T21:12:48Z, 0.2.1 2019-12-24, 0.2.2 2020-01-08,
    // 0.2.4, 0.2.6, 0.2.23 2020-11-17T22:15:18Z, ... (0.2.3 and 0.2.5 are yanked; 0.1.45 and
    // 0.2.7..0.2.22 are affected). Fix 0.2.0; no unaffected 0.1.x, so upgrade to the lowest: 0.2.0.
    // Clock start = max(2019-12-19T21:12:48Z, 2020-11-18T00:00:00Z) = the advisory's publication.
    // 2026-09-01 - 2020-11-18 = 2113 d exactly > 30 d: violation.
    check(
        &report,
        &Expected {
            name: "time",
            version: "0.1.44",
            id: "RUSTSEC-2020-0071",
            date: "2020-11-18",
            severity: "medium",
            fix_version: Some("0.2.0"),
            fix_published_at: Some("2019-12-19T21:12:48Z"),
            upgrade_to: Some("0.2.0"),
            clock_start: "2020-11-18T00:00:00Z",
            clock_start_from: "advisory-published",
            exposure_days: 2113,
            window_days: 30,
            verdict: "violation",
        },
    );

    // libsqlite3-sys 0.23.1, RUSTSEC-2022-0090, date 2022-08-03, patched [">= 0.25.1"].
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H = 7.5, high, window 14.
    // Candidates: 0.25.1 2022-07-22T09:33:29Z, 0.25.2 2022-10-27, 0.26.0 2023-03-26, ...
    // (0.23.2..0.25.0 affected; 0.39.0/0.39.1 published 2026-10, after now). Fix 0.25.1; no
    // unaffected 0.23.x, so upgrade to the lowest: 0.25.1.
    // Fix published 12 days before the advisory: clock start = 2022-08-03T00:00:00Z.
    // 2026-09-01 - 2022-08-03 = 1490 d exactly > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "libsqlite3-sys",
            version: "0.23.1",
            id: "RUSTSEC-2022-0090",
            date: "2022-08-03",
            severity: "high",
            fix_version: Some("0.25.1"),
            fix_published_at: Some("2022-07-22T09:33:29Z"),
            upgrade_to: Some("0.25.1"),
            clock_start: "2022-08-03T00:00:00Z",
            clock_start_from: "advisory-published",
            exposure_days: 1490,
            window_days: 14,
            verdict: "violation",
        },
    );

    // h2 0.3.7, RUSTSEC-2024-0332, date 2024-04-03, patched ["^0.3.26", ">= 0.4.4"], no cvss:
    // unscored, window 14.
    // Candidates: 0.3.26 2024-04-03T18:03:53Z, 0.4.4 2024-04-03T18:10:44Z, 0.4.5 2024-05-17...
    // (0.3.8..0.3.25 and 0.4.0..0.4.3 affected). The semver-compatible backport 0.3.26 came out
    // 6 min 51 s before 0.4.4, so it is both the fix and the upgrade.
    // Clock start = max(2024-04-03T18:03:53Z, 2024-04-03T00:00:00Z) = the fix's publication.
    // 2026-09-01 - 2024-04-03T18:03:53Z = 880 d 05 h 56 m 07 s > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "h2",
            version: "0.3.7",
            id: "RUSTSEC-2024-0332",
            date: "2024-04-03",
            severity: "unscored",
            fix_version: Some("0.3.26"),
            fix_published_at: Some("2024-04-03T18:03:53Z"),
            upgrade_to: Some("0.3.26"),
            clock_start: "2024-04-03T18:03:53Z",
            clock_start_from: "fix-published",
            exposure_days: 880,
            window_days: 14,
            verdict: "violation",
        },
    );

    // tokio 1.14.0, RUSTSEC-2023-0001, date 2023-01-04, patched [">= 1.18.4, < 1.19.0",
    // ">= 1.20.3, < 1.21.0", ">= 1.23.1"], unaffected ["< 1.7.0"], no cvss: unscored, window 14.
    // Candidates: 1.18.4 2023-01-03T22:20:40Z, 1.20.3 2023-01-03T22:21:41Z,
    // 1.23.1 2023-01-04T19:14:13Z, ... Fix 1.18.4 (the earliest, and the lowest 1.x).
    // Fix published the evening before the advisory: clock start = 2023-01-04T00:00:00Z.
    // 2026-09-01 - 2023-01-04 = 1336 d exactly > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "tokio",
            version: "1.14.0",
            id: "RUSTSEC-2023-0001",
            date: "2023-01-04",
            severity: "unscored",
            fix_version: Some("1.18.4"),
            fix_published_at: Some("2023-01-03T22:20:40Z"),
            upgrade_to: Some("1.18.4"),
            clock_start: "2023-01-04T00:00:00Z",
            clock_start_from: "advisory-published",
            exposure_days: 1336,
            window_days: 14,
            verdict: "violation",
        },
    );

    // flatbuffers 2.0.0, RUSTSEC-2021-0122, date 2021-10-31, patched [">= 22.9.29"].
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H: impact 6.42 x 0.915 = 5.873, exploitability
    // 3.887; roundup(9.760) = 9.8, critical, window 14.
    // Candidates: 22.9.29 2022-10-18T20:48:00Z, 22.10.26 2022-11-03, ... (2.1.0..2.1.2
    // affected). Fix 22.9.29; no unaffected 2.x, so upgrade to the lowest: 22.9.29.
    // Clock start = max(2022-10-18T20:48:00Z, 2021-10-31T00:00:00Z) = the fix's publication.
    // 2026-09-01 - 2022-10-18T20:48:00Z = 1413 d 03 h 12 m > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "flatbuffers",
            version: "2.0.0",
            id: "RUSTSEC-2021-0122",
            date: "2021-10-31",
            severity: "critical",
            fix_version: Some("22.9.29"),
            fix_published_at: Some("2022-10-18T20:48:00Z"),
            upgrade_to: Some("22.9.29"),
            clock_start: "2022-10-18T20:48:00Z",
            clock_start_from: "fix-published",
            exposure_days: 1413,
            window_days: 14,
            verdict: "violation",
        },
    );
}

#[test]
#[ignore = "needs ../shared: run by .ci/run"]
fn meilisearch_2023_01_exposure() {
    let (report, code) = audit("meilisearch-2023-01.Cargo.lock");
    assert_fails(&report, code);

    // rustls 0.20.7, RUSTSEC-2024-0336, date 2024-04-19, patched [">= 0.23.5",
    // ">= 0.22.4, < 0.23.0", ">= 0.21.11, < 0.22.0"].
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H = 7.5, high, window 14.
    // Candidates: 0.23.5 2024-04-19T15:16:51Z, 0.22.4 2024-04-19T15:21:04Z,
    // 0.21.11 2024-04-19T15:22:37Z, 0.21.12 2024-04-26, ... (0.20.8, 0.20.9 affected: no 0.20.x
    // fix; 0.23.30 yanked; 0.23.44+ after now). Fix 0.23.5 (earliest); no caret-compatible 0.20.x
    // qualifies, so upgrade to the lowest qualifying version: the 0.21 backport 0.21.11.
    // Clock start = max(2024-04-19T15:16:51Z, 2024-04-19T00:00:00Z) = the fix's publication.
    // 2026-09-01 - 2024-04-19T15:16:51Z = 864 d 08 h 43 m 09 s > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "rustls",
            version: "0.20.7",
            id: "RUSTSEC-2024-0336",
            date: "2024-04-19",
            severity: "high",
            fix_version: Some("0.23.5"),
            fix_published_at: Some("2024-04-19T15:16:51Z"),
            upgrade_to: Some("0.21.11"),
            clock_start: "2024-04-19T15:16:51Z",
            clock_start_from: "fix-published",
            exposure_days: 864,
            window_days: 14,
            verdict: "violation",
        },
    );

    // webpki 0.22.0, RUSTSEC-2023-0052, date 2023-08-22, patched [">= 0.22.2"].
    // CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H = 7.5, high, window 14.
    // Candidates: 0.22.2 2023-09-30T19:55:39Z, 0.22.4 2023-10-09T00:31:09Z (0.22.1 affected,
    // 0.22.3 yanked). Fix and upgrade 0.22.2, published 39 days after the advisory.
    // 2026-09-01 - 2023-09-30T19:55:39Z = 1066 d 04 h 04 m 21 s > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "webpki",
            version: "0.22.0",
            id: "RUSTSEC-2023-0052",
            date: "2023-08-22",
            severity: "high",
            fix_version: Some("0.22.2"),
            fix_published_at: Some("2023-09-30T19:55:39Z"),
            upgrade_to: Some("0.22.2"),
            clock_start: "2023-09-30T19:55:39Z",
            clock_start_from: "fix-published",
            exposure_days: 1066,
            window_days: 14,
            verdict: "violation",
        },
    );

    // tokio 1.21.2, RUSTSEC-2023-0001 (the same advisory as nushell's tokio 1.14.0 above, but
    // the 1.18.4 and 1.20.3 backports are below 1.21.2, and 1.22.0/1.23.0 are affected).
    // Candidates: 1.23.1 2023-01-04T19:14:13Z, 1.24.0 2023-01-05, ... Fix and upgrade 1.23.1.
    // Clock start = max(2023-01-04T19:14:13Z, 2023-01-04T00:00:00Z) = the fix's publication.
    // 2026-09-01 - 2023-01-04T19:14:13Z = 1335 d 04 h 45 m 47 s > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "tokio",
            version: "1.21.2",
            id: "RUSTSEC-2023-0001",
            date: "2023-01-04",
            severity: "unscored",
            fix_version: Some("1.23.1"),
            fix_published_at: Some("2023-01-04T19:14:13Z"),
            upgrade_to: Some("1.23.1"),
            clock_start: "2023-01-04T19:14:13Z",
            clock_start_from: "fix-published",
            exposure_days: 1335,
            window_days: 14,
            verdict: "violation",
        },
    );

    // h2 0.3.15, RUSTSEC-2023-0034, date 2023-04-14, patched [">= 0.3.17"], no cvss: unscored.
    // 0.3.17 (2023-04-13T14:59:25Z) is not affected but is yanked, so it does not count; 0.3.16
    // is affected. Candidates: 0.3.18 2023-04-17T18:52:32Z, 0.3.19 2023-05-12, ...
    // Fix and upgrade 0.3.18, published after the advisory (counting the yanked 0.3.17 would
    // wrongly start the clock at the advisory's publication: 1235 days).
    // 2026-09-01 - 2023-04-17T18:52:32Z = 1232 d 05 h 07 m 28 s > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "h2",
            version: "0.3.15",
            id: "RUSTSEC-2023-0034",
            date: "2023-04-14",
            severity: "unscored",
            fix_version: Some("0.3.18"),
            fix_published_at: Some("2023-04-17T18:52:32Z"),
            upgrade_to: Some("0.3.18"),
            clock_start: "2023-04-17T18:52:32Z",
            clock_start_from: "fix-published",
            exposure_days: 1232,
            window_days: 14,
            verdict: "violation",
        },
    );
}

#[test]
#[ignore = "needs ../shared: run by .ci/run"]
fn nushell_2026_08_exposure() {
    let (report, code) = audit("nushell-2026-08.Cargo.lock");
    assert_fails(&report, code);

    // h2 0.4.13, RUSTSEC-2026-0258, date 2026-08-17, patched [">= 0.4.16"], no cvss (the text
    // says "Low severity", but gives no score): unscored, window 14.
    // Candidates: 0.4.16 2026-08-17T13:00:48Z, 0.4.17 2026-08-19, 0.4.18 2026-08-20,
    // 0.4.19 2026-08-24 (0.4.14, 0.4.15 affected; 0.4.20 2026-10-06 is after now).
    // Clock start = max(2026-08-17T13:00:48Z, 2026-08-17T00:00:00Z) = the fix's publication.
    // 2026-09-01 - 2026-08-17T13:00:48Z = 14 d 10 h 59 m 12 s: 14 whole days, but more than
    // 14 x 24 h, so a violation.
    check(
        &report,
        &Expected {
            name: "h2",
            version: "0.4.13",
            id: "RUSTSEC-2026-0258",
            date: "2026-08-17",
            severity: "unscored",
            fix_version: Some("0.4.16"),
            fix_published_at: Some("2026-08-17T13:00:48Z"),
            upgrade_to: Some("0.4.16"),
            clock_start: "2026-08-17T13:00:48Z",
            clock_start_from: "fix-published",
            exposure_days: 14,
            window_days: 14,
            verdict: "violation",
        },
    );
}

#[test]
#[ignore = "needs ../shared: run by .ci/run"]
fn meilisearch_2026_07_exposure() {
    let (report, code) = audit("meilisearch-2026-07.Cargo.lock");
    assert_fails(&report, code);

    // quinn-proto 0.11.14, RUSTSEC-2026-0185, date 2026-06-22, patched [">= 0.11.15"].
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H = 7.5, high, window 14.
    // Candidates: 0.11.15 2026-06-22T09:43:03Z, 0.11.16 2026-07-04, 0.11.17 2026-08-17
    // (0.11.18 2026-09-14 and 0.11.19 2026-09-30 are after now). Fix and upgrade 0.11.15.
    // Clock start = max(2026-06-22T09:43:03Z, 2026-06-22T00:00:00Z) = the fix's publication.
    // 2026-09-01 - 2026-06-22T09:43:03Z = 70 d 14 h 16 m 57 s > 14 d: violation.
    check(
        &report,
        &Expected {
            name: "quinn-proto",
            version: "0.11.14",
            id: "RUSTSEC-2026-0185",
            date: "2026-06-22",
            severity: "high",
            fix_version: Some("0.11.15"),
            fix_published_at: Some("2026-06-22T09:43:03Z"),
            upgrade_to: Some("0.11.15"),
            clock_start: "2026-06-22T09:43:03Z",
            clock_start_from: "fix-published",
            exposure_days: 70,
            window_days: 14,
            verdict: "violation",
        },
    );

    // rsa 0.9.10, RUSTSEC-2023-0071, date 2023-11-22, patched [] (no fix).
    // CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N: impact 3.5952, exploitability
    // 8.22 x 0.85 x 0.44 x 0.85 x 0.85 = 2.221; roundup(5.816) = 5.9, medium.
    // No version qualifies: the clock starts at the advisory's publication, and the window is
    // nhs-charter's `no-fix = 90` (policies/nhs-charter.toml), not the medium 30.
    // 2026-09-01 - 2023-11-22 = 1014 d exactly > 90 d: violation.
    check(
        &report,
        &Expected {
            name: "rsa",
            version: "0.9.10",
            id: "RUSTSEC-2023-0071",
            date: "2023-11-22",
            severity: "medium",
            fix_version: None,
            fix_published_at: None,
            upgrade_to: None,
            clock_start: "2023-11-22T00:00:00Z",
            clock_start_from: "advisory-published",
            exposure_days: 1014,
            window_days: 90,
            verdict: "violation",
        },
    );
}

#[test]
#[ignore = "needs ../shared: run by .ci/run"]
fn ripgrep_2026_08_has_no_vulnerability() {
    // No crate in ripgrep's lockfile has a RustSec advisory that affects its version: no
    // patch-age finding; the run still fails on the 11-day-old database alone.
    let (report, code) = audit("ripgrep-2026-08.Cargo.lock");
    assert_fails(&report, code);
    let vulnerabilities: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "vulnerability" || f["rule"] == "patch-age")
        .collect();
    assert!(vulnerabilities.is_empty(), "{vulnerabilities:?}");
}
