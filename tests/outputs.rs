//! Where outputs land: one rule for symbolic links (`-o` and `--out-dir` alike, replaced, never
//! written through), and `keygen --out` that names a folder refused rather than writing a
//! hidden `.key` into it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;

use util::{CargoHome, charter_audit, fixture};

/// A file someone cares about, and a link to it planted where an output goes.
fn plant(dir: &Path, link: &Path) -> std::path::PathBuf {
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, link).unwrap();
    victim
}

fn assert_replaced(link: &Path, victim: &Path) {
    assert_eq!(std::fs::read_to_string(victim).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(link).unwrap();
    assert!(meta.is_file(), "{} is a file now", link.display());
    assert!(std::fs::metadata(link).unwrap().len() > 100);
}

#[test]
fn an_output_never_writes_through_a_symlink() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();

    // -o FILE
    let out = dir.path().join("sbom.cdx.json");
    let victim = plant(dir.path(), &out);
    let output = charter_audit(&home)
        .args(["sbom", "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_replaced(&out, &victim);

    // --out-dir DIR, with a link planted inside it.
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    let report = evidence.join("report.json");
    std::os::unix::fs::symlink(&victim, &report).unwrap();
    let output = util::demo_audit(&home)
        .args(["--out-dir"])
        .arg(&evidence)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_replaced(&report, &victim);

    // A device reached through a link (`/dev/stdout` is one) is still written to.
    let output = charter_audit(&home)
        .args(["sbom", "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .args(["-o", "/dev/stdout"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(output.stdout.starts_with(b"{"), "{output:?}");
}

#[test]
fn keygen_out_that_names_a_folder_is_refused_not_a_hidden_key() {
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    for out in [
        format!("{}/", keys.display()),
        format!("{}/.", keys.display()),
        format!("{}/..", keys.display()),
    ] {
        let output = charter_audit(&home)
            .current_dir(dir.path())
            .args(["keygen", "--out", &out])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{out}: {output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains("names a folder, not a prefix for the two files")
                && stderr.contains("release-signing.key"),
            "{out}: {stderr}"
        );
    }
    for relative in ["./", "."] {
        let output = charter_audit(&home)
            .current_dir(&keys)
            .args(["keygen", "--out", relative])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{relative}: {output:?}");
    }
    assert_eq!(
        std::fs::read_dir(&keys).unwrap().count(),
        0,
        "nothing written"
    );
    assert!(!dir.path().join(".key").exists() && !dir.path().join("..key").exists());

    // A prefix inside the folder is what works.
    let output = charter_audit(&home)
        .args(["keygen", "--out"])
        .arg(keys.join("release-signing"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let mut names: Vec<String> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["release-signing.key", "release-signing.pub"]);
}

#[test]
fn a_closed_standard_error_never_changes_the_exit_code() {
    // The read end is closed before the process starts, so every line it writes to standard
    // error fails: the exit code must still be the run's own (2: the lockfile is missing).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_charter-audit"))
        .args(["sbom", "--lockfile", "/nonexistent/Cargo.lock"])
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
}

#[test]
fn policy_init_to_a_dash_writes_standard_output_not_a_file_named_dash() {
    let dir = tempfile::tempdir().unwrap();
    let output = charter_audit(&CargoHome::new())
        .current_dir(dir.path())
        .args(["policy", "init", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("extends = \"nhs-charter\"")
    );
    assert!(!dir.path().join("-").exists(), "wrote a file named -");
}

#[test]
fn a_bundle_over_its_size_limit_is_named_as_a_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("submission.tar.gz");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(128 * 1024 * 1024 + 1).unwrap();
    let home = CargoHome::new();
    let prefix = dir.path().join("k");
    util::keygen(&home, &prefix);
    let output = charter_audit(&home)
        .args(["verify", "--bundle"])
        .arg(&big)
        .arg("--key")
        .arg(prefix.with_extension("pub"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("more than the 128 MiB a bundle may be"),
        "{stdout}{stderr}"
    );
}

#[test]
fn a_report_its_reader_did_not_read_whole_is_never_a_pass() {
    // `charter-audit audit | head -c 200` in a CI step: the reader stops early. The report was
    // not read, so the run is not a pass (0), whatever it found: exit 2, saying so. A listing
    // (`policy list | head`) may stop early.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let home = CargoHome::new();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_charter-audit"))
        .env("CARGO_HOME", home.path())
        .args(["audit", "--offline", "--now", util::DEMO_NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("standard output was closed"), "{stderr}");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let listing = std::process::Command::new(env!("CARGO_BIN_EXE_charter-audit"))
        .args(["policy", "list"])
        .stdout(writer)
        .status()
        .unwrap();
    assert_eq!(listing.code(), Some(0));
}
