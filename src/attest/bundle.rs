//! The submission bundle: one reproducible `.tar.gz` of a release's evidence, and reading one
//! back as it streams, in memory only, bounded, accepting only the bytes `bundle` writes.
//!
//! A bundle is read twice over: by `verify --bundle`, and by the person who unpacks it with GNU
//! tar, Python or an archive manager. Whatever the first accepts, the others must unpack to the
//! same files. So the reader takes exactly what [`pack`] writes: the gzip header flate2 writes,
//! the files of [`FILES`] in that order (a report the attestation does not record left out),
//! each under the one plain ustar header [`ustar::header`] makes for it, then zeros and the end
//! of the stream; and each file byte for byte as `charter-audit` writes it (the envelopes and
//! JSON Lines re-serialised and compared, so nothing unsigned rides along in them).

use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::bufread::GzDecoder;
use flate2::write::GzEncoder;

use super::bundle_check::Contents;
use super::keys::{KeyError, PublicKey};
use super::predicate::Predicate;
use super::statement::Subject;
use super::ustar::{self, UstarError};
use super::verify::{NotAuthentic, Verified};
use crate::model::verification::BundleKey;

/// The files a bundle holds, in this order; the README is written by `pack`.
pub const FILES: &[&str] = &[
    "README.txt",
    "attestation.intoto.json",
    "attestations.intoto.jsonl",
    "sbom.cdx.json",
    "attestation.cdx.json",
    "report.json",
    "report.html",
    "vex.openvex.json",
    "vex.cdx.json",
    "signing-key.pub",
];
/// The files a bundle may leave out: reports, a CycloneDX attestation and VEX documents its
/// attestation does not record.
const OPTIONAL: &[&str] = &[
    "attestation.cdx.json",
    "report.json",
    "report.html",
    "vex.openvex.json",
    "vex.cdx.json",
];

/// The most of a bundle file `verify --bundle` reads.
pub const MAX_COMPRESSED: u64 = 128 * 1024 * 1024;
/// The whole decompressed stream (headers, files, padding and whatever follows the archive):
/// room for the evidence of a 64 MiB SBOM (which the attestations' JSON Lines carry once more)
/// many times over, and a bound on what a recipient's verifier reads. Files are checked as they
/// stream, so the verifier's memory follows the largest single file, not this.
pub const MAX_TOTAL: u64 = 512 * 1024 * 1024;
/// The README and the public key are small; larger ones are refused from their headers.
pub const MAX_README: u64 = 64 * 1024;
pub const MAX_KEY: u64 = 16 * 1024;
/// The gzip header flate2 writes (no name, time, comment or extra field; default level).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Why a bundle cannot be read: it is then not evidence (exit 3).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("not a gzip'd tar archive: {0}")]
    NotAnArchive(String),
    #[error(
        "its gzip header is not the one charter-audit writes (a file name, time or extra field)"
    )]
    GzipHeader,
    #[error("more than {MAX_TOTAL} bytes once unpacked")]
    TooLarge,
    #[error("entry `{0}` is not a plain file name (no folders, `..`, absolute paths or links)")]
    BadEntry(String),
    #[error(
        "entry `{0}` is {1}, which a bundle never holds (tar readers disagree on what it names)"
    )]
    Extension(String, &'static str),
    #[error("entry `{0}` appears twice")]
    Duplicate(String),
    #[error("it lacks {0}")]
    Missing(String),
    #[error("entry `{0}` is not one a bundle holds")]
    Unexpected(String),
    #[error("entry `{0}` is out of the order charter-audit writes ({order})", order = FILES.join(", "))]
    OutOfOrder(String),
    #[error(
        "the tar header of `{0}` is not the one charter-audit writes (a plain ustar header: mode 0644, owner 0, every file the same time)"
    )]
    Header(String),
    #[error("entry `{0}` is {1} bytes, more than the {2} a bundle's {0} holds")]
    FileTooLarge(String, u64, u64),
    #[error("the padding after entry `{0}` is not zeros")]
    Padding(String),
    #[error("it holds data after its archive (a second gzip member or trailing bytes)")]
    Trailing,
    #[error("its entries' time is not the attestation's evaluation time, as `bundle` writes it")]
    Time,
}

