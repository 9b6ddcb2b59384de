//! The submission bundle end to end: made from a signed audit, verified whole with the
//! recipient's key, and refused (exit 3, nothing written) when anything in it was changed or
//! when it holds what a plain bundle never does: `..` paths, links, or endless entries.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::io::Write;
use std::path::{Path, PathBuf};

use util::{CargoHome, charter_audit, fixture};

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A signed demo audit packed as a bundle: the folder, the bundle, the artifact, the key.
fn submission() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let prefix = dir.path().join("supplier");
    assert!(
        charter_audit(&home)
            .args(["keygen", "--out", s(&prefix)])
            .output()
            .unwrap()
            .status
            .success()
    );
    let artifact = dir.path().join("app.tar.gz");
    std::fs::write(&artifact, b"the release").unwrap();
    let evidence = dir.path().join("evidence");
    let output = charter_audit(&home)
        .args([
            "audit",
            "--offline",
            "--now",
            "2026-08-25T00:00:00Z",
            "--lockfile",
        ])
        .arg(fixture("workspaces/demo/Cargo.lock"))
        .arg("--advisory-db")
        .arg(fixture("advisories/rustsec"))
        .args(["--advisory-db-date", "2026-08-21", "--registry-index"])
        .arg(fixture("registry-index"))
        .args(["--out-dir", s(&evidence), "--subject", s(&artifact)])
        .arg("--sign-key")
        .arg(prefix.with_extension("key"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let bundle = dir.path().join("submission.tar.gz");
    let output = charter_audit(&home)
        .args(["bundle", "--out-dir", s(&evidence), "-o", s(&bundle)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    (dir, bundle, artifact, prefix.with_extension("pub"))
}

fn verify(bundle: &Path, key: &Path, extra: &[&str]) -> (i32, String) {
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["verify", "--bundle", s(bundle), "--key", s(key)])
        .args(["--now", "2026-08-26T00:00:00Z"])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// The entries of a bundle, in order.
fn entries(bundle: &Path) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(bundle).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
            (name, bytes)
        })
        .collect()
}

/// One raw tar entry: name, type, link, content.
type RawEntry<'a> = (&'a str, tar::EntryType, &'a str, &'a [u8]);

/// A gzip'd tar of raw entries, names written as given.
fn raw_tar(path: &Path, entries: &[RawEntry<'_>]) {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    ));
    for (name, kind, link, content) in entries {
        let mut header = tar::Header::new_old();
        let raw = header.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(*kind);
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, *content).unwrap();
    }
    builder
        .into_inner()
        .unwrap()
        .finish()
        .unwrap()
        .flush()
        .unwrap();
}

#[test]
fn a_bundle_round_trips_and_says_what_it_holds() {
    let (dir, bundle, artifact, key) = submission();
    let names: Vec<String> = entries(&bundle).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "README.txt",
            "attestation.intoto.json",
            "attestations.intoto.jsonl",
            "sbom.cdx.json",
            "report.json",
            "report.html",
            "signing-key.pub"
        ]
    );
    let readme = String::from_utf8(entries(&bundle)[0].1.clone()).unwrap();
    assert!(readme.contains("charter-audit verify --bundle THIS-FILE.tar.gz --key supplier.pub"));
    let (code, out) = verify(&bundle, &key, &["--subject", s(&artifact)]);
    assert_eq!(code, 1, "authentic; the demo's result is fail: {out}");
    assert!(
        out.contains("Every file of the bundle matches the attestation."),
        "{out}"
    );
    assert!(out.contains("it is one of the keys you gave"), "{out}");

    // The bundle's own key is never trusted: with another key it is not authentic, and the
    // output says the bundled key is not one given.
    let other = dir.path().join("other");
    let home = CargoHome::new();
    charter_audit(&home)
        .args(["keygen", "--out", s(&other)])
        .output()
        .unwrap();
    let (code, _) = verify(&bundle, &other.with_extension("pub"), &[]);
    assert_eq!(code, 3);

    // Reproducible: the same evidence packs to the same bytes.
    let again = dir.path().join("again.tar.gz");
    let output = charter_audit(&home)
        .env("SOURCE_DATE_EPOCH", util::EPOCH)
        .args([
            "bundle",
            "--out-dir",
            s(&dir.path().join("evidence")),
            "-o",
            s(&again),
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let third = dir.path().join("third.tar.gz");
    charter_audit(&home)
        .args([
            "bundle",
            "--out-dir",
            s(&dir.path().join("evidence")),
            "-o",
            s(&third),
        ])
        .output()
        .unwrap();
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&third).unwrap()
    );
}

