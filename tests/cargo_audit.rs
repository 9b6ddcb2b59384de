//! Cross-check with cargo-audit: on the shared lockfiles and the fixtures, the vulnerability,
//! unmaintained and unsound findings equal cargo-audit's on the same database snapshot (its
//! answers are kept in fixtures/cargo-audit; see the README there).
//! The real lockfiles need `../shared`, which a fresh clone does not have: that test is
//! ignored there, with the reason, and `.ci/run` runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::collections::BTreeSet;
use std::path::Path;

use util::{CargoHome, audit_json, fixture};

fn ours(report: &serde_json::Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            ["vulnerability", "unmaintained", "unsound"].contains(&f["kind"].as_str().unwrap())
        })
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["package"]["name"].as_str().unwrap(),
                f["package"]["version"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                f["kind"].as_str().unwrap()
            )
        })
        .collect()
}

/// Compares charter-audit's findings with each kept answer whose file name starts with
/// `prefix`, using the RustSec database at `db` in both forms (`rustsec/`, native; `osv`, the
/// OSV export); returns how many answers were compared.
fn compare(prefix: &str, rustsec: &Path, osv: &Path) -> usize {
    let home = CargoHome::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(fixture("cargo-audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    entries.sort();
    for expected_file in entries {
        let kept: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&expected_file).unwrap()).unwrap();
        let expected: BTreeSet<String> = kept["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect();
        let lockfile = root.join(kept["lockfile"].as_str().unwrap());
        for flags in [
            ["--advisory-db", rustsec.to_str().unwrap()],
            ["--osv-db", osv.to_str().unwrap()],
        ] {
            let (report, _, _) = audit_json(&home, &lockfile, &flags);
            assert_eq!(
                ours(&report),
                expected,
                "{} with {}",
                expected_file.display(),
                flags[0]
            );
        }
        checked += 1;
    }
    checked
}

/// The fixtures' lockfiles, against `fixtures/cargo-audit/advisory-db`: every advisory of the
/// snapshot cargo-audit ran on for every crate those lockfiles name (and no other), so the
/// answers are the same as on the whole snapshot.
#[test]
fn findings_on_the_fixtures_equal_cargo_audits() {
    let db = fixture("cargo-audit/advisory-db");
    let checked = compare("fixture-", &db.join("rustsec"), &db.join("osv"));
    assert_eq!(checked, 5, "every kept answer for a fixture was compared");
}

/// Real projects' lockfiles, against the whole snapshot in `../shared/advisory-db`.
#[test]
#[ignore = "needs ../shared: run by .ci/run"]
fn findings_on_real_lockfiles_equal_cargo_audits() {
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/advisory-db");
    let checked = compare("shared-", &db.join("rustsec"), &db.join("osv/crates"));
    assert_eq!(
        checked, 5,
        "every kept answer for a real lockfile was compared"
    );
}
