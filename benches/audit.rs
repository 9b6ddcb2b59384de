//! `audit` speed beside cargo-audit (`cargo bench --bench audit`): the same lockfile
//! (nushell-2026-08, 1,035 packages), the same RustSec snapshot, one run of each in turn;
//! cargo-audit with its yanked check off. Ours gets its registry facts from
//! ../shared/registry-index. Database load, matching and registry facts are timed apart.
//! Not part of the test suite or CI; needs ../shared and, for the comparison, cargo-audit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;
use common::median;

use charter_audit::advisories::{self, SourceOptions};
use charter_audit::net::{Http, HttpOptions};
use charter_audit::policy::assess::{self, Registry};
use charter_audit::registry::{DirIndex, Lookups, apply};

const RUNS: usize = 11;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    let lockfile = shared.join("lockfiles/nushell-2026-08.Cargo.lock");
    let db = shared.join("advisory-db/rustsec");
    let index = shared.join("registry-index");
    if !lockfile.exists() {
        println!("../shared is not here: nothing to measure");
        return;
    }
    let now = time::macros::datetime!(2026-09-01 0:00 UTC);
    let http = Http::new(HttpOptions::new(true, Duration::from_secs(30))).unwrap();
    let options = SourceOptions {
        advisory_db: Some(db.clone()),
        offline: true,
        ..SourceOptions::default()
    };
    println!("audit of nushell-2026-08.Cargo.lock (1,035 packages), median of {RUNS} runs\n");
    let load = median(RUNS, || {
        advisories::load(&options, &http).unwrap();
    });
    let database = advisories::load(&options, &http).unwrap();
    let inventory = charter_audit::inventory::lockfile::inventory(&lockfile, None, None).unwrap();
    let matching = median(RUNS, || {
        advisories::check(&inventory, &database);
    });
    let (findings, _) = advisories::check(&inventory, &database);
    let facts = median(RUNS, || {
        let packages = inventory
            .packages
            .iter()
            .map(|p| (p.name.as_str(), &p.version));
        // Read from the index folder itself: the compiled facts are measured by `offline`.
        let lookups = Lookups::fetch(
            &DirIndex {
                root: index.clone(),
            },
            packages,
            now,
            None,
        )
        .unwrap();
        let packages = apply::components(&inventory, Some(&lookups));
        assess::join(findings.clone(), &packages, Registry::Index(Some(&lookups)));
    });
    println!(
        "  charter-audit, database load (1,205 advisories)   {}",
        ms(load)
    );
    println!(
        "  charter-audit, matching                          {}",
        ms(matching)
    );
    println!(
        "  charter-audit, registry facts (sparse index dir) {}",
        ms(facts)
    );

    let ours = median(RUNS, || {
        let status = Command::new(env!("CARGO_BIN_EXE_charter-audit"))
            .args(["audit", "--offline", "--format", "json", "-o", "/dev/null"])
            .args(["--now", "2026-09-01T00:00:00Z", "--lockfile"])
            .arg(&lockfile)
            .arg("--advisory-db")
            .arg(&db)
            .arg("--registry-index")
            .arg(&index)
            .output()
            .unwrap();
        assert_eq!(status.status.code(), Some(1));
    });
    println!(
        "  charter-audit, end to end (process)              {}",
        ms(ours)
    );

    let installed = Command::new("cargo")
        .args(["audit", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        println!("  cargo-audit: not installed (cargo install cargo-audit --locked, to compare)");
        return;
    }
    let config = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(config.path().join(".cargo")).unwrap();
    std::fs::write(
        config.path().join(".cargo/audit.toml"),
        "[yanked]\nenabled = false\n",
    )
    .unwrap();
    let theirs = median(RUNS, || {
        let output = Command::new("cargo")
            .args(["audit", "--no-fetch", "--stale", "--json", "--db"])
            .arg(&db)
            .arg("--file")
            .arg(&lockfile)
            .current_dir(config.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
    });
    println!(
        "  cargo-audit, end to end (process, yanked off)    {}",
        ms(theirs)
    );
    println!(
        "\n  charter-audit / cargo-audit: {:.2}",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}

fn ms(d: Duration) -> String {
    format!("{:7.1} ms", d.as_secs_f64() * 1000.0)
}
