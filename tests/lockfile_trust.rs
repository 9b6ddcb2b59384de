//! A lockfile the audited project controls never hides a package and passes: when the inventory
//! is read from Cargo.lock (the fallback when cargo cannot reach a source, or `--lockfile`), each
//! registry package's locked dependencies are checked against what the registry index says it
//! depends on (`lockfile-incomplete`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use util::fixture;

/// Every flag that makes the fixture audit clean apart from the lockfile itself: a fresh
/// database, a supplier, the fixture index with `mid`.
/// `audit` of `target` (after the `input` flag) offline, against the fixture RustSec database
/// and the index that knows `mid`'s dependencies.
fn offline_audit(home: &util::CargoHome, input: &[&str], target: &Path) -> assert_cmd::Command {
    let mut cmd = util::charter_audit(home);
    cmd.args(["audit", "--offline", "--now", util::NOW])
        .args(input)
        .arg(target)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args([
            "--advisory-db-date",
            "2026-08-31",
            "--supplier",
            "Example Health Ltd",
        ])
        .arg("--registry-index")
        .arg(fixture("lockfile-incomplete/index"));
    cmd
}

fn audit(
    home: &util::CargoHome,
    input: &[&str],
    target: &Path,
) -> (serde_json::Value, i32, String) {
    let output = offline_audit(home, input, target)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        code,
        stderr,
    )
}

fn rule_findings<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["rule_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == rule)
        .collect()
}

#[test]
fn a_lockfile_that_drops_a_transitive_dependency_cannot_pass() {
    // `mid 1.0.0` depends on smallvec (RUSTSEC-2021-0003, critical) per the index; the
    // project's Cargo.lock drops smallvec and the edge to it, and a git dependency cargo cannot
    // fetch offline sends the inventory to that lockfile.
    let home = util::CargoHome::new();
    let ws = tempfile::tempdir().unwrap();
    util::copy_dir(&fixture("lockfile-incomplete/workspace"), ws.path());
    let manifest = ws.path().join("Cargo.toml");
    let lockfile = ws.path().join("Cargo.lock");
    for (input, target) in [("--manifest-path", &manifest), ("--lockfile", &lockfile)] {
        let (report, code, stderr) = audit(&home, &[input], target);
        assert_eq!(code, 1, "{input}: {stderr}");
        assert_eq!(report["result"], "fail", "{input}");
        let incomplete = rule_findings(&report, "lockfile-incomplete");
        assert_eq!(
            incomplete.len(),
            1,
            "{input}: {:#}",
            report["rule_findings"]
        );
        assert_eq!(incomplete[0]["verdict"], "violation");
        assert_eq!(incomplete[0]["subject"], "mid 1.0.0 -> smallvec");
        let message = incomplete[0]["message"].as_str().unwrap();
        assert!(
            message.contains(
                "mid 1.0.0 depends on smallvec (per the registry index) but Cargo.lock locks no smallvec for it"
            ),
            "{message}"
        );
        // It is the lockfile, and nothing else, that fails this audit.
        assert_eq!(report["summary"]["violation"], 1, "{input}: {report:#}");
        if input == "--manifest-path" {
            assert!(stderr.contains("was not confirmed by cargo"), "{stderr}");
        }
    }
}

#[test]
fn a_complete_lockfile_gives_no_lockfile_incomplete_finding() {
    let home = util::CargoHome::new();
    let (report, _, stderr) = audit(
        &home,
        &["--lockfile"],
        &fixture("lockfile-incomplete/complete.Cargo.lock"),
    );
    assert!(
        rule_findings(&report, "lockfile-incomplete").is_empty(),
        "{:#}\n{stderr}",
        report["rule_findings"]
    );
    // smallvec is in the inventory, and so is its advisory.
    assert!(
        util::finding_keys(&report)
            .iter()
            .any(|k| k.contains("RUSTSEC-2021-0003")),
        "{:?}",
        util::finding_keys(&report)
    );
}

#[test]
fn the_fixture_lockfiles_agree_with_the_fixture_registry_index() {
    let home = util::CargoHome::new();
    for lockfile in [
        fixture("workspaces/demo/Cargo.lock"),
        fixture("workspaces/with-git/Cargo.lock"),
        fixture("lockfiles/demo-v1.Cargo.lock"),
        fixture("lockfiles/demo-v2.Cargo.lock"),
        fixture("lockfiles/yanked.Cargo.lock"),
    ] {
        let (report, _, _) = util::audit_json(
            &home,
            &lockfile,
            &[
                "--advisory-db",
                fixture("advisories/rustsec").to_str().unwrap(),
            ],
        );
        assert!(
            rule_findings(&report, "lockfile-incomplete").is_empty(),
            "{}: {:#}",
            lockfile.display(),
            report["rule_findings"]
        );
    }
}

#[test]
fn an_attested_incomplete_lockfile_verifies_as_authentic_and_failed() {
    // The predicate carries the new rule code; `verify` reads it as a failed audit (exit 1),
    // never as tampering (3) and never as a pass (0).
    let home = util::CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("release");
    util::keygen(&home, &prefix);
    let evidence = dir.path().join("evidence");
    let output = offline_audit(
        &home,
        &["--lockfile"],
        &fixture("lockfile-incomplete/workspace/Cargo.lock"),
    )
    .arg("--out-dir")
    .arg(&evidence)
    .arg("--sign-key")
    .arg(prefix.with_extension("key"))
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let output = util::charter_audit(&home)
        .arg("verify")
        .arg(evidence.join("attestation.intoto.json"))
        .arg("--key")
        .arg(prefix.with_extension("pub"))
        .args(["--now", util::NOW])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("the attested result is fail"), "{text}");
    // The signed predicate names the rule and what the lockfile left out.
    use base64::Engine as _;
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(evidence.join("attestation.intoto.json")).unwrap())
            .unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let rules = statement["predicate"]["findings"]["rule_findings"]
        .as_array()
        .unwrap();
    assert!(
        rules.iter().any(|r| r["rule"] == "lockfile-incomplete"
            && r["verdict"] == "violation"
            && r["subject"] == "mid 1.0.0 -> smallvec"),
        "{rules:#?}"
    );
}
