//! The evidence model: the report is read through the same types that write it, and `attest`
//! signs only a report those types accept.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use charter_audit::model::report::Report;
use util::{CargoHome, charter_audit};

const NOW: &str = "2026-08-25T00:00:00Z";

/// The JSON report of an audit of a fixture, with `extra` flags, and the evidence folder.
fn report(home: &CargoHome, extra: &[&str]) -> (Vec<u8>, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let output = charter_audit(home)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["audit", "--offline", "--now", NOW, "--format", "json"])
        .args(["--advisory-db", "fixtures/advisories/rustsec"])
        .args(["--advisory-db-date", "2026-08-21"])
        .args(extra)
        .arg("--out-dir")
        .arg(out.path().join("evidence"))
        .output()
        .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (output.stdout, out)
}

#[test]
fn the_report_is_read_back_through_the_types_that_wrote_it_byte_for_byte() {
    let home = CargoHome::new();
    for extra in [
        &[
            "--manifest-path",
            "fixtures/workspaces/demo/Cargo.toml",
            "--target",
            "x86_64-unknown-linux-gnu",
            "--registry-index",
            "fixtures/registry-index",
        ][..],
        &[
            "--lockfile",
            "fixtures/lockfiles/demo-v2.Cargo.lock",
            "--osv-db",
            "fixtures/advisories/osv-crates.zip",
            "--registry-index",
            "fixtures/registry-index",
        ],
        &[
            "--sbom",
            "fixtures/sboms/portal.cdx.json",
            "--osv-db",
            "fixtures/advisories/osv-ecosystems",
        ],
    ] {
        let (bytes, _dir) = report(&home, extra);
        let report = Report::from_json(&bytes).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        assert!(
            !report.findings.is_empty(),
            "{extra:?}: a report with findings"
        );
        assert_eq!(
            report.to_json().unwrap().as_bytes(),
            &bytes[..],
            "{extra:?}: written again, the same bytes"
        );
    }
}

/// `attest --report FILE` with one edit made to the report `audit --out-dir` wrote.
fn attest_edited(edit: impl FnOnce(&mut serde_json::Value)) -> (i32, String) {
    attest_edited_bytes(|bytes| {
        let mut value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        edit(&mut value);
        *bytes = serde_json::to_vec_pretty(&value).unwrap();
    })
}

