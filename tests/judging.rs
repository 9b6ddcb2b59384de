//! How findings are judged, end to end with a pinned `--now`: a finding merged from several
//! records, registry facts that cannot be right, and the supplier's exceptions (read from the
//! audited project, so many of them must cost little and too many must stop the run).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use util::{CargoHome, NOW, audit_json, charter_audit, fixture};

/// `count` exceptions, each for an advisory no finding has (`RUSTSEC-2099-NNNNN`), then `tail`.
fn exceptions(count: usize, tail: &str) -> String {
    let mut text = String::from("[supplier]\nname = \"Example Health Ltd\"\n");
    for i in 0..count {
        text.push_str(&format!(
            "\n[[exception]]\nid = \"RUSTSEC-2099-{i:05}\"\nreason = \"Reviewed\"\nexpires = 2026-10-01\napproved-by = \"CISO\"\n"
        ));
    }
    text.push_str(tail);
    text
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("charter-audit.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `audit` of the demo lockfile with the fixture RustSec database and `--config config`:
/// exit code, stdout, stderr and how long it took.
fn audit_with_config(config: &str) -> (i32, Vec<u8>, String, Duration) {
    let home = CargoHome::new();
    let started = Instant::now();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json", "--now", NOW])
        .arg("--lockfile")
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-30"])
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(["--config", config])
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

const REGEX_EXCEPTION: &str = "\n[[exception]]\nid = \"CVE-2022-24713\"\npackage = \"regex\"\nreason = \"Only our own regexes are compiled\"\nexpires = 2026-10-01\napproved-by = \"CISO\"\n";

#[test]
fn ten_thousand_exceptions_are_checked_in_well_under_a_second() {
    // Each exception used to be compared with every one before it, and its line counted from
    // the top of the file: 40,000 took 68 s. Here the whole audit with the most exceptions
    // allowed; the bound is generous (a debug build on a machine shared with other builds):
    // speed belongs in benchmarks, and the quadratic cost is pinned by the unit test
    // `forty_thousand_exceptions_are_checked_in_linear_time`.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &exceptions(quadratic_guard::COUNT - 1, REGEX_EXCEPTION),
    );
    let (code, stdout, stderr, took) = audit_with_config(&config);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let report: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(
        report["policy"]["exceptions"].as_array().unwrap().len(),
        quadratic_guard::COUNT
    );
    let unused = report["rule_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "exception-unused")
        .count();
    assert_eq!(unused, quadratic_guard::COUNT - 1);
    // The last exception, found through an alias among ten thousand, applies.
    let regex = util::finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "excepted", "{regex}");
    assert!(
        took < quadratic_guard::BOUND,
        "{} exceptions took {took:?}",
        quadratic_guard::COUNT
    );
}

/// The size of the timing test: the most exceptions allowed, and a bound a linear check meets
/// with room to spare on a debug build.
mod quadratic_guard {
    pub const COUNT: usize = 10_000;
    pub const BOUND: std::time::Duration = std::time::Duration::from_secs(30);
}

#[test]
fn a_duplicate_among_ten_thousand_exceptions_names_the_line_of_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let duplicate = "\n[[exception]]\nid = \"RUSTSEC-2099-00000\"\nreason = \"Again\"\nexpires = 2026-10-01\napproved-by = \"CISO\"\n";
    let config = write_config(dir.path(), &exceptions(9_999, duplicate));
    let (code, stdout, stderr, took) = audit_with_config(&config);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "no half-written report");
    // The first exception's [[exception]] header is on line 4 (after the supplier table).
    assert!(
        stderr.contains("duplicate exception for `RUSTSEC-2099-00000` (the first is on line 4)"),
        "{stderr}"
    );
    // The duplicate's own header: each exception takes six lines.
    assert!(
        stderr.contains(&format!("{config}:{}:", 4 + 9_999 * 6)),
        "{stderr}"
    );
    assert!(took < quadratic_guard::BOUND, "took {took:?}");
}

#[test]
fn more_exceptions_than_the_documented_cap_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &exceptions(10_001, ""));
    let (code, stdout, stderr, _) = audit_with_config(&config);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(&config), "names the file: {stderr}");
    assert!(
        stderr.contains("10001 exceptions: at most 10000 are read"),
        "{stderr}"
    );
}

