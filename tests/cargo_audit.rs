//! Cross-check with cargo-audit: on the shared lockfiles and the fixtures, the vulnerability,
//! unmaintained and unsound findings equal cargo-audit's on the same database snapshot (its
//! answers are kept in fixtures/cargo-audit; see the README there).
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

#[test]
fn findings_equal_cargo_audits() {
    let home = CargoHome::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let db = root.join("../shared/advisory-db");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(fixture("cargo-audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for expected_file in entries {
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&expected_file).unwrap()).unwrap();
        let expected: BTreeSet<String> = expected["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect();
        let lockfile = root.join(
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&expected_file).unwrap())
                .unwrap()["lockfile"]
                .as_str()
                .unwrap(),
        );
        for flags in [
            ["--advisory-db", db.join("rustsec").to_str().unwrap()],
            ["--osv-db", db.join("osv/crates").to_str().unwrap()],
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
    assert_eq!(checked, 10, "every kept answer was compared");
}
