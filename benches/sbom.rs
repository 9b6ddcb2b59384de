//! SBOM generation speed (`cargo bench --bench sbom`): lockfile mode on a real lockfile and on
//! synthetic ones of 1k, 5k and 20k packages (growth should be linear), and cargo-metadata mode
//! on the demo fixture, beside `cargo cyclonedx` when it is installed. Aim: under 50 ms for
//! 1,000 packages. Not part of the test suite or CI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod common;
use common::median;

use charter_audit::inventory::{self, Features, InventoryOptions, InventorySource, Target};
use charter_audit::sbom::{self, Format, SbomOptions, Spec, Supplier};
use charter_audit::time::Stamp;

const RUNS: usize = 7;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let temp = tempfile::tempdir().unwrap();
    println!(
        "charter-audit sbom benchmarks (median of {RUNS} runs, parse + build + validate + JSON)\n"
    );
    println!(
        "{:<44} {:>9} {:>11} {:>14}",
        "input", "packages", "median", "per 1,000 pkg"
    );

    let real = root.join("../shared/lockfiles/nushell-2026-08.Cargo.lock");
    if real.exists() {
        lockfile_case("nushell-2026-08.Cargo.lock (real)", &real);
    } else {
        let copy = root.join("fixtures/lockfiles/real/nushell-2026-08.Cargo.lock");
        lockfile_case("nushell-2026-08.Cargo.lock (fixture copy)", &copy);
    }
    for size in [1_000, 5_000, 20_000] {
        let path = temp.path().join(format!("synthetic-{size}.Cargo.lock"));
        std::fs::write(&path, synthetic_lockfile(size)).unwrap();
        lockfile_case(&format!("synthetic, {size} packages"), &path);
    }

    println!();
    let demo = root.join("fixtures/workspaces/demo/Cargo.toml");
    let ours = median(RUNS, || {
        let inventory = inventory::take(&InventoryOptions {
            source: InventorySource::Manifest(demo.clone()),
            features: Features::default(),
            target: Target::Host,
            include_dev: false,
            offline: true,
            product: None,
        })
        .unwrap();
        sbom::generate(&inventory, &options()).unwrap();
    });
    println!(
        "{:<44} {:>9} {:>11}",
        "demo workspace, cargo-metadata mode",
        12,
        ms(ours)
    );
    cargo_cyclonedx_case(root, temp.path());
}

fn options() -> SbomOptions {
    SbomOptions {
        spec: Spec::V1_5,
        format: Format::Json,
        supplier: Some(Supplier {
            name: "Example Health Ltd".into(),
            ..Supplier::default()
        }),
        authors: Vec::new(),
        stamp: Stamp {
            time: time::OffsetDateTime::UNIX_EPOCH,
            reproducible: true,
        },
        evaluated_at: None,
        profile: sbom::Profile::Ntia2021,
        artifacts: Vec::new(),
    }
}

fn lockfile_case(label: &str, path: &Path) {
    let mut packages = 0;
    let time = median(RUNS, || {
        let inventory = inventory::lockfile::inventory(path, None, None).unwrap();
        packages = inventory.packages.len();
        sbom::generate(&inventory, &options()).unwrap();
    });
    let per_thousand = time.as_secs_f64() * 1000.0 / packages as f64 * 1000.0;
    println!(
        "{label:<44} {packages:>9} {:>11} {per_thousand:>11.1} ms",
        ms(time)
    );
}

fn cargo_cyclonedx_case(root: &Path, temp: &Path) {
    let installed = Command::new("cargo")
        .args(["cyclonedx", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        println!(
            "{:<44} not installed (cargo install cargo-cyclonedx --locked, to compare)",
            "cargo cyclonedx, same workspace"
        );
        return;
    }
    // cargo cyclonedx writes next to the manifest: run it on a copy.
    let copy = temp.join("demo");
    copy_dir(&root.join("fixtures/workspaces/demo"), &copy);
    let vendor = root.join("fixtures/vendor");
    std::fs::write(
        copy.join(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = {:?}\n",
            vendor.to_str().unwrap()
        ),
    )
    .unwrap();
    let time = median(RUNS, || {
        let status = Command::new("cargo")
            .args(["cyclonedx", "--format", "json"])
            .env("CARGO_NET_OFFLINE", "true")
            .current_dir(&copy)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    });
    println!(
        "{:<44} {:>9} {:>11}",
        "cargo cyclonedx, same workspace",
        12,
        ms(time)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A v4 lockfile of `n` crates.io packages, each depending on up to three earlier ones, and a
/// workspace package depending on the first fifty.
fn synthetic_lockfile(n: usize) -> String {
    let mut out = String::from("version = 4\n\n");
    let root_deps: Vec<String> = (0..n.min(50)).map(|i| format!(" \"pkg-{i}\",\n")).collect();
    write!(
        out,
        "[[package]]\nname = \"product\"\nversion = \"1.0.0\"\ndependencies = [\n{}]\n\n",
        root_deps.concat()
    )
    .unwrap();
    for i in 0..n {
        write!(
            out,
            "[[package]]\nname = \"pkg-{i}\"\nversion = \"1.{}.{}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{:064x}\"\n",
            i / 100,
            i % 100,
            i as u128 * 0x9e37_79b9_7f4a_7c15
        )
        .unwrap();
        let deps: Vec<usize> = [i / 2, i / 3, i / 5]
            .into_iter()
            .filter(|&d| d < i)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !deps.is_empty() {
            out.push_str("dependencies = [\n");
            for d in deps {
                writeln!(out, " \"pkg-{d}\",").unwrap();
            }
            out.push_str("]\n");
        }
        out.push('\n');
    }
    out
}
