//! The submission bundle: one reproducible `.tar.gz` of a release's evidence, and reading one
//! back in memory only, bounded, refusing anything but plain files with plain names.

use std::io::Read;

use flate2::Compression;
use flate2::bufread::GzDecoder;
use serde_json::Value;

use super::dsse::{self, Envelope, IN_TOTO};
use super::keys::PublicKey;
use super::statement::{CYCLONEDX_TYPE, STATEMENT_TYPE, VULNS_TYPE};
use super::verify::{self, File, NotAuthentic, Verified};
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
pub const MAX_COMPRESSED: u64 = 128 * 1024 * 1024;
/// The whole decompressed stream, tar headers (PAX, GNU long names) included: room for the
/// evidence of a 64 MiB SBOM (which the attestations' JSON Lines carry once more) many times
/// over, and a bound on what a recipient's verifier unpacks in memory.
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
    Missing(String),
    #[error("entry `{0}` is not one a bundle holds")]
    Unexpected(String),
    #[error("it holds data after its archive (a second gzip member or trailing bytes)")]
    Trailing,
}

/// The recipient's README: what each file is and how to verify.
pub fn readme(product: &str, keyid: &str, fingerprint: &str) -> String {
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
signing-key.pub            the public key that signed, for comparison only: never trust it
                           because it is in here

To verify, with the supplier's public key received by another route (not the one in here:
compare it with the one you hold; its SHA-256 fingerprint, of the DER public key, is
{fingerprint}, and its securesystemslib key id {keyid}):

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
    // A bundle its recipients' verifiers would refuse is never made.
    let unpacked: u64 = files
        .iter()
        .map(|(_, bytes)| 512 + (bytes.len() as u64).div_ceil(512) * 512)
        .sum::<u64>()
        + 1024;
    if unpacked > MAX_TOTAL {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "the evidence comes to {unpacked} bytes, more than the {MAX_TOTAL} a bundle holds (the most a verifier unpacks): attach the files of the evidence folder to the submission one by one, and verify the attestation with `charter-audit verify --sbom`"
            ),
        ));
    }
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

