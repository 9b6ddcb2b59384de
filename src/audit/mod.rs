//! The audit as a library function, one way through the stages: **gather** (inventory, then
//! advisories and registry facts side by side), **judge** (the policy joins findings and
//! facts into verdicts, as new values) and **assemble** (one typed [`Report`]). The `audit`
//! command parses flags into [`Options`], calls [`run`], then renders, signs and writes; this
//! module prints nothing and imports neither `cli` nor `commands`.

mod assemble;
mod gather;
pub mod vex;

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::advisories::{AdvisoryError, SourceOptions};
use crate::inventory::{InventoryError, InventoryOptions};
use crate::model::report::Report;
use crate::net::Http;
use crate::policy::Config;
use crate::sbom::{Artifact, SbomError, Supplier};
use crate::time::Stamp;

/// What to audit.
#[derive(Clone, Debug)]
pub enum Input {
    /// A Cargo workspace (through `cargo metadata`) or a lockfile.
    Cargo {
        inventory: InventoryOptions,
        /// `--lockfile`: the auditor chose to trust the lockfile where the index cannot
        /// check it.
        trusted_lockfile: bool,
    },
    /// A supplier's own CycloneDX SBOM, read up to `max_bytes`.
    Sbom { path: PathBuf, max_bytes: u64 },
}

/// Everything an audit needs, decided before it starts.
#[derive(Clone, Debug)]
pub struct Options {
    pub input: Input,
    /// The supplier's configuration: the policy, exceptions, private patterns.
    pub config: Config,
    pub sources: SourceOptions,
    /// The OSV API to ask about public components, when one is named.
    pub osv_api: Option<String>,
    /// The registry index: an `https://` sparse index or a folder; `None` for crates.io's
    /// (or cargo's cache with `offline`).
    pub registry_index: Option<String>,
    pub offline: bool,
    /// The supplier named on the command line or in the configuration.
    pub supplier: Option<Supplier>,
    pub authors: Vec<String>,
    /// The release artifacts (`--subject`): the product's deployable form in the SBOM, under
    /// the `bsi-tr-03183-2` profile.
    pub artifacts: Vec<Artifact>,
    /// The release artifacts that carry a list embedded by `cargo auditable`, read from them:
    /// each is compared with the SBOM of the run (`sbom-binary-match`).
    pub binaries: Vec<crate::inventory::binary::Embedded>,
    /// Whether the SBOM of the run is written (`--out-dir`): only then are its bytes made
    /// (else its completeness is read from its model) and its own warnings given.
    pub write_sbom: bool,
    /// When documents are stamped (`SOURCE_DATE_EPOCH`), and when ages are computed.
    pub stamp: Stamp,
    pub now: OffsetDateTime,
    /// `--vex`: VEX documents the auditor trusts as far as the policy's `[vex]` allows.
    pub vex: Vec<PathBuf>,
    /// `--vex-key`: the public keys a signed VEX document must verify against.
    pub vex_keys: Vec<PathBuf>,
}

/// What an audit makes: the report, the SBOM it rests on, and what the user should know.
#[derive(Clone, Debug)]
pub struct Audit {
    pub report: Report,
    /// The SBOM of the run: made from the inventory, or the supplier's own; `None` when the
    /// run writes none and compares no binary with it (`Options::write_sbom`).
    pub sbom: Option<Vec<u8>>,
    /// Where SARIF results point: Cargo.lock, or the supplier's SBOM.
    pub lockfile_path: PathBuf,
    pub warnings: Vec<String>,
}

/// Why an audit could not run (exit 2). Findings are never errors.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    SbomInput(#[from] crate::inventory::cyclonedx::InputError),
    #[error(transparent)]
    Sbom(#[from] SbomError),
    #[error(transparent)]
    Advisories(#[from] AdvisoryError),
    #[error(transparent)]
    OsvApi(#[from] crate::advisories::osv_api::ApiError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error("--registry-index {0}: no such folder; give a sparse-index folder or an https:// URL")]
    NoIndexFolder(String),
    #[error(transparent)]
    BinaryMatch(#[from] crate::inventory::binary_match::SbomUnreadable),
    #[error("could not read the SBOM this run made: {0}")]
    OwnSbom(#[source] serde_json::Error),
    #[error(transparent)]
    Vex(#[from] vex::VexInputError),
    #[error("the SBOM of this run was not made, yet {0} needs it (a bug of charter-audit)")]
    SbomNotMade(&'static str),
}

/// Runs the audit: gather, judge, assemble.
pub fn run(options: &Options, http: &Http) -> Result<Audit, AuditError> {
    // Read first: a bad VEX document costs nothing of the network.
    let vex = vex::read_all(&options.vex, &options.vex_keys)?;
    let gathered = match &options.input {
        Input::Cargo { inventory, .. } => gather::from_cargo(options, inventory, http)?,
        Input::Sbom { path, max_bytes } => gather::from_sbom(options, path, *max_bytes, http)?,
    };
    assemble::report(options, gathered, vex)
}
