//! A built binary as the inventory (`sbom --binary`, `audit --binary`): the list cargo
//! auditable embedded in the fixture binaries (fixtures/binaries, rebuilt by its build.sh),
//! in ELF, PE, Mach-O and WebAssembly; a binary without the list; hostile binaries refused in
//! bounded memory; the findings equal `cargo audit bin`'s on the same database.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256, Sha512};
use util::{CargoHome, NOW, charter_audit, component, fixture, property, save_sample};

fn binary(name: &str) -> PathBuf {
    fixture(&format!("binaries/{name}"))
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `sbom --binary PATH` as JSON (CycloneDX 1.6 unless `extra` says otherwise).
fn sbom_of(path: &Path, extra: &[&str]) -> (serde_json::Value, Vec<u8>, String) {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args([
            "sbom",
            "--supplier",
            "Example Health Ltd",
            "--binary",
            s(path),
        ])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        output.stdout,
        stderr,
    )
}

/// Runs `sbom --binary PATH`, expecting exit 2; returns standard error.
fn refused(path: &Path) -> String {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["sbom", "--binary", s(path)])
        .output()
        .unwrap();
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr
}

fn components(sbom: &serde_json::Value) -> BTreeSet<String> {
    sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let kind = c["properties"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "charter-audit:dependency-kind")
                .and_then(|p| p["value"].as_str())
                .unwrap_or("-");
            format!(
                "{} {} {kind}",
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap()
            )
        })
        .collect()
}

/// What cargo auditable compiled into demo-app (fixtures/workspaces/demo, host target): its
/// normal dependencies and cc, a build dependency; not ansi_term (dev) nor winapi (Windows).
const DEMO: [&str; 9] = [
    "aho-corasick 0.7.18 normal",
    "atty 0.2.14 normal",
    "cc 1.0.72 build",
    "demo-util 0.3.1 normal",
    "libc 0.2.112 normal",
    "memchr 2.4.1 normal",
    "regex 1.5.4 normal",
    "regex-syntax 0.6.25 normal",
    "smallvec 1.6.0 normal",
];

