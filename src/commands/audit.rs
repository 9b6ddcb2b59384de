//! `charter-audit audit`: inventory → advisories → registry facts → report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::Outcome;
use crate::Error;
use crate::advisories::platform::TargetRecord;
use crate::advisories::{self, SourceOptions, fetch};
use crate::attest::statement::Subject;
use crate::cli::{AuditArgs, ReportFormat};
use crate::inventory::{self, Inventory, Origin, PackageSource, Product as InventoryProduct};
use crate::net::{Http, HttpOptions};
use crate::policy::{self, product, rules};
use crate::registry::{
    self, CargoCache, DirIndex, HttpIndex, IndexSource, Lookups, RegistryRecord,
};
use crate::report::{self, audit as model};
use crate::report::{html, markdown, sarif};
use crate::sbom::{self, Format, SbomOptions, Spec, ntia};
use crate::time::{Stamp, evaluation_time, rfc3339};

/// crates.io's sparse index.
const CRATES_IO_INDEX: &str = "https://index.crates.io/";

pub(super) fn run(args: &AuditArgs) -> Result<Outcome, Error> {
    let stamp = Stamp::from_env()?;
    let now = evaluation_time(args.now.as_deref())?;
    let config_path = args.config.clone().or_else(|| args.default_config());
    let config = policy::load(args.policy.as_deref(), config_path.as_deref())?;
    if args.max_sbom_size.is_some() && args.sbom_input.is_none() {
        return Err(Error::Usage(
            "--max-sbom-size limits the SBOM that --sbom FILE reads: pass --sbom too, or leave it out"
                .to_owned(),
        ));
    }
    let output = args.output();
    report::check_destination(&output)?;
    if let Some(dir) = &args.out_dir {
        report::check_out_dir(dir)?;
    }
    // The key and the artifacts are checked before the work, so that a mistake costs nothing.
    // A key only in the environment (a CI secret exported to the whole job) signs only where
    // there is somewhere to write the attestation: a plain audit step runs as it would without.
    let key_from_environment_unused = args.out_dir.is_none()
        && args.signing.sign_key.is_none()
        && std::env::var(super::attest::KEY_VARIABLE).is_ok_and(|v| !v.trim().is_empty());
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
            super::attest::KEY_VARIABLE
        )));
    }
    let subjects = super::attest::subjects(&args.signing.subject)?;
    let offline = args.inventory.offline;
    let http = Http::new(HttpOptions::new(
        offline,
        Duration::from_secs(args.http_timeout.max(1)),
    ))
    .map_err(|e| Error::Usage(e.to_string()))?;
    let sources = SourceOptions {
        advisory_db: args.advisory_db.clone(),
        advisory_db_date: args.advisory_db_date()?,
        osv_db: args.osv_db.clone(),
        advisory_db_url: args.advisory_db_url.clone(),
        cache_dir: fetch::cache_dir(),
        offline,
        allow_partial: args.allow_partial_db,
    };
    let gathered = match &args.sbom_input {
        Some(path) => from_sbom(args, path, &sources, &http, &config)?,
        None => from_cargo(args, &sources, &http, &config, stamp, now)?,
    };
    let Gathered {
        mut findings,
        coverage,
        components,
        product,
        supplier: supplier_name,
        sbom_bytes: sbom_document,
        sources: database_sources,
        registry,
        mut warnings,
        lockfile_path,
        builder,
        rule_findings: extra_rules,
        target,
    } = gathered;
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
    if key_from_environment_unused {
        warnings.push(format!(
            "{} is set, but nothing is signed without --out-dir DIR to write the attestation into",
            super::attest::KEY_VARIABLE
        ));
    }
    rules::judge_all(&mut findings, &config.policy, &config.exceptions, now);
    let mut rule_findings = rules::rule_findings(
        &findings,
        &database_sources,
        &config.policy,
        &config.exceptions,
        now,
    );
    // A supplier's SBOM has no registry facts at all: each finding says so.
    if components.inventory != "cyclonedx-sbom" {
        // With --lockfile the auditor chose to trust the lockfile where the index cannot check it.
        let trusted_lockfile = args.inventory.lockfile.is_some();
        rule_findings.extend(product::registry_facts(
            &components.packages,
            trusted_lockfile,
        ));
    }
    rule_findings.extend(extra_rules);
    rule_findings.extend(product::completeness(
        &ntia::check_bytes(&sbom_document).map_err(Error::Json)?,
        &config.policy,
    ));
    let mut summary: BTreeMap<String, usize> = BTreeMap::new();
    let verdicts = findings
        .iter()
        .filter_map(|f| f.judgement.as_ref().map(|j| j.verdict))
        .chain(rule_findings.iter().map(|r| r.verdict));
    for verdict in verdicts {
        *summary.entry(verdict.as_str().to_owned()).or_default() += 1;
    }
    let failed = summary.get("violation").copied().unwrap_or(0) > 0;

    let report = model::Report {
        schema: model::SCHEMA,
        result: if failed {
            model::Outcome::Fail
        } else {
            model::Outcome::Pass
        },
        generated_at: rfc3339(stamp.time),
        evaluated_at: rfc3339(now),
        tool: model::Tool {
            name: "charter-audit",
            version: env!("CARGO_PKG_VERSION"),
        },
        builder,
        product,
        target,
        supplier: supplier_name,
        sources: database_sources,
        registry,
        policy: model::PolicyRecord {
            base: config.policy.base.clone(),
            digest: policy::digest(&config.policy),
            settings: config.policy.settings.clone(),
            overrides: config.overrides.clone(),
            exceptions: config.exceptions.clone(),
        },
        coverage,
        components,
        findings,
        rule_findings,
        summary,
    };

    // Every rendering is made before anything is written.
    let json = {
        let mut text = serde_json::to_string_pretty(&report).map_err(Error::Json)?;
        text.push('\n');
        text
    };
    let lockfile = sarif::LockfileLocation::new(
        repository_path(&lockfile_path),
        &std::fs::read_to_string(&lockfile_path).unwrap_or_default(),
    );
    let sarif = sarif::render(&report, &lockfile);
    let markdown = markdown::render(&report);
    let html = html::render(&report);
    let bytes = match args.format {
        ReportFormat::Json => json.clone(),
        ReportFormat::Human => model::human(&report, colour(&output)),
        ReportFormat::Sarif => sarif.clone(),
        ReportFormat::Markdown => markdown.clone(),
        ReportFormat::Html => html.clone(),
    };
    if let Some(dir) = &args.out_dir {
        let mut files: Vec<(&str, &[u8])> = vec![
            ("sbom.cdx.json", &sbom_document),
            ("report.json", json.as_bytes()),
            ("report.sarif", sarif.as_bytes()),
            ("report.md", markdown.as_bytes()),
            ("report.html", html.as_bytes()),
        ];
        let signed;
        let public_pem;
        if attesting {
            let value = serde_json::to_value(&report).map_err(Error::Json)?;
            signed = super::attest::sign(
                &crate::attest::statement::Inputs {
                    report: &value,
                    sbom_name: "sbom.cdx.json",
                    sbom: &sbom_document,
                    subjects,
                    builder: report.builder.clone(),
                    signed: key.is_some(),
                    reports: vec![
                        Subject::of("report.json", json.as_bytes()),
                        Subject::of("report.html", html.as_bytes()),
                    ],
                },
                "report.json",
                key.as_ref(),
            )?;
            files.push(("attestation.intoto.json", &signed.main));
            files.push(("attestations.intoto.jsonl", &signed.jsonl));
            if let Some(key) = &key {
                public_pem = key
                    .public()
                    .to_pem()
                    .map_err(|e| Error::Usage(e.to_string()))?;
                files.push(("signing-key.pub", public_pem.as_bytes()));
            }
        }
        report::emit_all(dir, &files)?;
    }
    report::emit(&output, bytes.as_bytes())?;
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty())
        && let Err(e) = report::append(std::path::Path::new(&summary), markdown.as_bytes())
    {
        warnings.push(format!("the job summary was not written: {e}"));
    }
    Ok(Outcome {
        code: u8::from(report.result == model::Outcome::Fail),
        warnings,
        ..Outcome::default()
    })
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

