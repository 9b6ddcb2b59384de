//! The RustSec database folder is input like any other: a link to `/dev/zero`, a FIFO, a file
//! of gigabytes or a folder that leads elsewhere must stop the audit with exit 2 naming the
//! file, quickly and in bounded memory, never hang it or exhaust memory.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use util::{CargoHome, NOW, charter_audit, copy_dir, fixture};

/// A copy of the fixture RustSec database in a new temporary folder.
fn database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("db");
    copy_dir(&fixture("advisories/rustsec"), &root);
    (dir, root)
}

/// `audit` of the demo lockfile with `root` as its RustSec database; stopped after 60 s, so a
/// hang is a failure, not a stuck test run.
fn audit(root: &Path) -> (Option<i32>, String, Duration) {
    audit_with("--advisory-db", root)
}

/// `audit` of the demo lockfile with `source` given to `flag` as its only advisory source.
fn audit_with(flag: &str, source: &Path) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let output = charter_audit(&CargoHome::new())
        .args(["audit", "--offline", "--now", NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg(flag)
        .arg(source)
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

fn assert_refused(root: &Path, file: &str, what: &str) {
    let (code, stderr, took) = audit(root);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(file), "names the file {file}: {stderr}");
    assert!(stderr.contains(what), "says {what}: {stderr}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn the_fixture_copy_audits_as_before() {
    let (_dir, root) = database();
    let (code, stderr, _) = audit(&root);
    assert_eq!(code, Some(1), "{stderr}");
}

#[test]
fn an_advisory_linked_to_dev_zero_is_refused_not_read() {
    let (_dir, root) = database();
    let link = root.join("crates/regex/RUSTSEC-2099-0001.md");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    assert_refused(&root, "RUSTSEC-2099-0001.md", "a symbolic link");
}

#[test]
fn an_advisory_linked_to_a_file_outside_the_database_is_refused() {
    let (dir, root) = database();
    let outside = dir.path().join("RUSTSEC-2099-0002.md");
    std::fs::copy(
        util::files_under(&root.join("crates/regex"))[0].clone(),
        &outside,
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, root.join("crates/regex/RUSTSEC-2099-0002.md")).unwrap();
    assert_refused(&root, "RUSTSEC-2099-0002.md", "a symbolic link");
}

#[test]
fn a_fifo_in_the_database_cannot_hang_the_audit() {
    let (_dir, root) = database();
    let fifo = root.join("crates/regex/RUSTSEC-2099-0003.md");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    assert_refused(&root, "RUSTSEC-2099-0003.md", "a FIFO");
}

#[test]
fn a_crate_folder_linked_out_of_the_database_is_refused() {
    let (dir, root) = database();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, root.join("crates/linked")).unwrap();
    assert_refused(&root, "crates/linked", "a symbolic link");
}

#[test]
fn an_oversized_advisory_is_refused_without_reading_it_whole() {
    let (_dir, root) = database();
    let big = root.join("crates/regex/RUSTSEC-2099-0004.md");
    // Sparse: 4 GiB claimed, nothing written.
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(4 << 30).unwrap();
    assert_refused(&root, "RUSTSEC-2099-0004.md", "1048576-byte limit");
}

#[test]
fn an_osv_export_that_is_a_device_or_a_fifo_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("all.zip");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let fifo = dir.path().join("fifo.zip");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let folder = dir.path().join("osv");
    copy_dir(&fixture("advisories/osv"), &folder);
    let record = util::files_under(&folder)
        .into_iter()
        .find(|f| f.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let planted = record.with_file_name("PLANTED-0001.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&planted)
            .status()
            .unwrap()
            .success()
    );
    for (source, what) in [(&zero, "/dev/zero"), (&fifo, "fifo.zip")] {
        let (code, stderr, took) = audit_with("--osv-db", source);
        assert_eq!(code, Some(2), "{what}: {stderr}");
        assert!(stderr.contains(what), "names {what}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{stderr}");
        assert!(took < Duration::from_secs(30), "{what} took {took:?}");
    }
    // A FIFO in an export folder is not a record: the listing skips it, and the audit is not held.
    let (code, stderr, took) = audit_with("--osv-db", &folder);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
}
