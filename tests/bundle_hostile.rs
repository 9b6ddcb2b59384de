//! Hostile bundles: what a bundle carrier can do to a submission so that `verify --bundle` reads
//! one thing and a person who unpacks it (GNU tar, Python, an archive manager) gets another, or
//! so that the verifier runs out of memory. Every one is exit 3 (not authentic), refused from the
//! bytes `bundle` would not write; every bundle verified here is kept for `ci/check_bundles.py`,
//! which unpacks those accepted with GNU tar and Python and compares them with the verified files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

mod util;

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use charter_audit::attest::dsse::Envelope;
use charter_audit::attest::ustar;
use util::bundle::{NOW, entries, gzip, mtime, s, save_bundle_sample, submission, verify};

/// One signed demo submission for every test here: the folder, the bundle, the artifact, the
/// key (made once; the audit behind it is the slow part).
fn demo() -> &'static (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    static DEMO: OnceLock<(tempfile::TempDir, PathBuf, PathBuf, PathBuf)> = OnceLock::new();
    DEMO.get_or_init(submission)
}

/// The demo's files and time.
fn files() -> (Vec<(String, Vec<u8>)>, u64) {
    let (_, bundle, _, _) = demo();
    (entries(bundle), mtime(bundle))
}

/// A tar stream written block by block, so that anything may go between the entries.
#[derive(Default)]
struct Tar(Vec<u8>);

impl Tar {
    fn file(mut self, name: &str, bytes: &[u8], mtime: u64) -> Tar {
        ustar::write_file(&mut self.0, name, bytes, mtime).unwrap();
        self
    }
    fn files(mut self, files: &[(String, Vec<u8>)], mtime: u64) -> Tar {
        for (name, bytes) in files {
            self = self.file(name, bytes, mtime);
        }
        self
    }
    /// An entry under a header edited by `edit` (its checksum then made right again).
    fn edited(mut self, name: &str, bytes: &[u8], mtime: u64, edit: impl Fn(&mut [u8])) -> Tar {
        let start = self.0.len();
        self = self.file(name, bytes, mtime);
        let header = &mut self.0[start..start + 512];
        edit(header);
        checksum(header);
        self
    }
    /// A raw extension entry: `kind` (`x`, `g`, `L`, `K`) with `content`.
    fn extension(self, kind: u8, name: &str, content: &[u8]) -> Tar {
        self.edited(name, content, 0, |h| h[156] = kind)
    }
    fn end(mut self) -> Vec<u8> {
        ustar::write_end(&mut self.0).unwrap();
        self.0
    }
}

fn checksum(header: &mut [u8]) {
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:07o}\0").as_bytes());
}

