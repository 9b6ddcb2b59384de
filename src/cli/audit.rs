//! The flags of `audit`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::inventory::find_config;
use super::{InventoryArgs, SigningArgs, SupplierArgs};
use crate::report::Output;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,

    /// Audit a supplier's own CycloneDX JSON SBOM (1.4 to 1.6, any ecosystem, from syft,
    /// cdxgen, cyclonedx-npm...) instead of a Cargo workspace: its components, by purl, are
    /// checked against --osv-db (and RustSec for crates), with no registry facts.
    #[arg(long = "sbom", value_name = "FILE", conflicts_with_all = ["manifest_path", "lockfile", "binary"])]
    pub sbom_input: Option<PathBuf>,

    /// The largest --sbom read, in MiB (1 to 1024): a larger file is refused before it is
    /// parsed [default: 64].
    #[arg(long, value_name = "MIB", requires = "sbom_input",
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_sbom_size: Option<u64>,

    /// A RustSec advisory database: a checkout of rustsec/advisory-db or a folder in its
    /// layout (`crates/NAME/RUSTSEC-*.md`).
    #[arg(long, value_name = "DIR")]
    pub advisory_db: Option<PathBuf>,

    /// When the --advisory-db folder was last updated (YYYY-MM-DD), for the advisory-db-age
    /// rule; it takes precedence over a checkout's commit time [default: the checkout's commit
    /// time, else the newest advisory's date].
    #[arg(long, value_name = "DATE", requires = "advisory_db")]
    pub advisory_db_date: Option<String>,

    /// Where to download the RustSec database from when no --advisory-db is given (a
    /// gzip'd tarball of the advisory-db repository; kept in a cache folder for an hour).
    #[arg(
        long,
        value_name = "URL",
        default_value = crate::advisories::fetch::DEFAULT_URL,
        conflicts_with = "advisory_db"
    )]
    pub advisory_db_url: String,

    /// OSV advisories: a folder of OSV JSON files or an OSV export zip (e.g. crates.io/all.zip).
    #[arg(long, value_name = "PATH")]
    pub osv_db: Option<PathBuf>,

    /// Also ask the OSV API about the components (opt-in; never with --offline). Only public
    /// packages are sent: never one without a purl ecosystem, one whose purl names a private
    /// source, or one whose name matches the configuration's `private` patterns.
    #[arg(
        long,
        value_name = "URL",
        num_args = 0..=1,
        default_missing_value = crate::advisories::osv_api::DEFAULT_URL,
        conflicts_with = "offline"
    )]
    pub osv_api: Option<String>,

    /// The crates.io sparse index for registry facts (yanked, publication times, fix versions):
    /// a URL, or a folder in the sparse-index layout [default: https://index.crates.io/, or
    /// cargo's local index cache with --offline].
    #[arg(long, value_name = "URL|DIR")]
    pub registry_index: Option<String>,

    /// Seconds allowed for each HTTP answer as a whole: connecting, headers and body.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub http_timeout: u64,

    /// Go on when some advisory files do not load, listing them in the report as skipped.
    #[arg(long)]
    pub allow_partial_db: bool,

    /// The built-in policy to apply (see `charter-audit policy list`) [default: the config
    /// file's `extends`, else nhs-charter].
    #[arg(long, value_name = "NAME")]
    pub policy: Option<String>,

    /// The supplier's configuration (thresholds, exceptions, supplier details, private names)
    /// [default: charter-audit.toml beside the workspace's Cargo.toml or the lockfile; with
    /// --sbom, beside the SBOM or above it up to the repository's root; if there is one].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A VEX document from a supplier or vendor: OpenVEX 0.2.0, CycloneDX VEX, or OpenVEX
    /// signed in a DSSE envelope (checked against --vex-key). Repeatable; never read from the
    /// audited project. A `not_affected` statement about a finding's package (purl with name
    /// and version) and vulnerability (its id or alias) excepts it, within the policy's [vex]
    /// trust rules: vex.max-age days, vex.require-justification, vex.require-signed.
    #[arg(long = "vex", value_name = "FILE")]
    pub vex: Vec<PathBuf>,

    /// A public key (PEM) a signed --vex document must verify against; repeatable. A signed
    /// document no given key verifies is refused (exit 2).
    #[arg(long = "vex-key", value_name = "FILE", requires = "vex")]
    pub vex_key: Vec<PathBuf>,

    /// The evaluation time, RFC 3339 (e.g. 2026-09-01T00:00:00Z) [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,

    #[command(flatten)]
    pub supplier: SupplierArgs,

    /// Report format: `human` for a terminal, `json` (schema charter-audit/report/v1), `sarif`
    /// (2.1.0, for GitHub code scanning), `markdown` (also appended to $GITHUB_STEP_SUMMARY
    /// when that is set, whatever the format) or `html` (one self-contained page for assurance
    /// staff).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,

    /// Where to write the report: a file (written atomically) or `-` for standard output.
    #[arg(
        short,
        long,
        value_name = "FILE|-",
        default_value = "-",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub output: String,

    /// Also write every output of the run into DIR (created if needed): sbom.cdx.json,
    /// report.json, report.sarif, report.md and report.html, and the run's decisions as VEX:
    /// vex.cdx.json (CycloneDX VEX) and, when there are findings, vex.openvex.json (OpenVEX);
    /// with --sign-key (or CHARTER_AUDIT_SIGNING_KEY) or --unsigned, attestation.intoto.json and
    /// attestations.intoto.jsonl too, whose predicate records the VEX files' digests.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    #[command(flatten)]
    pub signing: SigningArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    Sarif,
    Markdown,
    Html,
}

impl AuditArgs {
    pub fn output(&self) -> Output {
        Output::parse(&self.output)
    }

    /// `--advisory-db-date`, parsed.
    pub fn advisory_db_date(&self) -> Result<Option<time::Date>, crate::Error> {
        match &self.advisory_db_date {
            None => Ok(None),
            Some(text) => crate::time::parse_day(text).map(Some).ok_or_else(|| {
                crate::Error::Usage(format!(
                    "--advisory-db-date `{text}` is not a date: give one such as 2026-08-21"
                ))
            }),
        }
    }
}

impl AuditArgs {
    /// The supplier's `charter-audit.toml`: for `--sbom`, beside the SBOM or in a folder above
    /// it up to the repository's root (its `private` patterns must apply wherever the audit is
    /// run from), else in the current folder or above it up to a Cargo.lock or `.git`;
    /// otherwise as for the workspace or lockfile.
    pub fn default_config(&self) -> Option<PathBuf> {
        match &self.sbom_input {
            Some(sbom) => find_config(sbom.clone(), false)
                .or_else(|| find_config(PathBuf::from("Cargo.toml"), false)),
            None => self.inventory.default_config(),
        }
    }
}
