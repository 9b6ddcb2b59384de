//! The fuzz harness: one function per parser of untrusted bytes, each feeding the bytes to the
//! library the way the command line does (a file where the library reads a file) and checking
//! what the library promises for any input:
//!
//! - no panic (libFuzzer reports a panic as a crash; a property test as a failure);
//! - a refusal is the parser's typed error, naming the file it read (so the user knows which);
//! - evidence nobody signed with the trusted key never verifies.
//!
//! Memory is bounded by the fuzzer (`-rss_limit_mb`, `-malloc_limit_mb` in `.ci/run`), since an
//! allocation is not visible from here. The fuzz targets in `fuzz_targets/` call these
//! functions; `tests/properties.rs` in the main crate includes this file (`#[path]`) and drives
//! the same functions with generated inputs, so a plain `cargo test` exercises them too. Only
//! the library's public API is used.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a harness: a panic is the failure report

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use charter_audit::advisories::{self, AdvisoryError, SourceOptions};
use charter_audit::attest::bundle;
use charter_audit::attest::dsse;
use charter_audit::attest::keys::{Algorithm, PrivateKey};
use charter_audit::attest::verify;
use charter_audit::inventory::LockfileError;
use charter_audit::inventory::cyclonedx::InputError;
use charter_audit::model::report::Report;
use charter_audit::policy::PolicyError;

/// The size cap the command line applies to an SBOM by default (`--max-sbom-size 64`).
const MAX_SBOM_BYTES: u64 = 64 * 1024 * 1024;

/// A fresh scratch folder holding `bytes` as `name`; the file's path.
fn scratch(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let path = dir.path().join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("the scratch folder's subfolders");
    }
    std::fs::write(&path, bytes).expect("the scratch file");
    (dir, path)
}

/// Panics unless `message` names `path`.
fn names(message: &str, path: &Path) {
    assert!(
        message.contains(&path.display().to_string()),
        "the error does not name {}: {message}",
        path.display()
    );
}

/// `Cargo.lock` (`sbom --lockfile`, `audit --lockfile`, and the fallback behind `--manifest-path`).
pub fn lockfile(bytes: &[u8]) {
    let (_dir, path) = scratch("Cargo.lock", bytes);
    match charter_audit::inventory::lockfile::inventory(&path, None, None) {
        Ok(inventory) => assert!(!inventory.packages.is_empty(), "an empty inventory"),
        Err(
            error @ (LockfileError::Parse { .. }
            | LockfileError::Read { .. }
            | LockfileError::MergeConflict { .. }),
        ) => {
            names(&error.to_string(), &path);
        }
        // The scratch file is a regular file well under the size limit: neither of those, nor
        // `not found`, may come back.
        Err(error) => panic!("a small regular file that is there: {error}"),
    }
}

/// `charter-audit.toml`, read from the audited project.
pub fn config(bytes: &[u8]) {
    let (_dir, path) = scratch("charter-audit.toml", bytes);
    match charter_audit::policy::load(None, Some(&path)) {
        Ok(_) => {}
        Err(error @ (PolicyError::Config(_) | PolicyError::Read { .. })) => {
            names(&error.to_string(), &path);
        }
        Err(error) => panic!("no policy was named, yet: {error}"),
    }
}

/// A supplier's CycloneDX JSON SBOM (`audit --sbom`).
pub fn cyclonedx(bytes: &[u8]) {
    let (_dir, path) = scratch("bom.cdx.json", bytes);
    match charter_audit::inventory::cyclonedx::read(&path, MAX_SBOM_BYTES) {
        Ok(input) => assert_eq!(input.bytes, bytes, "the evidence is the document as given"),
        Err(error @ (InputError::Invalid { .. } | InputError::Read { .. })) => {
            names(&error.to_string(), &path);
        }
        Err(error) => panic!("far under the size cap, yet: {error}"),
    }
}

/// Loads an advisory database offline: `--advisory-db` (`native`) or `--osv-db`.
fn load_database(path: &Path, native: bool) -> Result<advisories::Database, AdvisoryError> {
    let options = SourceOptions {
        advisory_db: native.then(|| path.to_path_buf()),
        advisory_db_date: time::Date::from_calendar_date(2026, time::Month::August, 21).ok(),
        osv_db: (!native).then(|| path.to_path_buf()),
        advisory_db_url: "http://127.0.0.1:9/never-fetched.tar.gz".to_owned(),
        cache_dir: Some(path.with_file_name("cache")),
        offline: true,
        allow_partial: false,
    };
    let http = charter_audit::net::Http::new(charter_audit::net::HttpOptions::new(
        true,
        std::time::Duration::from_secs(1),
    ))
    .expect("an offline client");
    advisories::load(&options, &http)
}

