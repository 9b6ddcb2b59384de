//! A snapshot of every subcommand's `--help`: a change to the interface shows up in review.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use assert_cmd::Command;

fn help(args: &[&str]) -> String {
    let output = Command::cargo_bin("charter-audit")
        .unwrap()
        .args(args)
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!("help", help(&[]));
}

#[test]
fn every_subcommand_help() {
    for sub in [
        "sbom", "audit", "attest", "verify", "keygen", "bundle", "policy",
    ] {
        insta::assert_snapshot!(format!("help_{sub}"), help(&[sub]));
    }
}

#[test]
fn version_is_printed() {
    let output = Command::cargo_bin("charter-audit")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("charter-audit {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    let output = Command::cargo_bin("charter-audit")
        .unwrap()
        .args(["sbom", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("[possible values: json, xml]"), "{stderr}");
}