/// `attest --report FILE` with one edit made to the bytes of the report `audit --out-dir` wrote.
fn attest_edited_bytes(edit: impl FnOnce(&mut Vec<u8>)) -> (i32, String) {
    let home = CargoHome::new();
    let (_, dir) = report(
        &home,
        &[
            "--lockfile",
            "fixtures/lockfiles/demo-v1.Cargo.lock",
            "--registry-index",
            "fixtures/registry-index",
        ],
    );
    let evidence = dir.path().join("evidence");
    let path = evidence.join("report.json");
    let mut bytes = std::fs::read(&path).unwrap();
    edit(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
    let output = charter_audit(&home)
        .args(["attest", "--unsigned", "--report"])
        .arg(&path)
        .arg("--sbom")
        .arg(evidence.join("sbom.cdx.json"))
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn attest_signs_the_report_it_is_given_unchanged() {
    let (code, stderr) = attest_edited(|_| {});
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn attest_refuses_a_report_with_a_field_charter_audit_never_writes() {
    let (code, stderr) = attest_edited(|report| {
        report["findings"][0]["verdict_override"] = "pass".into();
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("report.json"), "{stderr}");
    assert!(
        stderr.contains("unknown field `verdict_override`"),
        "{stderr}"
    );
}

#[test]
fn attest_refuses_a_report_whose_result_does_not_follow_from_its_findings() {
    // A violation turned into a pass by its summary and result alone.
    let (code, stderr) = attest_edited(|report| {
        report["result"] = "pass".into();
        report["summary"]
            .as_object_mut()
            .unwrap()
            .remove("violation");
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("does not follow from its findings"),
        "{stderr}"
    );
}

#[test]
fn attest_refuses_a_verdict_or_rule_this_version_does_not_know() {
    let (code, stderr) = attest_edited(|report| {
        report["findings"][0]["rule"] = "patch-age-lenient".into();
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unknown variant `patch-age-lenient`"),
        "{stderr}"
    );
    let (code, stderr) = attest_edited(|report| {
        report["schema"] = "charter-audit/report/v2".into();
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("charter-audit/report/v2"), "{stderr}");
}

#[test]
fn attest_refuses_a_report_whose_policy_lacks_a_setting_or_names_an_unknown_one() {
    for (edit, what) in [
        (
            (|r: &mut serde_json::Value| {
                r["policy"]["settings"]
                    .as_object_mut()
                    .unwrap()
                    .remove("patch-age.critical");
            }) as fn(&mut serde_json::Value),
            "a setting left out",
        ),
        (
            |r: &mut serde_json::Value| {
                r["policy"]["settings"]["patch-age.critcal"] = 36500.into();
            },
            "a misspelt setting",
        ),
    ] {
        let (code, stderr) = attest_edited(edit);
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(
            stderr.contains("does not hold every setting of this version"),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn attest_refuses_a_violation_relabelled_with_its_summary_and_result_made_to_agree() {
    let (code, stderr) = attest_edited(|report| {
        let mut moved = 0;
        for finding in report["findings"].as_array_mut().unwrap() {
            if finding["verdict"] == "violation" {
                finding["verdict"] = "info".into();
                moved += 1;
            }
        }
        assert!(moved > 0, "the demo has violations to relabel");
        let summary = report["summary"].as_object_mut().unwrap();
        let violations = summary["violation"].as_u64().unwrap() - moved;
        let info = summary
            .get("info")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
            + moved;
        summary.insert("info".to_owned(), info.into());
        if violations == 0 {
            summary.remove("violation");
            report["result"] = "pass".into();
        } else {
            summary.insert("violation".to_owned(), violations.into());
        }
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is not the one its own facts, settings and exceptions give"),
        "{stderr}"
    );
}

#[test]
fn attest_refuses_a_report_whose_policy_digest_is_not_its_settings() {
    let (code, stderr) = attest_edited(|report| {
        report["policy"]["settings"]["patch-age.medium"] = 31.into();
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("do not have the digest it records"),
        "{stderr}"
    );
}

#[test]
fn attest_refuses_a_report_that_names_a_key_twice() {
    // The first-wins reader sees a window of 99999 days, the last-wins reader 14.
    let (code, stderr) = attest_edited_bytes(|bytes| {
        let text = String::from_utf8(bytes.clone()).unwrap();
        let edited = text.replacen(
            "\"patch-age.critical\": 14,",
            "\"patch-age.critical\": 99999, \"patch-age.critical\": 14,",
            1,
        );
        assert_ne!(edited, text, "the report has the setting to repeat");
        *bytes = edited.into_bytes();
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is given twice"), "{stderr}");
}

#[test]
fn attest_refuses_a_report_of_another_tool_or_version() {
    let (code, stderr) = attest_edited(|report| {
        report["tool"]["version"] = "99.0.0".into();
    });
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not this charter-audit"), "{stderr}");
}

#[test]
fn attest_reads_no_more_than_an_sbom_may_hold() {
    let home = CargoHome::new();
    // A (sparse) report one byte over the limit; a device is refused unread (tests/bad_input.rs).
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("report.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len((64 << 20) + 1)
        .unwrap();
    let output = charter_audit(&home)
        .args(["attest", "--unsigned", "--report"])
        .arg(&big)
        .arg("--sbom")
        .arg(&big)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("larger than the {}-byte limit", 64 << 20)),
        "{stderr}"
    );
}

#[test]
fn an_sbom_with_components_nested_under_the_product_is_attested() {
    let home = CargoHome::new();
    let out = tempfile::tempdir().unwrap();
    let output = charter_audit(&home)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["audit", "--offline", "--now", NOW, "--unsigned"])
        .args(["--sbom", "fixtures/sboms/edge.cdx.json"])
        .args(["--osv-db", "fixtures/advisories/osv-edge"])
        .arg("--out-dir")
        .arg(out.path().join("evidence"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{stderr}");
    assert!(
        out.path().join("evidence/attestation.intoto.json").exists(),
        "{stderr}"
    );
}