/// Checks a database load: a refusal names the database; nothing is fetched.
fn database(path: &Path, root: &Path, native: bool) {
    match load_database(path, native) {
        Ok(database) => assert!(
            database.sources.iter().all(|s| s.advisories > 0),
            "a source with no advisories was accepted"
        ),
        Err(error @ (AdvisoryError::NoSource { .. } | AdvisoryError::Fetch(_))) => {
            panic!("offline with a local database, yet: {error}")
        }
        Err(error) => names(&error.to_string(), root),
    }
}

/// One OSV JSON record in a folder (`--osv-db DIR`).
pub fn osv_json(bytes: &[u8]) {
    let (dir, _) = scratch("osv/RUSTSEC-0000-0000.json", bytes);
    let root = dir.path().join("osv");
    database(&root, &root, false);
}

/// An OSV export zip (`--osv-db all.zip`).
pub fn osv_zip(bytes: &[u8]) {
    let (_dir, path) = scratch("all.zip", bytes);
    database(&path, &path, false);
}

/// One RustSec advisory file in the native layout (`--advisory-db DIR`).
pub fn rustsec(bytes: &[u8]) {
    let (dir, _) = scratch("db/crates/fuzzed/RUSTSEC-0000-0000.md", bytes);
    let root = dir.path().join("db");
    database(&root, &root, true);
}

/// The key the harness trusts: made once per process, never written anywhere.
fn key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(Algorithm::Ed25519))
}

/// A DSSE envelope as `verify` reads it. The fuzzer cannot sign with the harness's key, so
/// nothing it makes may verify.
pub fn envelope(bytes: &[u8]) {
    let result = verify::verify(
        "attestation.intoto.json",
        bytes,
        &[key().public()],
        1,
        &[],
        None,
    );
    assert!(result.is_err(), "an envelope nobody signed verified");
}

/// An in-toto statement, signed with the trusted key, as `verify` reads it after the
/// signature: whatever it accepts is a statement of the predicate type `attest` writes.
pub fn statement(bytes: &[u8]) {
    let signed = dsse::sign(bytes, dsse::IN_TOTO, key()).expect("signing");
    let envelope = serde_json::to_vec(&signed).expect("an envelope as JSON");
    if let Ok(verified) = verify::verify(
        "attestation.intoto.json",
        &envelope,
        &[key().public()],
        1,
        &[],
        None,
    ) {
        // Read as our predicate, so it agrees with itself.
        assert!(
            charter_audit::attest::consistency::check(&verified.predicate).is_ok(),
            "a predicate that contradicts itself verified"
        );
        assert_eq!(verified.signers.len(), 1, "one key signed");
    }
}

/// A submission bundle (`verify --bundle`): read as it streams, under the archive's limits,
/// and never accepted since nobody signed it with the trusted key.
pub fn bundle(bytes: &[u8]) {
    let checked = bundle::check(bytes, &[key().public()], 1, &[]);
    assert!(checked.is_err(), "a bundle nobody signed was accepted");
}

/// An audit report (`attest --report`): read through the types that write it. What is
/// accepted is written back and read again unchanged, so what `attest` signs is what the
/// report said.
pub fn report(bytes: &[u8]) {
    if let Ok(report) = Report::from_json(bytes) {
        let written = report.to_json().expect("a report as JSON");
        let again = Report::from_json(written.as_bytes()).expect("our own report is refused");
        assert_eq!(
            again, report,
            "a report changed when written and read again"
        );
    }
}

/// A RustSec advisory the compiled-database harness loads.
const ADVISORY: &str = "```toml\n[advisory]\nid = \"RUSTSEC-2021-0003\"\npackage = \"smallvec\"\ndate = \"2021-01-08\"\n\n[versions]\npatched = [\">= 1.6.1\"]\n```\n\n# Buffer overflow\n";

/// A compiled advisory database (`advisories::compiled`) as the next run reads it from the
/// cache folder. Whatever the file holds, the database loaded is the one its files hold (the
/// fuzzer cannot make a header for a key that includes a fresh folder's inodes and change
/// times); and the reader takes any payload behind a valid header without panicking.
pub fn advisory_cache(bytes: &[u8]) {
    use charter_audit::advisories::compiled;
    let key = [7u8; 32];
    compiled::read_bytes(bytes, &key);
    compiled::read_bytes(&compiled::frame(bytes, &key), &key);

    let (dir, _) = scratch(
        "db/crates/smallvec/RUSTSEC-2021-0003.md",
        ADVISORY.as_bytes(),
    );
    let root = dir.path().join("db");
    let cold = load_database(&root, true).expect("the harness's database loads");
    let cache = dir.path().join("cache");
    let (path, _) = compiled::slot_file("rustsec", &root, &cache).expect("a cache slot");
    std::fs::write(&path, bytes).expect("the planted file");
    let warm = load_database(&root, true).expect("the harness's database loads");
    assert_eq!(
        cold.sources, warm.sources,
        "a planted compiled file changed the database"
    );
}

