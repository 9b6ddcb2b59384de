//! Every bad input: exit code 2, a message naming the file and the fix, no output file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use util::{CargoHome, charter_audit, copy_workspace, fixture};

/// Runs `sbom` with `-o` into a fresh folder; asserts exit 2, no output, and the message parts.
fn fails(home: &CargoHome, args: &[&str], expect: &[&str]) -> String {
    fails_with(home, args, expect, |_| {})
}

fn fails_with(
    home: &CargoHome,
    args: &[&str],
    expect: &[&str],
    tweak: impl FnOnce(&mut assert_cmd::Command),
) -> String {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("sbom.cdx.json");
    let mut cmd = charter_audit(home);
    cmd.arg("sbom").args(args).arg("-o").arg(&out);
    tweak(&mut cmd);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(!out.exists(), "an output file was written");
    assert_eq!(
        std::fs::read_dir(out_dir.path()).unwrap().count(),
        0,
        "something was left in the output folder"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for part in expect {
        assert!(stderr.contains(part), "expected {part:?} in:\n{stderr}");
    }
    stderr
}

/// Rewrites a file of a workspace copy.
fn edit(path: &Path, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, change(text)).unwrap();
}

fn manifest(dir: &Path) -> String {
    dir.join("Cargo.toml").to_string_lossy().into_owned()
}

#[test]
fn no_cargo_toml() {
    let home = CargoHome::new();
    let empty = tempfile::tempdir().unwrap();
    let m = manifest(empty.path());
    fails(
        &home,
        &["--manifest-path", &m, "--offline"],
        &["no Cargo.toml at", &m, "--manifest-path"],
    );
}

#[test]
fn cargo_toml_that_does_not_parse() {
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    std::fs::write(
        ws.path().join("app/Cargo.toml"),
        "[package\nname = \"demo-app\"\n",
    )
    .unwrap();
    fails(
        &home,
        &["--manifest-path", &manifest(ws.path()), "--offline"],
        &[
            "Cargo.toml does not parse",
            "app/Cargo.toml:1:9",
            "unclosed table",
        ],
    );
}

#[test]
fn no_cargo_lock() {
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    std::fs::remove_file(ws.path().join("Cargo.lock")).unwrap();
    fails(
        &home,
        &["--manifest-path", &manifest(ws.path()), "--offline"],
        &["no Cargo.lock", "cargo generate-lockfile"],
    );
}

#[test]
fn cargo_lock_that_does_not_parse() {
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    let lock = ws.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        "version = 4\n\n[[package]]\nname = \"regex\"\nversion = 1.5.4\n",
    )
    .unwrap();
    let lock_str = lock.to_string_lossy().into_owned();
    // Read directly: the lockfile parser names the line and column.
    fails(
        &home,
        &["--lockfile", &lock_str],
        &[
            &lock_str,
            "Cargo.lock does not parse",
            "line 5, column 14: invalid float",
        ],
    );
    // Through cargo: cargo refuses it first, and the message still names the file.
    fails(
        &home,
        &["--manifest-path", &manifest(ws.path()), "--offline"],
        &[
            &format!("{lock_str}: Cargo.lock does not parse"),
            "line 5, column 14",
        ],
    );
}

#[test]
fn a_merge_conflicted_lockfile_says_so_and_what_to_do() {
    // As found in a real project's history: two branches each bumped a package.
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    let lock = ws.path().join("Cargo.lock");
    edit(&lock, |text| {
        let (head, tail) = text.split_once("[[package]]\nname = \"regex\"").unwrap();
        format!(
            "{head}<<<<<<< HEAD\n[[package]]\nname = \"regex\"{tail}=======\n[[package]]\nname = \"regex\"\nversion = \"1.5.5\"\n>>>>>>> feature\n"
        )
    });
    let line = std::fs::read_to_string(&lock)
        .unwrap()
        .lines()
        .position(|l| l == "<<<<<<< HEAD")
        .unwrap()
        + 1;
    let lock_str = lock.to_string_lossy().into_owned();
    let expect = [
        lock_str.as_str(),
        "merge-conflict markers",
        &format!("`<<<<<<<` at line {line}"),
        "git checkout --ours Cargo.lock",
        "cargo update --workspace",
    ];
    // Read directly, and through cargo (which refuses it first).
    let direct = fails(&home, &["--lockfile", &lock_str], &expect);
    let through_cargo = fails(
        &home,
        &["--manifest-path", &manifest(ws.path()), "--offline"],
        &expect,
    );
    for stderr in [direct, through_cargo] {
        assert!(!stderr.contains("TOML parse error"), "{stderr}");
    }
}

