//! End-to-end: `charter-audit audit` offline, on fixture advisories (RustSec native and OSV) and
//! a fixture registry index, with a pinned evaluation time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use util::{
    CargoHome, NOW, audit_json, charter_audit, finding, finding_keys, fixture, without_lookup_time,
};

fn demo_lock() -> std::path::PathBuf {
    fixture("workspaces/demo/Cargo.lock")
}

fn native() -> String {
    fixture("advisories/rustsec").to_string_lossy().into_owned()
}

#[test]
fn demo_findings_with_registry_facts() {
    let home = CargoHome::new();
    let (report, code, _) = audit_json(&home, &demo_lock(), &["--advisory-db", &native()]);
    assert_eq!(code, 1);
    assert_eq!(report["schema"], "charter-audit/report/v1");
    assert_eq!(report["result"], "fail");
    assert_eq!(report["evaluated_at"], NOW);
    assert_eq!(
        finding_keys(&report),
        [
            "ansi_term 0.12.1 RUSTSEC-2021-0139 unmaintained",
            "atty 0.2.14 RUSTSEC-2021-0145 unsound",
            "atty 0.2.14 RUSTSEC-2024-0375 unmaintained",
            "regex 1.5.4 RUSTSEC-2022-0013 vulnerability",
            "smallvec 1.6.0 RUSTSEC-2021-0003 vulnerability",
        ]
    );
    let regex = finding(&report, "RUSTSEC-2022-0013");
    assert_eq!(regex["severity"], "high");
    assert_eq!(
        regex["vector"],
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    );
    assert_eq!(regex["severities"][0]["score"], 7.5);
    assert_eq!(
        regex["aliases"],
        serde_json::json!(["CVE-2022-24713", "GHSA-m5pq-gvj9-9vr8"])
    );
    assert_eq!(regex["date"], "2022-03-08");
    assert_eq!(regex["patched"], serde_json::json!([">=1.5.5"]));
    assert_eq!(regex["fix_version"], "1.5.5");
    assert_eq!(regex["fix_published_at"], "2022-03-08T13:59:00Z");
    assert_eq!(regex["upgrade_to"], "1.5.5");
    assert_eq!(regex["sources"], serde_json::json!(["rustsec"]));
    let smallvec = finding(&report, "RUSTSEC-2021-0003");
    assert_eq!(smallvec["severity"], "critical");
    assert_eq!(smallvec["fix_version"], "1.6.1");
    // Informational advisories carry no score.
    assert_eq!(
        finding(&report, "RUSTSEC-2021-0139")["severity"],
        "unscored"
    );

    // The product's own packages are listed as not checked, with the reason.
    assert_eq!(report["coverage"]["checked"], 10);
    let unchecked = report["coverage"]["unchecked"].as_array().unwrap();
    assert_eq!(unchecked.len(), 2);
    assert!(
        unchecked[0]["reason"]
            .as_str()
            .unwrap()
            .contains("the workspace\'s own code, or a path dependency")
    );

    // Registry facts per component, as of the evaluation time.
    let regex_component = report["components"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "regex")
        .unwrap();
    assert_eq!(regex_component["yanked"], false);
    assert_eq!(regex_component["published_at"], "2021-05-06T21:34:36Z");
    assert!(
        regex_component["newest"]
            .as_str()
            .unwrap()
            .starts_with("1.")
    );

    // The source is named and dated.
    let source = &report["sources"][0];
    assert_eq!(source["name"], "rustsec");
    assert_eq!(source["advisories"], 5);
    assert_eq!(source["last_updated"], "2024-09-25T00:00:00Z");
    assert_eq!(source["last_updated_from"], "newest-advisory");
}