impl From<UstarError> for BundleError {
    fn from(error: UstarError) -> BundleError {
        match error {
            UstarError::TooLarge(_) => BundleError::TooLarge,
            UstarError::Padding(name) => BundleError::Padding(crate::text::clean(&name)),
            UstarError::Trailing => BundleError::Trailing,
            UstarError::Truncated => BundleError::NotAnArchive(error.to_string()),
            UstarError::Io(why) => BundleError::NotAnArchive(crate::text::clean(&why)),
        }
    }
}

/// The product a predicate attests, as the bundle's README names it (cleaned: it came from the
/// audited project).
pub fn product_of(predicate: &Predicate) -> String {
    let product = format!(
        "{} {}",
        predicate.product.name,
        predicate.product.version.as_deref().unwrap_or_default()
    );
    crate::text::clean(&product)
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
attestation.cdx.json       the same claims as a CycloneDX 1.6 attestation (when the run made
                           one; its digest is in the signed attestation)
report.json                the full audit report (schema charter-audit/report/v1)
report.html                the same report, for people: open it in a browser
vex.openvex.json           the run's decisions on each finding as OpenVEX, and
vex.cdx.json               as CycloneDX VEX (when the run wrote them; their digests are in
                           the signed attestation)
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
/// owners and modes, plain ustar headers only.
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
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    for (name, bytes) in files {
        ustar::write_file(&mut gz, name, bytes, mtime)?;
    }
    ustar::write_end(&mut gz)?;
    gz.finish()
}

/// The time of every entry of a bundle: the attestation's evaluation time, so that the same
/// evidence packs to the same bytes.
pub fn mtime_of(predicate: &Predicate) -> u64 {
    time::OffsetDateTime::parse(
        &predicate.evaluated_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()
    .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
    .unwrap_or(0)
}

/// The evidence folder `audit --out-dir` wrote, read, and the public key to pack with it.
#[derive(Debug, Clone, Copy)]
pub struct Folder<'a> {
    /// The folder and the key's file, as the messages name them.
    pub dir: &'a Path,
    pub key_path: &'a Path,
    pub key: &'a PublicKey,
    /// The files of [`FILES`] between the README and the key, in that order; a report the
    /// folder lacks left out.
    pub files: &'a [(&'a str, Vec<u8>)],
}

/// A bundle made, and what `bundle` says of it.
#[derive(Debug)]
pub struct Made {
    pub bytes: Vec<u8>,
    /// How many files it holds.
    pub entries: usize,
    pub keyid: String,
    pub fingerprint: String,
}

/// Why evidence is not packed (exit 2): a bundle is made of consistent evidence or not at all.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error("{}: the attestation does not verify with {}: {why}", .dir.display(), .key_path.display())]
    NotVerified {
        dir: PathBuf,
        key_path: PathBuf,
        #[source]
        why: NotAuthentic,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The evidence is more than a bundle holds (or could not be compressed).
    #[error(transparent)]
    Pack(std::io::Error),
    #[error(
        "{}: the evidence is not consistent, so it is not packed: {why}; run the audit again with --out-dir",
        .dir.display()
    )]
    Inconsistent {
        dir: PathBuf,
        #[source]
        why: Refused,
    },
}

