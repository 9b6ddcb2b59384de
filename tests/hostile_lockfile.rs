//! The audited project's `Cargo.lock` is hostile input: it is read only as a regular file of
//! bounded size (never a FIFO, a device or a link the project planted), and the crate names in
//! it are checked before any becomes a path in a registry index. Each case: exit 2, a message
//! naming the file and what is wrong, no panic, no hang.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::Path;
use std::time::Duration;

use util::{CargoHome, charter_audit, copy_workspace};

/// Runs `args` and asserts a refusal within a minute (a FIFO read would hang; a read of
/// `/dev/zero` would run until memory runs out).
fn refused(home: &CargoHome, args: &[impl AsRef<std::ffi::OsStr>], expect: &[&str]) -> String {
    let output = charter_audit(home)
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for part in expect {
        assert!(stderr.contains(part), "expected {part:?} in:\n{stderr}");
    }
    stderr
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo failed");
}

#[test]
fn a_lockfile_that_is_a_fifo_or_a_device_is_refused_not_read() {
    let home = CargoHome::new();
    // (what replaces the project's Cargo.lock, what the message calls it)
    type Case = (&'static str, fn(&Path), &'static str);
    let cases: [Case; 2] = [
        ("fifo", mkfifo, "a FIFO"),
        (
            "link to /dev/zero",
            |path| std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
            "a symbolic link",
        ),
    ];
    for (case, make, what) in cases {
        let ws = copy_workspace("demo");
        let lock = ws.path().join("Cargo.lock");
        std::fs::remove_file(&lock).unwrap();
        make(&lock);
        let manifest = ws.path().join("app/Cargo.toml");
        // Workspace mode: refused before cargo (which reads the lockfile too) starts.
        let stderr = refused(
            &home,
            &[
                "sbom",
                "--offline",
                "--manifest-path",
                &manifest.to_string_lossy(),
            ],
            &[what, "not a regular file", "Cargo.lock"],
        );
        assert!(stderr.contains("Cargo.lock"), "{case}: {stderr}");
        // Lockfile mode, given the project's folder: its Cargo.lock is the project's file.
        refused(
            &home,
            &["sbom", "--lockfile", &ws.path().to_string_lossy()],
            &[what, "not a regular file"],
        );
    }
    // A device the user names directly (or through a link the user names) is not read either.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("Cargo.lock");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    for path in [Path::new("/dev/zero"), link.as_path()] {
        refused(
            &home,
            &["sbom", "--lockfile", &path.to_string_lossy()],
            &["a device", "not a regular file"],
        );
    }
}

/// The demo workspace's lockfile with one more registry package named `name`.
fn lockfile_with(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(util::fixture("workspaces/demo/Cargo.lock")).unwrap();
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        format!(
            "{text}\n[[package]]\nname = {name:?}\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        ),
    )
    .unwrap();
    (dir, lock)
}

/// `audit` of `lock`, offline, with `index` as the registry index (where names become paths).
fn audit_args(lock: &Path, index: &Path) -> Vec<String> {
    let mut args: Vec<String> = ["audit", "--offline", "--now", util::NOW, "--lockfile"]
        .map(str::to_owned)
        .into();
    args.push(lock.to_string_lossy().into_owned());
    args.push("--registry-index".to_owned());
    args.push(index.to_string_lossy().into_owned());
    args.push("--advisory-db".to_owned());
    args.push(
        util::fixture("advisories/rustsec")
            .to_string_lossy()
            .into_owned(),
    );
    args
}

#[test]
fn a_crate_name_in_the_lockfile_cannot_leave_the_index_folder() {
    let home = CargoHome::new();
    let index = tempfile::tempdir().unwrap();
    for name in ["../../../../dev/zero", "a/../../b", "..\\..\\x"] {
        let (_dir, lock) = lockfile_with(name);
        let line = std::fs::read_to_string(&lock)
            .unwrap()
            .lines()
            .position(|l| l.starts_with("name = ") && l.contains(&format!("{name:?}")))
            .unwrap()
            + 1;
        refused(
            &home,
            &audit_args(&lock, index.path()),
            &[
                &lock.to_string_lossy(),
                &format!("line {line}"),
                "is not a crate name cargo accepts",
            ],
        );
    }
}

#[test]
fn a_crate_name_that_is_not_ascii_is_refused_not_a_panic() {
    let home = CargoHome::new();
    let index = tempfile::tempdir().unwrap();
    for name in ["é", "ab\u{e9}cd", &"a".repeat(65)] {
        let (_dir, lock) = lockfile_with(name);
        refused(
            &home,
            &audit_args(&lock, index.path()),
            &[&lock.to_string_lossy(), "is not a crate name cargo accepts"],
        );
    }
}

#[test]
fn a_fifo_lockfile_at_a_workspace_root_named_by_a_member_cannot_hang_the_audit() {
    // The member is not below its workspace root: its `package.workspace` names `../root`, so
    // no folder above the member holds the root's Cargo.lock, and cargo would wait on it.
    let home = CargoHome::new();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let member = dir.path().join("member");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(member.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"../member\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    std::fs::write(
        member.join("Cargo.toml"),
        "[package]\nname = \"member\"\nversion = \"1.0.0\"\nedition = \"2021\"\nworkspace = \"../root\"\n",
    )
    .unwrap();
    std::fs::write(member.join("src/lib.rs"), "").unwrap();
    let lock = root.join("Cargo.lock");
    mkfifo(&lock);
    let manifest = member.join("Cargo.toml");
    let manifest = manifest.to_string_lossy();
    let database = util::fixture("advisories/rustsec");
    let database = database.to_string_lossy();
    let sbom = ["sbom", "--offline", "--manifest-path", &manifest];
    let audit = [
        "audit",
        "--offline",
        "--manifest-path",
        &manifest,
        "--advisory-db",
        &database,
    ];
    for args in [&sbom[..], &audit[..]] {
        refused(
            &home,
            args,
            &["a FIFO", "not a regular file", &lock.to_string_lossy()],
        );
    }
}
