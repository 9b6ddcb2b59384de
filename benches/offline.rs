//! Offline audit beside cargo-audit, as users run both (`cargo bench --bench offline`): the
//! same lockfile (nushell-2026-08, 1,035 packages), the same RustSec folder, each binary run
//! directly as a process (cargo-audit's own binary, not `cargo audit`, with its yanked check
//! off). Reported per configuration: the median wall time, the median CPU time (the child's
//! user + system time, from `getrusage(RUSAGE_CHILDREN)` around each run) and the peak memory
//! (`ru_maxrss`, each run made by a process of its own so the peak is that run's). The
//! configurations take turns, run by run (in an order that alternates), so that a machine that
//! slows down or speeds up meanwhile weighs on each alike. charter-audit is measured with a
//! cold compiled database (removed before each run) and a warm one, each with a cache folder of
//! its own; then everything again pinned to one core (`taskset -c 0`).
//!
//! cargo-audit: `CARGO_AUDIT` names its binary, else `/work/tools/bin/cargo-audit`, else
//! `cargo-audit` on the PATH (`cargo install cargo-audit --locked --version 0.22.2 --root DIR`).
//! `CHARTER_AUDIT_BASELINE` may name an older charter-audit binary to measure beside ("today").
//! Not part of the test suite or CI; needs ../shared.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

const RUNS: usize = 21;
/// Set in the process that measures one configuration.
const RUNNER: &str = "CHARTER_AUDIT_BENCH_RUNNER";

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
    if let Ok(config) = std::env::var(RUNNER) {
        return runner(&config, &lockfile, &db, &index);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "offline audit of nushell-2026-08.Cargo.lock (1,035 packages), median of {RUNS} runs; \
         {cores} cores, {}\n",
        cpu_model()
    );
    let theirs = cargo_audit();
    if theirs.is_none() {
        println!("  cargo-audit: not found (set CARGO_AUDIT, or install it: see this file)\n");
    }
    let baseline = std::env::var_os("CHARTER_AUDIT_BASELINE").map(PathBuf::from);
    println!(
        "  {:<44} {:>9} {:>9} {:>9}",
        "", "wall ms", "CPU ms", "peak MiB"
    );
    for pinned in [false, true] {
        if pinned {
            println!("\n  pinned to one core (taskset -c 0)");
        }
        let mut configs = vec![("charter-audit, compiled database cold", "ours-cold")];
        configs.push(("charter-audit, compiled database warm", "ours-warm"));
        if baseline.is_some() {
            configs.push(("charter-audit before (CHARTER_AUDIT_BASELINE)", "baseline"));
        }
        if theirs.is_some() {
            configs.push(("cargo-audit (binary, yanked check off)", "theirs"));
        }
        let results = measure_all(&configs, pinned);
        for ((label, _), measured) in configs.iter().zip(&results) {
            println!(
                "  {label:<44} {:>9.1} {:>9.1} {:>9.1}",
                ms(measured.wall),
                ms(measured.cpu),
                measured.peak_kib as f64 / 1024.0
            );
        }
        let find = |name: &str| {
            configs
                .iter()
                .zip(&results)
                .find(|((_, c), _)| *c == name)
                .map(|(_, m)| m)
        };
        for (ours, against, label) in [
            ("ours-warm", "theirs", "warm / cargo-audit"),
            ("ours-cold", "theirs", "cold / cargo-audit"),
            ("ours-warm", "baseline", "warm / before"),
            ("ours-cold", "baseline", "cold / before"),
        ] {
            if let (Some(a), Some(b)) = (find(ours), find(against)) {
                println!(
                    "  {label}: wall {:.2}x, CPU {:.2}x, peak memory {:.2}x",
                    ms(a.wall) / ms(b.wall),
                    ms(a.cpu) / ms(b.cpu),
                    a.peak_kib as f64 / b.peak_kib as f64
                );
            }
        }
    }
}

/// What one configuration measured.
struct Measured {
    wall: Duration,
    cpu: Duration,
    peak_kib: i64,
}

/// Measures each configuration `RUNS` times (after one unmeasured round), taking turns: each
/// run in a process of its own (so that `ru_maxrss` of its children is that run's). Each
/// configuration keeps one cache folder for all its runs.
fn measure_all(configs: &[(&str, &str)], pinned: bool) -> Vec<Measured> {
    let caches: Vec<tempfile::TempDir> = configs
        .iter()
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cwd.path().join(".cargo")).unwrap();
    std::fs::write(
        cwd.path().join(".cargo/audit.toml"),
        "[yanked]\nenabled = false\n",
    )
    .unwrap();
    let mut runs: Vec<Vec<Measured>> = configs.iter().map(|_| Vec::new()).collect();
    for round in 0..=RUNS {
        let mut order: Vec<usize> = (0..configs.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let measured = run_once(configs[i].1, pinned, caches[i].path(), cwd.path());
            if round > 0 {
                runs[i].push(measured);
            }
        }
    }
    for ((_, config), cache) in configs.iter().zip(&caches) {
        if *config == "ours-warm" {
            assert!(
                cache
                    .path()
                    .join("compiled")
                    .read_dir()
                    .unwrap()
                    .next()
                    .is_some(),
                "no compiled database"
            );
        }
    }
    runs.into_iter()
        .map(|runs| Measured {
            wall: median(runs.iter().map(|m| m.wall).collect()),
            cpu: median(runs.iter().map(|m| m.cpu).collect()),
            peak_kib: runs.iter().map(|m| m.peak_kib).max().unwrap_or(0),
        })
        .collect()
}