/// A PAX record: `LEN key=value\n`, LEN counting itself.
fn pax(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

/// Writes a gzip'd bundle and verifies it with the demo's key.
fn check(name: &str, gz: &[u8]) -> (i32, String) {
    let (dir, _, _, key) = demo();
    let path = dir.path().join(format!("{name}.tar.gz"));
    std::fs::write(&path, gz).unwrap();
    verify(&path, key, &[])
}

fn refused(what: &str, gz: &[u8], expect: &str) {
    let (code, out) = check(what, gz);
    assert_eq!(code, 3, "{what}: {out}");
    assert!(out.starts_with("NOT AUTHENTIC"), "{what}: {out}");
    assert!(out.contains(expect), "{what}: {out}");
}

fn accepted(what: &str, gz: &[u8]) {
    let (code, out) = check(what, gz);
    // Authentic; the demo's attested result is fail.
    assert_eq!(code, 1, "{what}: {out}");
    assert!(
        out.contains("Every file of the bundle matches the attestation."),
        "{what}: {out}"
    );
}

#[test]
fn pax_records_and_gnu_long_names_cannot_rename_an_entry() {
    let (files, time) = files();
    let (before, after) = files.split_at(2);
    let cases: Vec<(&str, Tar, &str)> = vec![
        (
            "GNU.sparse.name",
            Tar::default().files(before, time).extension(
                b'x',
                "PaxHeaders/attestations.intoto.jsonl",
                &pax("GNU.sparse.name", "report.html"),
            ),
            "is a PAX extended header",
        ),
        (
            "a PAX path over a GNU long name",
            Tar::default()
                .files(before, time)
                .extension(b'L', "././@LongLink", b"attestations.intoto.jsonl\0")
                .extension(b'x', "PaxHeaders/x", &pax("path", "report.html")),
            "is a GNU long name",
        ),
        (
            "a PAX global header",
            Tar::default()
                .extension(b'g', "pax_global_header", &pax("path", "report.html"))
                .files(&files, time),
            "is a PAX global header",
        ),
        (
            "a GNU long link",
            Tar::default()
                .files(before, time)
                .extension(b'K', "././@LongLink", b"report.html\0"),
            "is a GNU long link name",
        ),
        (
            "a GNU sparse file",
            Tar::default().files(before, time).edited(
                "attestations.intoto.jsonl",
                &after[0].1,
                time,
                |h| h[156] = b'S',
            ),
            "is a GNU sparse file",
        ),
    ];
    for (what, tar, expect) in cases {
        let tar = tar.files(&after[1..], time).end();
        refused(what, &gzip(&tar), expect);
    }
}

#[test]
fn only_the_tar_headers_bundle_writes_are_read() {
    let (files, time) = files();
    let (readme, rest) = files.split_first().unwrap();
    let field = |at: usize, value: &'static [u8]| {
        move |h: &mut [u8]| h[at..at + value.len()].copy_from_slice(value)
    };
    type Edit = Box<dyn Fn(&mut [u8])>;
    let cases: Vec<(&str, Edit)> = vec![
        ("mode 0755", Box::new(field(100, b"0000755"))),
        ("owner 1000", Box::new(field(108, b"0001750"))),
        ("an owner name", Box::new(field(265, b"root"))),
        ("a prefix", Box::new(field(345, b"folder"))),
        ("GNU magic", Box::new(field(257, b"ustar  \0"))),
        ("a v7 header", Box::new(field(257, &[0; 8]))),
        ("a size in spaces", Box::new(field(124, b" "))),
        ("a link name", Box::new(field(157, b"/etc/passwd"))),
    ];
    for (what, edit) in cases {
        let tar = Tar::default()
            .edited(&readme.0, &readme.1, time, edit)
            .files(rest, time)
            .end();
        refused(
            what,
            &gzip(&tar),
            "the tar header of `README.txt` is not the one charter-audit writes",
        );
    }
    // A bad checksum.
    let mut tar = Tar::default().files(&files, time).end();
    tar[148] ^= 1;
    refused(
        "a bad checksum",
        &gzip(&tar),
        "the tar header of `README.txt`",
    );
    // One entry at another time.
    let tar = Tar::default()
        .files(&files[..3], time)
        .files(&files[3..4], time + 1)
        .files(&files[4..], time)
        .end();
    refused(
        "another time",
        &gzip(&tar),
        "the tar header of `sbom.cdx.json`",
    );
    // Every entry at another time than the evaluation.
    let tar = Tar::default().files(&files, time + 1).end();
    refused(
        "not the evaluation time",
        &gzip(&tar),
        "entries' time is not the attestation's evaluation time",
    );
    // The files in another order.
    let mut swapped = files.clone();
    swapped.swap(2, 3);
    let tar = Tar::default().files(&swapped, time).end();
    refused(
        "another order",
        &gzip(&tar),
        "it lacks attestations.intoto.jsonl",
    );
    let mut swapped = files.clone();
    swapped.swap(5, 6);
    let tar = Tar::default().files(&swapped, time).end();
    refused(
        "reports swapped",
        &gzip(&tar),
        "entry `report.json` is out of the order",
    );
    // A README claiming 100 MiB: refused from its header (the content is not even there).
    let tar = Tar::default()
        .edited("README.txt", b"", time, field(124, b"00620000000"))
        .end();
    refused(
        "a large README",
        &gzip(&tar),
        "more than the 65536 a bundle's README.txt holds",
    );
    // The gzip header with a file name.
    let mut gz = gzip(&Tar::default().files(&files, time).end());
    gz[3] = 0x08;
    refused(
        "a gzip name",
        &gz,
        "its gzip header is not the one charter-audit writes",
    );
    // The same bytes as `bundle` writes them are accepted.
    accepted(
        "as written",
        &gzip(&Tar::default().files(&files, time).end()),
    );
}

/// Replaces one file of the demo's and packs it as `bundle` would.
fn with(name: &str, bytes: Vec<u8>) -> Vec<u8> {
    let (mut files, time) = files();
    files.iter_mut().find(|(n, _)| n == name).unwrap().1 = bytes;
    gzip(&Tar::default().files(&files, time).end())
}