/// What an audit has found before the policy's rules: from a Cargo workspace or lockfile, or
/// from a supplier's own SBOM.
struct Gathered {
    findings: Vec<advisories::Finding>,
    coverage: advisories::Coverage,
    components: model::Components,
    product: model::Product,
    supplier: Option<String>,
    /// The SBOM of the run: made from the inventory, or the supplier's own.
    sbom_bytes: Vec<u8>,
    sources: Vec<advisories::SourceRecord>,
    registry: Option<RegistryRecord>,
    warnings: Vec<String>,
    /// Where SARIF results point: Cargo.lock, or the supplier's SBOM.
    lockfile_path: PathBuf,
    builder: serde_json::Value,
    /// Rules that need the Cargo inventory (`sources`, `licenses`).
    rule_findings: Vec<rules::RuleFinding>,
    /// The target platform-specific advisories are judged for.
    target: TargetRecord,
}

/// A Cargo workspace or lockfile: inventory, advisories, registry facts, the SBOM.
fn from_cargo(
    args: &AuditArgs,
    sources: &SourceOptions,
    http: &Http,
    config: &policy::Config,
    stamp: Stamp,
    now: time::OffsetDateTime,
) -> Result<Gathered, Error> {
    // The database loads on one thread while the inventory and its registry facts are taken
    // on this one (they do not depend on each other). A missing database is the likelier
    // mistake, so its error is the one reported when both fail.
    let (database, inventory_and_facts) = std::thread::scope(|scope| {
        let database = scope.spawn(|| advisories::load(sources, http));
        let rest = inventory::take(&args.inventory.inventory_options())
            .map_err(Error::from)
            .and_then(|inventory| {
                let mut warnings = inventory.warnings.clone();
                let facts = registry_facts(args, &inventory, http, &mut warnings)?;
                Ok((inventory, warnings, facts))
            });
        let database = database
            .join()
            .unwrap_or_else(|_| Err(advisories::AdvisoryError::Panicked));
        (database, rest)
    });
    let mut database = database?;
    let (inventory, warnings, (lookups, registry)) = inventory_and_facts?;
    if let Some(base) = &args.osv_api {
        let crates: Vec<advisories::foreign::Component> = inventory
            .packages
            .iter()
            .filter(|p| p.source == PackageSource::CratesIo)
            .map(|p| advisories::foreign::Component {
                name: p.name.clone(),
                version: p.version.to_string(),
                purl: Some(p.purl()),
                ecosystem: Some("crates.io".to_owned()),
                private: None,
                raw_name: p.name.clone(),
            })
            .collect();
        ask_osv_api(&mut database, http, base, &crates, &config.private)?;
    }
    let (mut findings, coverage) = advisories::check(&inventory, &database);
    let target = TargetRecord::of(&inventory.origin);
    advisories::platform::mark(&mut findings, &target);
    let packages = registry::apply::apply(&inventory, lookups.as_ref(), &mut findings, now);
    // The SBOM of this run: written with --out-dir, and checked for the NTIA minimum elements.
    let supplier = args.supplier.supplier(config.supplier.as_ref());
    let supplier_name = supplier.as_ref().map(|s| s.name.clone());
    let sbom = sbom::generate(
        &inventory,
        &SbomOptions {
            spec: Spec::V1_5,
            format: Format::Json,
            supplier,
            authors: args.supplier.author.clone(),
            stamp,
            evaluated_at: Some(rfc3339(now)),
        },
    )?;
    let mut warnings = warnings;
    if args.out_dir.is_some() {
        warnings.extend(sbom.warnings);
    }
    let mut rule_findings = product::sources(&inventory, &coverage, &config.policy);
    let gaps = registry::locked::gaps(&inventory, lookups.as_ref());
    rule_findings.extend(product::lockfile_incomplete(&gaps));
    rule_findings.extend(product::licenses(&inventory, &config.policy));
    let mut builder = crate::attest::statement::builder(&|name| std::env::var(name).ok());
    // The toolchain that resolved the graph, when cargo did.
    if let Origin::CargoMetadata { rustc, .. } = &inventory.origin {
        builder["rustc"] = serde_json::Value::from(rustc.version.clone());
    }
    Ok(Gathered {
        findings,
        coverage,
        product: product(&inventory),
        components: components(&inventory, packages),
        supplier: supplier_name,
        sbom_bytes: sbom.bytes,
        sources: database.sources,
        registry,
        warnings,
        lockfile_path: inventory.lockfile.clone(),
        builder,
        rule_findings,
        target,
    })
}

