//! The command line (clap derive only), and its conversion into library options: one file per
//! part of it (what to take the inventory of, the SBOM, the audit, the evidence), each type
//! re-exported here, so that `crate::cli::AuditArgs` names it wherever it is defined.

mod audit;
mod evidence;
mod inventory;
mod sbom;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use audit::{AuditArgs, ReportFormat};
pub use evidence::{
    AlgorithmArg, AttestArgs, BundleArgs, KeygenArgs, SigningArgs, VerifyArgs, VerifyFormat,
};
pub use inventory::InventoryArgs;
pub use sbom::{FormatArg, ProfileArg, SbomArgs, SpecArg, SupplierArgs};

/// Evidence for the NHS England Cyber Security Charter: an SBOM of your product, its known
/// vulnerabilities and how long their fixes have waited, checked against your policy and signed.
///
/// Exit codes: 0 pass, 1 policy violated, 2 could not run (bad input, missing database...);
/// `verify` adds 3 for evidence that is not authentic.
#[derive(Debug, Parser)]
#[command(name = "charter-audit", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a CycloneDX SBOM of a Cargo workspace, of a Cargo.lock alone, or of a built binary.
    ///
    /// Runs `cargo metadata --locked` (never changing Cargo.lock, running nothing of the
    /// project) and writes every component with its version, purl, SHA-256, licence, authors
    /// and dependency edges. With --lockfile, or when cargo cannot reach a source while offline,
    /// it reads Cargo.lock directly instead. With --binary, it reads the dependency list
    /// `cargo auditable` embedded in the binary: what was compiled in, and the binary's digests.
    ///
    /// Example: charter-audit sbom --supplier "Example Health Ltd" -o sbom.cdx.json
    Sbom(Box<SbomArgs>),
    /// Check every component against advisory databases (RustSec, OSV) and your policy.
    ///
    /// Each finding gets a verdict: above all the patch-age rule (a fix for a critical, high or
    /// unscored vulnerability must be applied within 14 days of its release under nhs-charter).
    /// Exit code 0 when nothing violates the policy, 1 when something does, 2 when it could not
    /// run. A database that does not load fully is an error unless --allow-partial-db; what
    /// could not be checked is listed, never clean. A vendor's or supplier's VEX (--vex FILE)
    /// excepts a finding it says is not affected, within the policy's [vex] trust rules, and
    /// every report names on whose word.
    ///
    /// Example: charter-audit audit --advisory-db advisory-db --now 2026-09-01T00:00:00Z
    ///
    /// Example: charter-audit audit --vex vendor.openvex.json --vex signed.intoto.json --vex-key
    /// vendor.pub
    Audit(Box<AuditArgs>),
    /// Sign an in-toto attestation of an audit: what was checked, against which databases and
    /// policy, with what result, and what that evidences of the Charter and the Code of Practice.
    ///
    /// Writes a DSSE envelope (payload type application/vnd.in-toto+json) of an in-toto
    /// Statement v1 whose subjects are the release artifacts (--subject) and the SBOM. The key
    /// comes from --sign-key FILE or CHARTER_AUDIT_SIGNING_KEY (PEM text) and is never shown.
    ///
    /// Example: charter-audit attest --report report.json --sbom sbom.cdx.json
    ///     --subject target/release/app --sign-key release.key -o app.intoto.json
    Attest(Box<AttestArgs>),
    /// Verify a supplier's signed attestation: is it authentic, and what does it say?
    ///
    /// Checks the DSSE signatures over the PAE with the trusted public keys you give (key ids
    /// are only hints), the payload and predicate types, that every --subject file and the
    /// --sbom are the ones attested, and size limits; then prints the product, result, time,
    /// databases, coverage, exceptions and any loosened thresholds.
    ///
    /// Exit 0: authentic, and the attested result is pass. 1: authentic, but the result is fail,
    /// or it is older than --max-age or dated after now, or falls short of --policy NAME (a
    /// setting looser than that policy's, or an exception running more than 90 days). 3: not
    /// authentic (any
    /// failed check). 2: the verifier's own inputs are wrong (a missing key file, a bad flag).
    ///
    /// Example: charter-audit verify attestation.intoto.json --key supplier.pub
    ///     --subject app-1.4.2.tar.gz --max-age 30 --policy nhs-charter
    Verify(Box<VerifyArgs>),
    /// Create a signing key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM).
    ///
    /// Keep the .key secret (a CI secret such as CHARTER_AUDIT_SIGNING_KEY); give the .pub to
    /// the NHS organisations that verify your attestations. Existing files are never replaced.
    ///
    /// Example: charter-audit keygen --algorithm ecdsa-p256 --out release-signing
    Keygen(KeygenArgs),
    /// Pack the evidence of a release into one submission file for the NHS organisation.
    ///
    /// Takes the folder a signed `audit --out-dir` wrote and packs the SBOM, the attestations,
    /// the HTML and JSON reports, the public key and a README for the recipient into one
    /// reproducible .tar.gz. The attestation is checked against the key first.
    ///
    /// Example: charter-audit bundle --out-dir evidence -o submission.tar.gz
    Bundle(BundleArgs),
    /// List the built-in policies, show one, or start a charter-audit.toml.
    Policy(PolicyArgs),
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub action: PolicyAction,
}

#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// The built-in policies and what each is for.
    List,
    /// A built-in policy's settings, as TOML.
    Show {
        /// e.g. nhs-charter
        name: String,
    },
    /// Write a commented charter-audit.toml to start from.
    Init {
        /// Where to write it (never over an existing file); `-` for standard output.
        #[arg(short, long, value_name = "FILE", default_value = "charter-audit.toml")]
        output: PathBuf,
    },
}