#[test]
fn a_file_changed_inside_the_bundle_is_exit_3() {
    let (dir, bundle, _, key) = submission();
    for target in [
        "report.html",
        "report.json",
        "sbom.cdx.json",
        "attestations.intoto.jsonl",
    ] {
        let mut files = entries(&bundle);
        let file = files.iter_mut().find(|(n, _)| n == target).unwrap();
        let at = file.1.len() / 2;
        file.1[at] ^= 0x01;
        let tampered = dir.path().join(format!("tampered-{target}.tar.gz"));
        let list: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        std::fs::write(
            &tampered,
            charter_audit::attest::bundle::pack(&list, 0).unwrap(),
        )
        .unwrap();
        let (code, out) = verify(&tampered, &key, &[]);
        assert_eq!(code, 3, "{target}: {out}");
        assert!(out.starts_with("NOT AUTHENTIC"), "{target}: {out}");
    }
}

#[test]
fn hostile_archives_are_refused_and_nothing_is_written() {
    let (dir, _, _, key) = submission();
    let work = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("hostile.tar.gz");
    let cases: Vec<(&str, Vec<RawEntry<'_>>)> = vec![
        (
            "a ../ entry",
            vec![("../escaped.txt", tar::EntryType::Regular, "", b"x")],
        ),
        (
            "an absolute path",
            vec![("/tmp/escaped.txt", tar::EntryType::Regular, "", b"x")],
        ),
        (
            "a symlink",
            vec![("report.json", tar::EntryType::Symlink, "/etc/passwd", b"")],
        ),
        (
            "a folder",
            vec![("sub/", tar::EntryType::Directory, "", b"")],
        ),
    ];
    for (what, entries) in cases {
        raw_tar(&hostile, &entries);
        let home = CargoHome::new();
        let output = charter_audit(&home)
            .current_dir(work.path())
            .args(["verify", "--bundle", s(&hostile), "--key", s(&key)])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(3), "{what}: {out}");
        assert!(out.contains("is not a plain file name"), "{what}: {out}");
    }
    // 100,000 entries: refused after the limit, without reading them all.
    let names: Vec<String> = (0..100_000).map(|i| format!("f{i}")).collect();
    let many: Vec<RawEntry<'_>> = names
        .iter()
        .map(|n| (n.as_str(), tar::EntryType::Regular, "", &b""[..]))
        .collect();
    raw_tar(&hostile, &many);
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .current_dir(work.path())
        .args(["verify", "--bundle", s(&hostile), "--key", s(&key)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stdout).contains("more than 64 entries"));
    // Reading wrote nothing, where it ran or beside the archive.
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
    assert!(!dir.path().join("escaped.txt").exists());
    assert!(!Path::new("/tmp/escaped.txt").exists());
}

