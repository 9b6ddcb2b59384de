//! The compiled advisory database (`advisories::compiled`) saves parsing, never evidence: a
//! warm run reports byte for byte what the cold run did, a changed database is parsed again,
//! and a compiled file that is damaged, foreign, of another version or for other files is not
//! used, silently. Offline; the cache is a folder of the test's own.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use util::{CargoHome, NOW, charter_audit, fixture};

/// A database folder, a cache folder, and the lockfile audited against them.
struct Setup {
    _dir: tempfile::TempDir,
    db: PathBuf,
    cache: PathBuf,
    home: CargoHome,
}

impl Setup {
    /// A copy of the fixture RustSec database, settled: the compiled database is kept only for
    /// files not modified in the last two seconds.
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        util::copy_dir(&fixture("advisories/rustsec"), &db);
        let cache = dir.path().join("cache");
        settle();
        Setup {
            _dir: dir,
            db,
            cache,
            home: CargoHome::new(),
        }
    }

    fn audit_of(&self, db: &Path) -> Output {
        let output = charter_audit(&self.home)
            .env("CHARTER_AUDIT_CACHE_DIR", &self.cache)
            .args(["audit", "--offline", "--format", "json", "--now", NOW])
            .arg("--lockfile")
            .arg(fixture("workspaces/demo/Cargo.lock"))
            .arg("--registry-index")
            .arg(fixture("registry-index"))
            .arg("--advisory-db")
            .arg(db)
            .output()
            .unwrap();
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn audit(&self) -> Output {
        self.audit_of(&self.db)
    }

    /// The compiled files in the cache.
    fn compiled(&self) -> Vec<PathBuf> {
        // The registry facts of the index folder are kept there too (`registry-*`).
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.cache.join("compiled"))
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.retain(|f| {
            !f.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("registry-")
        });
        files.sort();
        files
    }

    /// The one compiled file, which must be there.
    fn only_compiled(&self) -> PathBuf {
        let files = self.compiled();
        assert_eq!(files.len(), 1, "{files:?}");
        files[0].clone()
    }
}

/// Waits until what was just written is older than the two seconds in which a modification
/// time is not trusted.
fn settle() {
    std::thread::sleep(Duration::from_millis(2200));
}