#[test]
fn an_oversized_configuration_is_refused_before_it_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = exceptions(1, "");
    // Comments only: a file that would parse, and is too big to be read at all.
    let line = format!("# {}\n", "x".repeat(1022));
    while text.len() <= 4 * 1024 * 1024 {
        text.push_str(&line);
    }
    let config = write_config(dir.path(), &text);
    let (code, stdout, stderr, _) = audit_with_config(&config);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(&format!("{config} is larger than 4 MiB")),
        "{stderr}"
    );
}

#[test]
fn a_configuration_that_is_a_fifo_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("charter-audit.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (code, _, stderr, took) = audit_with_config(fifo.to_str().unwrap());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(took < Duration::from_secs(30));
}

#[test]
fn exceptions_keep_applying_through_ids_and_aliases() {
    // The index of exceptions by id finds one written for an alias, and one for the id.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "{}\n[[exception]]\nid = \"RUSTSEC-2021-0003\"\nreason = \"Not reachable\"\nexpires = 2026-10-01\napproved-by = \"CISO\"\n",
            exceptions(3, REGEX_EXCEPTION)
        ),
    );
    let home = CargoHome::new();
    let (report, _, stderr) = audit_json(
        &home,
        &fixture("workspaces/demo/Cargo.lock"),
        &[
            "--advisory-db",
            fixture("advisories/rustsec").to_str().unwrap(),
            "--advisory-db-date",
            "2026-08-30",
            "--config",
            &config,
        ],
    );
    for id in ["RUSTSEC-2022-0013", "RUSTSEC-2021-0003"] {
        assert_eq!(
            util::finding(&report, id)["verdict"],
            "excepted",
            "{id}: {stderr}"
        );
    }
}

/// An OSV folder of the given records.
fn osv_folder(records: &[Value]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for record in records {
        let id = record["id"].as_str().unwrap();
        std::fs::write(
            dir.path().join(format!("{id}.json")),
            serde_json::to_vec(record).unwrap(),
        )
        .unwrap();
    }
    dir
}

/// An OSV record about memchr below 2.5.0 (the demo lockfile has 2.4.1).
fn memchr_record(id: &str, aliases: &[&str], informational: Option<&str>) -> Value {
    let mut affected = serde_json::json!({
        "package": {"ecosystem": "crates.io", "name": "memchr"},
        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.0.0-0"}, {"fixed": "2.5.0"}]}]
    });
    if let Some(word) = informational {
        affected["database_specific"] = serde_json::json!({ "informational": word });
    }
    serde_json::json!({
        "id": id,
        "modified": "2022-01-01T00:00:00Z",
        "published": "2022-01-01T00:00:00Z",
        "aliases": aliases,
        "summary": format!("{id} about memchr"),
        "severity": if informational.is_none() {
            serde_json::json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}])
        } else {
            serde_json::json!([])
        },
        "affected": [affected]
    })
}

fn audit_osv(db: &Path) -> Value {
    let home = CargoHome::new();
    let (report, _, _) = audit_json(
        &home,
        &fixture("workspaces/demo/Cargo.lock"),
        &["--osv-db", db.to_str().unwrap()],
    );
    report
}

#[test]
fn a_merged_finding_keeps_the_gravest_kind_of_any_record() {
    // `A-0001` sorts before `GHSA-…` and calls the flaw unmaintained; the GHSA record says it is
    // a vulnerability. The lowest id used to lead, and its kind made the violation a warning.
    let db = osv_folder(&[
        memchr_record("A-0001", &["GHSA-aaaa-bbbb-cccc"], Some("unmaintained")),
        memchr_record("GHSA-aaaa-bbbb-cccc", &["CVE-2022-0001"], None),
    ]);
    let report = audit_osv(db.path());
    let memchr: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == "memchr")
        .collect();
    assert_eq!(memchr.len(), 1, "one finding: {memchr:?}");
    let finding = memchr[0];
    assert_eq!(
        finding["id"], "GHSA-aaaa-bbbb-cccc",
        "GHSA leads, not sort order"
    );
    assert_eq!(finding["kind"], "vulnerability");
    assert_eq!(finding["rule"], "patch-age");
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["verdict"], "violation", "{finding}");
    assert_eq!(
        finding["aliases"],
        serde_json::json!(["A-0001", "CVE-2022-0001"]),
        "every id kept"
    );
}

