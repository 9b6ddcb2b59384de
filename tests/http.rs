//! Everything spoken over HTTP, against real servers started on 127.0.0.1: the sparse registry
//! index and the advisory database download, with the failures a user would meet.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::io::Write;
use std::time::Duration;

use util::http::{Reply, Server, advisory_tarball, refused_port};
use util::{CargoHome, NOW, charter_audit, fixture};

/// Serves the fixture index folder as a sparse index.
fn index_reply(path: &str) -> Reply {
    let file = fixture("registry-index").join(path.trim_start_matches('/'));
    match std::fs::read(file) {
        Ok(bytes) => Reply::Body(200, bytes),
        Err(_) => Reply::Body(404, Vec::new()),
    }
}

/// `audit` of the demo lockfile with the fixture advisories and the index at `index_url`.
fn audit_with_index(index_url: &str, extra: &[&str]) -> std::process::Output {
    let home = CargoHome::new();
    charter_audit(&home)
        .args(["audit", "--format", "json", "--now", NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--registry-index", index_url])
        .args(extra)
        .output()
        .unwrap()
}

/// `audit` of the demo lockfile downloading its advisory database from `url` into the cache
/// folder `cache`, with the fixture index, plus `extra`.
fn audit_downloading(url: &str, cache: &std::path::Path, extra: &[&str]) -> std::process::Output {
    charter_audit(&CargoHome::new())
        .env("CHARTER_AUDIT_CACHE_DIR", cache)
        .args(["audit", "--now", NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .args(["--advisory-db-url", url])
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn sparse_index_over_http_gives_the_same_facts_as_the_folder() {
    let server = Server::start(|path, _| index_reply(path));
    let output = audit_with_index(&server.url("/"), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let regex = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2022-0013")
        .unwrap();
    assert_eq!(regex["fix_version"], "1.5.5");
    assert_eq!(report["registry"]["crates"], 10);
    assert_eq!(report["registry"]["unknown"], 0);
    // One request per crate, at the sparse-index paths.
    let paths = server.paths();
    assert_eq!(paths.len(), 10);
    assert!(paths.contains(&"/re/ge/regex".to_owned()));
    assert!(paths.contains(&"/2/cc".to_owned()));
}

#[test]
fn too_many_requests_then_success_is_retried() {
    let server = Server::start(|path, nth| {
        if nth == 1 {
            Reply::RetryAfter(429)
        } else {
            index_reply(path)
        }
    });
    let output = audit_with_index(&server.url("/"), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(server.paths().len(), 20, "each crate asked twice");
}

#[test]
fn server_error_is_exit_2_after_bounded_retries() {
    let server = Server::start(|_, _| Reply::Body(500, b"oops".to_vec()));
    let output = audit_with_index(&server.url("/"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("the server answered 500 after 3 attempt(s)"),
        "{message}"
    );
    // Lookups run side by side, so each entry in flight when the server fails is tried three
    // times, and none more; none is started after the first gives up (see net::concurrently).
    let paths = server.paths();
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    for path in &unique {
        let asked = paths.iter().filter(|p| *p == path).count();
        assert_eq!(asked, 3, "{path}: three attempts, then stop");
    }
}

#[test]
fn a_stalled_server_times_out() {
    let server = Server::start(|_, _| Reply::Stall(Duration::from_secs(4)));
    let output = audit_with_index(&server.url("/"), &["--http-timeout", "1"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("no complete answer within 1 s"),
        "{message}"
    );
    assert!(message.contains("--http-timeout"), "{message}");
}

#[test]
fn an_oversized_answer_is_refused() {
    // One that says so up front, and one that streams past the limit without saying.
    for reply in [0, 1] {
        let server = Server::start(move |_, _| {
            if reply == 0 {
                Reply::Claims(40 * 1024 * 1024)
            } else {
                Reply::Chunked(33 * 1024 * 1024)
            }
        });
        let output = audit_with_index(&server.url("/"), &[]);
        assert_eq!(output.status.code(), Some(2));
        let message = stderr(&output);
        assert!(
            message.contains("larger than the 33554432-byte limit"),
            "{message}"
        );
    }
}

#[test]
fn a_refused_connection_says_what_to_check() {
    let url = format!("http://127.0.0.1:{}/", refused_port());
    let output = audit_with_index(&url, &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("could not connect"), "{message}");
    assert!(message.contains("HTTPS_PROXY"), "{message}");
}

#[test]
fn offline_opens_no_socket() {
    let server = Server::start(|path, _| index_reply(path));
    let output = audit_with_index(&server.url("/"), &["--offline"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("--offline forbids the network"),
        "{message}"
    );
    // Nor does the advisory download: offline with no --advisory-db is refused up front.
    let home = CargoHome::new();
    let download = charter_audit(&home)
        .args(["audit", "--offline", "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .args(["--advisory-db-url", &server.url("/main.tar.gz")])
        .output()
        .unwrap();
    assert_eq!(download.status.code(), Some(2));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.connections(), 0, "a socket was opened");
}

#[test]
fn advisory_database_download_is_named_dated_and_cached() {
    let revision = "bf5c0d245a92671908518d7e765914d437954ed6";
    let tarball = advisory_tarball(revision, 1_755_757_720); // 2025-08-21T06:28:40Z
    let server = Server::start(move |path, nth| match (path, nth) {
        ("/main.tar.gz", 1) => Reply::RetryAfter(503),
        ("/main.tar.gz", _) => Reply::Body(200, tarball.clone()),
        _ => Reply::Body(404, Vec::new()),
    });
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        audit_downloading(
            &server.url("/main.tar.gz"),
            cache.path(),
            &["--format", "json"],
        )
    };
    let first = run();
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let source = &report["sources"][0];
    assert_eq!(source["revision"], revision);
    assert_eq!(source["last_updated"], "2025-08-21T06:28:40Z");
    assert_eq!(source["last_updated_from"], "archive-commit-time");
    assert_eq!(source["advisories"], 2);
    assert!(source["fetched_at"].is_string());
    assert_eq!(source["uri"], server.url("/main.tar.gz"));
    assert_eq!(server.paths().len(), 2, "a 503, then the archive");
    // Fresh in the cache: the second run does not download again.
    let second = run();
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert_eq!(server.paths().len(), 2);
    let again: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(again["sources"][0]["revision"], revision);
}

#[test]
fn a_download_that_is_not_an_archive_is_exit_2() {
    let server = Server::start(|_, _| Reply::Body(200, b"<html>not a tarball</html>".to_vec()));
    let cache = tempfile::tempdir().unwrap();
    let output = audit_downloading(&server.url("/main.tar.gz"), cache.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("is not a gzip'd tar archive"), "{message}");
}

#[test]
fn the_advisory_download_fails_closed_with_what_to_check() {
    // The download meets the same failures as the index: each is exit 2 with the message a
    // user would see, and nothing is cached.
    let refused = format!("http://127.0.0.1:{}/main.tar.gz", refused_port());
    let cases: Vec<(Option<Server>, &[&str], Vec<&str>)> = vec![
        (
            Some(Server::start(|_, _| Reply::Body(500, b"oops".to_vec()))),
            &[],
            vec!["the server answered 500 after 3 attempt(s)"],
        ),
        (
            Some(Server::start(|_, _| Reply::Stall(Duration::from_secs(4)))),
            &["--http-timeout", "1"],
            vec!["no complete answer within 1 s", "--http-timeout"],
        ),
        (
            Some(Server::start(|_, _| Reply::Claims(300 * 1024 * 1024))),
            &[],
            vec!["larger than the 268435456-byte limit"],
        ),
        (None, &[], vec!["could not connect", "HTTPS_PROXY"]),
    ];
    for (server, extra, expected) in cases {
        let url = server
            .as_ref()
            .map_or_else(|| refused.clone(), |s| s.url("/main.tar.gz"));
        let cache = tempfile::tempdir().unwrap();
        let output = audit_downloading(&url, cache.path(), extra);
        assert_eq!(output.status.code(), Some(2), "{url}: {output:?}");
        let message = stderr(&output);
        assert!(message.contains("advisory"), "{url}: {message}");
        for text in expected {
            assert!(message.contains(text), "{url}: {message}");
        }
        assert!(output.stdout.is_empty(), "{url}: no report");
        if let Some(server) = &server {
            assert!(!server.paths().is_empty(), "{url}: the server was asked");
        }
        let cached = util::cached_besides_registry_facts(cache.path());
        assert!(cached.is_empty(), "{url}: cached {cached:?}");
    }
}

#[test]
fn a_trickling_server_cannot_outlast_the_timeout() {
    // One byte every 100 ms: each read is quick, the answer would take minutes. The deadline
    // is for the whole answer, headers and body alike.
    for head in [false, true] {
        let server = Server::start(move |_, _| Reply::Trickle {
            interval: Duration::from_millis(100),
            head,
        });
        let cache = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        let url = server.url("/main.tar.gz");
        let output = audit_downloading(&url, cache.path(), &["--http-timeout", "2"]);
        let took = started.elapsed();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "head {head}: {message}");
        assert!(took < Duration::from_secs(10), "head {head}: took {took:?}");
        assert!(message.contains(&url), "names the URL: {message}");
        assert!(
            message.contains("no complete answer within 2 s"),
            "names the limit: {message}"
        );
    }
}

#[test]
fn redirects_are_followed_at_most_ten_times() {
    let server = Server::start(|path, _| {
        let n: u32 = path.trim_start_matches("/r").parse().unwrap_or(0);
        Reply::Redirect(format!("/r{}", n + 1))
    });
    let cache = tempfile::tempdir().unwrap();
    let output = audit_downloading(&server.url("/r0"), cache.path(), &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("redirect refused"), "{message}");
    assert!(message.contains("more than 10 redirects"), "{message}");
    assert_eq!(
        server.paths().len(),
        11,
        "the first request and ten redirects"
    );
}

/// A gzip'd tar (compressed by the system's `gzip`, quick on hundreds of MiB) of one entry of
/// `kind` named `name` whose body is `size` bytes of `a`.
fn gzip_tar_of_one(kind: tar::EntryType, name: &str, size: u64) -> Vec<u8> {
    use std::io::Read;
    let mut gzip = std::process::Command::new("gzip")
        .args(["-1", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = gzip.stdin.take().unwrap();
    let name = name.to_owned();
    let writer = std::thread::spawn(move || {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(kind);
        header.set_path(&name).unwrap();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_cksum();
        stdin.write_all(header.as_bytes()).unwrap();
        let chunk = vec![b'a'; 1 << 20];
        let mut left = size.next_multiple_of(512);
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            stdin.write_all(&chunk[..n]).unwrap();
            left -= n as u64;
        }
        stdin.write_all(&[0u8; 1024]).unwrap();
    });
    let mut bytes = Vec::new();
    gzip.stdout.take().unwrap().read_to_end(&mut bytes).unwrap();
    writer.join().unwrap();
    assert!(gzip.wait().unwrap().success());
    bytes
}

#[test]
fn a_download_is_bounded_as_a_whole_in_bounded_memory() {
    // A PAX extension header of 300 MiB (the tar crate reads one whole into memory), and an
    // entry of 300 MiB that would be skipped, not stored: each a few hundred KiB to download.
    let cases = [
        (
            gzip_tar_of_one(tar::EntryType::XHeader, "db/pax", 300 << 20),
            "past the 1048576-byte limit",
        ),
        (
            gzip_tar_of_one(tar::EntryType::Regular, "db/big.bin", 300 << 20),
            "more than the 268435456-byte limit",
        ),
    ];
    for (bytes, expect) in cases {
        let served = std::sync::Arc::new(bytes);
        let body = served.clone();
        let server = Server::start(move |_, _| Reply::Body(200, body.to_vec()));
        let cache = tempfile::tempdir().unwrap();
        let home = CargoHome::new();
        // Capped at 256 MiB of address space, reading either whole would abort the process.
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "ulimit -v 262144; exec {:?} audit --now {NOW} --lockfile {:?} --advisory-db-url {:?} --registry-index {:?}",
                env!("CARGO_BIN_EXE_charter-audit"),
                fixture("workspaces/demo/Cargo.lock"),
                server.url("/main.tar.gz"),
                fixture("registry-index"),
            ))
            .env("CARGO_HOME", home.path())
            .env("CHARTER_AUDIT_CACHE_DIR", cache.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{expect}: {output:?}");
        assert!(message.contains(expect), "names the limit: {message}");
        assert!(message.contains("main.tar.gz"), "names the URL: {message}");
        let cached = util::cached_besides_registry_facts(cache.path());
        assert!(cached.is_empty(), "{expect}: cached {cached:?}");
    }
}