#[test]
fn native_osv_folder_and_osv_zip_agree() {
    let home = CargoHome::new();
    let (a, _, _) = audit_json(&home, &demo_lock(), &["--advisory-db", &native()]);
    let osv = fixture("advisories/osv").to_string_lossy().into_owned();
    let (b, _, _) = audit_json(&home, &demo_lock(), &["--osv-db", &osv]);
    let zip = fixture("advisories/osv-crates.zip")
        .to_string_lossy()
        .into_owned();
    let (c, _, _) = audit_json(&home, &demo_lock(), &["--osv-db", &zip]);
    assert_eq!(finding_keys(&a), finding_keys(&b));
    assert_eq!(finding_keys(&b), finding_keys(&c));
    for id in ["RUSTSEC-2022-0013", "RUSTSEC-2021-0003"] {
        for field in [
            "severity",
            "date",
            "title",
            "fix_version",
            "upgrade_to",
            "vector",
        ] {
            assert_eq!(
                finding(&a, id)[field],
                finding(&b, id)[field],
                "{id} {field}"
            );
        }
    }
    // Both at once: one finding per vulnerability, naming both sources.
    let (both, _, _) = audit_json(
        &home,
        &demo_lock(),
        &["--advisory-db", &native(), "--osv-db", &osv],
    );
    assert_eq!(finding_keys(&both), finding_keys(&a));
    assert_eq!(
        finding(&both, "RUSTSEC-2022-0013")["sources"],
        serde_json::json!(["osv", "rustsec"])
    );
}

#[test]
fn an_export_with_the_rustsec_and_ghsa_records_of_one_vulnerability_gives_one_finding() {
    // osv.dev's crates.io/all.zip holds both records of most vulnerabilities.
    let home = CargoHome::new();
    let db = tempfile::tempdir().unwrap();
    util::copy_dir(&fixture("advisories/osv"), db.path());
    std::fs::write(
        db.path().join("GHSA-43w2-9j62-hq99.json"),
        r#"{"id": "GHSA-43w2-9j62-hq99", "modified": "2024-01-01T00:00:00Z",
            "published": "2021-01-10T00:00:00Z", "aliases": ["CVE-2021-25900"],
            "summary": "Buffer overflow in SmallVec::insert_many",
            "affected": [{"package": {"ecosystem": "crates.io", "name": "smallvec"},
              "ranges": [{"type": "ECOSYSTEM",
                "events": [{"introduced": "1.0.0"}, {"fixed": "1.6.1"}]}]}]}"#,
    )
    .unwrap();
    let osv = db.path().to_string_lossy().into_owned();
    let (alone, _, _) = audit_json(
        &home,
        &demo_lock(),
        &["--osv-db", &fixture("advisories/osv").to_string_lossy()],
    );
    let (report, _, _) = audit_json(&home, &demo_lock(), &["--osv-db", &osv]);
    assert_eq!(finding_keys(&report), finding_keys(&alone));
    let smallvec = finding(&report, "RUSTSEC-2021-0003");
    assert!(
        smallvec["aliases"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("GHSA-43w2-9j62-hq99")),
        "{smallvec}"
    );
    // And with the native database beside it: still one.
    let (both, _, _) = audit_json(
        &home,
        &demo_lock(),
        &["--advisory-db", &native(), "--osv-db", &osv],
    );
    assert_eq!(finding_keys(&both), finding_keys(&alone));
    assert_eq!(
        finding(&both, "RUSTSEC-2021-0003")["sources"],
        serde_json::json!(["osv", "rustsec"])
    );
}