fn file(name: &str) -> Vec<u8> {
    files().0.into_iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn envelopes_and_statements_are_byte_for_byte_what_charter_audit_writes() {
    let attestation = String::from_utf8(file("attestation.intoto.json")).unwrap();
    let jsonl = String::from_utf8(file("attestations.intoto.jsonl")).unwrap();
    let not_ours = "is not byte for byte the envelope charter-audit writes";
    let html = "<h1>PASS, 0 violations</h1>";
    let cases: Vec<(&str, &str, String, &str)> = vec![
        (
            "HTML in a signature object",
            "attestation.intoto.json",
            attestation.replacen(
                "\"sig\"",
                &format!("\"note\": \"{html}\",\n      \"sig\""),
                1,
            ),
            not_ours,
        ),
        (
            "HTML in the envelope",
            "attestation.intoto.json",
            attestation.replacen('{', &format!("{{\n  \"note\": \"{html}\","), 1),
            "is not a DSSE envelope",
        ),
        (
            "compact instead of pretty",
            "attestation.intoto.json",
            serde_json::to_string(&serde_json::from_str::<Envelope>(&attestation).unwrap())
                .unwrap(),
            not_ours,
        ),
        (
            "a space more",
            "attestation.intoto.json",
            attestation.replacen("\": ", "\":  ", 1),
            not_ours,
        ),
        (
            "an escaped letter",
            "attestation.intoto.json",
            attestation.replacen("application", "\\u0061pplication", 1),
            not_ours,
        ),
        (
            "URL-safe base64",
            "attestation.intoto.json",
            {
                let mut envelope: Envelope = serde_json::from_str(&attestation).unwrap();
                envelope.payload = envelope.payload.replace('+', "-").replace('/', "_");
                serde_json::to_string_pretty(&envelope).unwrap() + "\n"
            },
            not_ours,
        ),
        (
            "HTML in a line's signature",
            "attestations.intoto.jsonl",
            jsonl.replacen("\"sig\"", &format!("\"note\":\"{html}\",\"sig\""), 1),
            "holds bytes charter-audit never writes in it",
        ),
        (
            "a field of plain bytes in a line",
            "attestations.intoto.jsonl",
            jsonl.replacen("\"sig\"", "\"note\":\"PASS\",\"sig\"", 1),
            not_ours,
        ),
        (
            "CRLF line ends",
            "attestations.intoto.jsonl",
            jsonl.replace('\n', "\r\n"),
            "holds bytes charter-audit never writes in it",
        ),
        (
            "a blank line",
            "attestations.intoto.jsonl",
            jsonl.clone() + "\n",
            "not the statements of this attestation's run",
        ),
        (
            "no final newline",
            "attestations.intoto.jsonl",
            jsonl.trim_end().to_owned(),
            "not the statements of this attestation's run",
        ),
        (
            "a key with a blank line more",
            "signing-key.pub",
            String::from_utf8(file("signing-key.pub")).unwrap() + "\n",
            "signing-key.pub is not the PEM charter-audit writes",
        ),
    ];
    for (what, name, content, expect) in cases {
        assert_ne!(content.as_bytes(), file(name), "{what}: unchanged");
        refused(what, &with(name, content.into_bytes()), expect);
    }
}

/// The demo with every signature's key id set to `keyid` (key ids are outside what is signed).
fn with_keyid(keyid: &str) -> Vec<u8> {
    let (mut files, time) = files();
    let rewrite = |envelope: &mut Envelope| {
        for signature in &mut envelope.signatures {
            signature.keyid = keyid.to_owned();
        }
    };
    for (name, bytes) in &mut files {
        let text = String::from_utf8(bytes.clone()).unwrap();
        if name == "attestation.intoto.json" {
            let mut envelope: Envelope = serde_json::from_str(&text).unwrap();
            rewrite(&mut envelope);
            *bytes = (serde_json::to_string_pretty(&envelope).unwrap() + "\n").into_bytes();
        } else if name == "attestations.intoto.jsonl" {
            *bytes = text
                .lines()
                .map(|line| {
                    let mut envelope: Envelope = serde_json::from_str(line).unwrap();
                    rewrite(&mut envelope);
                    serde_json::to_string(&envelope).unwrap() + "\n"
                })
                .collect::<String>()
                .into_bytes();
        }
    }
    gzip(&Tar::default().files(&files, time).end())
}

#[test]
fn signature_key_ids_are_bounded_and_plain() {
    accepted("a plain key id of 128", &with_keyid(&"k.1_2:3-".repeat(16)));
    refused(
        "a key id of 129",
        &with_keyid(&"a".repeat(129)),
        "not a plain one (at most 128",
    );
    refused(
        "HTML in a key id",
        &with_keyid("<b>x</b>"),
        "not a plain one",
    );
    refused("a space in a key id", &with_keyid("a b"), "not a plain one");
}

#[test]
fn nothing_but_zeros_follows_the_archive() {
    let (files, time) = files();
    let tar = Tar::default().files(&files, time).end();
    // Zeros to a 10 KiB record, as GNU tar writes: still the same files.
    let mut record = tar.clone();
    record.resize(tar.len().div_ceil(10240) * 10240, 0);
    accepted("a record of zeros", &gzip(&record));
    let mut text = tar.clone();
    text.extend(b"<h1>PASS</h1>");
    refused("text after the end", &gzip(&text), "data after its archive");
    let mut entry = tar.clone();
    entry.extend(Tar::default().file("report.html", b"PASS", time).end());
    refused(
        "an entry after the end",
        &gzip(&entry),
        "data after its archive",
    );
    refused(
        "one zero block",
        &gzip(&tar[..tar.len() - 512]),
        "data after its archive",
    );
    let mut gz = gzip(&tar);
    gz.extend(gzip(b"more"));
    refused("a second gzip member", &gz, "data after its archive");
    let mut gz = gzip(&tar);
    gz.push(0);
    refused(
        "a byte after the gzip stream",
        &gz,
        "data after its archive",
    );
    // The padding after an entry's content.
    let readme = &files[0].1;
    assert_ne!(readme.len() % 512, 0);
    let mut padded = tar.clone();
    padded[512 + readme.len()] = b'!';
    refused(
        "padding",
        &gzip(&padded),
        "the padding after entry `README.txt`",
    );
}

/// Runs `verify --bundle` with the address space capped at 256 MiB: an allocation past it
/// aborts the process instead of the refusal (exit 3).
fn refused_in_256_mib(what: &str, gz: &[u8], expect: &str) {
    let (dir, _, _, key) = demo();
    let path = dir
        .path()
        .join(format!("bomb-{}.tar.gz", what.replace(' ', "-")));
    std::fs::write(&path, gz).unwrap();
    save_bundle_sample(&path, key);
    assert!(gz.len() < 2 * 1024 * 1024, "{what}: {} bytes", gz.len());
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -v 262144; exec {:?} verify --bundle {:?} --key {:?} --now {NOW}",
            env!("CARGO_BIN_EXE_charter-audit"),
            s(&path),
            s(key),
        ))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{what}: {output:?}");
    assert!(out.contains(expect), "{what}: {out}");
}

