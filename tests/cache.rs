//! The advisory cache is evidence: nobody but the user may put a database in it, what is in it
//! is used only while it is what was downloaded and verified, and a database that failed to
//! load is never kept. Every download is served by a server on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use sha2::Digest;
use util::http::{Reply, Server, advisory_tarball, advisory_tarball_with};
use util::{CargoHome, NOW, charter_audit, fixture};

const REVISION: &str = "bf5c0d245a92671908518d7e765914d437954ed6";
const MTIME: u64 = 1_755_757_720;

fn serving(tarball: Vec<u8>) -> Server {
    Server::start(move |path, _| match path {
        "/main.tar.gz" => Reply::Body(200, tarball.clone()),
        _ => Reply::Body(404, Vec::new()),
    })
}

/// Where the cache keeps the database downloaded from `url`.
fn cache_folder(cache: &Path, url: &str) -> PathBuf {
    let key = hex::encode(&sha2::Sha256::digest(url.as_bytes())[..8]);
    cache.join("advisory-db").join(key)
}

/// `audit --format json` of the demo lockfile downloading from `server`, with the environment
/// `env` (a `None` value removes the variable) and `extra` arguments.
fn audit(server: &Server, env: &[(&str, Option<&Path>)], extra: &[&str]) -> Output {
    let mut cmd = charter_audit(&CargoHome::new());
    for (name, value) in env {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    cmd.args(["audit", "--format", "json", "--now", NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .args(["--advisory-db-url", &server.url("/main.tar.gz")])
        .arg("--registry-index")
        .arg(fixture("registry-index"))
        .args(extra)
        .output()
        .unwrap()
}

fn in_cache(cache: &Path) -> Vec<(&'static str, Option<&Path>)> {
    vec![("CHARTER_AUDIT_CACHE_DIR", Some(cache))]
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn revision(output: &Output) -> String {
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(output)));
    report["sources"][0]["revision"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_planted_cache_in_shared_temp_is_never_used() {
    // Another user of the machine plants a fresh one-advisory database, with a fake revision,
    // where a cache with no home used to be: the shared temporary folder.
    let shared = tempfile::tempdir().unwrap();
    let server = serving(advisory_tarball(REVISION, MTIME));
    let planted = cache_folder(
        &shared.path().join("charter-audit"),
        &server.url("/main.tar.gz"),
    )
    .join("current");
    util::copy_dir(&fixture("advisories/rustsec"), &planted.join("db"));
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let meta = serde_json::json!({
        "url": server.url("/main.tar.gz"), "revision": "planted", "updated": null,
        "fetched_at": now,
    });
    std::fs::write(planted.join("meta.json"), meta.to_string()).unwrap();
    let no_home = [
        ("HOME", None),
        ("XDG_CACHE_HOME", None),
        ("CHARTER_AUDIT_CACHE_DIR", None),
        ("TMPDIR", Some(shared.path())),
    ];
    for run in 1..=2 {
        let output = audit(&server, &no_home, &[]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert_eq!(revision(&output), REVISION, "run {run}");
        // With no home there is no cache: each run downloads, into a folder of its own that
        // it removes.
        assert_eq!(server.paths().len(), run);
        let left: Vec<_> = std::fs::read_dir(shared.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["charter-audit"], "run {run}");
    }
}

#[test]
fn a_cache_is_created_private_to_its_user() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("home/.cache/charter-audit");
    let server = serving(advisory_tarball(REVISION, MTIME));
    let output = audit(
        &server,
        &[
            ("XDG_CACHE_HOME", Some(&dir.path().join("home/.cache"))),
            ("CHARTER_AUDIT_CACHE_DIR", None),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");
    assert!(
        cache_folder(&cache, &server.url("/main.tar.gz"))
            .join("current/meta.json")
            .is_file()
    );
}

#[test]
fn a_cache_folder_that_is_a_link_or_writable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let server = serving(advisory_tarball(REVISION, MTIME));
    for (cache, expect) in [
        (&link, "it is a symbolic link"),
        (&open, "other users may write to it (mode 777)"),
    ] {
        let output = audit(&server, &in_cache(cache), &[]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{message}");
        assert!(message.contains(expect), "{message}");
        assert!(
            message.contains(&cache.display().to_string()),
            "names it: {message}"
        );
        assert!(
            message.contains("CHARTER_AUDIT_CACHE_DIR"),
            "says what to do: {message}"
        );
        assert!(output.stdout.is_empty());
    }
    assert!(server.paths().is_empty(), "nothing downloaded into it");
    assert!(util::files_under(&real).is_empty());
}

#[test]
fn a_cached_database_whose_files_changed_is_fetched_again() {
    let cache = tempfile::tempdir().unwrap();
    let server = serving(advisory_tarball(REVISION, MTIME));
    let db = cache_folder(cache.path(), &server.url("/main.tar.gz")).join("current/db");
    let run = |expected_requests: usize| {
        let output = audit(&server, &in_cache(cache.path()), &[]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["sources"][0]["advisories"], 2);
        assert_eq!(server.paths().len(), expected_requests);
    };
    run(1);
    run(1); // fresh and unchanged: used
    // An advisory deleted within the hour: not the database that was verified.
    std::fs::remove_file(db.join("crates/regex/RUSTSEC-2022-0013.md")).unwrap();
    run(2);
    // One changed.
    let file = db.join("crates/smallvec/RUSTSEC-2021-0003.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("smallvec", "smallvec2")).unwrap();
    run(3);
    // One added.
    util::copy_dir(
        &fixture("advisories/rustsec/crates/atty"),
        &db.join("crates/atty"),
    );
    run(4);
    run(4);
}

#[test]
fn a_database_that_failed_to_load_is_never_cached() {
    let broken: &[(&str, &[u8])] = &[("crates/broken/RUSTSEC-2099-0001.md", b"not an advisory")];
    let server = serving(advisory_tarball_with(REVISION, MTIME, broken));
    let cache = tempfile::tempdir().unwrap();
    let current = cache_folder(cache.path(), &server.url("/main.tar.gz")).join("current");
    for run in 1..=2 {
        let output = audit(&server, &in_cache(cache.path()), &[]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains("RUSTSEC-2099-0001.md"));
        assert!(!current.exists(), "run {run}: cached");
        assert_eq!(server.paths().len(), run, "downloaded again");
    }
    // Nor one that loaded only in part.
    let output = audit(&server, &in_cache(cache.path()), &["--allow-partial-db"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!current.exists(), "cached a partial database");
    let kept = util::cached_besides_registry_facts(cache.path());
    assert!(kept.is_empty(), "{kept:?}");
}