#[test]
fn cargo_lock_out_of_date() {
    let home = CargoHome::new();
    let ws = copy_workspace("demo");
    edit(&ws.path().join("app/Cargo.toml"), |text| {
        text.replace("[dependencies]\n", "[dependencies]\nmemchr = \"2.4\"\n")
    });
    let before = std::fs::read(ws.path().join("Cargo.lock")).unwrap();
    fails(
        &home,
        &["--manifest-path", &manifest(ws.path()), "--offline"],
        &["out of date", "cargo update", "never changes it"],
    );
    assert_eq!(
        before,
        std::fs::read(ws.path().join("Cargo.lock")).unwrap(),
        "Cargo.lock was modified"
    );
}

#[test]
fn out_of_date_lockfile_is_never_a_fallback() {
    // A git dependency sends cargo offline into the lockfile fallback, but the lockfile does
    // not lock what the manifest now asks for: refuse rather than describe the wrong product.
    let home = CargoHome::new();
    let ws = copy_workspace("with-git");
    edit(&ws.path().join("Cargo.toml"), |text| {
        format!("{text}regex = \"1.5\"\n")
    });
    fails(
        &home,
        &["--manifest-path", &manifest(ws.path()), "--offline"],
        &["out of date", "regex"],
    );
}

#[test]
fn a_lockfile_from_another_git_source_with_a_removed_dependency_or_before_a_release_bump_is_never_a_fallback()
 {
    let home = CargoHome::new();
    for (change, expect) in [
        (("rev = \"9f1c2e4\"", "rev = \"0000000\""), "rev=0000000"),
        (
            ("example-health/nhs-number", "attacker/nhs-number"),
            "attacker/nhs-number",
        ),
        (("smallvec = \"1.6\"\n", ""), "no longer declares it"),
        // A release bump the lockfile has not seen.
        (
            ("version = \"2.0.0\"", "version = \"2.0.1\""),
            "workspace member `referral-gateway 2.0.1` is not in it",
        ),
    ] {
        let manifest_text =
            std::fs::read_to_string(fixture("workspaces/with-git/Cargo.toml")).unwrap();
        assert!(manifest_text.contains(change.0), "{}", change.0);
        let ws = copy_workspace("with-git");
        edit(&ws.path().join("Cargo.toml"), |text| {
            text.replace(change.0, change.1)
        });
        fails(
            &home,
            &["--manifest-path", &manifest(ws.path()), "--offline"],
            &["out of date", expect],
        );
    }
}

#[test]
fn cargo_not_on_path() {
    let home = CargoHome::new();
    let empty = tempfile::tempdir().unwrap();
    fails_with(
        &home,
        &[
            "--manifest-path",
            &fixture("workspaces/demo/Cargo.toml").to_string_lossy(),
            "--offline",
        ],
        &[
            "the Rust compiler was not found (looked for `rustc` on PATH)",
            "install Rust",
            "--lockfile",
        ],
        |cmd| {
            cmd.env("PATH", empty.path())
                .env_remove("CARGO")
                .env_remove("RUSTC");
        },
    );
}

#[test]
fn cargo_not_found_names_cargo() {
    let home = CargoHome::new();
    let bin = tempfile::tempdir().unwrap();
    // rustc is there, cargo is not.
    let rustc = String::from_utf8(
        std::process::Command::new("rustup")
            .args(["which", "rustc"])
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default(),
    )
    .unwrap();
    let rustc = if rustc.trim().is_empty() {
        "rustc".to_owned()
    } else {
        rustc.trim().to_owned()
    };
    fails_with(
        &home,
        &[
            "--manifest-path",
            &fixture("workspaces/demo/Cargo.toml").to_string_lossy(),
            "--offline",
        ],
        &[
            "cargo was not found (looked for `cargo` on PATH)",
            "--lockfile",
        ],
        |cmd| {
            cmd.env("PATH", bin.path())
                .env_remove("CARGO")
                .env("RUSTC", &rustc);
        },
    );
}

