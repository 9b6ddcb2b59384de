//! The command line (clap derive only), and its conversion into library options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::inventory::{Features, InventoryOptions, InventorySource, Target};
use crate::report::Output;
use crate::sbom::{Format, Spec, Supplier};

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
    /// Build a CycloneDX SBOM of a Cargo workspace, or of a Cargo.lock alone.
    ///
    /// Runs `cargo metadata --locked` (never changing Cargo.lock, running nothing of the
    /// project) and writes every component with its version, purl, SHA-256, licence, authors
    /// and dependency edges. With --lockfile, or when cargo cannot reach a source while offline,
    /// it reads Cargo.lock directly instead.
    ///
    /// Example: charter-audit sbom --supplier "Example Health Ltd" -o sbom.cdx.json
    Sbom(Box<SbomArgs>),
    /// Check every component against advisory databases (RustSec, OSV) and your policy.
    ///
    /// Each finding gets a verdict: above all the patch-age rule (a fix for a critical, high or
    /// unscored vulnerability must be applied within 14 days of its release under nhs-charter).
    /// Exit code 0 when nothing violates the policy, 1 when something does, 2 when it could not
    /// run. A database that does not load fully is an error unless --allow-partial-db; what
    /// could not be checked is listed, never clean.
    ///
    /// Example: charter-audit audit --advisory-db advisory-db --now 2026-09-01T00:00:00Z
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

/// Signing, for `attest` and `audit --out-dir`.
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// A release artifact the attestation is about (repeatable): its SHA-256 and SHA-512 become
    /// subjects of the statement.
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
    #[arg(long, value_name = "FILE")]
    pub subject: Vec<PathBuf>,

    /// The SBOM you received, which must be the one attested.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,

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

/// What to take the inventory of: shared by `sbom` and `audit`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// The workspace's Cargo.toml [default: ./Cargo.toml].
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Read this Cargo.lock instead of running cargo: no cargo, no network, every locked
    /// package (dependency kinds, targets and features are not recorded in a lockfile).
    #[arg(long, value_name = "PATH", conflicts_with = "manifest_path")]
    pub lockfile: Option<PathBuf>,

    /// Features to activate, comma or space separated (as for cargo).
    #[arg(
        short = 'F',
        long,
        value_name = "F",
        value_delimiter = ',',
        conflicts_with = "lockfile"
    )]
    pub features: Vec<String>,

    /// Activate all features.
    #[arg(long, conflicts_with = "lockfile")]
    pub all_features: bool,

    /// Do not activate the `default` feature.
    #[arg(long, conflicts_with = "lockfile")]
    pub no_default_features: bool,

    /// Target triple whose dependencies to include, or `all` for every platform's
    /// [default: the host].
    #[arg(long, value_name = "TRIPLE|all", conflicts_with = "lockfile")]
    pub target: Option<String>,

    /// Include dev-dependencies (scope `excluded`; they do not ship).
    #[arg(long, conflicts_with = "lockfile")]
    pub include_dev: bool,

    /// The package that is the product [default: the workspace's binary package].
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub product: Option<String>,

    /// Use no network at all: cargo resolves from its local cache and vendored sources only,
    /// and nothing is downloaded.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    pub format: FormatArg,

    /// CycloneDX version to write.
    #[arg(long, value_enum, default_value_t = SpecArg::V1_5)]
    pub spec_version: SpecArg,

    #[command(flatten)]
    pub supplier: SupplierArgs,

    /// The supplier's configuration, for its [supplier] table [default: charter-audit.toml
    /// beside the workspace's Cargo.toml or the lockfile, if there is one].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where to write the SBOM: a file (written atomically) or `-` for standard output.
    #[arg(
        short,
        long,
        value_name = "FILE|-",
        default_value = "-",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub output: String,
}

/// Who supplies the product and wrote the SBOM (NTIA minimum elements); the configuration's
/// [supplier] table when no flag gives them.
#[derive(Debug, Args)]
pub struct SupplierArgs {
    /// Supplier of the product (NTIA minimum element), e.g. "Example Health Ltd" [default:
    /// the configuration's [supplier] name].
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub supplier: Option<String>,

    /// The supplier's web address.
    #[arg(long, value_name = "URL", requires = "supplier")]
    pub supplier_url: Option<String>,

    /// The supplier's security contact e-mail.
    #[arg(long, value_name = "EMAIL", requires = "supplier")]
    pub supplier_contact: Option<String>,

    /// Author of the SBOM data (repeatable) [default: the supplier].
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub author: Vec<String>,
}

