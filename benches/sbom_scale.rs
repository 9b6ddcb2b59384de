//! `audit --sbom` at scale (`cargo bench --bench sbom_scale`): a synthetic CycloneDX SBOM of
//! 10,000 to 100,000 npm and PyPI components against an offline OSV folder of 5,000 records,
//! read and matched in process (median of 5), then the whole `charter-audit audit --sbom
//! --out-dir` run as a supplier runs it, with its time (median of 5) and peak memory. Target:
//! 100,000 components in under 2 s and 500 MiB.
//! Not part of the test suite or CI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::median;

use charter_audit::advisories::{self, SourceOptions};
use charter_audit::inventory::cyclonedx as input;
use charter_audit::net::{Http, HttpOptions};

const RUNS: usize = 5;
const RECORDS: usize = 5_000;
/// 100,000 components of this shape are 67 MiB: above the default 64 MiB cap, so the
/// benchmark raises it as such a supplier would (`--max-sbom-size 128`).
const LIMIT: u64 = 128 * 1024 * 1024;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let osv = dir.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    for i in 0..RECORDS {
        let (ecosystem, name, fixed) = if i % 2 == 0 {
            ("npm", format!("pkg-{i}"), "1.0.5")
        } else {
            ("PyPI", format!("py-pkg-{i}"), "1.0.5.post1")
        };
        let record = serde_json::json!({
            "id": format!("GHSA-bench-{i:05}"),
            "modified": "2026-01-01T00:00:00Z",
            "published": "2026-01-01T00:00:00Z",
            "summary": "benchmark record",
            "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
        });
        std::fs::write(
            osv.join(format!("{i}.json")),
            serde_json::to_vec(&record).unwrap(),
        )
        .unwrap();
    }
    let http = Http::new(HttpOptions::new(true, Duration::from_secs(30))).unwrap();
    let options = SourceOptions {
        osv_db: Some(osv.clone()),
        offline: true,
        ..SourceOptions::default()
    };
    let started = Instant::now();
    let database = advisories::load(&options, &http).unwrap();
    println!(
        "OSV folder of {RECORDS} records loaded in {:.0} ms\n",
        started.elapsed().as_secs_f64() * 1000.0
    );
    println!(
        "{:>12} {:>10} {:>12} {:>12} {:>10} {:>14} {:>12}",
        "components",
        "size (MiB)",
        "read (ms)",
        "match (ms)",
        "findings",
        "audit (ms)",
        "peak (MiB)"
    );
    for size in [10_000, 25_000, 50_000, 100_000] {
        let path = dir.path().join(format!("sbom-{size}.json"));
        std::fs::write(&path, serde_json::to_vec(&sbom(size)).unwrap()).unwrap();
        let bytes = std::fs::metadata(&path).unwrap().len();
        let read = median(RUNS, || {
            input::read(&path, LIMIT).unwrap();
        });
        let parsed = input::read(&path, LIMIT).unwrap();
        let mut found = 0;
        let matched = median(RUNS, || {
            found = advisories::check_components(&parsed.components, &database)
                .0
                .len();
        });
        drop(parsed);
        // The whole audit as a supplier runs it: the binary, every report into --out-dir.
        let mut peak = 0;
        let audit = median(RUNS, || {
            let out = dir.path().join("evidence");
            let _ = std::fs::remove_dir_all(&out);
            peak = peak.max(audit_peak_kib(&path, &osv, &out));
        });
        println!(
            "{size:>12} {:>10.1} {:>12.0} {:>12.0} {found:>10} {:>14.0} {:>12.0}",
            bytes as f64 / 1_048_576.0,
            read.as_secs_f64() * 1000.0,
            matched.as_secs_f64() * 1000.0,
            audit.as_secs_f64() * 1000.0,
            peak as f64 / 1024.0
        );
    }
}

/// A CycloneDX SBOM of `size` npm and PyPI components shaped as cdxgen and syft write them:
/// about ten JSON objects each (hashes, licence, references, properties, a dependency entry).
fn sbom(size: usize) -> serde_json::Value {
    let purl = |i: usize| {
        if i.is_multiple_of(2) {
            format!("pkg:npm/pkg-{i}@1.0.3")
        } else {
            format!("pkg:pypi/py-pkg-{i}@1.0.5")
        }
    };
    let components: Vec<serde_json::Value> = (0..size)
        .map(|i| {
            let (name, version) = if i % 2 == 0 {
                (format!("pkg-{i}"), "1.0.3")
            } else {
                (format!("py-pkg-{i}"), "1.0.5")
            };
            serde_json::json!({
                "type": "library", "bom-ref": purl(i), "name": name, "version": version,
                "purl": purl(i),
                "hashes": [{"alg": "SHA-256", "content": format!("{i:064x}")}],
                "licenses": [{"license": {"id": "MIT"}}],
                "externalReferences": [
                    {"type": "vcs", "url": format!("https://github.com/example/{name}")},
                    {"type": "distribution", "url": format!("https://registry.example/{name}.tgz")}
                ],
                "properties": [
                    {"name": "cdx:npm:package:path", "value": format!("node_modules/{name}")},
                    {"name": "syft:package:foundBy", "value": "javascript-lock-cataloger"},
                    {"name": "syft:location:0:path", "value": "/package-lock.json"}
                ]
            })
        })
        .collect();
    let dependencies: Vec<serde_json::Value> = (0..size)
        .map(|i| serde_json::json!({"ref": purl(i), "dependsOn": [purl((i + 1) % size)]}))
        .collect();
    serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"timestamp": "2026-08-01T00:00:00Z",
                     "component": {"type": "application", "name": "bench", "version": "1.0.0"}},
        "components": components,
        "dependencies": dependencies,
    })
}

/// Runs `charter-audit audit --sbom` on `sbom` into `out`; returns the process's peak resident
/// memory (VmHWM) in KiB, read from /proc while it runs (0 where /proc does not say).
fn audit_peak_kib(sbom: &Path, osv: &Path, out: &Path) -> u64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_charter-audit"))
        .args([
            "audit",
            "--offline",
            "--now",
            "2026-08-25T00:00:00Z",
            "--sbom",
        ])
        .arg(sbom)
        .arg("--osv-db")
        .arg(osv)
        .arg("--out-dir")
        .arg(out)
        .args(["--max-sbom-size", "128"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        }) {
            peak = peak.max(kib);
        }
        if let Some(exit) = child.try_wait().unwrap() {
            assert_eq!(
                exit.code(),
                Some(1),
                "the audit finds the records it should"
            );
            return peak;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
