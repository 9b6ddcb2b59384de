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
    let mut cmd = audit_without_index(home, input, target);
    cmd.arg("--registry-index")
        .arg(fixture("lockfile-incomplete/index"));
    cmd
}

/// [`offline_audit`] with no registry index (the test's cargo home has no index cache).
fn audit_without_index(
    home: &util::CargoHome,
    input: &[&str],
    target: &Path,
) -> assert_cmd::Command {
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
        ]);
    cmd
}

fn audit(
    home: &util::CargoHome,
    input: &[&str],
    target: &Path,
) -> (serde_json::Value, i32, String) {
    run_json(offline_audit(home, input, target))
}

fn run_json(mut cmd: assert_cmd::Command) -> (serde_json::Value, i32, String) {
    let output = cmd.args(["--format", "json"]).output().unwrap();
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
                "mid 1.0.0 depends on smallvec ^1.6 from crates.io (per the registry index) but Cargo.lock locks no smallvec matching ^1.6 from crates.io for it"
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

/// `complete.Cargo.lock` with `from` replaced by `to` (which must occur), written to `dir`.
fn edited_complete_lockfile(dir: &Path, from: &str, to: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture("lockfile-incomplete/complete.Cargo.lock")).unwrap();
    assert!(text.contains(from), "{from}");
    let path = dir.join("Cargo.lock");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

/// The one `lockfile-incomplete` finding of an audit that must fail on it alone.
fn only_incomplete(report: &serde_json::Value, code: i32, stderr: &str) -> serde_json::Value {
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["result"], "fail");
    let incomplete = rule_findings(report, "lockfile-incomplete");
    assert_eq!(incomplete.len(), 1, "{:#}", report["rule_findings"]);
    assert_eq!(incomplete[0]["verdict"], "violation");
    incomplete[0].clone()
}

const SMALLVEC_LOCKED: &str = "name = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"";

#[test]
fn a_lockfile_that_locks_a_version_outside_the_requirement_cannot_pass() {
    // `mid 1.0.0` needs smallvec ^1.6; a lockfile that locks a smallvec it does not accept
    // (an older one, or a pre-release, which ^1.6 never matches) has not locked what it needs.
    let home = util::CargoHome::new();
    for version in ["0.1.0", "1.5.0", "2.0.0-alpha.1", "1.6.0-rc.1"] {
        let dir = tempfile::tempdir().unwrap();
        let lockfile = edited_complete_lockfile(
            dir.path(),
            SMALLVEC_LOCKED,
            &SMALLVEC_LOCKED.replace("1.6.0", version),
        );
        let (report, code, stderr) = audit(&home, &["--lockfile"], &lockfile);
        let finding = only_incomplete(&report, code, &stderr);
        assert_eq!(finding["subject"], "mid 1.0.0 -> smallvec", "{version}");
        let message = finding["message"].as_str().unwrap();
        assert!(
            message.contains("locks no smallvec matching ^1.6"),
            "{message}"
        );
    }
    // A version that meets it passes the check.
    let dir = tempfile::tempdir().unwrap();
    let lockfile = edited_complete_lockfile(
        dir.path(),
        SMALLVEC_LOCKED,
        &SMALLVEC_LOCKED.replace("1.6.0", "1.13.2"),
    );
    let (report, _, stderr) = audit(&home, &["--lockfile"], &lockfile);
    assert!(
        rule_findings(&report, "lockfile-incomplete").is_empty(),
        "{:#}\n{stderr}",
        report["rule_findings"]
    );
}