/// One run of `config`, made by a process of its own.
fn run_once(config: &str, pinned: bool, cache: &Path, cwd: &Path) -> Measured {
    let output = Command::new(std::env::current_exe().unwrap())
        .env(
            RUNNER,
            format!("{config}{}", if pinned { ":pinned" } else { "" }),
        )
        .env("CHARTER_AUDIT_BENCH_CACHE", cache)
        .env("CHARTER_AUDIT_BENCH_CWD", cwd)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<u128> = text
        .split_whitespace()
        .map(|f| f.parse().unwrap_or_else(|_| panic!("runner said {text:?}")))
        .collect();
    assert_eq!(
        fields.len(),
        3,
        "runner said {text:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Measured {
        wall: Duration::from_nanos(fields[0] as u64),
        cpu: Duration::from_nanos(fields[1] as u64),
        peak_kib: fields[2] as i64,
    }
}

/// Runs `config` once and prints its wall and CPU nanoseconds and its peak KiB.
fn runner(config: &str, lockfile: &Path, db: &Path, index: &Path) {
    let (config, pinned) = match config.strip_suffix(":pinned") {
        Some(config) => (config, true),
        None => (config, false),
    };
    let cache = PathBuf::from(std::env::var_os("CHARTER_AUDIT_BENCH_CACHE").unwrap());
    let cwd = PathBuf::from(std::env::var_os("CHARTER_AUDIT_BENCH_CWD").unwrap());
    // Found before the clock starts: finding it runs `cargo-audit audit --version`.
    let theirs = (config == "theirs").then(|| cargo_audit().unwrap());
    let command = || -> Command {
        let (program, args): (PathBuf, Vec<std::ffi::OsString>) = match config {
            "theirs" => (
                theirs.clone().unwrap(),
                [
                    "audit".as_ref(),
                    "--no-fetch".as_ref(),
                    "--stale".as_ref(),
                    "--json".as_ref(),
                    "--db".as_ref(),
                    db.as_os_str(),
                    "--file".as_ref(),
                    lockfile.as_os_str(),
                ]
                .into_iter()
                .map(ToOwned::to_owned)
                .collect(),
            ),
            _ => {
                let program = if config == "baseline" {
                    PathBuf::from(std::env::var_os("CHARTER_AUDIT_BASELINE").unwrap())
                } else {
                    PathBuf::from(env!("CARGO_BIN_EXE_charter-audit"))
                };
                let args: Vec<&std::ffi::OsStr> = vec![
                    "audit".as_ref(),
                    "--offline".as_ref(),
                    "--format".as_ref(),
                    "json".as_ref(),
                    "-o".as_ref(),
                    "/dev/null".as_ref(),
                    "--now".as_ref(),
                    "2026-09-01T00:00:00Z".as_ref(),
                    "--lockfile".as_ref(),
                    lockfile.as_os_str(),
                    "--advisory-db".as_ref(),
                    db.as_os_str(),
                    "--registry-index".as_ref(),
                    index.as_os_str(),
                ];
                (program, args.into_iter().map(ToOwned::to_owned).collect())
            }
        };
        let mut cmd = if pinned {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", "0"]).arg(program);
            cmd
        } else {
            Command::new(program)
        };
        cmd.args(args)
            .current_dir(&cwd)
            .env("CHARTER_AUDIT_CACHE_DIR", &cache)
            .env("SOURCE_DATE_EPOCH", "1780000000");
        cmd
    };
    if config == "ours-cold" {
        let _ = std::fs::remove_dir_all(cache.join("compiled"));
    }
    let before = cpu_of_children();
    let start = Instant::now();
    let output = command().output().unwrap();
    let wall = start.elapsed();
    let cpu = cpu_of_children() - before;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{config}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let peak = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss();
    // `taskset` is a child too, but it execs the measured program: one process, one peak.
    println!("{} {} {peak}", wall.as_nanos(), cpu.as_nanos());
}

fn cpu_of_children() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap();
    let time = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    time(usage.user_time()) + time(usage.system_time())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The cargo-audit binary, if there is one.
fn cargo_audit() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CARGO_AUDIT").map(PathBuf::from),
        Some(PathBuf::from("/work/tools/bin/cargo-audit")),
        Some(PathBuf::from("cargo-audit")),
    ];
    candidates.into_iter().flatten().find(|bin| {
        Command::new(bin)
            .args(["audit", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