/// Packs the folder's evidence into a bundle, after checking that it verifies with the key
/// packed beside it, and before handing it out, that the recipient's check accepts it.
pub fn make(folder: &Folder<'_>) -> Result<Made, MakeError> {
    let file = |name: &str| {
        folder
            .files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.as_slice())
            .unwrap_or_default()
    };
    let key = std::slice::from_ref(folder.key);
    // Never pack evidence that does not verify with the key packed beside it.
    let verified = super::verify::verify(
        "attestation.intoto.json",
        file("attestation.intoto.json"),
        key,
        1,
        &[],
        Some(&Subject::of("sbom.cdx.json", file("sbom.cdx.json"))),
    )
    .map_err(|why| MakeError::NotVerified {
        dir: folder.dir.to_owned(),
        key_path: folder.key_path.to_owned(),
        why,
    })?;
    let predicate = &verified.predicate;
    let keyid = folder.key.keyid()?;
    let fingerprint = folder.key.fingerprint()?;
    let readme = readme(&product_of(predicate), &keyid, &fingerprint);
    // Only the reports and VEX documents the attestation records go in (`attest` records
    // report.json alone).
    let mut entries: Vec<(&str, &[u8])> = vec![("README.txt", readme.as_bytes())];
    entries.extend(
        folder
            .files
            .iter()
            .filter(|(n, _)| match *n {
                "attestation.cdx.json" => predicate
                    .cyclonedx_attestation
                    .as_ref()
                    .is_some_and(|c| c.name == *n),
                _ if n.starts_with("vex.") => predicate.vex_outputs.iter().any(|r| r.name == *n),
                _ => !n.starts_with("report.") || predicate.reports.iter().any(|r| r.name == *n),
            })
            .map(|(n, b)| (*n, b.as_slice())),
    );
    // The key as charter-audit writes it, whatever else its file held.
    let canonical_pem = folder.key.to_pem()?;
    entries.push(("signing-key.pub", canonical_pem.as_bytes()));
    // Entry times are the evaluation time: the same evidence packs to the same bytes.
    let bytes = pack(&entries, mtime_of(predicate)).map_err(MakeError::Pack)?;
    // Never write a bundle that would not verify: the same check the recipient runs.
    check(&bytes, key, 1, &[]).map_err(|why| MakeError::Inconsistent {
        dir: folder.dir.to_owned(),
        why,
    })?;
    Ok(Made {
        bytes,
        entries: entries.len(),
        keyid,
        fingerprint,
    })
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
    /// The bundled key, and whether it is one of the recipient's keys.
    pub bundle_key: BundleKey,
}

/// Checks a submission bundle whole, as it streams: exactly the files a bundle holds, in order,
/// under the headers `bundle` writes; the attestation signed by the recipient's keys (with the
/// bundle's SBOM and the recipient's own files); the bundled key one that signed it (never
/// trusted for that); every report and the README as the attestation has them; the JSON Lines
/// file the same run's statements. Each name is judged from its header, before its content is
/// read; reports are hashed as they stream, never held.
pub fn check(
    bytes: &[u8],
    keys: &[PublicKey],
    threshold: usize,
    subjects: &[Subject],
) -> Result<Checked, Refused> {
    if bytes.len() < GZIP_HEADER.len() || bytes[0..2] != GZIP_HEADER[0..2] {
        return Err(BundleError::NotAnArchive("no gzip header".to_owned()).into());
    }
    if bytes[..GZIP_HEADER.len()] != GZIP_HEADER {
        return Err(BundleError::GzipHeader.into());
    }
    let mut decoder = GzDecoder::new(bytes);
    let mut tar = ustar::Reader::new(&mut decoder, MAX_TOTAL);
    let mut contents = Contents::new(keys, threshold, subjects);
    let mut order = Order::default();
    while let Some(header) = tar.next_header().map_err(BundleError::from)? {
        let (name, size) = order.admit(&header)?;
        contents.admit(name)?;
        let cap = match name {
            "README.txt" => MAX_README,
            "signing-key.pub" => MAX_KEY,
            "attestation.intoto.json" => super::verify::MAX_ENVELOPE_BYTES,
            _ => MAX_TOTAL,
        };
        if size > cap {
            return Err(BundleError::FileTooLarge(name.to_owned(), size, cap).into());
        }
        tar.begin(name, size).map_err(BundleError::from)?;
        contents.read(name, &mut tar)?;
    }
    tar.finish().map_err(BundleError::from)?;
    if !decoder.into_inner().is_empty() {
        return Err(BundleError::Trailing.into());
    }
    for name in &FILES[order.next..] {
        if !OPTIONAL.contains(name) {
            return Err(BundleError::Missing((*name).to_owned()).into());
        }
    }
    contents.finish(order.mtime.unwrap_or_default())
}