#[test]
fn the_elf_fixture_is_the_inventory_of_what_was_compiled_in() {
    let path = binary("demo-app.elf");
    let bytes = std::fs::read(&path).unwrap();
    let (sbom, raw, _) = sbom_of(&path, &[]);
    save_sample("binary-demo-app.json", &raw);
    assert_eq!(
        components(&sbom),
        DEMO.iter().map(|c| c.to_string()).collect()
    );
    // The product is the root package, and the binary is its deployable form.
    let product = &sbom["metadata"]["component"];
    assert_eq!(product["name"], "demo-app");
    assert_eq!(product["version"], "0.3.1");
    assert_eq!(product["hashes"][0]["alg"], "SHA-256");
    assert_eq!(
        product["hashes"][0]["content"],
        hex::encode(Sha256::digest(&bytes))
    );
    assert_eq!(product["hashes"][1]["alg"], "SHA-512");
    let sha512 = hex::encode(Sha512::digest(&bytes));
    assert_eq!(product["hashes"][1]["content"], sha512.as_str());
    let distribution = &product["externalReferences"][0];
    assert_eq!(distribution["type"], "distribution");
    assert_eq!(distribution["url"], "demo-app.elf");
    assert_eq!(distribution["hashes"][0]["content"], sha512.as_str());
    // Sources by kind only, and said so; what the list cannot hold, said so.
    let regex = component(&sbom, "regex");
    assert_eq!(regex["purl"], "pkg:cargo/regex@1.5.4");
    assert!(regex.get("hashes").is_none(), "the list has no checksum");
    assert!(
        regex["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "charter-audit:source-detail" && p["value"] == "kind-only")
    );
    assert_eq!(
        component(&sbom, "demo-util")["purl"],
        "pkg:cargo/demo-util@0.3.1?source=path"
    );
    assert_eq!(
        property(&sbom, "charter-audit:inventory"),
        Some("cargo-auditable")
    );
    assert_eq!(property(&sbom, "charter-audit:binary-format"), Some("ELF"));
    assert!(
        property(&sbom, "charter-audit:not-listed")
            .unwrap()
            .contains("standard library")
    );
    assert_eq!(sbom["compositions"][0]["aggregate"], "complete");
    let note = sbom["annotations"][0]["text"].as_str().unwrap();
    assert!(note.contains("-sys crates are not listed"), "{note}");
    assert!(note.contains("no URL, commit or checksum"), "{note}");
    assert_eq!(sbom["metadata"]["lifecycles"][0]["phase"], "post-build");
    // The edges are the list's: demo-app needs demo-util, regex and (to build) cc.
    assert_eq!(
        util::depends_on(&sbom, "demo-app"),
        [
            "pkg:cargo/cc@1.0.72",
            "pkg:cargo/demo-util@0.3.1?source=path",
            "pkg:cargo/regex@1.5.4"
        ]
    );
    // 1.5 carries the annotation too (the crate's own serialisation).
    let (v1_5, raw, _) = sbom_of(&path, &["--spec-version", "1.5"]);
    save_sample("binary-demo-app-1.5.json", &raw);
    assert_eq!(v1_5["annotations"][0]["subjects"][0], product["bom-ref"]);
}

#[test]
fn pe_mach_o_and_webassembly_carry_the_same_list() {
    let (elf, _, _) = sbom_of(&binary("demo-app.elf"), &[]);
    for (name, format) in [
        ("demo-app.pe", "PE"),
        ("demo-app.macho", "Mach-O"),
        ("demo-app.wasm", "WebAssembly"),
    ] {
        let (sbom, _, _) = sbom_of(&binary(name), &[]);
        assert_eq!(components(&sbom), components(&elf), "{name}");
        assert_eq!(sbom["metadata"]["component"]["name"], "demo-app", "{name}");
        assert_eq!(
            property(&sbom, "charter-audit:binary-format"),
            Some(format),
            "{name}"
        );
    }
}

#[test]
fn another_products_binary_names_its_own_product() {
    let (sbom, _, _) = sbom_of(&binary("other-product.elf"), &[]);
    assert_eq!(sbom["metadata"]["component"]["name"], "other-product");
    assert_eq!(
        components(&sbom),
        BTreeSet::from(["smallvec 1.6.0 normal".to_owned()])
    );
}

/// The sections of a 64-bit little-endian ELF: (name, header offset, data offset, size).
fn sections(data: &[u8]) -> Vec<(String, usize, usize, usize)> {
    let u16_at = |at: usize| u16::from_le_bytes(data[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap()) as usize;
    let (shoff, size, count, names) = (u64_at(0x28), u16_at(0x3A), u16_at(0x3C), u16_at(0x3E));
    let strtab = u64_at(shoff + names * size + 24);
    (0..count)
        .map(|i| {
            let at = shoff + i * size;
            let name_at = strtab + u32_at(at);
            let end = name_at + data[name_at..].iter().position(|&b| b == 0).unwrap();
            let name = String::from_utf8_lossy(&data[name_at..end]).into_owned();
            (name, at, u64_at(at + 24), u64_at(at + 32))
        })
        .collect()
}

/// The demo ELF with its `.dep-v0` section pointed at `payload`, appended at the end.
fn with_payload(payload: &[u8]) -> Vec<u8> {
    let mut data = std::fs::read(binary("demo-app.elf")).unwrap();
    let (_, at, _, _) = sections(&data)
        .into_iter()
        .find(|(name, ..)| name == ".dep-v0")
        .unwrap();
    let offset = data.len() as u64;
    data.extend_from_slice(payload);
    data[at + 24..at + 32].copy_from_slice(&offset.to_le_bytes());
    data[at + 32..at + 40].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    data
}

/// The demo ELF with its `.dep-v0` section renamed: a binary built without cargo auditable.
fn without_list() -> Vec<u8> {
    let mut data = std::fs::read(binary("demo-app.elf")).unwrap();
    let at = data
        .windows(8)
        .position(|w| w == b".dep-v0\0")
        .expect("the section's name");
    data[at + 6] = b'9';
    data
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

#[test]
fn a_binary_without_the_list_is_refused_with_the_fix_or_read_as_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain-app");
    std::fs::write(&path, without_list()).unwrap();
    let stderr = refused(&path);
    assert!(stderr.contains("plain-app: no dependency list embedded by cargo auditable"));
    assert!(stderr.contains("cargo install cargo-auditable && cargo auditable build --release"));

    // --allow-incomplete: the best effort, marked incomplete everywhere.
    let (sbom, _, stderr) = sbom_of(&path, &["--allow-incomplete"]);
    assert!(stderr.contains("the inventory is incomplete"), "{stderr}");
    assert_eq!(sbom["compositions"][0]["aggregate"], "incomplete");
    assert_eq!(
        property(&sbom, "charter-audit:inventory"),
        Some("binary-panic-messages")
    );
    assert!(property(&sbom, "charter-audit:incomplete").is_some());
    assert_eq!(sbom["metadata"]["component"]["name"], "plain-app");

    // And it never passes sbom-completeness, whatever else the audit finds.
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["audit", "--offline", "--format", "json", "--now", NOW])
        .args(["--supplier", "Example Health Ltd", "--allow-incomplete"])
        .args(["--binary", s(&path)])
        .args(["--registry-index", s(&fixture("registry-index"))])
        .args([
            "--advisory-db",
            s(&fixture("cargo-audit/advisory-db/rustsec")),
        ])
        .args(["--advisory-db-date", "2026-08-31"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["components"]["inventory"], "binary-panic-messages");
    let completeness: Vec<&serde_json::Value> = report["rule_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "sbom-completeness" && r["verdict"] == "violation")
        .collect();
    assert_eq!(completeness.len(), 1, "{completeness:?}");
    assert!(
        completeness[0]["message"]
            .as_str()
            .unwrap()
            .contains("no dependency list embedded by cargo auditable")
    );
}

/// Runs `sbom --binary` with the address space capped at 256 MiB: an allocation past it
/// aborts the process instead of the refusal (exit 2).
fn refused_in_256_mib(path: &Path) -> String {
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -v 262144; exec {:?} sbom --binary {:?}",
            env!("CARGO_BIN_EXE_charter-audit"),
            s(path)
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}: {stderr}",
        path.display()
    );
    assert!(output.stdout.is_empty());
    stderr
}

#[test]
fn hostile_binaries_are_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let demo = std::fs::read(binary("demo-app.elf")).unwrap();

    // Truncated: the section headers are past the end.
    let stderr = refused_in_256_mib(&write("truncated", &demo[..demo.len() / 2]));
    assert!(stderr.contains("truncated: not an executable"), "{stderr}");

    // The section points past the end of the file.
    let mut past = with_payload(b"x");
    let (_, at, _, _) = sections(&past)
        .into_iter()
        .find(|(name, ..)| name == ".dep-v0")
        .unwrap();
    past[at + 32..at + 40].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let stderr = refused_in_256_mib(&write("past-the-end", &past));
    assert!(stderr.contains("past-the-end: "), "{stderr}");

    // A compression bomb: 1 GiB of spaces in about 1 MiB, stopped at 8 MiB decompressed.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..1024 {
        z.write_all(&chunk).unwrap();
    }
    let bomb = z.finish().unwrap();
    assert!(bomb.len() < 8 << 20, "{}", bomb.len());
    let stderr = refused_in_256_mib(&write("bomb", &with_payload(&bomb)));
    assert!(
        stderr.contains("larger than 8388608 bytes once decompressed"),
        "{stderr}"
    );

    // Not zlib, and zlib of what is not the list.
    let stderr = refused_in_256_mib(&write("not-zlib", &with_payload(b"garbage")));
    assert!(
        stderr.contains("not-zlib: the dependency list embedded in it is damaged"),
        "{stderr}"
    );
    let stderr = refused_in_256_mib(&write(
        "not-json",
        &with_payload(&zlib(b"{\"packages\":7}")),
    ));
    assert!(stderr.contains("is damaged"), "{stderr}");
    // An edge past the end of the list.
    let edge = br#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[9],"root":true}]}"#;
    let stderr = refused_in_256_mib(&write("bad-edge", &with_payload(&zlib(edge))));
    assert!(stderr.contains("depends on package 9, of 1"), "{stderr}");

    // Huge: 600 MiB, sparse, refused from its size before a byte is read.
    let huge = dir.path().join("huge");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(600 << 20).unwrap();
    drop(file);
    let stderr = refused_in_256_mib(&huge);
    assert!(
        stderr.contains("the largest binary charter-audit reads"),
        "{stderr}"
    );
}

#[test]
fn findings_on_a_binary_equal_cargo_audit_bin() {
    let kept: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture("cargo-audit/binary-demo-app.json")).unwrap(),
    )
    .unwrap();
    let expected: BTreeSet<String> = kept["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = root.join(kept["binary"].as_str().unwrap());
    let db = fixture("cargo-audit/advisory-db");
    for flags in [
        ["--advisory-db", s(&db.join("rustsec"))],
        ["--osv-db", s(&db.join("osv"))],
    ] {
        let home = CargoHome::new();
        let output = charter_audit(&home)
            .args(["audit", "--offline", "--format", "json", "--now", NOW])
            .args(["--binary", s(&binary)])
            .args(["--registry-index", s(&fixture("registry-index"))])
            .args(flags)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["components"]["inventory"], "cargo-auditable");
        // cargo-audit drops an advisory limited to systems that cannot run the binary; the
        // report keeps it, not applicable.
        let ours: BTreeSet<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                ["vulnerability", "unmaintained", "unsound"].contains(&f["kind"].as_str().unwrap())
            })
            .filter(|f| f["not_applicable"].is_null())
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
        assert_eq!(ours, expected, "with {}", flags[0]);
    }
}
