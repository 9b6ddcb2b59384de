//! Property tests of every parser of untrusted bytes, with the fuzz harness's own checks
//! (`fuzz/src/lib.rs`: no panic, a refusal is the typed error naming the file, nothing unsigned
//! verifies), so a plain `cargo test` on a fresh clone exercises what `.ci/run` fuzzes.
//!
//! Each parser gets random bytes, and the committed seed corpus (`fuzz/corpus/TARGET/`) with
//! bytes overwritten, inserted, cut and lines shuffled: most random bytes are refused at the
//! first character, while mutated real files reach deep into each format.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::Path;

use proptest::prelude::*;

/// The committed seeds of a fuzz target, sorted by name.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// One change to a seed.
#[derive(Clone, Debug)]
enum Edit {
    /// Overwrite the byte at (position modulo length).
    Set(usize, u8),
    /// Insert bytes at (position modulo length + 1).
    Insert(usize, Vec<u8>),
    /// Cut a run of bytes.
    Cut(usize, usize),
    /// Keep only the first (position modulo length + 1) bytes.
    Truncate(usize),
    /// Repeat a run of bytes (deep nesting, long lists).
    Repeat(usize, usize, usize),
    /// Swap two lines.
    SwapLines(usize, usize),
}

/// Bytes that matter to the formats: delimiters, quotes, escapes, digits, NUL, high bytes.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(b"{}[]\"'=:,.\\\n\r\t #<>-+0123456789eE/\x00\xff\xc3\x80".to_vec()),
        any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<usize>();
    prop_oneof![
        (at, interesting_byte()).prop_map(|(p, b)| Edit::Set(p, b)),
        (at, prop::collection::vec(interesting_byte(), 1..16))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        (at, 1usize..64).prop_map(|(p, n)| Edit::Cut(p, n)),
        at.prop_map(Edit::Truncate),
        (at, 1usize..32, 2usize..64).prop_map(|(p, n, k)| Edit::Repeat(p, n, k)),
        (at, at).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match edit {
            Edit::Set(p, b) => {
                if !bytes.is_empty() {
                    bytes[p % len] = *b;
                }
            }
            Edit::Insert(p, b) => {
                let at = (p % len + 1).min(bytes.len());
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Cut(p, n) => {
                let from = (p % len).min(bytes.len());
                let to = (from + n).min(bytes.len());
                bytes.drain(from..to);
            }
            Edit::Truncate(p) => bytes.truncate(p % len + 1),
            Edit::Repeat(p, n, k) => {
                let from = (p % len).min(bytes.len());
                let to = (from + n).min(bytes.len());
                let run = bytes[from..to].to_vec();
                let repeated: Vec<u8> = run.iter().copied().cycle().take(run.len() * k).collect();
                bytes.splice(to..to, repeated);
            }
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let n = lines.len();
                lines.swap(a % n, b % n);
                bytes = lines.join(&b'\n');
            }
        }
    }
    bytes
}

/// A seed of `target` with 1 to 8 edits.
fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds(target);
    (
        prop::sample::select(seeds),
        prop::collection::vec(edit(), 1..8),
    )
        .prop_map(|(seed, edits)| apply(seed, &edits))
}

/// Random bytes, sometimes made of the formats' own delimiters.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        prop::collection::vec(interesting_byte(), 0..256),
    ]
}

/// The seeds themselves: each passes the harness as it is.
#[test]
fn every_seed_passes_its_harness() {
    type Harness = fn(&[u8]);
    let harnesses: [(&str, Harness); 14] = [
        ("lockfile", harness::lockfile),
        ("config", harness::config),
        ("cyclonedx", harness::cyclonedx),
        ("osv_json", harness::osv_json),
        ("osv_zip", harness::osv_zip),
        ("rustsec", harness::rustsec),
        ("envelope", harness::envelope),
        ("statement", harness::statement),
        ("bundle", harness::bundle),
        ("report", harness::report),
        ("advisory_cache", harness::advisory_cache),
        ("registry_cache", harness::registry_cache),
        ("binary", harness::binary),
        ("vex", harness::vex),
    ];
    for (target, run) in harnesses {
        for seed in seeds(target) {
            run(&seed);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_cargo_lock_is_read_or_refused_naming_it(bytes in prop_oneof![noise(), mutated("lockfile")]) {
        harness::lockfile(&bytes);
    }

    /// A crate name (from a hostile lockfile, or from cargo) becomes a path in the index folder
    /// only when every part of it is a plain name: never `..`, `/`, or a panic on a non-ASCII
    /// byte boundary.
    #[test]
    fn any_crate_name_is_a_path_inside_the_index_or_none(
        name in prop_oneof![any::<String>(), "[a-zA-Z0-9./_é-]{0,70}"]
    ) {
        if let Some(path) = charter_audit::registry::index::path_of(&name) {
            prop_assert!(path.split('/').all(|part| !part.is_empty()
                && part != "."
                && part != ".."
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')),
                "{name:?} -> {path:?}");
        }
    }

    #[test]
    fn any_charter_audit_toml_is_read_or_refused_naming_it(bytes in prop_oneof![noise(), mutated("config")]) {
        harness::config(&bytes);
    }

    #[test]
    fn any_vex_document_is_read_or_refused_naming_it(bytes in prop_oneof![noise(), mutated("vex")]) {
        harness::vex(&bytes);
    }

    #[test]
    fn any_cyclonedx_sbom_is_read_or_refused_naming_it(bytes in prop_oneof![noise(), mutated("cyclonedx")]) {
        harness::cyclonedx(&bytes);
    }

    #[test]
    fn any_osv_record_is_read_or_refused_naming_the_database(bytes in prop_oneof![noise(), mutated("osv_json")]) {
        harness::osv_json(&bytes);
    }

    #[test]
    fn any_osv_zip_is_read_or_refused_naming_it(bytes in prop_oneof![noise(), mutated("osv_zip")]) {
        harness::osv_zip(&bytes);
    }

    #[test]
    fn no_compiled_database_file_gives_advisories_its_files_do_not_hold(bytes in prop_oneof![noise(), mutated("advisory_cache")]) {
        harness::advisory_cache(&bytes);
    }

    #[test]
    fn no_compiled_registry_file_gives_facts_the_index_does_not_hold(bytes in prop_oneof![noise(), mutated("registry_cache")]) {
        harness::registry_cache(&bytes);
    }

    #[test]
    fn any_rustsec_advisory_is_read_or_refused_naming_the_database(bytes in prop_oneof![noise(), mutated("rustsec")]) {
        harness::rustsec(&bytes);
    }

    #[test]
    fn no_unsigned_envelope_verifies(bytes in prop_oneof![noise(), mutated("envelope")]) {
        harness::envelope(&bytes);
    }

    #[test]
    fn any_signed_statement_is_checked_without_panic(bytes in prop_oneof![noise(), mutated("statement")]) {
        harness::statement(&bytes);
    }

    #[test]
    fn no_unsigned_bundle_is_accepted(bytes in prop_oneof![noise(), mutated("bundle")]) {
        harness::bundle(&bytes);
    }

    #[test]
    fn any_binary_is_read_or_refused_naming_it(bytes in prop_oneof![noise(), mutated("binary")]) {
        harness::binary(&bytes);
    }

    #[test]
    fn any_report_is_refused_or_read_and_written_unchanged(bytes in prop_oneof![noise(), mutated("report")]) {
        harness::report(&bytes);
    }
}
