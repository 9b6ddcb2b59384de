//! `charter-audit audit`: flags → [`crate::audit::run`] (inventory → advisories and registry
//! facts → policy → report) → renderings, the signed attestation, the files.

use std::path::PathBuf;
use std::time::Duration;

use super::Outcome;
use crate::Error;
use crate::attest::keys::PrivateKey;
use crate::attest::statement::Subject;
use crate::audit::{self, Audit, Input, Options};
use crate::cli::{AuditArgs, ReportFormat};
use crate::model::report::{Outcome as Result_, Report};
use crate::net::{Http, HttpOptions};
use crate::policy;
use crate::report::{self, html, markdown, sarif};
use crate::time::{Stamp, evaluation_time};

pub(super) fn run(args: &AuditArgs) -> Result<Outcome, Error> {
    let stamp = Stamp::from_env()?;
    let now = evaluation_time(args.now.as_deref())?;
    let config_path = args.config.clone().or_else(|| args.default_config());
    let config = policy::load(args.policy.as_deref(), config_path.as_deref())?;
    let output = args.output();
    report::check_destination(&output)?;
    if let Some(dir) = &args.out_dir {
        report::check_out_dir(dir)?;
        // No file the audit reads is among those it writes (a VEX given back from the folder
        // it will write into would be replaced by this run's).
        let outputs: Vec<PathBuf> = OUT_DIR_FILES.iter().map(|f| dir.join(f)).collect();
        let outputs: Vec<&std::path::Path> = outputs.iter().map(|p| p.as_path()).collect();
        let mut inputs: Vec<(&'static str, &std::path::Path)> = Vec::new();
        inputs.extend(args.vex.iter().map(|p| ("a --vex document", p.as_path())));
        inputs.extend(args.vex_key.iter().map(|p| ("a --vex-key", p.as_path())));
        inputs.extend(config_path.as_deref().map(|p| ("the configuration", p)));
        inputs.extend(
            args.signing
                .sign_key
                .as_deref()
                .map(|p| ("the signing key", p)),
        );
        inputs.extend(
            args.signing
                .subject
                .iter()
                .map(|p| ("a --subject", p.as_path())),
        );
        report::check_distinct(&outputs, &inputs)?;
    }
    let signing = Signing::from_args(args)?;
    let http = Http::new(HttpOptions::new(
        args.inventory.offline,
        Duration::from_secs(args.http_timeout.max(1)),
    ))?;
    let mut warnings = Vec::new();
    if args.config.is_none()
        && let Some(path) = &config_path
    {
        warnings.push(format!("using the configuration in {}", path.display()));
    }
    if let Some(base) = &args.osv_api
        && config.private.is_empty()
    {
        warnings.push(format!(
            "no `private` patterns are configured (`private = [\"...\"]` in charter-audit.toml{}): the name and version of every component with a public purl were sent to {base}",
            config_path
                .as_ref()
                .map(|p| format!(", here {}", p.display()))
                .unwrap_or_default()
        ));
    }
    if signing.key_from_environment_unused {
        warnings.push(format!(
            "{} is set, but nothing is signed without --out-dir DIR to write the attestation into",
            crate::process::KEY_VARIABLE
        ));
    }
    let mut audit_options = options(args, config, stamp, now)?;
    audit_options.artifacts = signing
        .subjects
        .iter()
        .map(|s| crate::sbom::Artifact {
            name: s.name.clone(),
            sha512: s.sha512.clone(),
        })
        .collect();
    let (binaries, too_large) = super::attest::binaries_of(&args.signing.subject)?;
    audit_options.binaries = binaries;
    warnings.extend(too_large);
    let audit = audit::run(&audit_options, &http)?;
    let mut all_warnings = audit.warnings.clone();
    all_warnings.extend(warnings);
    let renderings = Renderings::new(&audit, &signing, args.out_dir.is_some());
    if args.out_dir.is_some() {
        // Every file is made before any is written.
        renderings.json()?;
    }
    let bytes: std::borrow::Cow<'_, str> = match args.format {
        ReportFormat::Json => renderings.json()?.into(),
        ReportFormat::Human => report::audit::human(&audit.report, colour(&output)).into(),
        ReportFormat::Sarif => renderings.sarif().into(),
        ReportFormat::Markdown => renderings.markdown().into(),
        ReportFormat::Html => renderings.html().into(),
    };
    if let Some(dir) = &args.out_dir {
        write_out_dir(dir, &audit, &renderings, &signing)?;
    }
    report::emit(&output, bytes.as_bytes())?;
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty())
        && let Err(e) = report::append(
            std::path::Path::new(&summary),
            renderings.markdown().as_bytes(),
        )
    {
        all_warnings.push(format!("the job summary was not written: {e}"));
    }
    Ok(Outcome {
        code: u8::from(audit.report.result == Result_::Fail),
        warnings: all_warnings,
        ..Outcome::default()
    })
}