/// Gzips a tar stream of `head`, then `zeros` zero bytes, then `tail`, without holding the zeros.
fn gzip_with_zeros(head: &[u8], zeros: usize, tail: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(head).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..zeros / chunk.len() {
        gz.write_all(&chunk).unwrap();
    }
    gz.write_all(&chunk[..zeros % chunk.len()]).unwrap();
    gz.write_all(tail).unwrap();
    gz.finish().unwrap()
}

#[test]
fn bundle_bombs_are_refused_in_bounded_memory() {
    let (files, time) = files();
    let mib = 1024 * 1024;
    // A whole bundle, then zeros past the limit: counted as they pass, never kept.
    let tar = Tar::default().files(&files, time).end();
    refused_in_256_mib(
        "zeros after the end",
        &gzip_with_zeros(&tar, 520 * mib, b""),
        "more than 536870912 bytes once unpacked",
    );
    // A name a bundle never holds, 300 MiB: refused from its header.
    let header = ustar::header("payload.bin", 300 * mib as u64, time).unwrap();
    refused_in_256_mib(
        "an unknown name",
        &gzip_with_zeros(&header, 300 * mib, &[0; 1024]),
        "entry `payload.bin` is not one a bundle holds",
    );
    // Files of 300 MiB each where a bundle's large files go: each is checked as it streams.
    for (index, name, expect) in [
        (
            2,
            "attestations.intoto.jsonl",
            "holds bytes charter-audit never writes",
        ),
        (3, "sbom.cdx.json", "sbom.cdx.json is not JSON"),
        (5, "report.html", "report.html is not the one attested"),
    ] {
        let mut tar = Tar::default().files(&files[..index], time).0;
        tar.extend(ustar::header(name, 300 * mib as u64, time).unwrap());
        refused_in_256_mib(name, &gzip_with_zeros(&tar, 300 * mib, &[0; 1024]), expect);
    }
}