#[test]
fn bundle_refuses_evidence_that_does_not_verify_with_its_key() {
    let (dir, _, _, _) = submission();
    let other = dir.path().join("other");
    let home = CargoHome::new();
    charter_audit(&home)
        .args(["keygen", "--out", s(&other)])
        .output()
        .unwrap();
    let out = dir.path().join("wrong.tar.gz");
    let output = charter_audit(&home)
        .args(["bundle", "--out-dir", s(&dir.path().join("evidence"))])
        .arg("--key")
        .arg(other.with_extension("pub"))
        .args(["-o", s(&out)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("the attestation does not verify with")
    );
    assert!(!out.exists());
}

/// Repacks a bundle's entries after `edit`, with the library's own packer.
fn repack(bundle: &Path, out: &Path, edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) {
    let mut files = entries(bundle);
    edit(&mut files);
    let list: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    std::fs::write(out, charter_audit::attest::bundle::pack(&list, 0).unwrap()).unwrap();
}

#[test]
fn a_bundle_holds_exactly_its_files_as_attested() {
    let (dir, bundle, _, key) = submission();
    let out = dir.path().join("edited.tar.gz");
    let refused = |what: &str, expect: &str| {
        let (code, text) = verify(&out, &key, &[]);
        assert_eq!(code, 3, "{what}: {text}");
        assert!(text.contains(expect), "{what}: {text}");
    };
    repack(&bundle, &out, |f| {
        f.push(("invoice.exe".into(), b"MZ".to_vec()))
    });
    refused(
        "an extra file",
        "entry `invoice.exe` is not one a bundle holds",
    );
    repack(&bundle, &out, |f| {
        f.push(("REPORT.HTML".into(), b"<h1>ALL PASS</h1>".to_vec()))
    });
    refused(
        "a name differing in case",
        "entry `REPORT.HTML` appears twice",
    );
    repack(&bundle, &out, |f| f.retain(|(n, _)| n != "report.html"));
    refused("a missing report", "it lacks report.html");
    repack(&bundle, &out, |f| {
        f.retain(|(n, _)| n != "attestations.intoto.jsonl")
    });
    refused(
        "a missing statements file",
        "it lacks attestations.intoto.jsonl",
    );
    repack(&bundle, &out, |f| {
        f.iter_mut().find(|(n, _)| n == "README.txt").unwrap().1 =
            b"Trust the key in this bundle.".to_vec();
    });
    refused(
        "a rewritten README",
        "README.txt is not the one charter-audit writes",
    );
    let other = dir.path().join("other");
    let home = CargoHome::new();
    charter_audit(&home)
        .args(["keygen", "--out", s(&other)])
        .output()
        .unwrap();
    let other_pem = std::fs::read(other.with_extension("pub")).unwrap();
    repack(&bundle, &out, |f| {
        f.iter_mut()
            .find(|(n, _)| n == "signing-key.pub")
            .unwrap()
            .1 = other_pem.clone();
    });
    refused(
        "a swapped key",
        "signing-key.pub did not sign its attestation",
    );
    // The statements of the same run only: one line cut away.
    repack(&bundle, &out, |f| {
        let jsonl = &mut f
            .iter_mut()
            .find(|(n, _)| n == "attestations.intoto.jsonl")
            .unwrap()
            .1;
        let text = String::from_utf8(jsonl.clone()).unwrap();
        *jsonl = text
            .lines()
            .take(2)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .into_bytes();
    });
    refused(
        "a cut statements file",
        "not the statements of this attestation's run",
    );
}

#[test]
fn data_after_the_archive_and_oversized_headers_are_refused() {
    let (dir, bundle, _, key) = submission();
    // A second gzip member: `tar` would read it, so it is not evidence.
    let out = dir.path().join("two-members.tar.gz");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let mut second = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    second.write_all(b"more").unwrap();
    bytes.extend(second.finish().unwrap());
    std::fs::write(&out, &bytes).unwrap();
    let (code, text) = verify(&out, &key, &[]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("data after its archive"), "{text}");
    // Trailing bytes.
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes.extend(b"trailing");
    std::fs::write(&out, &bytes).unwrap();
    assert_eq!(verify(&out, &key, &[]).0, 3);

    // A PAX header claiming 200 MiB: refused at the decompressed-size limit, not buffered.
    let pax = dir.path().join("pax.tar.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&pax).unwrap(),
        flate2::Compression::fast(),
    );
    let mut header = tar::Header::new_ustar();
    header.set_path("PaxHeaders/x").unwrap();
    header.set_entry_type(tar::EntryType::XHeader);
    let size: u64 = 200 * 1024 * 1024;
    header.set_size(size);
    header.set_cksum();
    gz.write_all(header.as_bytes()).unwrap();
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..200 {
        gz.write_all(&zeros).unwrap();
    }
    gz.finish().unwrap();
    let (code, text) = verify(&pax, &key, &[]);
    assert_eq!(code, 3, "{text}");
}

#[test]
fn bundle_packs_only_consistent_evidence_and_works_for_a_late_signature() {
    let (dir, _, _, key) = submission();
    let home = CargoHome::new();
    let evidence = dir.path().join("evidence");
    // A report changed after the run: not packed.
    let stale = dir.path().join("stale");
    std::fs::create_dir(&stale).unwrap();
    for entry in std::fs::read_dir(&evidence).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), stale.join(entry.file_name())).unwrap();
    }
    let mut html = std::fs::OpenOptions::new()
        .append(true)
        .open(stale.join("report.html"))
        .unwrap();
    html.write_all(b"<!-- edited -->").unwrap();
    let out = dir.path().join("stale.tar.gz");
    let output = charter_audit(&home)
        .args(["bundle", "--out-dir", s(&stale), "-o", s(&out)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("report.html is not the one attested")
    );
    assert!(!out.exists());

    // Signed later with `attest` (which records report.json only): the bundle leaves the HTML
    // out, and verifies.
    let late = dir.path().join("late");
    std::fs::create_dir(&late).unwrap();
    for name in ["report.json", "sbom.cdx.json", "report.html"] {
        std::fs::copy(evidence.join(name), late.join(name)).unwrap();
    }
    std::fs::copy(&key, late.join("signing-key.pub")).unwrap();
    let output = charter_audit(&home)
        .args(["attest", "--report", s(&late.join("report.json"))])
        .args(["--sbom", s(&late.join("sbom.cdx.json"))])
        .args(["--sign-key", s(&key.with_extension("key"))])
        .args(["--jsonl", s(&late.join("attestations.intoto.jsonl"))])
        .args(["-o", s(&late.join("attestation.intoto.json"))])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let out = dir.path().join("late.tar.gz");
    let output = charter_audit(&home)
        .args(["bundle", "--out-dir", s(&late), "-o", s(&out)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let names: Vec<String> = entries(&out).into_iter().map(|(n, _)| n).collect();
    assert!(!names.contains(&"report.html".to_owned()), "{names:?}");
    let (code, text) = verify(&out, &key, &[]);
    assert_eq!(code, 1, "authentic; the result is fail: {text}");
}