/// The audit's options, from the flags and the loaded configuration.
fn options(
    args: &AuditArgs,
    config: policy::Config,
    stamp: Stamp,
    now: time::OffsetDateTime,
) -> Result<Options, Error> {
    let input = match &args.sbom_input {
        Some(path) => Input::Sbom {
            path: path.clone(),
            max_bytes: args
                .max_sbom_size
                .map_or(crate::inventory::cyclonedx::MAX_BYTES, |mib| {
                    mib * 1024 * 1024
                }),
        },
        None if args.max_sbom_size.is_some() => {
            return Err(Error::Usage(
                "--max-sbom-size limits the SBOM that --sbom FILE reads: pass --sbom too, or leave it out"
                    .to_owned(),
            ));
        }
        None => Input::Cargo {
            inventory: args.inventory.inventory_options(),
            trusted_lockfile: args.inventory.lockfile.is_some(),
        },
    };
    let offline = args.inventory.offline;
    Ok(Options {
        input,
        sources: crate::advisories::SourceOptions {
            advisory_db: args.advisory_db.clone(),
            advisory_db_date: args.advisory_db_date()?,
            osv_db: args.osv_db.clone(),
            advisory_db_url: args.advisory_db_url.clone(),
            cache_dir: crate::advisories::fetch::cache_dir(),
            offline,
            allow_partial: args.allow_partial_db,
        },
        osv_api: args.osv_api.clone(),
        registry_index: args.registry_index.clone(),
        offline,
        supplier: args.supplier.supplier(config.supplier.as_ref()),
        authors: args.supplier.author.clone(),
        artifacts: Vec::new(),
        binaries: Vec::new(),
        write_sbom: args.out_dir.is_some(),
        config,
        stamp,
        now,
        vex: args.vex.clone(),
        vex_keys: args.vex_key.clone(),
    })
}

/// Whether and how the run is attested, checked before the work so that a mistake costs
/// nothing.
struct Signing {
    key: Option<PrivateKey>,
    /// `--sign-key`, or `--unsigned` (for keyless signing elsewhere).
    attesting: bool,
    subjects: Vec<Subject>,
    /// A key only in the environment (a CI secret exported to the whole job) signs only where
    /// there is somewhere to write the attestation: a plain audit step runs as it would without.
    key_from_environment_unused: bool,
}

impl Signing {
    fn from_args(args: &AuditArgs) -> Result<Signing, Error> {
        let key_from_environment_unused = args.out_dir.is_none()
            && args.signing.sign_key.is_none()
            && std::env::var(crate::process::KEY_VARIABLE).is_ok_and(|v| !v.trim().is_empty());
        let key = if key_from_environment_unused {
            None
        } else {
            super::attest::signing_key(&args.signing)?
        };
        let attesting = key.is_some() || args.signing.unsigned;
        if (attesting || !args.signing.subject.is_empty()) && args.out_dir.is_none() {
            return Err(Error::Usage(
                "--sign-key, --unsigned and --subject write the attestation into --out-dir DIR: pass it too"
                    .to_owned(),
            ));
        }
        if !args.signing.subject.is_empty() && !attesting {
            return Err(Error::Usage(format!(
                "--subject names what the attestation is about, but there is no signing key: pass --sign-key FILE, set {} to the key's PEM text, or pass --unsigned",
                crate::process::KEY_VARIABLE
            )));
        }
        Ok(Signing {
            key,
            attesting,
            subjects: super::attest::subjects(&args.signing.subject)?,
            key_from_environment_unused,
        })
    }
}