#[test]
fn cargo_metadata_failing() {
    let home = CargoHome::new();
    fails(
        &home,
        &[
            "--manifest-path",
            &fixture("workspaces/demo/Cargo.toml").to_string_lossy(),
            "--offline",
            "--features",
            "no-such-feature",
        ],
        &["cargo metadata failed for", "no-such-feature"],
    );
}

#[test]
fn output_folder_missing() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing").join("sbom.json");
    let output = charter_audit(&home)
        .args(["sbom", "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("does not exist; create it first"),
        "{stderr}"
    );
    assert!(stderr.contains("missing"), "{stderr}");
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn source_date_epoch_not_a_number() {
    let home = CargoHome::new();
    fails_with(
        &home,
        &[
            "--lockfile",
            &fixture("workspaces/demo/Cargo.lock").to_string_lossy(),
        ],
        &[
            "SOURCE_DATE_EPOCH is `last tuesday`",
            "git log -1 --format=%ct",
        ],
        |cmd| {
            cmd.env("SOURCE_DATE_EPOCH", "last tuesday");
        },
    );
}

#[test]
fn lockfile_missing() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Cargo.lock").to_string_lossy().into_owned();
    fails(
        &home,
        &["--lockfile", &lock],
        &["no Cargo.lock at", &lock, "cargo generate-lockfile"],
    );
}

#[test]
fn bad_supplier_details() {
    let home = CargoHome::new();
    let lock = fixture("workspaces/demo/Cargo.lock")
        .to_string_lossy()
        .into_owned();
    fails(
        &home,
        &[
            "--lockfile",
            &lock,
            "--supplier",
            "X",
            "--supplier-url",
            "not a url",
        ],
        &["--supplier-url `not a url` is not a URL"],
    );
    fails(
        &home,
        &[
            "--lockfile",
            &lock,
            "--supplier",
            "X",
            "--supplier-contact",
            "nobody",
        ],
        &["--supplier-contact `nobody` is not an e-mail address"],
    );
}

#[test]
fn unknown_target_names_the_fix() {
    let home = CargoHome::new();
    fails(
        &home,
        &[
            "--manifest-path",
            &fixture("workspaces/demo/Cargo.toml").to_string_lossy(),
            "--offline",
            "--target",
            "nonsense",
        ],
        &[
            "`nonsense` is not a target rustc knows",
            "rustc --print target-list",
        ],
    );
}

#[test]
fn lockfile_flag_given_a_manifest_or_an_empty_lockfile() {
    let home = CargoHome::new();
    fails(
        &home,
        &[
            "--lockfile",
            &fixture("workspaces/demo/app/Cargo.toml").to_string_lossy(),
        ],
        &["this is a manifest, not a lockfile", "--manifest-path"],
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("Cargo.lock");
    std::fs::write(&empty, "version = 4\n").unwrap();
    fails(
        &home,
        &["--lockfile", &empty.to_string_lossy()],
        &["it locks no packages", "cargo generate-lockfile"],
    );
}

/// A key, an artifact or a CycloneDX attestation named by the user that is a FIFO or a device
/// is refused at once (exit 2, naming it): it was read without end, or waited on for ever.
#[cfg(unix)]
#[test]
fn a_key_or_artifact_that_is_a_fifo_or_a_device_is_refused_not_read() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("key.pub");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let envelope = dir.path().join("attestation.intoto.json");
    std::fs::write(&envelope, b"{}").unwrap();
    let fifo = fifo.to_str().unwrap();
    let envelope = envelope.to_str().unwrap();
    for args in [
        vec!["verify", envelope, "--key", fifo],
        vec!["verify", envelope, "--key", "/dev/zero"],
        vec![
            "attest",
            "--sign-key",
            fifo,
            "--report",
            envelope,
            "--sbom",
            envelope,
        ],
        vec!["sbom", "--lockfile", "LOCK", "--subject", fifo],
        vec!["attest", "--unsigned", "--report", fifo, "--sbom", envelope],
    ] {
        let lockfile = fixture("workspaces/demo/Cargo.lock");
        let args: Vec<&str> = args
            .iter()
            .map(|a| {
                if *a == "LOCK" {
                    lockfile.to_str().unwrap()
                } else {
                    a
                }
            })
            .collect();
        let output = charter_audit(&home)
            .args(&args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{args:?}: {stderr}");
    }
}
