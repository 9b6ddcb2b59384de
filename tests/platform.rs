//! Advisories limited to some platforms (RustSec's `affected.os` and `affected.arch`), judged
//! for the target the inventory was resolved for: the host, or `--target TRIPLE`. With
//! `--target all` or a bare lockfile every advisory is kept, and the report says so.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use serde_json::Value;
use util::{CargoHome, NOW, charter_audit, copy_dir, copy_workspace, fixture};

/// The fixture RustSec database, with regex's advisory limited by `affected` (TOML lines).
fn database_with_regex_affected(affected: &str) -> tempfile::TempDir {
    let db = tempfile::tempdir().unwrap();
    copy_dir(&fixture("advisories/rustsec"), db.path());
    let path = db.path().join("crates/regex/RUSTSEC-2022-0013.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "[versions]",
        &format!("[affected]\n{affected}\n\n[versions]"),
        1,
    );
    std::fs::write(&path, text).unwrap();
    db
}

const WINDOWS_ONLY: &str =
    "os = [\"windows\"]\nfunctions = { \"regex::Regex::new\" = [\"< 1.5.5\"] }";

/// The host's target triple, as rustc gives it.
fn host() -> String {
    let output = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap()
        .to_owned()
}

/// `audit` of the demo workspace (through cargo metadata) or its lockfile, as JSON.
fn audit(db: &Path, inventory: &[&str]) -> (Value, i32, String) {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json", "--now", NOW])
        .arg("--advisory-db")
        .arg(db)
        .args(["--advisory-db-date", "2026-08-30"])
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(inventory)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (report, output.status.code().unwrap_or(-1), stderr)
}

fn workspace_audit(db: &Path, extra: &[&str]) -> (Value, i32, String) {
    let ws = copy_workspace("demo");
    let manifest = ws.path().join("Cargo.toml");
    let mut args = vec!["--manifest-path", manifest.to_str().unwrap()];
    args.extend_from_slice(extra);
    audit(db, &args)
}

#[test]
fn a_windows_only_advisory_is_information_on_linux() {
    let host = host();
    assert!(
        host.contains("linux"),
        "this test judges for a Linux host: {host}"
    );
    let db = database_with_regex_affected(WINDOWS_ONLY);
    let (report, _, stderr) = workspace_audit(db.path(), &[]);
    let regex = util::finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "info", "{regex} {stderr}");
    assert_eq!(regex["rule"], "not-applicable");
    let expected = format!("not applicable to {host}: affects windows only");
    assert_eq!(regex["message"], expected.as_str());
    assert_eq!(regex["not_applicable"], expected.as_str());
    assert_eq!(regex["functions"], serde_json::json!(["regex::Regex::new"]));
    assert_eq!(report["target"]["triple"], host.as_str());
    assert_eq!(report["target"]["from"], "host");
    // The same audit without the limit: regex 1.5.4 is a violation on every platform.
    let (plain, _, _) = workspace_audit(&fixture("advisories/rustsec"), &[]);
    assert_eq!(
        util::finding(&plain, "RUSTSEC-2022-0013")["verdict"],
        "violation"
    );
}

#[test]
fn a_windows_only_advisory_applies_when_the_target_is_windows() {
    let db = database_with_regex_affected(WINDOWS_ONLY);
    let (report, code, stderr) =
        workspace_audit(db.path(), &["--target", "x86_64-pc-windows-msvc"]);
    assert_eq!(code, 1, "{stderr}");
    let regex = util::finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "violation", "{regex}");
    assert_eq!(regex["not_applicable"], Value::Null);
    assert_eq!(report["target"]["triple"], "x86_64-pc-windows-msvc");
    assert_eq!(report["target"]["from"], "flag");
}

