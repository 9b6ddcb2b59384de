//! The submission bundle: one reproducible `.tar.gz` of a release's evidence, and reading one
//! back in memory only, bounded, refusing anything but plain files with plain names.

use std::io::Read;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// The files a bundle holds, in this order; the README is written by `pack`.
pub const FILES: &[&str] = &[
    "README.txt",
    "attestation.intoto.json",
    "attestations.intoto.jsonl",
    "sbom.cdx.json",
    "report.json",
    "report.html",
    "signing-key.pub",
];

/// Limits on reading a bundle.
pub const MAX_COMPRESSED: u64 = 256 * 1024 * 1024;
pub const MAX_TOTAL: u64 = 512 * 1024 * 1024;
pub const MAX_ENTRIES: usize = 64;

/// Why a bundle cannot be read: it is then not evidence (exit 3).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("not a gzip'd tar archive: {0}")]
    NotAnArchive(String),
    #[error("more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("more than {MAX_TOTAL} bytes once unpacked")]
    TooLarge,
    #[error("entry `{0}` is not a plain file name (no folders, `..`, absolute paths or links)")]
    BadEntry(String),
    #[error("entry `{0}` appears twice")]
    Duplicate(String),
    #[error("it lacks {0}")]
    Missing(&'static str),
}

/// The recipient's README: what each file is and how to verify.
pub fn readme(product: &str, fingerprint: &str) -> String {
    format!(
        "Release evidence for {product}, made by charter-audit {version}.

attestation.intoto.json    the signed attestation (a DSSE envelope of an in-toto statement):
                           what was checked, against which databases and policy, the result,
                           and what it evidences of the NHS Cyber Security Charter
attestations.intoto.jsonl  the same, with the SBOM and the findings as standard in-toto
                           statements (CycloneDX, vulns v0.2), one signed envelope per line
sbom.cdx.json              the CycloneDX SBOM of the product
report.json                the full audit report (schema charter-audit/report/v1)
report.html                the same report, for people: open it in a browser
signing-key.pub            the supplier's public key, for convenience only

To verify, with the supplier's public key received by another route (not the one in here,
whose SHA-256 fingerprint is {fingerprint}: compare it with the one you hold):

    charter-audit verify --bundle THIS-FILE.tar.gz --key supplier.pub

or, with securesystemslib, verify attestation.intoto.json against that key (see the
charter-audit README). Exit 0: authentic and the attested result is pass; 1: authentic,
but not acceptable; 3: not authentic.
",
        version = env!("CARGO_PKG_VERSION")
    )
}

/// Packs `(name, bytes)` files into a reproducible `.tar.gz`: fixed order, times (`mtime`),
/// owners and modes.
pub fn pack(files: &[(&str, &[u8])], mtime: u64) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    builder.mode(tar::HeaderMode::Deterministic);
    for (name, bytes) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, *bytes)?;
    }
    builder.into_inner()?.finish()
}

/// Reads a bundle in memory: only regular files with plain names, bounded in count and size;
/// nothing is written anywhere.
pub fn unpack(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, BundleError> {
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0u64;
    let entries = archive
        .entries()
        .map_err(|e| BundleError::NotAnArchive(e.to_string()))?;
    for (index, entry) in entries.enumerate() {
        if index >= MAX_ENTRIES {
            return Err(BundleError::TooManyEntries);
        }
        let mut entry = entry.map_err(|e| BundleError::NotAnArchive(e.to_string()))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let plain = !raw.is_empty()
            && !raw.contains(['/', '\\', '\0'])
            && raw != "."
            && raw != ".."
            && entry.header().entry_type() == tar::EntryType::Regular;
        if !plain {
            return Err(BundleError::BadEntry(crate::text::clean(&raw)));
        }
        if files.iter().any(|(n, _)| *n == raw) {
            return Err(BundleError::Duplicate(crate::text::clean(&raw)));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        total = total.saturating_add(size);
        if total > MAX_TOTAL {
            return Err(BundleError::TooLarge);
        }
        let mut content = Vec::new();
        (&mut entry)
            .take(size.min(MAX_TOTAL) + 1)
            .read_to_end(&mut content)
            .map_err(|e| BundleError::NotAnArchive(e.to_string()))?;
        if content.len() as u64 != size {
            return Err(BundleError::NotAnArchive(format!(
                "entry `{raw}` is truncated"
            )));
        }
        files.push((raw, content));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reproducible() {
        let files: Vec<(&str, &[u8])> = vec![("a.json", b"{}"), ("README.txt", b"hello")];
        let one = pack(&files, 1_700_000_000).unwrap();
        let two = pack(&files, 1_700_000_000).unwrap();
        assert_eq!(one, two);
        let back = unpack(&one).unwrap();
        assert_eq!(back[0], ("a.json".to_owned(), b"{}".to_vec()));
        assert_eq!(back[1].0, "README.txt");
    }

    #[test]
    fn not_an_archive() {
        assert!(matches!(
            unpack(b"plain text"),
            Err(BundleError::NotAnArchive(_))
        ));
    }
}
