//! Registry index lookups and OSV API record fetches over HTTP: many in flight at once, each
//! asked once, kept in the user's cache folder and asked for again only if changed; a corrupt
//! cache entry fetched again; `--offline` sending nothing. Servers on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use util::http::{Reply, Server};
use util::{CargoHome, NOW, charter_audit, fixture};

/// Registry crates in the test lockfile.
const CRATES: usize = 40;

/// A lockfile of `CRATES` registry crates, `crate-00`... (and `SmallVec` beside `smallvec`,
/// two names with one index entry).
fn lockfile(dir: &Path) -> PathBuf {
    let mut text = String::from("version = 4\n");
    let mut names: Vec<String> = (0..CRATES).map(|i| format!("crate-{i:02}")).collect();
    names.extend(["SmallVec".to_owned(), "smallvec".to_owned()]);
    for name in names {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        ));
    }
    let path = dir.join("Cargo.lock");
    std::fs::write(&path, text).unwrap();
    path
}

/// The index entry at `path` (`/cr/at/crate-07`): two versions, the older yanked.
fn entry(path: &str) -> Option<Vec<u8>> {
    let name = path.rsplit('/').next()?;
    if !(name.starts_with("crate-") || name == "smallvec") {
        return None;
    }
    Some(
        format!(
            "{{\"name\":\"{name}\",\"vers\":\"1.0.0\",\"yanked\":true,\"pubtime\":\"2024-01-01T00:00:00Z\"}}\n\
             {{\"name\":\"{name}\",\"vers\":\"1.0.1\",\"yanked\":false,\"pubtime\":\"2024-02-01T00:00:00Z\"}}\n"
        )
        .into_bytes(),
    )
}

/// The `If-None-Match` header of a request head, if any.
fn if_none_match(head: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("if-none-match")
            .then(|| value.trim().to_owned())
    })
}

/// A sparse index that waits `delay` before each answer, tags each entry with an ETag, answers
/// 304 to a request that names it, and counts the requests in flight at once (most seen).
struct Index {
    server: Server,
    most: Arc<AtomicUsize>,
}

fn index(delay: Duration) -> Index {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (running.clone(), most.clone());
    let server = Server::start_with_head(move |path, _, _, head| {
        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(delay);
        r.fetch_sub(1, Ordering::SeqCst);
        let Some(body) = entry(path) else {
            return Reply::Body(404, Vec::new());
        };
        let etag = format!("\"{}\"", path.rsplit('/').next().unwrap());
        if if_none_match(head).as_deref() == Some(etag.as_str()) {
            return Reply::NotModified;
        }
        Reply::Tagged { etag, body }
    });
    Index { server, most }
}

/// `audit` of `lock` against the index at `url`, JSON, with `cache` as the cache folder.
fn audit(lock: &Path, url: &str, cache: &Path, extra: &[&str]) -> std::process::Output {
    charter_audit(&CargoHome::new())
        .env("CHARTER_AUDIT_CACHE_DIR", cache)
        .args(["audit", "--format", "json", "--now", NOW, "--lockfile"])
        .arg(lock)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--registry-index", url])
        .args(extra)
        .output()
        .unwrap()
}

/// The report without the time that rightly differs between two runs (of the index lookup).
fn report(output: &std::process::Output) -> Value {
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut report: Value = serde_json::from_slice(&output.stdout).unwrap();
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("looked_up_at");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut report);
    report
}

fn entry_requests(server: &Server) -> Vec<String> {
    let mut paths = server.paths();
    paths.sort();
    paths
}

#[test]
fn registry_lookups_run_concurrently_and_ask_each_index_entry_once() {
    let dir = tempfile::tempdir().unwrap();
    let lock = lockfile(dir.path());
    let index = index(Duration::from_millis(150));
    let output = audit(
        &lock,
        &index.server.url("/"),
        &dir.path().join("cache"),
        &[],
    );
    let report = report(&output);
    let most = index.most.load(Ordering::SeqCst);
    // Asked one after another, 41 entries would take 6 s; at once, a fraction of a second.
    assert!(most >= 8, "at most {most} requests in flight");
    assert!(most <= 64, "{most} requests in flight, over the bound");
    let paths = entry_requests(&index.server);
    let mut unique = paths.clone();
    unique.dedup();
    assert_eq!(paths, unique, "an entry was asked for twice");
    assert_eq!(paths.len(), CRATES + 1, "{paths:?}");
    assert_eq!(report["registry"]["crates"], json!(CRATES + 2), "{report}");
    assert_eq!(report["registry"]["unknown"], json!(1), "{report}");
}