/// A supplier's own CycloneDX SBOM, of any ecosystem: its components matched against the
/// advisory sources (OSV for the other ecosystems) with no registry facts.
fn from_sbom(
    args: &AuditArgs,
    path: &std::path::Path,
    sources: &SourceOptions,
    http: &Http,
    config: &policy::Config,
) -> Result<Gathered, Error> {
    let max_bytes = args
        .max_sbom_size
        .map_or(sbom::input::MAX_BYTES, |mib| mib * 1024 * 1024);
    let input = sbom::input::read(path, max_bytes)?;
    let mut database = advisories::load(sources, http)?;
    if let Some(base) = &args.osv_api {
        ask_osv_api(
            &mut database,
            http,
            base,
            &input.components,
            &config.private,
        )?;
    }
    let (findings, coverage) = advisories::check_components(&input.components, &database);
    let packages: Vec<registry::apply::ComponentFacts> = input
        .components
        .iter()
        .map(|c| registry::apply::ComponentFacts {
            name: c.name.clone(),
            version: c.version.clone(),
            purl: c.purl.clone().unwrap_or_default(),
            source: c.ecosystem.clone().unwrap_or_else(|| "unknown".to_owned()),
            yanked: None,
            published_at: None,
            newest: None,
            registry_note: Some("no registry facts are looked up for a supplier's SBOM".to_owned()),
        })
        .collect();
    let mut by_source: BTreeMap<String, usize> = BTreeMap::new();
    for p in &packages {
        *by_source.entry(p.source.clone()).or_default() += 1;
    }
    let supplier = args
        .supplier
        .supplier(config.supplier.as_ref())
        .map(|s| s.name)
        .or_else(|| input.supplier.clone());
    let mut warnings = Vec::new();
    if input
        .components
        .iter()
        .any(|c| c.ecosystem.as_deref() != Some("crates.io"))
        && args.osv_db.is_none()
        && args.osv_api.is_none()
    {
        warnings.push(
            "components of other ecosystems than crates.io are checked against OSV only: pass --osv-db with an OSV export of their ecosystems".to_owned(),
        );
    }
    // The components no database could be asked about, listed as the summary says they are.
    let unchecked = product::unchecked(&coverage);
    Ok(Gathered {
        findings,
        coverage,
        product: model::Product {
            name: input.product.0.clone(),
            version: input.product.1.clone(),
            purl: input.product.2.clone(),
            repository: None,
            commit: audited_commit(None),
        },
        components: model::Components {
            total: packages.len(),
            by_source,
            inventory: "cyclonedx-sbom".to_owned(),
            packages,
        },
        supplier,
        sbom_bytes: input.bytes,
        sources: database.sources,
        registry: None,
        warnings,
        lockfile_path: path.to_path_buf(),
        builder: crate::attest::statement::builder(&|name| std::env::var(name).ok()),
        rule_findings: unchecked,
        target: TargetRecord::sbom(),
    })
}