/// The report as written, but for the one time taken from the clock (when the registry was
/// read), which differs between any two runs.
fn stable(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim_start().starts_with("\"looked_up_at\""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn report(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap()
}

fn revision(output: &Output) -> String {
    report(output)["sources"][0]["revision"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ids(output: &Output) -> Vec<String> {
    let mut ids: Vec<String> = report(output)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_warm_run_reports_byte_for_byte_what_the_cold_run_did() {
    let setup = Setup::new();
    let cold = setup.audit();
    let compiled = setup.only_compiled();
    let written = std::fs::metadata(&compiled).unwrap().modified().unwrap();
    let warm = setup.audit();
    assert_eq!(stable(&cold), stable(&warm));
    assert_eq!(cold.stderr, warm.stderr);
    assert_eq!(cold.status.code(), warm.status.code());
    // The warm run read the compiled file and did not write it again.
    assert_eq!(
        std::fs::metadata(&compiled).unwrap().modified().unwrap(),
        written
    );
    assert!(!ids(&cold).is_empty(), "the fixture has findings");
}

#[test]
fn a_database_modified_in_the_last_seconds_is_not_compiled() {
    let setup = Setup::new();
    std::fs::write(setup.db.join("crates/smallvec/.touched"), b"").unwrap();
    setup.audit();
    assert!(setup.compiled().is_empty(), "{:?}", setup.compiled());
}

#[test]
fn a_removed_advisory_file_rebuilds_the_compiled_database() {
    let setup = Setup::new();
    let cold = setup.audit();
    assert!(ids(&cold).iter().any(|id| id == "RUSTSEC-2021-0003"));
    std::fs::remove_file(setup.db.join("crates/smallvec/RUSTSEC-2021-0003.md")).unwrap();
    let after = setup.audit();
    assert!(!ids(&after).iter().any(|id| id == "RUSTSEC-2021-0003"));
    assert_ne!(revision(&cold), revision(&after));
}

/// A warm run opens no folder: it checks the kept listing with a `stat` per entry, trusting a
/// folder whose stamp is unchanged to hold the names it held. An advisory added to a folder
/// that had one, or in a new folder, must still be read.
#[test]
fn an_advisory_added_to_a_folder_or_in_a_new_one_rebuilds_the_compiled_database() {
    let setup = Setup::new();
    let cold = setup.audit();
    assert!(!ids(&cold).iter().any(|id| id.starts_with("RUSTSEC-2099")));
    let text =
        std::fs::read_to_string(setup.db.join("crates/smallvec/RUSTSEC-2021-0003.md")).unwrap();
    let again = |id: &str| text.replace("RUSTSEC-2021-0003", id);
    std::fs::write(
        setup.db.join("crates/smallvec/RUSTSEC-2099-0001.md"),
        again("RUSTSEC-2099-0001"),
    )
    .unwrap();
    settle();
    let added = setup.audit();
    assert!(
        ids(&added).iter().any(|id| id == "RUSTSEC-2099-0001"),
        "{:?}",
        ids(&added)
    );
    std::fs::create_dir(setup.db.join("crates/memchr")).unwrap();
    std::fs::write(
        setup.db.join("crates/memchr/RUSTSEC-2099-0002.md"),
        again("RUSTSEC-2099-0002")
            .replace("package = \"smallvec\"", "package = \"memchr\"")
            .replace(
                "patched = [\">= 0.6.14, < 1.0.0\", \">= 1.6.1\"]",
                "patched = []",
            ),
    )
    .unwrap();
    settle();
    let in_new_folder = setup.audit();
    assert!(
        ids(&in_new_folder)
            .iter()
            .any(|id| id == "RUSTSEC-2099-0002"),
        "{:?}",
        ids(&in_new_folder)
    );
    assert_ne!(revision(&added), revision(&in_new_folder));
    // And a warm run after it reports what the run that rebuilt it did.
    assert!(stable(&in_new_folder) == stable(&setup.audit()));
}

#[test]
fn an_advisory_edited_to_the_same_size_and_modification_time_rebuilds_the_compiled_database() {
    let setup = Setup::new();
    let cold = setup.audit();
    let file = setup.db.join("crates/smallvec/RUSTSEC-2021-0003.md");
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    // Same length: the advisory now names another crate.
    let edited = text.replace("package = \"smallvec\"", "package = \"smallvex\"");
    assert_eq!(edited.len(), text.len());
    assert_ne!(edited, text);
    std::fs::write(&file, &edited).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let after = setup.audit();
    assert!(!ids(&after).iter().any(|id| id == "RUSTSEC-2021-0003"));
    assert_ne!(revision(&cold), revision(&after));
}

#[test]
fn a_damaged_foreign_or_other_version_compiled_file_is_rebuilt_silently_with_the_same_report() {
    let setup = Setup::new();
    let cold = setup.audit();
    let compiled = setup.only_compiled();
    let good = std::fs::read(&compiled).unwrap();
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let at = good
        .windows(version.len())
        .position(|w| w == version)
        .unwrap();
    let mut other_version = good.clone();
    other_version[at] = if version[0] == b'9' { b'8' } else { b'9' };
    let mut other_format = good.clone();
    other_format[24] ^= 0x01;
    let mut flipped = good.clone();
    let last = flipped.len() - 10;
    flipped[last] ^= 0x20;
    let mut longer = good.clone();
    longer.extend_from_slice(b"[]");
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("header only", good[..40].to_vec()),
        ("empty", Vec::new()),
        ("a byte flipped in the payload", flipped),
        ("bytes added", longer),
        ("foreign", b"{\"advisories\": []}".to_vec()),
        ("another version of the tool", other_version),
        ("another format", other_format),
    ];
    for (what, bytes) in damaged {
        std::fs::write(&compiled, &bytes).unwrap();
        let run = setup.audit();
        assert!(stable(&cold) == stable(&run), "{what}: another report");
        assert_eq!(cold.stderr, run.stderr, "{what}");
        assert_eq!(std::fs::read(&compiled).unwrap(), good, "{what}: rebuilt");
    }
}

#[test]
fn a_compiled_database_planted_for_other_files_is_not_used() {
    // Database B is the fixture; database A is the fixture and one more advisory that names a
    // crate of the lockfile. A's compiled file, put where B's belongs, must not give its
    // advisory to B's audit.
    let setup = Setup::new();
    let extra = setup.db.parent().unwrap().join("db-with-extra");
    util::copy_dir(&setup.db, &extra);
    let text = std::fs::read_to_string(extra.join("crates/smallvec/RUSTSEC-2021-0003.md")).unwrap();
    std::fs::create_dir_all(extra.join("crates/regex")).unwrap();
    std::fs::write(
        extra.join("crates/regex/RUSTSEC-2099-0001.md"),
        text.replace("RUSTSEC-2021-0003", "RUSTSEC-2099-0001")
            .replace("package = \"smallvec\"", "package = \"regex\"")
            .replace(
                "aliases = [\"CVE-2021-25900\", \"GHSA-43w2-9j62-hq99\"]\n",
                "",
            )
            .replace(
                "patched = [\">= 0.6.14, < 1.0.0\", \">= 1.6.1\"]",
                "patched = []",
            ),
    )
    .unwrap();
    settle();
    let cold = setup.audit();
    let b = setup.only_compiled();
    let with_extra = setup.audit_of(&extra);
    assert!(
        ids(&with_extra).iter().any(|id| id == "RUSTSEC-2099-0001"),
        "{:?}",
        ids(&with_extra)
    );
    let a = setup
        .compiled()
        .into_iter()
        .find(|f| *f != b)
        .expect("A's compiled file");
    std::fs::copy(&a, &b).unwrap();
    let planted = setup.audit();
    assert!(
        stable(&cold) == stable(&planted),
        "the planted file was used"
    );
}