/// Reads a bundle in memory: only regular files with plain names, bounded in count and in the
/// size of the whole decompressed stream, and nothing after the archive; nothing is written
/// anywhere.
pub fn unpack(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, BundleError> {
    let not_archive = |e: std::io::Error| BundleError::NotAnArchive(e.to_string());
    let mut decoder = GzDecoder::new(bytes);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    {
        let mut archive = tar::Archive::new((&mut decoder).take(MAX_TOTAL));
        let entries = archive.entries().map_err(not_archive)?;
        for (index, entry) in entries.enumerate() {
            if index >= MAX_ENTRIES {
                return Err(BundleError::TooManyEntries);
            }
            let mut entry = entry.map_err(not_archive)?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let plain = !raw.is_empty()
                && !raw.contains(['/', '\\', '\0'])
                && raw != "."
                && raw != ".."
                && entry.header().entry_type() == tar::EntryType::Regular;
            if !plain {
                return Err(BundleError::BadEntry(crate::text::clean(&raw)));
            }
            // Names that differ only in case are one file on some systems.
            if files.iter().any(|(n, _)| n.eq_ignore_ascii_case(&raw)) {
                return Err(BundleError::Duplicate(crate::text::clean(&raw)));
            }
            let size = entry.header().size().map_err(not_archive)?;
            if size > MAX_TOTAL {
                return Err(BundleError::TooLarge);
            }
            let mut content = Vec::new();
            (&mut entry)
                .take(size.min(MAX_TOTAL) + 1)
                .read_to_end(&mut content)
                .map_err(not_archive)?;
            if content.len() as u64 != size {
                return Err(BundleError::NotAnArchive(format!(
                    "entry `{}` is truncated",
                    crate::text::clean(&raw)
                )));
            }
            files.push((raw, content));
        }
    }
    // After the archive's end: only the zero blocks tar pads with, then nothing at all.
    let mut rest = Vec::new();
    (&mut decoder)
        .take(MAX_TOTAL)
        .read_to_end(&mut rest)
        .map_err(not_archive)?;
    if rest.iter().any(|b| *b != 0) || !decoder.into_inner().is_empty() {
        return Err(BundleError::Trailing);
    }
    Ok(files)
}

/// Why a submission is not authentic: its attestation, or the bundle around it.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Envelope(#[from] NotAuthentic),
    #[error("the bundle: {0}")]
    Bundle(#[from] BundleError),
    #[error("the bundle's {0}")]
    Tampered(String),
}

/// What a checked bundle holds besides its verified attestation.
#[derive(Debug)]
pub struct Checked {
    pub verified: Verified,
    /// The bundled key's id, and whether it is one of the recipient's keys.
    pub bundle_key: (String, String, bool),
}

/// Checks a submission bundle whole: exactly the files a bundle holds, each once; the
/// attestation signed by the recipient's keys (with the bundle's SBOM and the recipient's own
/// files); the bundled key one that signed it (never trusted for that); every report and the
/// README as the attestation has them; the JSON Lines file the same run's statements.
pub fn check(
    bytes: &[u8],
    keys: &[PublicKey],
    threshold: usize,
    subjects: &[File<'_>],
) -> Result<Checked, Refused> {
    let entries = unpack(bytes)?;
    for (name, _) in &entries {
        if !FILES.contains(&name.as_str()) {
            return Err(BundleError::Unexpected(crate::text::clean(name)).into());
        }
    }
    let get = |name: &str| {
        entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| BundleError::Missing(name.to_owned()))
    };
    let envelope = get("attestation.intoto.json")?;
    let sbom = File {
        name: "sbom.cdx.json",
        bytes: get("sbom.cdx.json")?,
    };
    let verified = verify::verify(
        "attestation.intoto.json",
        envelope,
        keys,
        threshold,
        subjects,
        Some(&sbom),
    )?;
    let predicate = &verified.statement["predicate"];

    // The bundled key: it must be one that signed the attestation, though it is never what
    // makes it authentic.
    let key_pem = get("signing-key.pub")?;
    let key = PublicKey::from_pem(&String::from_utf8_lossy(key_pem), "signing-key.pub")
        .map_err(|_| Refused::Tampered("signing-key.pub is not a public key".to_owned()))?;
    let parsed: Envelope = serde_json::from_slice(envelope).map_err(|e| {
        NotAuthentic::NotAnEnvelope("attestation.intoto.json".to_owned(), e.to_string())
    })?;
    let payload = dsse::decode_base64(&parsed.payload).ok_or(NotAuthentic::PayloadEncoding)?;
    if dsse::signers(&parsed, &payload, std::slice::from_ref(&key)).is_empty() {
        return Err(Refused::Tampered(
            "signing-key.pub did not sign its attestation".to_owned(),
        ));
    }
    let keyid = key.keyid().unwrap_or_default();
    let fingerprint = key.fingerprint().unwrap_or_default();

    // Reports: exactly those the attestation records, each as recorded.
    let recorded = predicate["reports"].as_array().cloned().unwrap_or_default();
    for name in ["report.json", "report.html"] {
        let digest = recorded
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| &r["digest"]);
        match (digest, get(name)) {
            (None, Err(_)) => {}
            (Some(_), Err(_)) => return Err(BundleError::Missing(name.to_owned()).into()),
            (None, Ok(_)) => {
                return Err(Refused::Tampered(format!(
                    "{name} is not one the attestation records"
                )));
            }
            (Some(digest), Ok(content)) => {
                if !verify::digest_matches(digest, content) {
                    return Err(Refused::Tampered(format!("{name} is not the one attested")));
                }
            }
        }
    }

    // The README is the one `bundle` writes for this product and key.
    let product = format!(
        "{} {}",
        predicate["product"]["name"]
            .as_str()
            .unwrap_or("the product"),
        predicate["product"]["version"].as_str().unwrap_or_default()
    );
    if get("README.txt")? != readme(&crate::text::clean(&product), &keyid, &fingerprint).as_bytes()
    {
        return Err(Refused::Tampered(
            "README.txt is not the one charter-audit writes".to_owned(),
        ));
    }

    // The JSON Lines file: this attestation, then the SBOM and the findings of the same run.
    let lines: Vec<&[u8]> = get("attestations.intoto.jsonl")?
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    let statements: Vec<Value> = lines
        .iter()
        .map(|line| {
            let envelope: Envelope = serde_json::from_slice(line).ok()?;
            let payload = dsse::decode_base64(&envelope.payload)?;
            let signed = dsse::signers(&envelope, &payload, keys).len() >= threshold;
            (envelope.payload_type == IN_TOTO && signed)
                .then(|| verify::strict_json(&payload).ok())
                .flatten()
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Refused::Tampered("attestations.intoto.jsonl holds a line that is not a statement signed by the trusted key(s)".to_owned()))?;
    let sbom_json: Value = serde_json::from_slice(sbom.bytes).unwrap_or_default();
    let same_run = statements.len() == 3
        && statements[0] == verified.statement
        && statements.iter().all(|s| s["_type"] == STATEMENT_TYPE)
        && statements[1]["predicateType"] == CYCLONEDX_TYPE
        && statements[1]["predicate"] == sbom_json
        && statements[2]["predicateType"] == VULNS_TYPE
        && statements[2]["predicate"]["metadata"]["scanFinishedOn"] == predicate["evaluated_at"]
        && statements[1]["subject"] == statements[2]["subject"];
    if !same_run {
        return Err(Refused::Tampered(
            "attestations.intoto.jsonl is not the statements of this attestation's run".to_owned(),
        ));
    }
    let trusted = keys.contains(&key);
    Ok(Checked {
        verified,
        bundle_key: (keyid, fingerprint, trusted),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_a_verifier_would_refuse_is_never_packed() {
        // Zeroed pages from the allocator: nothing is touched before the size check.
        let sbom = vec![0u8; 300 * 1024 * 1024];
        let lines = vec![0u8; 300 * 1024 * 1024];
        let error = pack(
            &[
                ("sbom.cdx.json", &sbom),
                ("attestations.intoto.jsonl", &lines),
            ],
            0,
        )
        .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            error
                .to_string()
                .contains("more than the 536870912 a bundle holds"),
            "{error}"
        );
        // Less packs, and unpacks.
        let fits = pack(&[("sbom.cdx.json", &sbom[..10 * 1024 * 1024])], 0).unwrap();
        assert_eq!(unpack(&fits).unwrap()[0].1.len(), 10 * 1024 * 1024);
    }

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