/// The renderings of the report, each made once and only when something needs it (with
/// `--out-dir`, all of them, before anything is written).
struct Renderings<'a> {
    audit: &'a Audit,
    /// What the run evidences (the principle map the predicate records, if it is attested),
    /// and the CycloneDX attestation beside the reports, when there is one.
    map: Vec<crate::model::principles::Principle>,
    cyclonedx: Option<&'static str>,
    json: std::cell::OnceCell<String>,
    sarif: std::cell::OnceCell<String>,
    markdown: std::cell::OnceCell<String>,
    html: std::cell::OnceCell<String>,
}

impl<'a> Renderings<'a> {
    fn new(audit: &'a Audit, signing: &Signing, out_dir: bool) -> Renderings<'a> {
        Renderings {
            audit,
            map: crate::model::principles::map(
                &audit.report,
                !signing.subjects.is_empty(),
                signing.key.is_some(),
            ),
            cyclonedx: out_dir.then_some(crate::attest::cdx::FILE_NAME),
            json: std::cell::OnceCell::new(),
            sarif: std::cell::OnceCell::new(),
            markdown: std::cell::OnceCell::new(),
            html: std::cell::OnceCell::new(),
        }
    }

    fn json(&self) -> Result<&str, Error> {
        if let Some(json) = self.json.get() {
            return Ok(json);
        }
        let json = self.audit.report.to_json().map_err(Error::Json)?;
        Ok(self.json.get_or_init(|| json))
    }

    fn sarif(&self) -> &str {
        self.sarif.get_or_init(|| {
            let lockfile = sarif::LockfileLocation::new(
                repository_path(&self.audit.lockfile_path),
                &std::fs::read_to_string(&self.audit.lockfile_path).unwrap_or_default(),
            );
            sarif::render(&self.audit.report, &lockfile)
        })
    }

    fn claims(&self) -> report::principles::Claims<'_> {
        report::principles::Claims {
            map: &self.map,
            cyclonedx: self.cyclonedx,
        }
    }

    fn markdown(&self) -> &str {
        self.markdown
            .get_or_init(|| markdown::render(&self.audit.report, &self.claims()))
    }

    fn html(&self) -> &str {
        self.html
            .get_or_init(|| html::render(&self.audit.report, &self.claims()))
    }
}

/// Writes the SBOM, every rendering and, when attesting, the signed statements into `dir`, all
/// or nothing.
/// Every file `--out-dir` may receive.
const OUT_DIR_FILES: [&str; 11] = [
    "sbom.cdx.json",
    crate::attest::cdx::FILE_NAME,
    "report.json",
    "report.sarif",
    "report.md",
    "report.html",
    report::vex::OPENVEX_FILE,
    report::vex::CYCLONEDX_FILE,
    "attestation.intoto.json",
    "attestations.intoto.jsonl",
    "signing-key.pub",
];

fn write_out_dir(
    dir: &std::path::Path,
    audit: &Audit,
    renderings: &Renderings,
    signing: &Signing,
) -> Result<(), Error> {
    let sbom = audit
        .sbom
        .as_deref()
        .ok_or(audit::AuditError::SbomNotMade("--out-dir"))?;
    // The CycloneDX attestation of the run: the principle map the predicate records, whose
    // digest the predicate records in turn.
    let cyclonedx = crate::attest::cdx::of_run(&crate::attest::cdx::Run {
        report: &audit.report,
        sbom_name: "sbom.cdx.json",
        sbom,
        artifacts: !signing.subjects.is_empty(),
        signed: signing.key.is_some(),
        statement: signing.attesting.then_some("attestation.intoto.json"),
    })?;
    let vex = Vex::of(audit, sbom)?;
    let mut files: Vec<(&str, &[u8])> = vec![
        ("sbom.cdx.json", sbom),
        (crate::attest::cdx::FILE_NAME, &cyclonedx),
        ("report.json", renderings.json()?.as_bytes()),
        ("report.sarif", renderings.sarif().as_bytes()),
        ("report.md", renderings.markdown().as_bytes()),
        ("report.html", renderings.html().as_bytes()),
    ];
    files.extend(vex.files());
    let signed;
    let public_pem;
    if signing.attesting {
        signed = attest(&audit.report, sbom, &cyclonedx, &vex, renderings, signing)?;
        files.push(("attestation.intoto.json", &signed.main));
        files.push(("attestations.intoto.jsonl", &signed.jsonl));
        if let Some(key) = &signing.key {
            public_pem = key.public().to_pem()?;
            files.push(("signing-key.pub", public_pem.as_bytes()));
        }
    }
    report::emit_all(dir, &files)?;
    // An earlier run's OpenVEX would speak of findings this run does not have.
    if vex.openvex.is_none() {
        report::remove_stale(dir, report::vex::OPENVEX_FILE)?;
    }
    Ok(())
}