impl SupplierArgs {
    /// The supplier the flags name, else the configuration's [supplier] table.
    pub fn supplier(
        &self,
        config: Option<&crate::policy::config::SupplierConfig>,
    ) -> Option<Supplier> {
        match &self.supplier {
            Some(name) => Some(Supplier {
                name: name.clone(),
                url: self.supplier_url.clone(),
                contact: self.supplier_contact.clone(),
            }),
            None => config.map(|s| Supplier {
                name: s.name.clone(),
                url: s.url.clone(),
                contact: s.contact.clone(),
            }),
        }
    }
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,

    /// Audit a supplier's own CycloneDX JSON SBOM (1.4 to 1.6, any ecosystem, from syft,
    /// cdxgen, cyclonedx-npm...) instead of a Cargo workspace: its components, by purl, are
    /// checked against --osv-db (and RustSec for crates), with no registry facts.
    #[arg(long = "sbom", value_name = "FILE", conflicts_with_all = ["manifest_path", "lockfile"])]
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
    /// report.json, report.sarif, report.md and report.html; with --sign-key (or CHARTER_AUDIT_SIGNING_KEY)
    /// or --unsigned, attestation.intoto.json and attestations.intoto.jsonl too.
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Json,
    Xml,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SpecArg {
    #[value(name = "1.5")]
    V1_5,
    #[value(name = "1.4")]
    V1_4,
}

impl InventoryArgs {
    /// The inventory options these flags ask for.
    pub fn inventory_options(&self) -> InventoryOptions {
        let source = match &self.lockfile {
            Some(lockfile) => InventorySource::Lockfile(lockfile.clone()),
            None => {
                let manifest = self
                    .manifest_path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("Cargo.toml"));
                // A folder stands for the Cargo.toml in it.
                if manifest.is_dir() {
                    InventorySource::Manifest(manifest.join("Cargo.toml"))
                } else {
                    InventorySource::Manifest(manifest)
                }
            }
        };
        let target = match self.target.as_deref() {
            None => Target::Host,
            Some("all") => Target::All,
            Some(triple) => Target::Triple(triple.to_owned()),
        };
        InventoryOptions {
            source,
            features: Features {
                features: self
                    .features
                    .iter()
                    .flat_map(|f| f.split_whitespace())
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect(),
                all_features: self.all_features,
                no_default_features: self.no_default_features,
            },
            target,
            include_dev: self.include_dev,
            offline: self.offline,
            product: self.product.clone(),
        }
    }
}

impl InventoryArgs {
    /// The supplier's `charter-audit.toml`: beside the lockfile, or at the workspace root,
    /// looked for from the manifest's folder (or the current one) up to the folder that holds
    /// the workspace's Cargo.lock, so that a member's manifest finds its workspace's file.
    pub fn default_config(&self) -> Option<PathBuf> {
        let anchor = match (&self.lockfile, &self.manifest_path) {
            (Some(lockfile), _) => lockfile.clone(),
            (None, Some(manifest)) => manifest.clone(),
            (None, None) => PathBuf::from("Cargo.toml"),
        };
        find_config(anchor, self.lockfile.is_some())
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

/// Looks for `charter-audit.toml` from the anchor's folder upwards: only there when
/// `only_beside`, else up to a folder with a Cargo.lock or a `.git`.
fn find_config(anchor: PathBuf, only_beside: bool) -> Option<PathBuf> {
    let start = if anchor.is_dir() {
        anchor
    } else {
        match anchor.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    let start = start.canonicalize().unwrap_or(start);
    for dir in start.ancestors() {
        let candidate = dir.join("charter-audit.toml");
        if candidate.is_file() {
            // Named relative to the current folder when it is under it, as given.
            let cwd = std::env::current_dir()
                .ok()
                .and_then(|c| c.canonicalize().ok());
            return Some(
                cwd.and_then(|cwd| candidate.strip_prefix(cwd).ok().map(PathBuf::from))
                    .unwrap_or(candidate),
            );
        }
        // The workspace root (its lockfile) or the repository's root ends the search.
        if only_beside || dir.join("Cargo.lock").is_file() || dir.join(".git").exists() {
            break;
        }
    }
    None
}

impl SbomArgs {
    pub fn spec(&self) -> Spec {
        match self.spec_version {
            SpecArg::V1_4 => Spec::V1_4,
            SpecArg::V1_5 => Spec::V1_5,
        }
    }

    pub fn format(&self) -> Format {
        match self.format {
            FormatArg::Json => Format::Json,
            FormatArg::Xml => Format::Xml,
        }
    }

    pub fn output(&self) -> Output {
        Output::parse(&self.output)
    }
}