#[test]
#[ignore = "needs ../shared: run by .ci/run"]
fn shared_snapshot_native_and_osv_give_the_same_findings() {
    // ../shared/advisory-db: the same RustSec snapshot in both exports (the issue asks for this
    // end-to-end check on it). Differences found between the exports, and how they are handled:
    // - OSV `published` is the advisory date at 12:00: the date is used, so dates agree;
    // - the export names ranges with `X.Y.Z-0` bounds and intervals, where the native form has
    //   requirements (`^0.3.24`): `patched` keeps each source's form, and it is not compared;
    // - the export has one record more (1,206 against 1,205), which matches nothing here.
    let home = CargoHome::new();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let db = shared.join("advisory-db");
    for lock in ["nushell-2021-12", "meilisearch-2023-01", "nushell-2026-08"] {
        let lockfile = shared.join(format!("lockfiles/{lock}.Cargo.lock"));
        let (native, _, _) = audit_json(
            &home,
            &lockfile,
            &[
                "--advisory-db",
                db.join("rustsec").to_str().unwrap(),
                "--registry-index",
                shared.join("registry-index").to_str().unwrap(),
            ],
        );
        let (osv, _, _) = audit_json(
            &home,
            &lockfile,
            &[
                "--osv-db",
                db.join("osv/crates").to_str().unwrap(),
                "--registry-index",
                shared.join("registry-index").to_str().unwrap(),
            ],
        );
        let strip = |r: &serde_json::Value| -> Vec<serde_json::Value> {
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    for field in ["patched", "sources", "severities", "references"] {
                        f.as_object_mut().unwrap().remove(field);
                    }
                    f
                })
                .collect()
        };
        assert!(!strip(&native).is_empty(), "{lock}");
        let with_fix = strip(&native)
            .iter()
            .filter(|f| f["fix_version"].is_string())
            .count();
        assert!(with_fix > 0, "{lock}: registry facts were computed");
        assert_eq!(strip(&native), strip(&osv), "{lock}");
    }
}

#[test]
fn yanked_version_is_a_finding() {
    let home = CargoHome::new();
    let (report, code, _) = audit_json(
        &home,
        &fixture("lockfiles/yanked.Cargo.lock"),
        &["--advisory-db", &native()],
    );
    assert_eq!(code, 1);
    assert_eq!(
        finding_keys(&report),
        ["smallvec 0.4.0 yanked:smallvec@0.4.0 yanked"]
    );
    let yanked = finding(&report, "yanked:smallvec@0.4.0");
    assert_eq!(yanked["verdict"], "violation");
    assert_eq!(yanked["rule"], "yanked");
    // The index does not say when a version was yanked.
    assert_eq!(yanked["date"], serde_json::Value::Null);
    // What to move to: the lowest later release of the same line that is not yanked.
    assert_eq!(yanked["upgrade_to"], "0.4.5");
    assert_eq!(
        yanked["message"],
        "upgrade smallvec 0.4.0 → 0.4.5: 0.4.0 was yanked from its registry"
    );
}