#[test]
fn an_unsound_record_outweighs_an_unmaintained_one_it_merges_with() {
    let db = osv_folder(&[
        memchr_record("A-0002", &["CVE-2022-0002"], Some("unmaintained")),
        memchr_record("B-0002", &["CVE-2022-0002"], Some("unsound")),
    ]);
    let report = audit_osv(db.path());
    let finding = util::finding(&report, "CVE-2022-0002");
    assert_eq!(finding["kind"], "unsound", "{finding}");
    assert_eq!(finding["rule"], "unsound");
    assert_eq!(finding["aliases"], serde_json::json!(["A-0002", "B-0002"]));
}

/// The fixture registry index with regex's entry changed: `edit` gets each release of 1.5.5 or
/// later as a JSON line.
fn index_with_regex(edit: impl Fn(&mut Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    util::copy_dir(&fixture("registry-index"), dir.path());
    let path = dir.path().join("re/ge/regex");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut entry: Value = serde_json::from_str(line).unwrap();
        let version = semver::Version::parse(entry["vers"].as_str().unwrap()).unwrap();
        if version >= semver::Version::new(1, 5, 5) {
            edit(&mut entry);
        }
        out.push_str(&serde_json::to_string(&entry).unwrap());
        out.push('\n');
    }
    std::fs::write(&path, out).unwrap();
    dir
}

/// regex 1.5.4's finding at 2022-04-30: 53 days after the advisory (2022-03-08), past the
/// 14-day window of a high severity, within the 90 days of "no fixed release yet".
fn regex_finding(index: &Path) -> Value {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json"])
        .args(["--now", "2022-04-30T00:00:00Z", "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2022-04-29"])
        .arg("--registry-index")
        .arg(index)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    util::finding(&report, "RUSTSEC-2022-0013").clone()
}

fn assert_unknown_not_lenient(regex: &Value, why: &str) {
    assert_eq!(regex["fix_version"], Value::Null);
    assert_eq!(regex["verdict"], "violation", "{regex}");
    assert_eq!(
        regex["window_days"], 14,
        "the severity's window, not no-fix"
    );
    assert_eq!(regex["exposure_days"], 53);
    assert_eq!(regex["clock_start_from"], "advisory-published");
    let message = regex["message"].as_str().unwrap();
    assert!(
        message.contains("the registry facts are unknown")
            && message.contains("names fixed releases (1.5.5 or later)")
            && message.contains(why),
        "{message}"
    );
    assert!(!message.contains("no fixed release yet"), "{message}");
}

#[test]
fn a_fix_the_index_marks_yanked_everywhere_is_unknown_not_no_fix_yet() {
    let index = index_with_regex(|entry| entry["yanked"] = Value::Bool(true));
    assert_unknown_not_lenient(
        &regex_finding(index.path()),
        "the index marks every one of them yanked",
    );
}

#[test]
fn a_fix_the_index_publishes_only_after_the_evaluation_time_is_unknown() {
    let index = index_with_regex(|entry| {
        entry["pubtime"] = Value::String("2030-01-01T00:00:00Z".to_owned());
    });
    assert_unknown_not_lenient(
        &regex_finding(index.path()),
        "published after the evaluation time",
    );
}

#[test]
fn a_fix_the_index_does_not_list_is_unknown() {
    let index = index_with_regex(|entry| entry["vers"] = Value::String("1.5.4".to_owned()));
    assert_unknown_not_lenient(&regex_finding(index.path()), "the index lists none of them");
}

#[test]
fn with_the_real_index_the_fix_counts_from_its_publication() {
    // The control: the fixture index lists 1.5.5, published 2022-03-08.
    let regex = regex_finding(&fixture("registry-index"));
    assert_eq!(regex["fix_version"], "1.5.5");
    assert_eq!(regex["registry_note"], Value::Null);
}
