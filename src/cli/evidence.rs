//! The flags of `attest`, `verify`, `bundle` and `keygen`, and the signing flags `attest`
//! shares with `audit --out-dir`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Signing, for `attest` and `audit --out-dir`.
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// A release artifact the attestation is about (repeatable): its SHA-256 and SHA-512 become
    /// subjects of the statement. A binary built with `cargo auditable` is also compared with
    /// the SBOM (sbom-binary-match): a package compiled in that the SBOM does not list fails.
    #[arg(long, value_name = "FILE")]
    pub subject: Vec<PathBuf>,

    /// The signing key: a PKCS#8 PEM file from `charter-audit keygen` [default: the PEM text in
    /// CHARTER_AUDIT_SIGNING_KEY].
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,

    /// Write the statement unsigned, for keyless signing by GitHub's actions/attest (then
    /// verified with `gh attestation verify`).
    #[arg(long, conflicts_with = "sign_key")]
    pub unsigned: bool,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The audit report (`charter-audit audit --format json`).
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,

    /// The SBOM the audit made (`audit --out-dir` writes sbom.cdx.json).
    #[arg(long, value_name = "FILE")]
    pub sbom: PathBuf,

    #[command(flatten)]
    pub signing: SigningArgs,

    /// Also write all three statements (ours, the CycloneDX SBOM, the in-toto vulns findings),
    /// one DSSE envelope per line.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,

    /// Also write the run as a CycloneDX 1.6 attestation (attestation.cdx.json: the principle
    /// map as `definitions.standards` and `declarations`); its SHA-256 and SHA-512 are recorded
    /// in the predicate, so the signature covers it.
    #[arg(long, value_name = "FILE")]
    pub cyclonedx: Option<PathBuf>,

    /// Where to write the envelope (or, with --unsigned, the statement): a file or `-`.
    #[arg(
        short,
        long,
        value_name = "FILE|-",
        default_value = "-",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub output: String,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The DSSE envelope (attestation.intoto.json).
    #[arg(
        value_name = "ENVELOPE",
        required_unless_present = "bundle",
        conflicts_with = "bundle"
    )]
    pub envelope: Option<PathBuf>,

    /// A submission bundle (`charter-audit bundle`) instead of an envelope: every file in it
    /// is checked. The public key inside is never trusted; its fingerprint is printed for you to
    /// compare with the key you hold.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// A trusted public key (SPKI PEM; repeatable).
    #[arg(long, value_name = "PUB.pem", required = true)]
    pub key: Vec<PathBuf>,

    /// How many distinct trusted keys must have signed.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub threshold: u16,

    /// A file that must be a subject of the attestation (repeatable): the release you received.
    /// A binary built with `cargo auditable` is read here and compared with the attested SBOM
    /// (give --sbom, or --bundle): exit 1 when it holds a package the SBOM does not list.
    #[arg(long, value_name = "FILE")]
    pub subject: Vec<PathBuf>,

    /// The SBOM you received, which must be the one attested.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,

    /// The CycloneDX attestation you received (attestation.cdx.json), which must be the one the
    /// signed predicate records.
    #[arg(long, value_name = "FILE")]
    pub cyclonedx: Option<PathBuf>,

    /// A VEX document of the run you received (vex.openvex.json or vex.cdx.json), which must be
    /// one the signed predicate records; repeat for both.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,

    /// The oldest evaluation time you accept, in days before --now.
    #[arg(long, value_name = "DAYS")]
    pub max_age: Option<u32>,

    /// The time to judge the age at, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,

    /// The built-in policy you require: no attested setting looser than its (a stricter policy
    /// satisfies it), and no exception running more than 90 days past the evaluation.
    #[arg(long, value_name = "NAME")]
    pub policy: Option<String>,

    /// An advisory source you accept, by the URI the attestation records for it (repeatable,
    /// e.g. https://api.osv.dev). When given, an attestation citing any other
    /// source is not accepted (exit 1): every source an audit names is trusted for its facts.
    #[arg(long, value_name = "URI")]
    pub accept_source: Vec<String>,

    /// `text`, or `html`: a page for the recipient, built only from what was verified (the
    /// verdict, what the release evidences, the facts attested).
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,

    /// Where to write it: a file (written atomically; the text verdict is still printed) or `-`.
    #[arg(
        short,
        long,
        value_name = "FILE|-",
        default_value = "-",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub output: String,
}

/// What `verify` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Text,
    Html,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The folder of a signed `audit --out-dir` run.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,

    /// The public key to pack [default: DIR/signing-key.pub].
    #[arg(long, value_name = "PUB.pem")]
    pub key: Option<PathBuf>,

    /// Where to write the bundle (a .tar.gz), atomically.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Signature algorithm: Ed25519, or ECDSA P-256 with SHA-256 (what cosign uses).
    #[arg(long, value_enum, default_value_t = AlgorithmArg::Ed25519)]
    pub algorithm: AlgorithmArg,

    /// Where to write the pair: PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub out: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    Ed25519,
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
}
