//! Bundles for the tests: a signed demo submission, verifying one (every bundle verified is
//! kept for `ci/check_bundles.py`), its entries, and raw tar bytes for hostile ones.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::Digest;

use super::{CargoHome, charter_audit, fixture};

pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A signed demo audit packed as a bundle: the folder, the bundle, the artifact, the key.
pub fn submission() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = CargoHome::new();
    let prefix = dir.path().join("supplier");
    super::keygen(&home, &prefix);
    let artifact = dir.path().join("app.tar.gz");
    std::fs::write(&artifact, b"the release").unwrap();
    let evidence = dir.path().join("evidence");
    let output = super::demo_audit(&home)
        .args(["--registry-index"])
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

/// Keeps a bundle a test verified, and the key it was verified with, for `ci/check_bundles.py`
/// (which unpacks every one `verify --bundle` accepts with GNU tar and Python).
pub fn save_bundle_sample(bundle: &Path, key: &Path) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bundle-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(bundle).unwrap();
    let name = hex::encode(&sha2::Sha256::digest(&bytes)[..12]);
    std::fs::write(dir.join(format!("{name}.tar.gz")), &bytes).unwrap();
    std::fs::copy(key, dir.join(format!("{name}.pub"))).unwrap();
}

/// The time `ci/check_bundles.py` verifies at too.
pub const NOW: &str = "2026-08-26T00:00:00Z";

/// `verify --bundle`: its exit code, and what it printed.
pub fn verify(bundle: &Path, key: &Path, extra: &[&str]) -> (i32, String) {
    save_bundle_sample(bundle, key);
    let home = CargoHome::new();
    let output = charter_audit(&home)
        .args(["verify", "--bundle", s(bundle), "--key", s(key)])
        .args(["--now", NOW])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// The entries of a bundle, in order, read with the `tar` crate.
pub fn entries(bundle: &Path) -> Vec<(String, Vec<u8>)> {
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

/// The time of a bundle's entries (its first header's `mtime`).
pub fn mtime(bundle: &Path) -> u64 {
    let file = std::fs::File::open(bundle).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entry = archive.entries().unwrap().next().unwrap().unwrap();
    entry.header().mtime().unwrap()
}

/// Repacks a bundle's entries after `edit`, with the library's own packer and the bundle's own
/// time, so that only the edit differs.
pub fn repack(bundle: &Path, out: &Path, edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) {
    let mut files = entries(bundle);
    edit(&mut files);
    let list: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let bytes = charter_audit::attest::bundle::pack(&list, mtime(bundle)).unwrap();
    std::fs::write(out, bytes).unwrap();
}

/// Gzips `tar` as `bundle` does (the gzip header the reader takes).
pub fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(tar).unwrap();
    gz.finish().unwrap()
}

/// One raw tar entry: name, type, link, content.
pub type RawEntry<'a> = (&'a str, tar::EntryType, &'a str, &'a [u8]);

/// A gzip'd tar of raw entries, names written as given in old-style headers.
pub fn raw_tar(path: &Path, entries: &[RawEntry<'_>]) {
    let mut builder = tar::Builder::new(Vec::new());
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
    std::fs::write(path, gzip(&builder.into_inner().unwrap())).unwrap();
}
