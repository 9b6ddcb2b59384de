//! The rules beyond patch age, end to end on fixtures with a pinned `--now`: `sources`,
//! `sbom-completeness`, `licenses`, `registry-facts`; and how the audit fails closed on
//! advisory data it cannot read fully (OSV ranges, empty databases, CVSS vectors).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use serde_json::Value;
use util::{CargoHome, charter_audit, copy_dir, finding, fixture};

const NOW: &str = "2026-08-25T00:00:00Z";

/// `audit --format json` at NOW with the fixture RustSec database and registry index, then
/// `args` (which name the inventory); returns the report, exit code and stderr.
fn audit(args: &[&str]) -> (Value, i32, String) {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json", "--now", NOW])
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (
        report,
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn rustsec() -> String {
    fixture("advisories/rustsec").to_str().unwrap().to_owned()
}

/// The rule findings of one rule, as `(verdict, subject, message)`.
fn rule(report: &Value, code: &str) -> Vec<(String, String, String)> {
    report["rule_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == code)
        .map(|r| {
            (
                r["verdict"].as_str().unwrap().to_owned(),
                r["subject"].as_str().unwrap().to_owned(),
                r["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A lockfile in a folder of its own (so no charter-audit.toml is found beside it).
fn lockfile(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Cargo.lock");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

fn config(dir: &Path, text: &str) -> String {
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

const OTHER_REGISTRY: &str = "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"1.0.0\"\ndependencies = [\"internal-auth\", \"memchr\"]\n\n[[package]]\nname = \"internal-auth\"\nversion = \"0.4.0\"\nsource = \"sparse+https://registry.example-health.org/index/\"\n\n[[package]]\nname = \"memchr\"\nversion = \"2.4.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

#[test]
fn sources_other_registries_are_violations_git_warnings() {
    let (dir, lock) = lockfile(OTHER_REGISTRY);
    let args = [
        "--lockfile",
        &lock,
        "--advisory-db",
        &rustsec(),
        "--advisory-db-date",
        "2026-08-21",
        "--supplier",
        "Example Health Ltd",
    ];
    let (report, code, stderr) = audit(&args);
    assert_eq!(code, 1, "{stderr}");
    let sources = rule(&report, "sources");
    let violation = sources.iter().find(|s| s.0 == "violation").unwrap();
    assert_eq!(
        violation.1,
        "pkg:cargo/internal-auth@0.4.0?repository_url=sparse%2Bhttps:%2F%2Fregistry.example-health.org%2Findex%2F"
    );
    assert!(
        violation.2.contains("which the policy does not allow"),
        "{violation:?}"
    );
    // Not checked against the advisory databases either, and listed as such.
    assert!(
        sources
            .iter()
            .any(|s| s.0 == "info" && s.2.starts_with("internal-auth 0.4.0 was not checked")),
        "{sources:?}"
    );

    // The supplier's own registry, allowed by its index URL: no violation left.
    let allowed = config(
        dir.path(),
        "[sources]\nallowed-registries = [\"crates.io\", \"https://registry.example-health.org/index\"]\n",
    );
    let mut with_config = args.to_vec();
    with_config.extend(["--config", &allowed]);
    let (report, code, stderr) = audit(&with_config);
    assert_eq!(code, 0, "{stderr}\n{report}");
    assert!(rule(&report, "sources").iter().all(|s| s.0 == "info"));
    assert_eq!(
        report["policy"]["overrides"][0]["direction"], "loosening",
        "allowing a registry loosens the policy"
    );

    // A git dependency: the policy's `sources.git` level (warning).
    let (report, _, _) = audit(&[
        "--lockfile",
        fixture("workspaces/with-git/Cargo.lock").to_str().unwrap(),
        "--advisory-db",
        &rustsec(),
        "--supplier",
        "Example Health Ltd",
    ]);
    let git: Vec<_> = rule(&report, "sources")
        .into_iter()
        .filter(|s| s.0 == "warning")
        .collect();
    assert_eq!(git.len(), 1, "{git:?}");
    assert!(
        git[0].2.starts_with("nhs-number 0.2.0 is a git dependency (https://github.com/example-health/nhs-number at 9f1c2e4b7a6d5c3e2f1a0b9c8d7e6f5a4b3c2d1e)"),
        "{git:?}"
    );
}

#[test]
fn sbom_completeness_needs_a_supplier_and_an_author() {
    let (_dir, lock) = lockfile(OTHER_REGISTRY);
    let base = [
        "--lockfile",
        lock.as_str(),
        "--advisory-db",
        &rustsec(),
        "--advisory-db-date",
        "2026-08-21",
    ];
    // Neither: two violations (NTIA minimum elements), and the components without an author
    // (Cargo.lock alone knows no authors) counted as a warning.
    let (report, code, _) = audit(&base);
    assert_eq!(code, 1);
    let found = rule(&report, "sbom-completeness");
    let verdicts: Vec<(&str, &str)> = found
        .iter()
        .map(|(v, s, _)| (v.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("violation", "supplier"),
            ("violation", "author"),
            ("warning", "component authors")
        ]
    );
    assert_eq!(
        found[2].2,
        "2 of 2 component(s) name no author in their manifest (first internal-auth 0.4.0)"
    );

    // An author but no supplier: the supplier is still missing.
    let mut args = base.to_vec();
    args.extend(["--author", "Release Engineering"]);
    let (report, _, _) = audit(&args);
    let subjects: Vec<String> = rule(&report, "sbom-completeness")
        .into_iter()
        .filter(|r| r.0 == "violation")
        .map(|r| r.1)
        .collect();
    assert_eq!(subjects, ["supplier"]);

    // A supplier is the author by default: complete but for the component authors.
    let mut args = base.to_vec();
    args.extend(["--supplier", "Example Health Ltd"]);
    let (report, _, _) = audit(&args);
    let left: Vec<String> = rule(&report, "sbom-completeness")
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(left, ["warning"]);
}

#[test]
fn licences_are_evaluated_on_the_expression() {
    let dir = tempfile::tempdir().unwrap();
    let run = |policy: &str| {
        let path = config(
            dir.path(),
            &format!("[supplier]\nname = \"Example Health Ltd\"\n\n[licenses]\n{policy}"),
        );
        let (report, code, stderr) = audit(&[
            "--manifest-path",
            fixture("workspaces/demo/Cargo.toml").to_str().unwrap(),
            "--advisory-db",
            &rustsec(),
            "--advisory-db-date",
            "2026-08-21",
            "--config",
            &path,
        ]);
        assert_ne!(code, 2, "{stderr}");
        let mut judged: Vec<String> = rule(&report, "licenses")
            .into_iter()
            .map(|(verdict, subject, _)| format!("{verdict} {subject}"))
            .collect();
        judged.sort();
        (judged, report)
    };
    // Only Apache-2.0: `MIT OR Apache-2.0` (regex) passes, `Unlicense/MIT` (memchr) and `MIT`
    // (atty) do not. The product's own members are not judged.
    let (judged, report) = run("allow = [\"Apache-2.0\"]\n");
    assert_eq!(
        judged,
        [
            "violation pkg:cargo/aho-corasick@0.7.18",
            "violation pkg:cargo/atty@0.2.14",
            "violation pkg:cargo/memchr@2.4.1",
        ],
        "{report}"
    );
    let atty = rule(&report, "licenses")
        .into_iter()
        .find(|r| r.1 == "pkg:cargo/atty@0.2.14")
        .unwrap();
    assert_eq!(
        atty.2,
        "atty 0.2.14 is licensed `MIT`, which the licence lists do not allow"
    );
    assert_eq!(report["policy"]["overrides"][0]["direction"], "tightening");

    // Deny Unlicense: `Unlicense/MIT` still passes through MIT; nothing is denied outright.
    let (judged, _) = run("deny = [\"Unlicense\"]\n");
    assert!(judged.is_empty(), "{judged:?}");
    // Deny MIT: `Unlicense OR MIT` passes through Unlicense; `MIT` alone does not.
    let (judged, _) = run("deny = [\"MIT\"]\nverdict = \"warning\"\n");
    assert_eq!(judged, ["warning pkg:cargo/atty@0.2.14"]);
}

#[test]
fn unknown_registry_facts_count_from_the_advisory_and_are_a_finding() {
    // An index that knows none of the crates (a wrong --registry-index): the fix for regex
    // exists (the advisory says >= 1.5.5) but its date is unknown, so the clock starts at the
    // advisory's publication, 2022-03-08: to 2026-08-25 that is 1,631 days, past 14.
    let empty = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json", "--now", NOW])
        .arg("--lockfile")
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21"])
        .arg("--registry-index")
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let regex = finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "violation");
    assert_eq!(regex["window_days"], 14);
    assert_eq!(regex["exposure_days"], 1631);
    assert_eq!(regex["clock_start_from"], "advisory-published");
    assert_eq!(regex["fix_version"], Value::Null);
    assert!(
        regex["message"]
            .as_str()
            .unwrap()
            .contains("the registry facts are unknown"),
        "{regex}"
    );
    let facts = rule(&report, "registry-facts");
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].0, "warning");
    assert!(
        facts[0]
            .2
            .starts_with("the registry facts of 10 of 10 crates.io component(s) are unknown"),
        "{facts:?}"
    );
}

#[test]
fn an_advisory_after_the_evaluation_time_has_no_exposure_yet() {
    // 2022-03-01: before regex's advisory (2022-03-08) and its fix: no negative days.
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json"])
        .args(["--now", "2022-03-01T00:00:00Z", "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2022-02-28"])
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let regex = finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["exposure_days"], 0);
    assert_eq!(regex["verdict"], "warning");
    assert_eq!(regex["fix_version"], Value::Null, "1.5.5 is not out yet");
}

/// An OSV folder holding the fixture regex record, changed by `edit`.
fn osv_with(edit: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("advisories/osv/RUSTSEC-2022-0013.json")).unwrap();
    let mut record: Value = serde_json::from_str(&text).unwrap();
    edit(&mut record);
    std::fs::write(
        dir.path().join("RUSTSEC-2022-0013.json"),
        serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();
    dir
}

fn audit_osv(db: &Path) -> (Value, i32, String) {
    audit(&[
        "--lockfile",
        fixture("workspaces/demo/Cargo.lock").to_str().unwrap(),
        "--osv-db",
        db.to_str().unwrap(),
    ])
}

#[test]
fn osv_ecosystem_ranges_are_read_and_git_only_ranges_fail_closed() {
    // crates.io's versions are semver: an ECOSYSTEM range reads as a SEMVER one.
    let db = osv_with(|r| r["affected"][0]["ranges"][0]["type"] = "ECOSYSTEM".into());
    let (report, code, stderr) = audit_osv(db.path());
    assert_eq!(code, 1, "{stderr}");
    let regex = finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["fix_version"], "1.5.5");
    assert_eq!(regex["verdict"], "violation");

    // Only a GIT range: which versions are affected is unknown, so the database is not
    // accepted as complete.
    let db = osv_with(|r| r["affected"][0]["ranges"][0]["type"] = "GIT".into());
    let (_, code, stderr) = audit_osv(db.path());
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "RUSTSEC-2022-0013: no SEMVER or ECOSYSTEM range and no versions for crate `regex`"
        ),
        "{stderr}"
    );
}

#[test]
fn an_unreadable_cvss_vector_is_unscored_not_dropped() {
    // A LOW rating beside a vector nobody can read: the vector still counts, as unscored (the
    // 14-day window), not the rating's 90.
    let db = osv_with(|r| {
        r["severity"][0]["score"] = "CVSS:3.1/AV:N/AC:Q".into();
        r["database_specific"] = serde_json::json!({"severity": "LOW"});
    });
    let (report, _, stderr) = audit_osv(db.path());
    let regex = finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["severity"], "unscored", "{stderr}");
    assert_eq!(regex["window_days"], 14);
}

#[test]
fn an_empty_database_is_an_error_not_a_pass() {
    let home = CargoHome::new();
    for (flag, make) in [
        ("--osv-db", "osv"),
        ("--osv-db", "osv-zip"),
        ("--advisory-db", "rustsec"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = match make {
            "osv" => {
                std::fs::write(dir.path().join("README.md"), "no records here").unwrap();
                dir.path().to_path_buf()
            }
            "osv-zip" => {
                let path = dir.path().join("all.zip");
                let file = std::fs::File::create(&path).unwrap();
                zip::ZipWriter::new(file).finish().unwrap();
                path
            }
            _ => {
                std::fs::create_dir(dir.path().join("crates")).unwrap();
                dir.path().to_path_buf()
            }
        };
        let output = charter_audit(&home)
            .args(["audit", "--offline", "--now", NOW, "--lockfile"])
            .arg(fixture("workspaces/demo/Cargo.lock"))
            .arg(flag)
            .arg(&db)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{make}: {stderr}");
        assert!(
            stderr.contains("no advisories in it")
                && stderr.contains("an empty database would pass every product"),
            "{make}: {stderr}"
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn a_live_exception_wins_over_an_expired_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        "[supplier]\nname = \"Example Health Ltd\"\n\n\
         [[exception]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"First review\"\nexpires = 2026-06-30\napproved-by = \"CISO\"\n\n\
         [[exception]]\nid = \"CVE-2022-24713\"\npackage = \"regex\"\nreason = \"Renewed after review\"\nexpires = 2026-09-30\napproved-by = \"CISO\"\n",
    );
    let (report, _, stderr) = audit(&[
        "--lockfile",
        fixture("workspaces/demo/Cargo.lock").to_str().unwrap(),
        "--advisory-db",
        &rustsec(),
        "--advisory-db-date",
        "2026-08-21",
        "--config",
        &path,
    ]);
    let regex = finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["verdict"], "excepted", "{stderr}");
    assert_eq!(regex["exception"]["reason"], "Renewed after review");
    assert_eq!(regex["exception"]["expired"], false);
    // The exceptions in force record `approved_by` as the judgement does.
    assert_eq!(report["policy"]["exceptions"][0]["approved_by"], "CISO");
}

#[test]
fn informational_advisories_are_warnings_unless_the_policy_says_violation() {
    // The fixture database plus a RustSec notice about memchr.
    let db = tempfile::tempdir().unwrap();
    copy_dir(&fixture("advisories/rustsec"), db.path());
    let memchr = db.path().join("crates/memchr");
    std::fs::create_dir_all(&memchr).unwrap();
    std::fs::write(
        memchr.join("RUSTSEC-2026-9001.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-9001\"\npackage = \"memchr\"\ndate = \"2026-08-01\"\ninformational = \"notice\"\nurl = \"https://example.org/memchr-notice\"\n\n[versions]\npatched = []\n```\n\n# memchr moves to a new home\n\nA notice, for the test.\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |policy: &str| {
        let path = config(
            dir.path(),
            &format!("[supplier]\nname = \"Example Health Ltd\"\n\n{policy}"),
        );
        let (report, code, stderr) = audit(&[
            "--lockfile",
            fixture("workspaces/demo/Cargo.lock").to_str().unwrap(),
            "--advisory-db",
            db.path().to_str().unwrap(),
            "--advisory-db-date",
            "2026-08-21",
            "--config",
            &path,
        ]);
        assert_ne!(code, 2, "{stderr}");
        let verdict = |id: &str| {
            let f = finding(&report, id);
            format!(
                "{} {}",
                f["rule"].as_str().unwrap(),
                f["verdict"].as_str().unwrap()
            )
        };
        (
            verdict("RUSTSEC-2026-9001"),
            verdict("RUSTSEC-2024-0375"),
            verdict("RUSTSEC-2021-0145"),
        )
    };
    assert_eq!(
        run(""),
        (
            "notice warning".to_owned(),
            "unmaintained warning".to_owned(),
            "unsound warning".to_owned()
        )
    );
    assert_eq!(
        run("[informational]\nnotice = \"violation\"\nunmaintained = \"violation\"\n"),
        (
            "notice violation".to_owned(),
            "unmaintained violation".to_owned(),
            "unsound warning".to_owned()
        )
    );
}

#[test]
fn a_database_newer_than_the_evaluation_time_is_flagged() {
    let (report, _, _) = audit(&[
        "--lockfile",
        fixture("workspaces/demo/Cargo.lock").to_str().unwrap(),
        "--advisory-db",
        &rustsec(),
        "--advisory-db-date",
        "2026-09-30",
    ]);
    let age = rule(&report, "advisory-db-age");
    assert_eq!(age.len(), 1, "{age:?}");
    assert_eq!(age[0].0, "warning");
    assert!(age[0].2.contains("after the evaluation time"), "{age:?}");
}

#[test]
fn a_members_manifest_finds_the_workspaces_configuration() {
    let ws = util::copy_workspace("demo");
    std::fs::write(
        ws.path().join("charter-audit.toml"),
        "extends = \"nhs-charter-strict\"\n\n[supplier]\nname = \"Example Health Ltd\"\n",
    )
    .unwrap();
    let (report, code, stderr) = audit(&[
        "--manifest-path",
        ws.path().join("app/Cargo.toml").to_str().unwrap(),
        "--advisory-db",
        &rustsec(),
        "--advisory-db-date",
        "2026-08-21",
    ]);
    assert_ne!(code, 2, "{stderr}");
    assert_eq!(report["policy"]["base"], "nhs-charter-strict");
    assert!(stderr.contains("using the configuration in"), "{stderr}");
}

#[test]
fn a_mistyped_database_path_says_what_the_flag_wants() {
    for (flag, expect) in [
        (
            "--advisory-db",
            "advisory database no-such-db: no such file or folder: --advisory-db names a checkout of https://github.com/rustsec/advisory-db",
        ),
        (
            "--osv-db",
            "advisory database no-such-db: no such file or folder: --osv-db names a folder of OSV JSON records or an OSV export zip",
        ),
    ] {
        let (report, code, stderr) = audit(&[
            "--lockfile",
            fixture("workspaces/demo/Cargo.lock").to_str().unwrap(),
            flag,
            "no-such-db",
        ]);
        assert_eq!(code, 2, "{flag}");
        assert_eq!(report, Value::Null);
        assert!(stderr.contains(expect), "{flag}: {stderr}");
    }
}
