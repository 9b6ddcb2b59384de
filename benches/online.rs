//! `audit` online as CI runs it (`cargo bench --bench online`): the registry index served by a
//! local sparse-index server that answers every request after 30 ms (a modest round trip to a
//! CDN), the nushell-2026-08 lockfile (1,035 packages), the RustSec snapshot from
//! ../shared/advisory-db. The binary runs as a process with a cold cache (a fresh cache
//! folder) and a warm one (filled by an earlier run: every entry is revalidated, and the
//! server answers 304). Wall time and CPU time (user + system of the child, from
//! /proc/self/stat's `cutime` and `cstime`), medians. Not part of the test suite or CI; needs
//! ../shared.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const RUNS: usize = 5;
const LATENCY: Duration = Duration::from_millis(30);

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
    let server = IndexServer::start(index);
    let url = format!("http://127.0.0.1:{}/", server.port);
    let run = |cache: &Path| -> Sample {
        let ticks = children_ticks();
        let start = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_charter-audit"))
            .env("CHARTER_AUDIT_CACHE_DIR", cache)
            .args(["audit", "--format", "json", "-o", "/dev/null"])
            .args(["--now", "2026-09-01T00:00:00Z", "--lockfile"])
            .arg(&lockfile)
            .arg("--advisory-db")
            .arg(&db)
            .args(["--registry-index", &url])
            .output()
            .unwrap();
        let wall = start.elapsed();
        let cpu = ticks_to_duration(children_ticks() - ticks);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Sample { wall, cpu }
    };
    println!(
        "audit online, nushell-2026-08.Cargo.lock (1,035 packages), index server answering after \
         {} ms, median of {RUNS} runs\n",
        LATENCY.as_millis()
    );
    let before = server.requests();
    let cold: Vec<Sample> = (0..RUNS)
        .map(|_| run(tempfile::tempdir().unwrap().path()))
        .collect();
    let per_run = (server.requests() - before) / RUNS;
    report("cold cache", &cold, per_run);
    let cache = tempfile::tempdir().unwrap();
    run(cache.path());
    let (before, unchanged) = (server.requests(), server.not_modified());
    let warm: Vec<Sample> = (0..RUNS).map(|_| run(cache.path())).collect();
    let per_run = (server.requests() - before) / RUNS;
    report("warm cache", &warm, per_run);
    println!(
        "  warm runs' answers that were 304 Not Modified: {} of {}",
        server.not_modified() - unchanged,
        server.requests() - before
    );
}

struct Sample {
    wall: Duration,
    cpu: Duration,
}

fn report(what: &str, samples: &[Sample], requests: usize) {
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let wall = median(samples.iter().map(|s| s.wall).collect());
    let cpu = median(samples.iter().map(|s| s.cpu).collect());
    println!(
        "  {what}: wall {:6.3} s, CPU (user+sys) {:6.3} s, {requests} requests a run",
        wall.as_secs_f64(),
        cpu.as_secs_f64()
    );
}

/// User + system time of the children this process has waited for, in clock ticks.
fn children_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // cutime and cstime are fields 16 and 17 of the whole line, 14 and 15 after `comm`.
    fields[13].parse::<u64>().unwrap() + fields[14].parse::<u64>().unwrap()
}

/// Linux reports these times in units of USER_HZ, 100 a second on every architecture it
/// exports to user space.
fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 10)
}

/// A sparse-index server over HTTP/1.1 with keep-alive: each request answered after
/// [`LATENCY`], with an `ETag` (size and modification time), and 304 to an `If-None-Match`
/// that names the current one.
struct IndexServer {
    port: u16,
    requests: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
}

impl IndexServer {
    fn start(root: PathBuf) -> IndexServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let not_modified = Arc::new(AtomicUsize::new(0));
        let (r, n) = (requests.clone(), not_modified.clone());
        let root = Arc::new(root);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, n, root) = (r.clone(), n.clone(), root.clone());
                std::thread::spawn(move || serve(stream, &root, &r, &n));
            }
        });
        IndexServer {
            port,
            requests,
            not_modified,
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn not_modified(&self) -> usize {
        self.not_modified.load(Ordering::SeqCst)
    }
}

fn serve(stream: TcpStream, root: &Path, requests: &AtomicUsize, not_modified: &AtomicUsize) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut asked = None;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("if-none-match")
            {
                asked = Some(value.trim().to_owned());
            }
        }
        requests.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(LATENCY);
        let file = root.join(path.trim_start_matches('/'));
        let found = (!path.contains(".."))
            .then(|| std::fs::metadata(&file).ok())
            .flatten()
            .filter(std::fs::Metadata::is_file);
        let answer = match found {
            None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
            Some(meta) => {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .unwrap_or_default();
                let etag = format!("\"{:x}-{:x}\"", meta.len(), modified.as_nanos());
                if asked.as_deref() == Some(etag.as_str()) {
                    not_modified.fetch_add(1, Ordering::SeqCst);
                    format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n").into_bytes()
                } else {
                    let body = std::fs::read(&file).unwrap_or_default();
                    let mut answer = format!(
                        "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    answer.extend_from_slice(&body);
                    answer
                }
            }
        };
        if writer.write_all(&answer).is_err() {
            return;
        }
    }
}