/// Asks the OSV API about the public components, and adds what it says as a source.
fn ask_osv_api(
    database: &mut advisories::Database,
    http: &Http,
    base: &str,
    components: &[advisories::foreign::Component],
    private: &[String],
) -> Result<(), Error> {
    use advisories::osv_api;
    let sendable = osv_api::sendable(components, private);
    let at = crate::time::clock();
    let records = osv_api::query(http, base, &sendable).map_err(|e| Error::Usage(e.to_string()))?;
    database.add_api(records, &sendable, base, at)?;
    Ok(())
}

/// Looks up every crates.io component in the index the flags name (or the default one).
fn registry_facts(
    args: &AuditArgs,
    inventory: &Inventory,
    http: &Http,
    warnings: &mut Vec<String>,
) -> Result<(Option<Lookups>, Option<RegistryRecord>), Error> {
    let names: Vec<&str> = inventory
        .packages
        .iter()
        .filter(|p| p.source == PackageSource::CratesIo)
        .map(|p| p.name.as_str())
        .collect();
    let http_index;
    let dir_index;
    let cache;
    let source: &dyn IndexSource = match args.registry_index.as_deref() {
        Some(url) if url.contains("://") => {
            http_index = HttpIndex {
                base: url.to_owned(),
                http,
            };
            &http_index
        }
        Some(dir) => {
            let root = PathBuf::from(dir);
            if !root.is_dir() {
                return Err(Error::Usage(format!(
                    "--registry-index {dir}: no such folder; give a sparse-index folder or an https:// URL"
                )));
            }
            dir_index = DirIndex { root };
            &dir_index
        }
        None if args.inventory.offline => match CargoCache::locate() {
            Some(found) => {
                cache = found;
                &cache
            }
            None => {
                warnings.push(
                    "no registry index with --offline (cargo's index cache was not found): \
                     yanked flags, publication times and fix versions are unknown; pass \
                     --registry-index DIR"
                        .to_owned(),
                );
                return Ok((None, None));
            }
        },
        None => {
            http_index = HttpIndex {
                base: CRATES_IO_INDEX.to_owned(),
                http,
            };
            &http_index
        }
    };
    let looked_up_at = rfc3339(crate::time::clock());
    let lookups = Lookups::fetch(source, names).map_err(|e| Error::Usage(e.to_string()))?;
    let unknown = lookups
        .entries
        .values()
        .filter(|e| matches!(e, registry::Entry::Unknown(_)))
        .count();
    let record = RegistryRecord {
        uri: source.describe(),
        looked_up_at,
        crates: lookups.entries.len(),
        unknown,
    };
    Ok((Some(lookups), Some(record)))
}