#[test]
fn an_architecture_limit_excludes_other_architectures() {
    let db = database_with_regex_affected("arch = [\"aarch64\"]");
    let (report, _, stderr) = workspace_audit(db.path(), &["--target", "x86_64-pc-windows-msvc"]);
    let regex = util::finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(
        regex["message"], "not applicable to x86_64-pc-windows-msvc: affects aarch64 only",
        "{stderr}"
    );
    let (report, _, _) = workspace_audit(db.path(), &["--target", "aarch64-pc-windows-msvc"]);
    assert_eq!(
        util::finding(&report, "RUSTSEC-2022-0013")["verdict"],
        "violation"
    );
}

#[test]
fn target_all_keeps_every_advisory() {
    let db = database_with_regex_affected(WINDOWS_ONLY);
    let (report, _, stderr) = workspace_audit(db.path(), &["--target", "all"]);
    let regex = util::finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "violation", "{regex} {stderr}");
    assert_eq!(regex["functions"], serde_json::json!(["regex::Regex::new"]));
    assert_eq!(report["target"]["triple"], "all");
    assert!(
        report["target"]["note"]
            .as_str()
            .unwrap()
            .contains("every advisory is judged"),
        "{}",
        report["target"]
    );
}

#[test]
fn lockfile_mode_keeps_every_advisory_and_says_so() {
    let db = database_with_regex_affected(WINDOWS_ONLY);
    let lockfile = fixture("workspaces/demo/Cargo.lock");
    let (report, code, stderr) = audit(db.path(), &["--lockfile", lockfile.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        util::finding(&report, "RUSTSEC-2022-0013")["verdict"],
        "violation"
    );
    assert_eq!(report["target"]["from"], "lockfile");
    assert!(
        report["target"]["note"]
            .as_str()
            .unwrap()
            .starts_with("a lockfile does not say which target"),
        "{}",
        report["target"]
    );
}

#[test]
fn the_attestation_counts_a_not_applicable_advisory_as_such_and_names_the_target() {
    let db = database_with_regex_affected(WINDOWS_ONLY);
    let out = tempfile::tempdir().unwrap();
    let (report, _, stderr) = workspace_audit(
        db.path(),
        &["--unsigned", "--out-dir", out.path().to_str().unwrap()],
    );
    assert!(report.is_object(), "{stderr}");
    let statement: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("attestation.intoto.json")).unwrap())
            .unwrap();
    let statement = if statement["payload"].is_string() {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(statement["payload"].as_str().unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    } else {
        statement
    };
    let predicate = &statement["predicate"];
    assert_eq!(predicate["target"], host().as_str(), "{predicate}");
    // regex, and atty's Windows-only RUSTSEC-2021-0145 of the fixture database.
    let not_applicable = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "not-applicable")
        .count();
    assert_eq!(not_applicable, 2);
    assert_eq!(
        predicate["findings"]["by_verdict_and_severity"]["info"]["not-applicable"], not_applicable,
        "{}",
        predicate["findings"]
    );
    assert!(
        predicate["findings"]["ids"]["info"]
            .as_array()
            .unwrap()
            .contains(&Value::from("RUSTSEC-2022-0013 regex@1.5.4"))
    );
    // SARIF and HTML carry the functions at fault.
    let sarif = std::fs::read_to_string(out.path().join("report.sarif")).unwrap();
    assert!(sarif.contains("\"functions\""), "SARIF names the functions");
    assert!(sarif.contains("regex::Regex::new"));
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(
        html.contains("functions at fault: <code>regex::Regex::new</code>"),
        "HTML names the functions"
    );
}

#[test]
fn the_osv_export_limits_an_advisory_to_its_platforms_too() {
    // RustSec's OSV export writes atty's Windows-only advisory under
    // `ecosystem_specific.affects.os`.
    let ws = copy_workspace("demo");
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json", "--now", NOW])
        .arg("--osv-db")
        .arg(fixture("advisories/osv"))
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(["--target", "x86_64-unknown-linux-gnu", "--manifest-path"])
        .arg(ws.path().join("Cargo.toml"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let atty = util::finding(&report, "RUSTSEC-2021-0145");
    assert_eq!(atty["verdict"], "info", "{atty}");
    assert_eq!(
        atty["message"],
        "not applicable to x86_64-unknown-linux-gnu: affects windows only"
    );
}
