//! An audit that writes no SBOM reads the NTIA minimum elements from the SBOM's model instead of
//! serialising it only to read it back (`sbom::completeness`). These tests hold the model's
//! answer to the bytes' answer (`ntia::check_bytes` of what `sbom::generate` writes), and the
//! audit's verdict to the same whether or not `--out-dir` writes the SBOM.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};

use charter_audit::inventory::{self, Features, InventoryOptions, InventorySource, Target};
use charter_audit::sbom::{self, Format, Profile, SbomOptions, Spec, Supplier};
use charter_audit::time::Stamp;
use util::{CargoHome, charter_audit, copy_workspace, fixture};

/// The ways an audit's SBOM is made: with and without a supplier (a blank one too), authors
/// (one blank), a reproducible stamp; 1.5 and 1.4, and 1.6, which is read from its bytes.
fn variants() -> Vec<SbomOptions> {
    let base = SbomOptions {
        spec: Spec::V1_5,
        format: Format::Json,
        supplier: None,
        authors: Vec::new(),
        stamp: Stamp {
            time: time::macros::datetime!(2026-09-01 00:00 UTC),
            reproducible: true,
        },
        evaluated_at: Some("2026-09-01T00:00:00Z".to_owned()),
        profile: Profile::Ntia2021,
        artifacts: Vec::new(),
    };
    let supplier = Supplier {
        name: "Example Health Ltd".to_owned(),
        url: Some("https://example.org".to_owned()),
        contact: None,
    };
    vec![
        base.clone(),
        SbomOptions {
            supplier: Some(supplier.clone()),
            authors: vec!["Release team".to_owned(), " ".to_owned()],
            ..base.clone()
        },
        SbomOptions {
            supplier: Some(Supplier {
                name: "  ".to_owned(),
                ..supplier.clone()
            }),
            stamp: Stamp {
                reproducible: false,
                ..base.stamp
            },
            ..base.clone()
        },
        SbomOptions {
            spec: Spec::V1_4,
            supplier: Some(supplier.clone()),
            ..base.clone()
        },
        SbomOptions {
            spec: Spec::V1_6,
            profile: Profile::BsiTr03183_2,
            supplier: Some(supplier),
            ..base
        },
    ]
}

fn options(source: InventorySource) -> InventoryOptions {
    InventoryOptions {
        source,
        features: Features {
            features: Vec::new(),
            all_features: false,
            no_default_features: false,
        },
        target: Target::All,
        include_dev: false,
        offline: true,
        product: None,
    }
}

/// The model's answer equals the bytes' answer for every variant; returns how many components
/// lacked an author in the plain variant (so that a caller can see gaps were compared).
fn model_reads_as_bytes(source: InventorySource) -> usize {
    let label = format!("{source:?}");
    let inventory = inventory::take(&options(source)).unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut gaps = 0;
    for (n, variant) in variants().iter().enumerate() {
        let document = sbom::generate(&inventory, variant).unwrap();
        let from_bytes = sbom::ntia::check_bytes(&document.bytes).unwrap();
        let (from_model, warnings) = sbom::completeness(&inventory, variant).unwrap();
        assert_eq!(from_model, from_bytes, "{label}, variant {n}");
        assert_eq!(warnings, document.warnings, "{label}, variant {n}");
        if n == 0 {
            assert_eq!(from_model.supplier, None, "{label}");
            gaps = from_model.without_author.len();
        }
    }
    gaps
}

fn lockfiles_in(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(lockfiles_in(&path));
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("Cargo.lock"))
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn the_model_reads_as_the_bytes_for_every_fixture_lockfile_and_binary() {
    let mut lockfiles = lockfiles_in(&fixture("lockfiles"));
    lockfiles.extend(lockfiles_in(&fixture("lockcheck")));
    lockfiles.extend(lockfiles_in(&fixture("lockfile-incomplete")));
    assert!(lockfiles.len() > 10, "{lockfiles:?}");
    let mut read = 0;
    let mut with_gaps = 0;
    for lockfile in lockfiles {
        // Some fixtures are lockfiles an audit refuses (that is what they test).
        if inventory::take(&options(InventorySource::Lockfile(lockfile.clone()))).is_err() {
            continue;
        }
        read += 1;
        with_gaps += usize::from(model_reads_as_bytes(InventorySource::Lockfile(lockfile)) > 0);
    }
    assert!(read > 10, "only {read} fixture lockfiles were read");
    assert!(
        with_gaps > 10,
        "lockfile components name no author, so each lacks one"
    );
    for binary in [
        "demo-app.elf",
        "demo-app.pe",
        "demo-app.macho",
        "demo-app.wasm",
    ] {
        model_reads_as_bytes(InventorySource::Binary {
            path: fixture("binaries").join(binary),
            allow_incomplete: false,
        });
    }
}

#[test]
#[ignore = "needs ../shared: run by .ci/run"]
fn the_model_reads_as_the_bytes_for_every_corpus_lockfile() {
    let corpus = lockfiles_in(&fixture("../../shared/lockfiles"));
    assert!(corpus.len() >= 5, "{corpus:?}");
    for lockfile in corpus {
        assert!(model_reads_as_bytes(InventorySource::Lockfile(lockfile)) > 0);
    }
}

/// `audit --format json` of the demo workspace (real `cargo metadata`, whose packages name
/// their authors) under the policy `config`, or of its lockfile when `lockfile`, and with
/// `--out-dir` besides when `out_dir`: the report, less the wall-clock time of its lookups.
fn demo_report(config: &str, lockfile: bool, out_dir: bool) -> serde_json::Value {
    let ws = copy_workspace("demo");
    let home = CargoHome::new();
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    let config_path = out.path().join("charter-audit.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut command = charter_audit(&home);
    command
        .env("SOURCE_DATE_EPOCH", "1780000000")
        .args(["audit", "--offline", "--now", "2026-09-01T00:00:00Z"])
        .arg(if lockfile {
            "--lockfile"
        } else {
            "--manifest-path"
        })
        .arg(
            ws.path()
                .join(if lockfile { "Cargo.lock" } else { "Cargo.toml" }),
        )
        .args(if lockfile {
            &[][..]
        } else {
            &["--target", "x86_64-unknown-linux-gnu"][..]
        })
        .arg("--config")
        .arg(&config_path)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .args(["--format", "json", "-o"])
        .arg(&report);
    if out_dir {
        command.arg("--out-dir").arg(out.path().join("evidence"));
    }
    let output = command.output().unwrap();
    assert!(
        output.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if out_dir {
        assert!(out.path().join("evidence/sbom.cdx.json").is_file());
    }
    let mut report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    report["registry"]["looked_up_at"] = serde_json::Value::Null;
    report
}

#[test]
fn an_audit_judges_the_same_whether_or_not_it_writes_the_sbom() {
    let named = "[supplier]\nname = \"Example Health Ltd\"\n";
    for (config, lockfile) in [("", false), ("", true), (named, false), (named, true)] {
        let written = demo_report(config, lockfile, true);
        let gaps = written["rule_findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "sbom-completeness")
            .count();
        // Without a supplier the SBOM lacks one; a lockfile names no component's author.
        assert_eq!(
            gaps > 0,
            config.is_empty() || lockfile,
            "{config:?} {lockfile}"
        );
        assert_eq!(
            demo_report(config, lockfile, false),
            written,
            "{config:?} {lockfile}"
        );
    }
}