/// Where a bundle's reader is in [`FILES`].
#[derive(Debug, Default)]
struct Order {
    /// The index in [`FILES`] the next entry may take, at the earliest.
    next: usize,
    /// The files read so far.
    seen: Vec<&'static str>,
    /// The time of the first entry, which every other shares.
    mtime: Option<u64>,
}

impl Order {
    /// Judges an entry from its header alone: a plain regular file, the next of [`FILES`]
    /// (those between it and the one before only if optional), under exactly the header
    /// `bundle` writes for its name and size, at the same time as the others.
    fn admit(&mut self, header: &ustar::Header) -> Result<(&'static str, u64), BundleError> {
        let raw = crate::text::clean(&header.name);
        let extension = match header.kind {
            b'x' => Some("a PAX extended header"),
            b'g' => Some("a PAX global header"),
            b'L' => Some("a GNU long name"),
            b'K' => Some("a GNU long link name"),
            b'S' => Some("a GNU sparse file"),
            b'0' => None,
            _ => return Err(BundleError::BadEntry(raw)),
        };
        if let Some(what) = extension {
            return Err(BundleError::Extension(raw, what));
        }
        let plain = !header.name.is_empty()
            && !header.name.contains(['/', '\\'])
            && header.name != "."
            && header.name != "..";
        if !plain {
            return Err(BundleError::BadEntry(raw));
        }
        // Names that differ only in case are one file on some systems.
        if self
            .seen
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&header.name))
        {
            return Err(BundleError::Duplicate(raw));
        }
        let Some(index) = FILES.iter().position(|f| *f == header.name) else {
            return Err(BundleError::Unexpected(raw));
        };
        let name = FILES[index];
        if index < self.next {
            return Err(BundleError::OutOfOrder(raw));
        }
        if let Some(missing) = FILES[self.next..index]
            .iter()
            .find(|f| !OPTIONAL.contains(f))
        {
            return Err(BundleError::Missing((*missing).to_owned()));
        }
        self.next = index + 1;
        self.seen.push(name);
        let (Some(size), Some(time)) = (header.size, header.mtime) else {
            return Err(BundleError::Header(raw));
        };
        let time = *self.mtime.get_or_insert(time);
        if ustar::header(name, size, time) != Some(header.raw) {
            return Err(BundleError::Header(raw));
        }
        Ok((name, size))
    }
}

/// The SBOM of a bundle `check` has accepted (`sbom.cdx.json`, whose digest is the attested
/// one), read again from the same bytes, up to `limit`: what `verify` compares a binary with.
pub fn sbom_of(gz: &[u8], limit: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    for entry in archive.entries().ok()? {
        let entry = entry.ok()?;
        if entry.path().ok()?.as_os_str() == "sbom.cdx.json" {
            let mut bytes = Vec::new();
            entry.take(limit + 1).read_to_end(&mut bytes).ok()?;
            return (bytes.len() as u64 <= limit).then_some(bytes);
        }
    }
    None
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
    }

    #[test]
    fn packs_are_reproducible_with_the_gzip_header_the_reader_takes() {
        let files: Vec<(&str, &[u8])> = vec![("README.txt", b"hello"), ("a.json", b"{}")];
        let one = pack(&files, 1_700_000_000).unwrap();
        assert_eq!(one, pack(&files, 1_700_000_000).unwrap());
        assert_eq!(one[..GZIP_HEADER.len()], GZIP_HEADER);
    }

    #[test]
    fn not_an_archive() {
        assert!(matches!(
            check(b"plain text", &[], 1, &[]),
            Err(Refused::Bundle(BundleError::NotAnArchive(_)))
        ));
    }
}
