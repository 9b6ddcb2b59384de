//! The lockfile fallback's judgement of whether `Cargo.lock` still locks the manifests, held
//! against real cargo's on the workspaces in `fixtures/lockcheck`.

use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Whether real cargo accepts the lockfile: `cargo metadata --locked --offline`.
fn cargo_accepts(manifest: &Path, home: &Path) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_HOME", home)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_lockfile_fallback_accepts_and_refuses_what_cargo_does() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lockcheck");
    let home = tempfile::tempdir().unwrap();
    let mut cases: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let (mut accepted, mut refused) = (0, 0);
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&case, copy.path());
        let manifest = copy.path().join("Cargo.toml");
        let lockfile = copy.path().join("Cargo.lock");
        let before = std::fs::read(&lockfile).unwrap();
        let (cargo, why) = cargo_accepts(&manifest, home.path());
        // The fixture's name says what cargo does, so a change of cargo's rules shows here.
        assert_eq!(
            cargo,
            !name.starts_with("refuse-"),
            "{name}: cargo says {why}"
        );
        let ours = super::ensure_lockfile_current(&manifest, &lockfile, true);
        assert_eq!(
            ours.is_ok(),
            cargo,
            "{name}: cargo {} it, the fallback {}: {ours:?}",
            if cargo { "accepts" } else { "refuses" },
            if cargo { "refuses" } else { "accepts" },
        );
        if let Err(error) = ours {
            let message = error.to_string();
            assert!(message.contains("out of date"), "{name}: {message}");
        }
        assert_eq!(before, std::fs::read(&lockfile).unwrap(), "{name}");
        if cargo {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        accepted >= 5 && refused >= 5,
        "{accepted} accepted, {refused} refused"
    );
}
