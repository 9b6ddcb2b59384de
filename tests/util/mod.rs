//! Shared helpers for the end-to-end tests: fixtures, a hermetic cargo home, running the binary.
#![allow(dead_code)]

pub mod bundle;
pub mod http;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A fixed `SOURCE_DATE_EPOCH` (2023-11-14T22:13:20Z) for reproducible documents.
pub const EPOCH: &str = "1700000000";

/// A report's text with the wall-clock time of its registry lookup elided: the one line that
/// rightly differs between two runs of the same audit.
pub fn without_lookup_time(report: &str) -> String {
    report
        .lines()
        .map(|line| match line.split_once(" crates looked up at ") {
            Some((head, tail)) => match tail.split_once(", ") {
                Some((_, rest)) => format!("{head} crates looked up at …, {rest}"),
                None => format!("{head} crates looked up at …"),
            },
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files under a cache folder but the registry facts compiled from a local index folder
/// (`compiled/registry-*`), which are kept whatever becomes of the advisory database.
pub fn cached_besides_registry_facts(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| {
            !(f.parent().is_some_and(|p| p.ends_with("compiled"))
                && f.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("registry-")))
        })
        .collect()
}

/// Every file under `dir`, in any folder depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A path under `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// A temporary `CARGO_HOME` whose config replaces crates-io with the stand-in crates in
/// `fixtures/vendor`, so real `cargo metadata` resolves the fixtures with no network.
pub struct CargoHome {
    dir: tempfile::TempDir,
}

impl CargoHome {
    pub fn new() -> CargoHome {
        let dir = tempfile::tempdir().unwrap();
        let vendor = fixture("vendor");
        let config = format!(
            "[source.crates-io]\nreplace-with = \"fixture-vendor\"\n\n\
             [source.fixture-vendor]\ndirectory = {:?}\n\n[net]\noffline = true\n",
            vendor.to_str().unwrap()
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        CargoHome { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The binary, with a hermetic cargo home and a fixed `SOURCE_DATE_EPOCH`.
pub fn charter_audit(home: &CargoHome) -> Command {
    let mut cmd = Command::cargo_bin("charter-audit").unwrap();
    cmd.env("CARGO_HOME", home.path())
        // The answers a run keeps (index entries, OSV records) stay with this home.
        .env(
            "CHARTER_AUDIT_CACHE_DIR",
            home.path().join("charter-audit-cache"),
        )
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        // CI's job summary is not the tests' to write.
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_SHA")
        .env_remove("CHARTER_AUDIT_SIGNING_KEY")
        .env("NO_COLOR", "1");
    cmd
}

/// A copy of a fixture workspace in a new temporary folder (without its `.cargo` folder, whose
/// relative paths only hold in place; the hermetic cargo home stands in for it).
pub fn copy_workspace(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(&format!("workspaces/{name}")), dir.path());
    dir
}

/// Copies a folder tree (leaving out `.cargo` and `target`).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".cargo" || name == "target" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Keeps an SBOM a test produced, for the external validators run by `.ci/run`.
pub fn save_sample(name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sbom-samples");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Keeps a SARIF log a test produced, for the SARIF multitool run by `.ci/run`.
pub fn save_sarif_sample(name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sarif-samples");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Keeps an HTML report a test produced, for headless Chromium in `.ci/run`.
pub fn save_html_sample(name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-samples");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Runs the command, expecting success; returns standard output and standard error.
pub fn success(cmd: &mut Command) -> (Vec<u8>, String) {
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{stderr}",
        output.status.code()
    );
    (output.stdout, stderr)
}

/// Runs the command, expecting success, and parses standard output as JSON.
pub fn json_of(cmd: &mut Command) -> (serde_json::Value, Vec<u8>, String) {
    let (stdout, stderr) = success(cmd);
    let value = serde_json::from_slice(&stdout).unwrap();
    (value, stdout, stderr)
}

/// The components of an SBOM by name, as `(name, version)`, sorted.
pub fn component_names(sbom: &serde_json::Value) -> Vec<String> {
    sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap()
            )
        })
        .collect()
}

/// The component named `name`.
pub fn component<'a>(sbom: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

/// The `dependsOn` list of the dependency entry whose ref starts with `pkg:cargo/NAME@`.
pub fn depends_on(sbom: &serde_json::Value, name: &str) -> Vec<String> {
    let prefix = format!("pkg:cargo/{name}@");
    let entry = sbom["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ref"].as_str().unwrap().starts_with(&prefix))
        .unwrap_or_else(|| panic!("no dependency entry for {name}"));
    entry["dependsOn"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The value of a `metadata.properties` entry.
pub fn property<'a>(sbom: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    sbom["metadata"]["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}

/// The evaluation time every audit test pins.
pub const NOW: &str = "2026-09-01T00:00:00Z";

/// `audit` on a lockfile with the fixture advisories and registry index, offline, as JSON.
pub fn audit_json(
    home: &CargoHome,
    lockfile: &Path,
    extra: &[&str],
) -> (serde_json::Value, i32, String) {
    let mut cmd = charter_audit(home);
    cmd.args([
        "audit",
        "--offline",
        "--format",
        "json",
        "--now",
        NOW,
        "--lockfile",
    ])
    .arg(lockfile)
    .args(extra);
    if !extra.contains(&"--registry-index") {
        cmd.arg("--registry-index").arg(fixture("registry-index"));
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        code,
        stderr,
    )
}

/// The findings of a report as `(package version, id, kind)` strings, sorted.
pub fn finding_keys(report: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["package"]["name"].as_str().unwrap(),
                f["package"]["version"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                f["kind"].as_str().unwrap()
            )
        })
        .collect();
    keys.sort();
    keys
}

/// The finding with this id.
pub fn finding<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {report}"))
}

/// The evaluation time of the README's demo audit.
pub const DEMO_NOW: &str = "2026-08-25T00:00:00Z";

/// `audit` of the demo lockfile, offline, against the fixture RustSec database at `DEMO_NOW`; the
/// caller adds the outputs and anything else.
pub fn demo_audit(home: &CargoHome) -> Command {
    let mut cmd = charter_audit(home);
    cmd.args(["audit", "--offline", "--now", DEMO_NOW, "--lockfile"])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21"]);
    cmd
}

/// `audit --out-dir OUT` of a copy of the demo workspace for Linux at `now`, with the
/// configuration `config_text` and the `extra` flags: its exit code (0 or 1; anything else
/// fails the test).
pub fn demo_audit_into<S: AsRef<std::ffi::OsStr>>(
    out: &Path,
    now: &str,
    config_text: &str,
    extra: &[S],
) -> i32 {
    let ws = copy_workspace("demo");
    let config_path = ws.path().join("audit.toml");
    std::fs::write(&config_path, config_text).unwrap();
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .args(["audit", "--offline", "--now", now, "--manifest-path"])
        .arg(ws.path().join("Cargo.toml"))
        .args(["--target", "x86_64-unknown-linux-gnu", "--config"])
        .arg(&config_path)
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .arg("--out-dir")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let code = output.status.code().unwrap();
    assert!(
        code < 2,
        "exit {code}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    code
}

/// `keygen --out PREFIX` (Ed25519): the private and public key files.
pub fn keygen(home: &CargoHome, prefix: &Path) -> (PathBuf, PathBuf) {
    let output = charter_audit(home)
        .args(["keygen", "--out"])
        .arg(prefix)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    (prefix.with_extension("key"), prefix.with_extension("pub"))
}