#[test]
fn a_registry_dependency_relabelled_as_path_or_git_cannot_pass() {
    // The same smallvec 1.6.0, but Cargo.lock calls it a path or git package: the advisory
    // database never matches those, so the crates.io smallvec `mid` needs would be hidden.
    let home = util::CargoHome::new();
    let crates_io = "source = \"registry+https://github.com/rust-lang/crates.io-index\"";
    for relabelled in [
        SMALLVEC_LOCKED.replace(&format!("\n{crates_io}"), ""),
        SMALLVEC_LOCKED.replace(
            crates_io,
            "source = \"git+https://github.com/servo/rust-smallvec?rev=abc#0123456789abcdef0123456789abcdef01234567\"",
        ),
        SMALLVEC_LOCKED.replace(
            crates_io,
            "source = \"registry+https://registry.example.org/index\"",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let lockfile = edited_complete_lockfile(dir.path(), SMALLVEC_LOCKED, &relabelled);
        let (report, code, stderr) = audit(&home, &["--lockfile"], &lockfile);
        let finding = only_incomplete(&report, code, &stderr);
        assert_eq!(finding["subject"], "mid 1.0.0 -> smallvec", "{relabelled}");
        let message = finding["message"].as_str().unwrap();
        assert!(message.contains("from crates.io for it"), "{message}");
    }
}

/// The `lockfile-incomplete` workspace with `mid` locked as `version` (the manifest's `mid = "1"`
/// still accepts it) and smallvec locked for it, so only the index can object.
fn workspace_locking_mid(dir: &Path, version: &str) -> std::path::PathBuf {
    util::copy_dir(&fixture("lockfile-incomplete/workspace"), dir);
    let complete =
        std::fs::read_to_string(fixture("lockfile-incomplete/complete.Cargo.lock")).unwrap();
    let from = "name = \"mid\"\nversion = \"1.0.0\"";
    assert!(complete.contains(from));
    let to = format!("name = \"mid\"\nversion = \"{version}\"");
    std::fs::write(dir.join("Cargo.lock"), complete.replace(from, &to)).unwrap();
    dir.join("Cargo.toml")
}

#[test]
fn a_fallback_lockfile_cannot_escape_the_index_by_locking_an_unlisted_version() {
    // cargo was asked and could not run, so the project's lockfile was read: a crates.io package
    // the index does not list at its locked version (a version it never published, or build
    // metadata) cannot have its needs checked, and cannot pass.
    let home = util::CargoHome::new();
    for version in ["1.0.0+build1", "1.0.7"] {
        let ws = tempfile::tempdir().unwrap();
        let manifest = workspace_locking_mid(ws.path(), version);
        let (report, code, stderr) = audit(&home, &["--manifest-path"], &manifest);
        assert!(stderr.contains("was not confirmed by cargo"), "{stderr}");
        let finding = only_incomplete(&report, code, &stderr);
        assert_eq!(finding["subject"], format!("mid {version}"));
        let message = finding["message"].as_str().unwrap();
        assert!(
            message.contains("is not listed by the registry index at this version, so what it needs cannot be checked"),
            "{message}"
        );
    }
    // The same lockfile with the listed version passes the check.
    let ws = tempfile::tempdir().unwrap();
    let manifest = workspace_locking_mid(ws.path(), "1.0.0");
    let (report, _, stderr) = audit(&home, &["--manifest-path"], &manifest);
    assert!(
        rule_findings(&report, "lockfile-incomplete").is_empty(),
        "{:#}\n{stderr}",
        report["rule_findings"]
    );
}

#[test]
fn a_fallback_lockfile_without_any_registry_index_cannot_pass() {
    // No index at all: no crates.io package's needs can be checked, so none passes unchecked.
    let home = util::CargoHome::new();
    let ws = tempfile::tempdir().unwrap();
    let manifest = workspace_locking_mid(ws.path(), "1.0.0");
    let (report, code, stderr) =
        run_json(audit_without_index(&home, &["--manifest-path"], &manifest));
    assert_eq!(code, 1, "{stderr}");
    let subjects: Vec<&str> = rule_findings(&report, "lockfile-incomplete")
        .iter()
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["mid 1.0.0", "smallvec 1.6.0"], "{stderr}");
}

#[test]
fn an_explicit_lockfile_is_trusted_where_the_index_cannot_check_it() {
    // With --lockfile the auditor chose the lockfile: a version the index does not list stays a
    // `registry-facts` warning, and the report says the lockfile was trusted.
    let home = util::CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let lockfile = edited_complete_lockfile(
        dir.path(),
        "name = \"mid\"\nversion = \"1.0.0\"",
        "name = \"mid\"\nversion = \"1.0.0+build1\"",
    );
    let (report, _, stderr) = audit(&home, &["--lockfile"], &lockfile);
    assert!(
        rule_findings(&report, "lockfile-incomplete").is_empty(),
        "{:#}\n{stderr}",
        report["rule_findings"]
    );
    let facts = rule_findings(&report, "registry-facts");
    assert_eq!(facts.len(), 1, "{:#}", report["rule_findings"]);
    assert_eq!(facts[0]["verdict"], "warning");
    let message = facts[0]["message"].as_str().unwrap();
    assert!(
        message.contains("with --lockfile the lockfile is trusted for them"),
        "{message}"
    );
}

#[test]
fn a_crate_renamed_in_case_still_meets_its_advisories() {
    // Cargo.lock locks `SmallVec 1.6.0` from crates.io with smallvec's checksum. The index path
    // is lowercase, so the lookup finds smallvec's entry; crates.io serves no `SmallVec`, so its
    // registry facts are unknown, and smallvec's advisory (RUSTSEC-2021-0003) still applies.
    let home = util::CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let lockfile = dir.path().join("Cargo.lock");
    std::fs::write(
        &lockfile,
        r#"version = 3

[[package]]
name = "app"
version = "1.0.0"
dependencies = ["SmallVec"]

[[package]]
name = "SmallVec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "1a55ca5f3b68e41c979bf8c46a6f1da892ca4db8f94023ce0bd32407573b1ac0"
"#,
    )
    .unwrap();
    let (report, code, stderr) = audit(&home, &["--lockfile"], &lockfile);
    assert_eq!(code, 1, "{stderr}\n{report:#}");
    assert_eq!(report["result"], "fail");
    assert!(
        util::finding_keys(&report)
            .iter()
            .any(|k| k.contains("RUSTSEC-2021-0003")),
        "{:?}",
        util::finding_keys(&report)
    );
    let facts = rule_findings(&report, "registry-facts");
    assert!(
        facts.iter().any(|f| f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("lists this crate as \"smallvec\", not \"SmallVec\"")),
        "{:#}",
        report["rule_findings"]
    );
}