/// The commit audited: `GITHUB_SHA` in GitHub Actions, else the git `HEAD` of `root`.
fn audited_commit(root: Option<&std::path::Path>) -> Option<String> {
    std::env::var("GITHUB_SHA")
        .ok()
        .filter(|sha| sha.len() >= 40 && sha.chars().all(|c| c.is_ascii_hexdigit()))
        .or_else(|| root.and_then(inventory::head_commit))
}

fn product(inventory: &Inventory) -> model::Product {
    let commit = audited_commit(inventory.lockfile.parent());
    match &inventory.product {
        InventoryProduct::Member(i) => {
            let p = &inventory.packages[*i];
            model::Product {
                name: p.name.clone(),
                version: Some(p.version.to_string()),
                purl: Some(p.purl()),
                repository: p.manifest.repository.clone(),
                commit,
            }
        }
        InventoryProduct::Synthetic { name, version, .. } => model::Product {
            name: name.clone(),
            version: version.clone(),
            purl: None,
            repository: None,
            commit,
        },
    }
}

fn components(
    inventory: &Inventory,
    packages: Vec<registry::apply::ComponentFacts>,
) -> model::Components {
    let mut by_source: BTreeMap<String, usize> = BTreeMap::new();
    for p in &inventory.packages {
        *by_source.entry(p.source.kind().to_owned()).or_default() += 1;
    }
    model::Components {
        total: inventory.packages.len(),
        by_source,
        inventory: match inventory.origin {
            Origin::CargoMetadata { .. } => "cargo-metadata",
            Origin::Lockfile { .. } => "cargo-lock",
        }
        .to_owned(),
        packages,
    }
}