/// The VEX documents of the run: OpenVEX (none when the run has no finding, since OpenVEX
/// needs a statement) and CycloneDX VEX, linked to the run's SBOM.
struct Vex {
    openvex: Option<String>,
    cyclonedx: String,
}

impl Vex {
    fn of(audit: &Audit, sbom: &[u8]) -> Result<Vex, Error> {
        use crate::report::vex;
        let link = vex::BomLink::of_sbom(sbom)?;
        Ok(Vex {
            openvex: vex::openvex::render(&audit.report)?,
            cyclonedx: vex::cyclonedx::render(&audit.report, &link)?,
        })
    }

    /// `(file name, bytes)` of each.
    fn files(&self) -> Vec<(&'static str, &[u8])> {
        let mut files = Vec::new();
        if let Some(openvex) = &self.openvex {
            files.push((report::vex::OPENVEX_FILE, openvex.as_bytes()));
        }
        files.push((report::vex::CYCLONEDX_FILE, self.cyclonedx.as_bytes()));
        files
    }
}

/// The statements about this run, signed with the key (or unsigned, with `--unsigned`).
fn attest(
    report: &Report,
    sbom: &[u8],
    cyclonedx: &[u8],
    vex: &Vex,
    renderings: &Renderings,
    signing: &Signing,
) -> Result<super::attest::Signed, Error> {
    super::attest::sign(
        &crate::attest::statement::Inputs {
            report,
            sbom_name: "sbom.cdx.json",
            sbom,
            subjects: signing.subjects.clone(),
            signed: signing.key.is_some(),
            reports: vec![
                Subject::of("report.json", renderings.json()?.as_bytes()),
                Subject::of("report.html", renderings.html().as_bytes()),
            ],
            cyclonedx: Some(Subject::of(crate::attest::cdx::FILE_NAME, cyclonedx)),
            vex: vex
                .files()
                .into_iter()
                .map(|(name, bytes)| Subject::of(name, bytes))
                .collect(),
            binaries: report.binaries.clone(),
        },
        "report.json",
        signing.key.as_ref(),
    )
}

/// Colour for a terminal, unless NO_COLOR (<https://no-color.org>) is set and not empty.
fn colour(output: &report::Output) -> bool {
    use std::io::IsTerminal;
    matches!(output, report::Output::Stdout)
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The lockfile's path as GitHub code scanning wants it: relative to the repository's root
/// (`GITHUB_WORKSPACE`, else the nearest folder above it with a `.git`), else to the current
/// folder, else its file name alone.
fn repository_path(path: &std::path::Path) -> String {
    let file_name = || {
        path.file_name().map_or_else(
            || "Cargo.lock".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let Ok(full) = path.canonicalize() else {
        return file_name();
    };
    let workspace = std::env::var_os("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .and_then(|w| w.canonicalize().ok());
    let repository = full
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(std::path::Path::to_path_buf);
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| c.canonicalize().ok());
    [workspace, repository, cwd]
        .into_iter()
        .flatten()
        .find_map(|root| {
            full.strip_prefix(&root)
                .ok()
                .map(std::path::Path::to_path_buf)
        })
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_else(file_name)
}