/// The evaluation time the harness's registry facts are kept for.
const NOW: time::OffsetDateTime = time::OffsetDateTime::new_utc(
    match time::Date::from_calendar_date(2026, time::Month::September, 1) {
        Ok(date) => date,
        Err(_) => panic!("a valid date"),
    },
    time::Time::MIDNIGHT,
);
/// An index entry the compiled-registry harness looks up.
const INDEX_ENTRY: &str = "{\"name\":\"regex\",\"vers\":\"1.5.4\",\"deps\":[{\"name\":\"memchr\",\"req\":\"^2\"}],\"pubtime\":\"2021-08-02T00:00:00Z\"}\n{\"name\":\"regex\",\"vers\":\"1.5.5\",\"yanked\":true}\n";

/// The compiled registry facts (`registry::compiled`) as the next run reads them from the
/// cache folder. Whatever the file holds, the facts looked up are the ones the index folder
/// holds (the fuzzer cannot make an entry whose stamp is a fresh file's inode and change
/// time); and the reader takes any payload behind a valid header without panicking.
pub fn registry_cache(bytes: &[u8]) {
    use charter_audit::registry::{DirIndex, Lookups, compiled};
    let key = [7u8; 32];
    compiled::read_bytes(bytes, &key);
    compiled::read_bytes(&compiled::frame(bytes, &key), &key);

    let (dir, _) = scratch("index/re/ge/regex", INDEX_ENTRY.as_bytes());
    let index = DirIndex {
        root: dir.path().join("index"),
    };
    let folder = dir.path().join("compiled");
    std::fs::create_dir_all(&folder).expect("the compiled folder");
    let locked = semver::Version::new(1, 5, 4);
    let look = || {
        let lookups = Lookups::fetch(&index, [("regex", &locked)], NOW, Some(&folder))
            .expect("the harness's index is read");
        format!("{:?}", lookups.entries)
    };
    let cold = look();
    let (path, _) = compiled::slot_file("folder", &index.root, &folder).expect("a cache slot");
    std::fs::write(&path, bytes).expect("the planted file");
    assert_eq!(
        cold,
        look(),
        "a planted compiled file changed the registry facts"
    );
}

/// A built binary (`sbom --binary`, `audit --binary`, and every `--subject` that is an
/// executable): the list cargo auditable embeds, or, with `--allow-incomplete`, the crates its
/// panic messages name. A list read is a list of packages whose edges stay inside it, of the
/// bytes given; a refusal names the file.
pub fn binary(bytes: &[u8]) {
    use charter_audit::inventory::binary;
    let path = Path::new("fuzzed/app.bin");
    for allow_incomplete in [false, true] {
        match binary::parse(path, bytes, allow_incomplete) {
            Ok(embedded) => {
                let count = embedded.packages.len();
                assert!(embedded.root.is_none_or(|r| r < count));
                for package in &embedded.packages {
                    assert!(package.dependencies.iter().all(|&d| d < count));
                }
                assert_eq!(embedded.file.sha256.len(), 64);
                assert_eq!(embedded.file.sha512.len(), 128);
                assert!(embedded.file.complete || allow_incomplete);
            }
            Err(error) => names(&error.to_string(), path),
        }
    }
}

/// A VEX document (`audit --vex`): OpenVEX, CycloneDX VEX, or a DSSE envelope of OpenVEX. Read
/// or refused naming the file; a document read keeps within the caps, and survives the trip
/// through the report's own types; a signed one is never read without a key to check it.
pub fn vex(bytes: &[u8]) {
    use charter_audit::audit::vex::{VexInputError, read_all};
    use charter_audit::vex::{self, Document};
    match vex::parse("vex.json", bytes) {
        Ok(parsed) => {
            let document = parsed.document;
            assert!(document.statements.len() <= vex::MAX_STATEMENTS + vex::MAX_REFERENCES);
            assert!(
                document
                    .statements
                    .iter()
                    .all(|s| !s.vulnerability.is_empty())
            );
            let json = serde_json::to_vec(&document).unwrap();
            let again: Document = serde_json::from_slice(&json).unwrap();
            assert_eq!(again, document, "the report reads back what it wrote");
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    let (_dir, path) = scratch("vex.json", bytes);
    match read_all(std::slice::from_ref(&path), &[]) {
        Ok(documents) => assert!(
            documents.iter().all(|d| d.signer.is_none()),
            "nothing is signed without a key"
        ),
        Err(error @ (VexInputError::Document { .. } | VexInputError::NoKey { .. })) => {
            names(&error.to_string(), &path);
        }
        Err(error) => panic!("no key was given, yet: {error}"),
    }
}