#[test]
fn a_warm_run_asks_only_whether_entries_changed_and_reports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let lock = lockfile(dir.path());
    let cache = dir.path().join("cache");
    let index = index(Duration::ZERO);
    let cold = report(&audit(&lock, &index.server.url("/"), &cache, &[]));
    let cold_requests = index.server.heads().len();
    assert!(
        index
            .server
            .heads()
            .iter()
            .all(|h| if_none_match(h).is_none()),
        "a cold run has nothing to revalidate"
    );
    let warm = report(&audit(&lock, &index.server.url("/"), &cache, &[]));
    let heads = index.server.heads()[cold_requests..].to_vec();
    assert_eq!(heads.len(), cold_requests, "the warm run asked otherwise");
    for head in &heads {
        let path = head.split_whitespace().nth(1).unwrap();
        let asked = if_none_match(head);
        if entry(path).is_some() {
            assert_eq!(
                asked,
                Some(format!("\"{}\"", path.rsplit('/').next().unwrap())),
                "{head}"
            );
        } else {
            assert_eq!(asked, None, "a 404 is not cached: {head}");
        }
    }
    assert_eq!(cold, warm);
    // The cache sits in the cache folder, under registry-index/, at the index's own paths.
    let files = http_entries(&cache);
    assert!(!files.is_empty());
    for file in &files {
        let relative = file.strip_prefix(&cache).unwrap();
        assert!(
            relative.starts_with("registry-index"),
            "{}",
            relative.display()
        );
    }
}

/// The files the HTTP cache keeps, leaving out the compiled advisory database (`compiled/`).
fn http_entries(cache: &Path) -> Vec<PathBuf> {
    util::files_under(cache)
        .into_iter()
        .filter(|f| !f.strip_prefix(cache).unwrap().starts_with("compiled"))
        .collect()
}

#[test]
fn a_corrupt_or_truncated_cache_entry_is_fetched_again_not_believed() {
    let dir = tempfile::tempdir().unwrap();
    let lock = lockfile(dir.path());
    let cache = dir.path().join("cache");
    let index = index(Duration::ZERO);
    let cold = report(&audit(&lock, &index.server.url("/"), &cache, &[]));
    let files = http_entries(&cache);
    assert_eq!(files.len(), CRATES + 1);
    let whole: Vec<Vec<u8>> = files[..3]
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    // One truncated, one with a changed fact (the older version no longer yanked), one emptied.
    let bytes = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &bytes[..bytes.len() / 2]).unwrap();
    let text = String::from_utf8(std::fs::read(&files[1]).unwrap()).unwrap();
    std::fs::write(
        &files[1],
        text.replacen("\"yanked\":true", "\"yanked\":false", 1),
    )
    .unwrap();
    std::fs::write(&files[2], b"").unwrap();
    let before = index.server.heads().len();
    let warm = report(&audit(&lock, &index.server.url("/"), &cache, &[]));
    assert_eq!(cold, warm, "a damaged entry changed the report");
    let unconditional: Vec<String> = index.server.heads()[before..]
        .iter()
        .filter(|h| if_none_match(h).is_none())
        .map(|h| h.split_whitespace().nth(1).unwrap().to_owned())
        .filter(|p| entry(p).is_some())
        .collect();
    assert_eq!(unconditional.len(), 3, "{unconditional:?}");
    // And each was written anew, whole, as the cold run wrote it.
    for (file, whole) in files[..3].iter().zip(&whole) {
        assert_eq!(&std::fs::read(file).unwrap(), whole, "{}", file.display());
    }
}

