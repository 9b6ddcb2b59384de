//! The submission bundle end to end: made from a signed audit, verified whole with the
//! recipient's key, and refused (exit 3, nothing written) when anything in it was changed or
//! when it holds what a plain bundle never does: `..` paths, links, or endless entries.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::io::Write;
use std::path::Path;

use util::bundle::{RawEntry, entries, raw_tar, repack, s, submission, verify};
use util::{CargoHome, charter_audit};

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
            "attestation.cdx.json",
            "report.json",
            "report.html",
            "vex.openvex.json",
            "vex.cdx.json",
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
    // The VEX documents it carries were checked with it.
    assert!(
        out.contains("VEX: vex.cdx.json, its digest one the signed predicate records"),
        "{out}"
    );

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
        "attestation.cdx.json",
        "vex.openvex.json",
        "vex.cdx.json",
        "attestations.intoto.jsonl",
    ] {
        let tampered = dir.path().join(format!("tampered-{target}.tar.gz"));
        repack(&bundle, &tampered, |files| {
            let file = files.iter_mut().find(|(n, _)| n == target).unwrap();
            let at = file.1.len() / 2;
            file.1[at] ^= 0x01;
        });
        let (code, out) = verify(&tampered, &key, &[]);
        assert_eq!(code, 3, "{target}: {out}");
        assert!(out.starts_with("NOT AUTHENTIC"), "{target}: {out}");
    }
    // The CycloneDX attestation the signed predicate records cannot be left out either.
    let without = dir.path().join("without-cyclonedx.tar.gz");
    repack(&bundle, &without, |files| {
        files.retain(|(n, _)| n != "attestation.cdx.json");
    });
    let (code, out) = verify(&without, &key, &[]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("it lacks attestation.cdx.json"), "{out}");
    // Nor a VEX document it records.
    let without = dir.path().join("without-vex.tar.gz");
    repack(&bundle, &without, |files| {
        files.retain(|(n, _)| n != "vex.cdx.json");
    });
    let (code, out) = verify(&without, &key, &[]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("it lacks vex.cdx.json"), "{out}");
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
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("entry `f0` is not one a bundle holds")
    );
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
        flate2::Compression::default(),
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
    assert!(text.contains("is a PAX extended header"), "{text}");
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
