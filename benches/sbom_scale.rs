//! `audit --sbom` at scale (`cargo bench --bench sbom_scale`): a synthetic CycloneDX SBOM of
//! 10,000 to 100,000 npm and PyPI components against an offline OSV folder of 5,000 records,
//! read, loaded and matched as the audit does; time for each size (median of 5) and the
//! process's peak memory. Target: 100,000 components in under 2 s and 500 MiB.
//! Not part of the test suite or CI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

mod common;
use common::median;

use charter_audit::advisories::{self, SourceOptions};
use charter_audit::net::{Http, HttpOptions};
use charter_audit::sbom::input;

const RUNS: usize = 5;
const RECORDS: usize = 5_000;

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
        "{:>12} {:>12} {:>12} {:>12}",
        "components", "read (ms)", "match (ms)", "findings"
    );
    for size in [10_000, 25_000, 50_000, 100_000] {
        let path = dir.path().join(format!("sbom-{size}.json"));
        let components: Vec<serde_json::Value> = (0..size)
            .map(|i| {
                if i % 2 == 0 {
                    serde_json::json!({"type": "library", "name": format!("pkg-{i}"), "version": "1.0.3", "purl": format!("pkg:npm/pkg-{i}@1.0.3")})
                } else {
                    serde_json::json!({"type": "library", "name": format!("py-pkg-{i}"), "version": "1.0.5", "purl": format!("pkg:pypi/py-pkg-{i}@1.0.5")})
                }
            })
            .collect();
        let sbom = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5",
            "metadata": {"component": {"type": "application", "name": "bench", "version": "1.0.0"}},
            "components": components,
        });
        std::fs::write(&path, serde_json::to_vec(&sbom).unwrap()).unwrap();
        let read = median(RUNS, || {
            input::read(&path).unwrap();
        });
        let parsed = input::read(&path).unwrap();
        let mut found = 0;
        let matched = median(RUNS, || {
            found = advisories::check_components(&parsed.components, &database)
                .0
                .len();
        });
        println!(
            "{size:>12} {:>12.0} {:>12.0} {found:>12}",
            read.as_secs_f64() * 1000.0,
            matched.as_secs_f64() * 1000.0
        );
    }
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("\npeak memory of the process (VmHWM): {peak}");
}