#[test]
fn offline_sends_nothing_and_reads_no_cache() {
    let dir = tempfile::tempdir().unwrap();
    let lock = lockfile(dir.path());
    let cache = dir.path().join("cache");
    let index = index(Duration::ZERO);
    report(&audit(&lock, &index.server.url("/"), &cache, &[]));
    let (requests, connections) = (index.server.heads().len(), index.server.connections());
    // With a warm cache, --offline still refuses an HTTP index, as it always has.
    let output = audit(&lock, &index.server.url("/"), &cache, &["--offline"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--offline"), "{stderr}");
    assert_eq!(index.server.heads().len(), requests);
    assert_eq!(index.server.connections(), connections);
}

/// An OSV API that names both fixture records for every query, answers each record after
/// `delay` with an ETag (304 to a request that names it), and counts record requests in flight.
fn osv_api(delay: Duration) -> Index {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (running.clone(), most.clone());
    let server = Server::start_with_head(move |path, _, body, head| {
        if path == "/v1/querybatch" {
            let request: Value = serde_json::from_slice(body).unwrap();
            let ids =
                json!({"vulns": [{"id": "GHSA-35jh-r3h4-6jhm"}, {"id": "GHSA-qm57-vhq3-3fwf"}]});
            let results = vec![ids; request["queries"].as_array().unwrap().len()];
            return Reply::Body(
                200,
                serde_json::to_vec(&json!({ "results": results })).unwrap(),
            );
        }
        let Some(id) = path.strip_prefix("/v1/vulns/") else {
            return Reply::Body(404, Vec::new());
        };
        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(delay);
        r.fetch_sub(1, Ordering::SeqCst);
        let etag = format!("\"{id}\"");
        if if_none_match(head).as_deref() == Some(etag.as_str()) {
            return Reply::NotModified;
        }
        let file = fixture("advisories/osv-ecosystems").join(format!("{id}.json"));
        Reply::Tagged {
            etag,
            body: std::fs::read(file).unwrap(),
        }
    });
    Index { server, most }
}

fn osv_audit(api: &str, cache: &Path) -> std::process::Output {
    charter_audit(&CargoHome::new())
        .env("CHARTER_AUDIT_CACHE_DIR", cache)
        .args(["audit", "--now", "2026-08-25T00:00:00Z", "--format", "json"])
        .arg("--sbom")
        .arg(fixture("sboms/portal.cdx.json"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--osv-api", api])
        .output()
        .unwrap()
}

#[test]
fn osv_api_records_are_fetched_concurrently_then_only_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let api = osv_api(Duration::from_millis(300));
    let cold = report(&osv_audit(&api.server.url(""), &cache));
    assert_eq!(
        api.most.load(Ordering::SeqCst),
        2,
        "the two records one after another"
    );
    let before = api.server.heads().len();
    let warm = report(&osv_audit(&api.server.url(""), &cache));
    let records: Vec<String> = api.server.heads()[before..]
        .iter()
        .filter(|h| h.contains("/v1/vulns/"))
        .cloned()
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    for head in &records {
        let id = head
            .split_whitespace()
            .nth(1)
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        assert_eq!(if_none_match(head), Some(format!("\"{id}\"")), "{head}");
    }
    // The same findings and verdicts (the OSV API's answer is dated when asked, so the report's
    // times and the database-age warning differ).
    assert_eq!(cold["findings"], warm["findings"]);
    assert_eq!(cold["summary"], warm["summary"]);
    assert_eq!(cold["findings"].as_array().unwrap().len(), 3);
    let files = http_entries(&cache);
    assert_eq!(files.len(), 2, "{files:?}");
    for file in files {
        assert!(
            file.strip_prefix(&cache).unwrap().starts_with("osv-api"),
            "{}",
            file.display()
        );
    }
}

#[cfg(unix)]
#[test]
fn a_cache_folder_others_may_write_is_refused_before_any_index_request() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let lock = lockfile(dir.path());
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let index = index(Duration::ZERO);
    let output = audit(&lock, &index.server.url("/"), &cache, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("other users may write to it"), "{stderr}");
    assert_eq!(index.server.connections(), 0);
    assert!(http_entries(&cache).is_empty());
}