#[test]
fn versions_published_after_the_evaluation_time_do_not_exist() {
    // On 2021-01-05 smallvec 1.6.1 (published 2021-01-08) did not exist yet: no fix version.
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args([
            "audit",
            "--offline",
            "--format",
            "json",
            "--now",
            "2021-01-05T00:00:00Z",
        ])
        .arg("--lockfile")
        .arg(demo_lock())
        .args(["--advisory-db", &native(), "--registry-index"])
        .arg(fixture("registry-index"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let smallvec = finding(&report, "RUSTSEC-2021-0003");
    assert!(smallvec["fix_version"].is_null(), "{smallvec}");
    assert!(smallvec["upgrade_to"].is_null());
}

#[test]
fn unknown_crates_are_noted_never_a_failure() {
    let home = CargoHome::new();
    let empty = tempfile::tempdir().unwrap();
    let output = charter_audit(&home)
        .args([
            "audit",
            "--offline",
            "--format",
            "json",
            "--now",
            NOW,
            "--lockfile",
        ])
        .arg(demo_lock())
        .args(["--advisory-db", &native(), "--registry-index"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["registry"]["unknown"], 10);
    let regex = finding(&report, "RUSTSEC-2022-0013");
    assert!(regex["fix_version"].is_null());
    assert!(
        regex["registry_note"]
            .as_str()
            .unwrap()
            .contains("no entry")
    );
}

#[test]
fn git_and_path_sources_are_listed_as_unchecked() {
    let home = CargoHome::new();
    let (report, _, _) = audit_json(
        &home,
        &fixture("workspaces/with-git/Cargo.lock"),
        &["--advisory-db", &native()],
    );
    let unchecked = report["coverage"]["unchecked"].as_array().unwrap();
    let git = unchecked
        .iter()
        .find(|u| u["name"] == "nhs-number")
        .unwrap();
    assert!(git["reason"].as_str().unwrap().starts_with("git source"));
    assert_eq!(report["coverage"]["checked"], 1);
}

#[test]
fn no_findings_pass_with_exit_0() {
    let home = CargoHome::new();
    let lock = tempfile::tempdir().unwrap();
    let path = lock.path().join("Cargo.lock");
    std::fs::write(
        &path,
        "version = 4\n\n[[package]]\nname = \"clean\"\nversion = \"1.0.0\"\ndependencies = [\"memchr\"]\n\n[[package]]\nname = \"memchr\"\nversion = \"2.4.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let (report, code, _) = audit_json(
        &home,
        &path,
        &[
            "--advisory-db",
            &native(),
            "--advisory-db-date",
            "2026-08-30",
            "--supplier",
            "Example Health Ltd",
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["result"], "pass");
}

#[test]
fn withdrawn_advisories_are_skipped() {
    let home = CargoHome::new();
    let db = tempfile::tempdir().unwrap();
    let dir = db.path().join("crates/memchr");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("RUSTSEC-2099-0001.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\npackage = \"memchr\"\ndate = \"2024-01-01\"\nwithdrawn = \"2024-02-01\"\n\n[versions]\npatched = []\n```\n\n# Withdrawn\n\nNot a vulnerability after all.\n",
    )
    .unwrap();
    let (report, code, _) = audit_json(
        &home,
        &demo_lock(),
        &[
            "--advisory-db",
            db.path().to_str().unwrap(),
            "--advisory-db-date",
            "2026-08-30",
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["sources"][0]["advisories"], 1);
}

#[test]
fn a_bad_advisory_fails_closed_unless_partial_is_allowed() {
    let home = CargoHome::new();
    let db = tempfile::tempdir().unwrap();
    let src = fixture("advisories/rustsec/crates");
    for entry in util::files_under(&src) {
        let target = db
            .path()
            .join("crates")
            .join(entry.strip_prefix(&src).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    let bad = db.path().join("crates/memchr/RUSTSEC-2099-0002.md");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(
        &bad,
        "```toml\n[advisory]\nid = \"RUSTSEC-2099-0002\"\n```\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg(demo_lock())
        .arg("--advisory-db")
        .arg(db.path())
        .arg("-o")
        .arg(&report_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("crates/memchr/RUSTSEC-2099-0002.md"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-partial-db"), "{stderr}");
    assert!(!report_path.exists());

    let (report, code, _) = audit_json(
        &home,
        &demo_lock(),
        &[
            "--advisory-db",
            db.path().to_str().unwrap(),
            "--allow-partial-db",
        ],
    );
    assert_eq!(code, 1);
    let skipped = report["sources"][0]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["file"], "crates/memchr/RUSTSEC-2099-0002.md");
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(
        !reason.contains(&db.path().display().to_string()),
        "no absolute path: {reason}"
    );
    assert_eq!(
        finding_keys(&report).len(),
        5,
        "the other advisories still count"
    );
    // memchr, which the skipped file is about, is not read as checked.
    let unchecked: Vec<&serde_json::Value> = report["coverage"]["unchecked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["name"] == "memchr")
        .collect();
    assert_eq!(unchecked.len(), 1, "{}", report["coverage"]);
    assert!(
        unchecked[0]["reason"]
            .as_str()
            .unwrap()
            .contains("crates/memchr/RUSTSEC-2099-0002.md could be about it but did not load"),
        "{}",
        unchecked[0]
    );
    let (whole, _, _) = audit_json(&home, &demo_lock(), &["--advisory-db", &native()]);
    assert_eq!(
        report["coverage"]["checked"].as_u64().unwrap() + 1,
        whole["coverage"]["checked"].as_u64().unwrap()
    );
}

#[test]
fn offline_without_a_database_names_the_flags() {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--lockfile"])
        .arg(demo_lock())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--advisory-db DIR"), "{stderr}");
    assert!(stderr.contains("--osv-db PATH"), "{stderr}");
    assert!(stderr.contains("--offline forbids downloading"), "{stderr}");
}

#[test]
fn human_report_for_the_demo() {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg(demo_lock())
        .args(["--advisory-db", &native(), "--registry-index"])
        .arg(fixture("registry-index"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("Registry index:") {
                "Registry index: [redacted: lookup time]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("demo_human", text);
}

#[test]
fn a_git_checkout_is_named_by_its_commit() {
    let home = CargoHome::new();
    let db = tempfile::tempdir().unwrap();
    let src = fixture("advisories/rustsec/crates");
    for entry in util::files_under(&src) {
        let target = db
            .path()
            .join("crates")
            .join(entry.strip_prefix(&src).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(db.path())
            .args(args)
            .env("GIT_COMMITTER_DATE", "2026-08-21T06:28:40Z")
            .env("GIT_AUTHOR_DATE", "2026-08-21T06:28:40Z")
            .status()
            .expect("git is needed for this test");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "commit",
        "-qm",
        "snapshot",
    ]);
    let head = std::process::Command::new("git")
        .arg("-C")
        .arg(db.path())
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap().trim().to_owned();
    let (report, _, _) = audit_json(
        &home,
        &demo_lock(),
        &["--advisory-db", db.path().to_str().unwrap()],
    );
    let source = &report["sources"][0];
    assert_eq!(source["revision"], head);
    assert_eq!(source["last_updated"], "2026-08-21T06:28:40Z");
    assert_eq!(source["last_updated_from"], "git-commit");
    // A date given on the command line wins for a plain folder (and is said to).
    let (flagged, _, _) = audit_json(
        &home,
        &demo_lock(),
        &[
            "--advisory-db",
            &native(),
            "--advisory-db-date",
            "2026-08-21",
        ],
    );
    assert_eq!(
        flagged["sources"][0]["last_updated"],
        "2026-08-21T00:00:00Z"
    );
    assert_eq!(flagged["sources"][0]["last_updated_from"], "flag");
}

#[test]
fn offline_default_index_is_cargos_cache() {
    // cargo's cache format: version byte, index format (u32 LE), a key, then `version NUL json
    // NUL` pairs, under CARGO_HOME/registry/index/index.crates.io-*/.cache.
    let home = CargoHome::new();
    let cache = home
        .path()
        .join("registry/index/index.crates.io-1949cf8c6b5b557f/.cache");
    for name in ["re/ge/regex", "sm/al/smallvec"] {
        let text = std::fs::read_to_string(fixture("registry-index").join(name)).unwrap();
        let mut bytes = vec![3u8, 2, 0, 0, 0];
        bytes.extend_from_slice(b"etag\0");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            bytes.extend_from_slice(v["vers"].as_str().unwrap().as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(0);
        }
        let path = cache.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let output = charter_audit(&home)
        .args([
            "audit",
            "--offline",
            "--format",
            "json",
            "--now",
            NOW,
            "--lockfile",
        ])
        .arg(demo_lock())
        .args(["--advisory-db", &native()])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["registry"]["uri"], "cargo-cache:crates.io");
    assert_eq!(
        report["registry"]["unknown"], 8,
        "only two crates are in this cache"
    );
    assert_eq!(
        finding(&report, "RUSTSEC-2022-0013")["fix_version"],
        "1.5.5"
    );
    assert_eq!(finding(&report, "RUSTSEC-2021-0003")["upgrade_to"], "1.6.1");
}

#[test]
fn readme_main_command_prints_what_the_readme_says() {
    // The README's first command is the contract: same output (but the lookup time), exit 1.
    let readme = std::fs::read_to_string(fixture("../README.md")).unwrap();
    let command_line = readme
        .lines()
        .find(|l| l.starts_with("cargo run --locked -- audit "))
        .unwrap();
    let args: Vec<&str> = command_line
        .trim_start_matches("cargo run --locked -- ")
        .split_whitespace()
        .collect();
    let expected = readme
        .split("```text\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .unwrap();
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(without_lookup_time(&printed), expected.trim_end());
}

#[test]
fn a_bad_osv_record_fails_closed_too() {
    let home = CargoHome::new();
    let db = tempfile::tempdir().unwrap();
    for entry in util::files_under(&fixture("advisories/osv")) {
        std::fs::copy(&entry, db.path().join(entry.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        db.path().join("RUSTSEC-2099-0003.json"),
        "{\"id\": \"RUSTSEC-2099-0003\"",
    )
    .unwrap();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg(demo_lock())
        .arg("--osv-db")
        .arg(db.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("RUSTSEC-2099-0003.json: not an OSV record"),
        "{stderr}"
    );
}

#[test]
fn a_plain_folder_or_export_is_named_by_the_digest_of_what_was_read() {
    let home = CargoHome::new();
    let db = tempfile::tempdir().unwrap();
    util::copy_dir(&fixture("advisories/rustsec"), db.path());
    let root = db.path().to_string_lossy().into_owned();
    let revision = |report: &serde_json::Value| report["sources"][0]["revision"].clone();
    let (first, _, _) = audit_json(&home, &demo_lock(), &["--advisory-db", &root]);
    let (again, _, _) = audit_json(&home, &demo_lock(), &["--advisory-db", &native()]);
    let digest = revision(&first);
    assert!(digest.as_str().unwrap().starts_with("sha256:"), "{digest}");
    assert_eq!(digest.as_str().unwrap().len(), "sha256:".len() + 64);
    assert_eq!(
        revision(&again),
        digest,
        "the same advisories, wherever they are"
    );
    // One advisory edited: another database, another name.
    let file = db.path().join("crates/regex/RUSTSEC-2022-0013.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\n")).unwrap();
    let (edited, _, _) = audit_json(&home, &demo_lock(), &["--advisory-db", &root]);
    assert_ne!(revision(&edited), digest);
    // An OSV export too: the folder's files, or the zip's bytes.
    let osv = fixture("advisories/osv-crates.zip");
    let (zip, _, _) = audit_json(&home, &demo_lock(), &["--osv-db", &osv.to_string_lossy()]);
    assert!(
        revision(&zip).as_str().unwrap().starts_with("sha256:"),
        "{}",
        revision(&zip)
    );
}

/// The database loads on a thread of its own, which is handed the inventory once it is taken:
/// when several inputs are bad, a missing database is still the error reported (the likelier
/// mistake), a missing lockfile the next, and the thread that waits for an inventory that was
/// never taken stops (the run ends with exit 2, it does not hang).
#[test]
fn when_several_inputs_are_bad_the_database_is_named_first_then_the_lockfile() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let no_db = dir.path().join("no-db");
    let no_lock = dir.path().join("Cargo.lock");
    let no_index = dir.path().join("no-index");
    let index = fixture("registry-index");
    let run_with = |db: &Path, lock: &Path, index: &Path| {
        let output = charter_audit(&home)
            .args(["audit", "--offline", "--now", NOW, "--lockfile"])
            .arg(lock)
            .arg("--advisory-db")
            .arg(db)
            .arg("--registry-index")
            .arg(index)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let run = |db: &Path, lock: &Path| run_with(db, lock, &index);
    let both = run(&no_db, &no_lock);
    assert!(both.contains("advisory database"), "{both}");
    assert!(both.contains("no such file or folder"), "{both}");
    assert!(!both.contains("no Cargo.lock at"), "{both}");
    let lockfile = run(Path::new(&native()), &no_lock);
    assert!(lockfile.contains("no Cargo.lock at"), "{lockfile}");
    assert!(!lockfile.contains("advisory database"), "{lockfile}");
    let database = run(&no_db, &demo_lock());
    assert!(database.contains("advisory database"), "{database}");
    assert!(!database.contains("Cargo.lock"), "{database}");
    // The database before the registry index, the index before nothing it is asked of.
    let not_the_index = run_with(&no_db, &demo_lock(), &no_index);
    assert!(
        not_the_index.contains("advisory database"),
        "{not_the_index}"
    );
    assert!(!not_the_index.contains("no-index"), "{not_the_index}");
    let the_index = run_with(Path::new(&native()), &demo_lock(), &no_index);
    assert!(the_index.contains("no-index"), "{the_index}");
    assert!(!the_index.contains("advisory database"), "{the_index}");
}
