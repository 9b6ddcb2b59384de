//! Gathering the facts: the inventory, then the advisories and the registry facts side by
//! side, and the SBOM of the run. Nothing here judges.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{AuditError, Options};
use crate::advisories::platform::TargetRecord;
use crate::advisories::{self, Coverage, Finding, SourceRecord, osv_api};
use crate::inventory::purl::{Component, Ecosystem};
use crate::inventory::{self, BinaryFile, Inventory, InventoryOptions, Origin, PackageSource};
use crate::model::report::{Builder, InventoryKind, Product};
use crate::net::Http;
use crate::policy::{RuleFinding, product};
use crate::registry::apply::ComponentFacts;
use crate::registry::{
    self, CargoCache, DirIndex, HttpIndex, IndexSource, Lookups, RegistryRecord,
};
use crate::sbom::{self, Format, Profile, SbomOptions, Spec};
use crate::time::rfc3339;

/// crates.io's sparse index.
const CRATES_IO_INDEX: &str = "https://index.crates.io/";

/// What an audit has found before the policy's verdicts: from a Cargo workspace or lockfile,
/// or from a supplier's own SBOM.
pub(super) struct Gathered {
    pub findings: Vec<Finding>,
    /// The registry index's answers; `None` when none was consulted.
    pub lookups: Option<Lookups>,
    pub coverage: Coverage,
    pub inventory: InventoryKind,
    pub by_source: BTreeMap<String, usize>,
    pub packages: Vec<ComponentFacts>,
    pub product: Product,
    pub supplier: Option<String>,
    /// The SBOM's bytes, when something reads them ([`OwnSbom`]).
    pub sbom: Option<Vec<u8>>,
    /// What the SBOM lacks: the NTIA elements, and what the policy's profile asks for more.
    pub completeness: (sbom::ntia::Completeness, Vec<sbom::profile::Gap>),
    pub sources: Vec<SourceRecord>,
    pub registry: Option<RegistryRecord>,
    pub warnings: Vec<String>,
    pub lockfile_path: PathBuf,
    pub builder: Builder,
    /// Rules judged while gathering, where they need the inventory itself (`sources`,
    /// `licenses`, `lockfile-incomplete`, the components an SBOM audit could not check).
    pub rule_findings: Vec<RuleFinding>,
    pub target: TargetRecord,
}

/// A Cargo workspace or lockfile: inventory, advisories, registry facts, the SBOM.
pub(super) fn from_cargo(
    options: &Options,
    inventory_options: &InventoryOptions,
    http: &Http,
) -> Result<Gathered, AuditError> {
    let (mut gathered, sbom) = take_and_load(options, inventory_options, http, |taken| {
        gather(options, http, taken)
    })?;
    if options.write_sbom {
        gathered.warnings.extend(sbom.warnings);
    }
    gathered.sbom = sbom.bytes;
    gathered.completeness = sbom.completeness;
    Ok(gathered)
}

/// What was gathered from a Cargo workspace or lockfile but its SBOM, which is added once its
/// thread has made it.
fn gather(options: &Options, http: &Http, taken: Taken<'_>) -> Result<Gathered, AuditError> {
    let Taken {
        loaded,
        inventory,
        warnings,
        facts: (lookups, registry),
    } = taken;
    let Checked {
        mut findings,
        coverage,
        sources,
    } = match loaded {
        Loaded::Checked(checked) => checked,
        Loaded::Database(mut database) => {
            ask_osv_api(&mut database, options, http, &crates_of(inventory))?;
            Checked::of(database, inventory)
        }
    };
    let target = TargetRecord::of(&inventory.origin);
    advisories::platform::mark(&mut findings, &target);
    let packages = registry::apply::components(inventory, lookups.as_ref());
    let rule_findings = inventory_rules(inventory, &coverage, lookups.as_ref(), options);
    let mut builder = Builder::from_env(&|name| std::env::var(name).ok());
    // The toolchain that resolved the graph, when cargo did.
    if let Origin::CargoMetadata { rustc, .. } = &inventory.origin {
        builder = builder.with_rustc(rustc.version.clone());
    }
    let mut by_source: BTreeMap<String, usize> = BTreeMap::new();
    for p in &inventory.packages {
        *by_source.entry(p.source.kind().to_owned()).or_default() += 1;
    }
    Ok(Gathered {
        findings,
        lookups,
        coverage,
        inventory: match inventory.origin {
            Origin::CargoMetadata { .. } => InventoryKind::CargoMetadata,
            Origin::Lockfile { .. } => InventoryKind::CargoLock,
            Origin::Binary(BinaryFile { complete: true, .. }) => InventoryKind::CargoAuditable,
            Origin::Binary(BinaryFile {
                complete: false, ..
            }) => InventoryKind::BinaryPanicMessages,
        },
        by_source,
        packages,
        product: product_of(inventory),
        supplier: options.supplier.as_ref().map(|s| s.name.clone()),
        // Set from the SBOM's thread once it has ended.
        sbom: None,
        completeness: Default::default(),
        sources,
        registry,
        warnings,
        lockfile_path: inventory.lockfile.clone(),
        builder,
        rule_findings,
        target,
    })
}

/// The rules that need the Cargo inventory itself: where packages come from, whether the
/// lockfile locks what the index requires, under which licences.
fn inventory_rules(
    inventory: &Inventory,
    coverage: &Coverage,
    lookups: Option<&Lookups>,
    options: &Options,
) -> Vec<RuleFinding> {
    let policy = &options.config.policy;
    let mut rule_findings = product::sources(inventory, coverage, policy);
    let gaps = registry::locked::gaps(inventory, lookups);
    rule_findings.extend(product::lockfile_incomplete(&gaps));
    rule_findings.extend(product::licenses(inventory, policy));
    rule_findings.extend(product::binary_incomplete(inventory));
    rule_findings
}

/// The SBOM of this run, and what it lacks.
struct OwnSbom {
    /// Made only when something reads them: the files `--out-dir` writes, the binaries
    /// compared with it, a completeness profile that reads the whole JSON. Else the NTIA
    /// elements are read from the model, as the bytes would show them (`sbom::completeness`).
    bytes: Option<Vec<u8>>,
    warnings: Vec<String>,
    completeness: (sbom::ntia::Completeness, Vec<sbom::profile::Gap>),
}

/// The SBOM of this run: written with --out-dir, and checked for the policy's completeness
/// profile. CycloneDX 1.5 under the NTIA profile (as before profiles existed), 1.6 under the
/// others, which ask for what only 1.6 holds; the release artifacts (--subject) are the product's
/// deployable form, which TR-03183-2 asks for.
fn own_sbom(inventory: &Inventory, options: &Options) -> Result<OwnSbom, AuditError> {
    let profile = options.config.policy.settings.sbom_completeness.profile;
    let sbom_options = SbomOptions {
        spec: if profile.needs_1_6() {
            Spec::V1_6
        } else {
            Spec::V1_5
        },
        format: Format::Json,
        supplier: options.supplier.clone(),
        authors: options.authors.clone(),
        stamp: options.stamp,
        evaluated_at: Some(rfc3339(options.now)),
        profile,
        artifacts: if profile == Profile::BsiTr03183_2 {
            options.artifacts.clone()
        } else {
            Vec::new()
        },
    };
    if !options.write_sbom && options.binaries.is_empty() && profile == Profile::Ntia2021 {
        let (ntia, warnings) = sbom::completeness(inventory, &sbom_options)?;
        return Ok(OwnSbom {
            bytes: None,
            warnings,
            completeness: (ntia, Vec::new()),
        });
    }
    let document = sbom::generate(inventory, &sbom_options)?;
    let completeness = completeness(&document.bytes, options)?;
    Ok(OwnSbom {
        bytes: Some(document.bytes),
        warnings: document.warnings,
        completeness,
    })
}

/// What the SBOM `bytes` lack (read from the bytes, as a recipient reads them): the NTIA
/// elements, and what the policy's completeness profile asks for more.
fn completeness(
    bytes: &[u8],
    options: &Options,
) -> Result<(sbom::ntia::Completeness, Vec<sbom::profile::Gap>), AuditError> {
    let ntia = sbom::ntia::check_bytes(bytes).map_err(AuditError::OwnSbom)?;
    let profile = options.config.policy.settings.sbom_completeness.profile;
    let extra = sbom::profile::extra_gaps(profile, bytes).map_err(AuditError::OwnSbom)?;
    Ok((ntia, extra))
}

/// What is handed to the work that goes on while the SBOM is made: the advisory database
/// (checked, or as loaded), the inventory, its warnings and its registry facts.
struct Taken<'a> {
    loaded: Loaded,
    inventory: &'a Inventory,
    warnings: Vec<String>,
    facts: (Option<Lookups>, Option<RegistryRecord>),
}

/// What the advisory sources say of the inventory, and which sources they were.
struct Checked {
    findings: Vec<Finding>,
    coverage: Coverage,
    sources: Vec<SourceRecord>,
}

impl Checked {
    /// `database` checked against `inventory`; the advisories are dropped here, on the
    /// thread that checked them.
    fn of(database: advisories::Database, inventory: &Inventory) -> Checked {
        let (findings, coverage) = advisories::check(inventory, &database);
        Checked {
            findings,
            coverage,
            sources: database.sources,
        }
    }
}

/// The advisory database as its thread hands it over: already checked against the inventory,
/// or, when the OSV API is to be asked first, as loaded.
enum Loaded {
    Checked(Checked),
    Database(advisories::Database),
}

/// The database loads on one thread and the compiled registry facts are read on another
/// while the inventory is taken on this one; then the SBOM is made on another while the
/// registry facts are found here (none of them depends on another), and the database's thread
/// checks the inventory against the advisories and drops them (1,205 of them for RustSec).
/// What needs no SBOM (`then`) is done here before the SBOM's thread is waited for: this thread
/// would otherwise wait idle for it and then do the rest alone. When the OSV API is to be
/// asked, the database is handed over as loaded, to be asked and checked by `then` once the
/// registry lookups are done and the SBOM is made (the OSV API is not asked for a run that
/// stops at its SBOM; the registry index has been). A missing database is the likelier
/// mistake, so its error is the one reported when both fail; an index that cannot be used is
/// reported after the inventory's errors, as before the index was chosen early; the SBOM's
/// errors come before `then`'s, but a panic (a bug) in the database's check or in `then` now
/// comes before an SBOM's error.
fn take_and_load<T>(
    options: &Options,
    inventory_options: &InventoryOptions,
    http: &Http,
    then: impl FnOnce(Taken<'_>) -> Result<T, AuditError>,
) -> Result<(T, OwnSbom), AuditError> {
    let (index, index_error) = match choose_index(options, http) {
        Ok(index) => (Some(index), None),
        Err(error) => (None, Some(error)),
    };
    let folder = compiled_folder(options.sources.cache_dir.as_deref());
    // The inventory outlives the threads it is handed to.
    let taken = std::sync::OnceLock::new();
    std::thread::scope(|scope| {
        let (give, given) = std::sync::mpsc::sync_channel::<&Inventory>(1);
        let loaded = scope.spawn(move || {
            // A panic while loading is reported as the database's error, as it always was; one
            // while checking goes on as a panic, as it did on this thread.
            let load = std::panic::AssertUnwindSafe(|| advisories::load(&options.sources, http));
            let database = std::panic::catch_unwind(load)
                .unwrap_or(Err(advisories::AdvisoryError::Panicked))?;
            if options.osv_api.is_some() {
                return Ok(Loaded::Database(database));
            }
            // No inventory (it could not be taken): nothing to check.
            Ok(match given.recv() {
                Ok(inventory) => Loaded::Checked(Checked::of(database, inventory)),
                Err(_) => Loaded::Database(database),
            })
        });
        let opened = match (&index, &folder) {
            (Some(Ok(index)), Some(folder)) => {
                Some(scope.spawn(|| registry::Opened::open(index.source(), folder)))
            }
            _ => None,
        };
        let inventory: &Inventory = match inventory::take(inventory_options) {
            Ok(inventory) => taken.get_or_init(|| inventory),
            Err(error) => {
                // The database's thread, waiting for an inventory that was not taken, stops.
                drop(give);
                loaded.join().unwrap_or_else(resume)?;
                return Err(error.into());
            }
        };
        // Not waited for: a database that failed to load has stopped listening.
        let _ = give.try_send(inventory);
        drop(give);
        let mut warnings = inventory.warnings.clone();
        std::thread::scope(|inner| {
            let sbom = inner.spawn(|| own_sbom(inventory, options));
            let opened = opened.and_then(|opened| opened.join().unwrap_or_else(resume));
            let facts = match (&index, index_error) {
                (_, Some(error)) => Err(error),
                (Some(index), None) => {
                    registry_facts(index, opened, inventory, options.now, &mut warnings)
                }
                (None, None) => Ok((None, None)),
            };
            let (loaded, facts) = match ready(loaded.join(), facts) {
                Ok(ready) => ready,
                Err(error) => {
                    // A panic of the SBOM's thread goes on as itself, not as the scope's.
                    let _ = sbom.join().unwrap_or_else(resume);
                    return Err(error);
                }
            };
            let taken = Taken {
                loaded,
                inventory,
                warnings,
                facts,
            };
            if matches!(taken.loaded, Loaded::Database(_)) {
                // The OSV API is asked by `then`: not for a run that stops at its SBOM.
                let sbom = sbom.join().unwrap_or_else(resume)?;
                return Ok((then(taken)?, sbom));
            }
            let done = then(taken);
            let sbom = sbom.join().unwrap_or_else(resume)?;
            Ok((done?, sbom))
        })
    })
}

/// The database and the registry facts, in the order their errors are reported: the
/// database's first, then the facts'; then a panic of the database's check, which came after
/// the facts when this thread checked.
fn ready<L, F>(
    loaded: std::thread::Result<Result<L, advisories::AdvisoryError>>,
    facts: Result<F, AuditError>,
) -> Result<(L, F), AuditError> {
    let loaded = match loaded {
        Ok(loaded) => Ok(loaded?),
        Err(panic) => Err(panic),
    };
    let facts = facts?;
    Ok((loaded.unwrap_or_else(resume), facts))
}

/// A panic is a bug, not an input's fault: it goes on as one.
fn resume<T>(panic: Box<dyn std::any::Any + Send>) -> T {
    std::panic::resume_unwind(panic)
}

/// The crates.io packages, as the OSV API is asked about them.
fn crates_of(inventory: &Inventory) -> Vec<Component> {
    inventory
        .packages
        .iter()
        .filter(|p| p.source == PackageSource::CratesIo)
        .map(|p| Component {
            name: p.name.clone(),
            version: p.version.to_string(),
            purl: Some(p.purl()),
            ecosystem: Some(Ecosystem::CratesIo),
            private: None,
            raw_name: p.name.clone(),
        })
        .collect()
}

/// A supplier's own CycloneDX SBOM, of any ecosystem: its components matched against the
/// advisory sources (OSV for the other ecosystems) with no registry facts.
pub(super) fn from_sbom(
    options: &Options,
    path: &Path,
    max_bytes: u64,
    http: &Http,
) -> Result<Gathered, AuditError> {
    let input = inventory::cyclonedx::read(path, max_bytes)?;
    let mut database = advisories::load(&options.sources, http)?;
    ask_osv_api(&mut database, options, http, &input.components)?;
    let (findings, coverage) = advisories::check_components(&input.components, &database);
    let packages = sbom_packages(&input.components);
    let mut by_source: BTreeMap<String, usize> = BTreeMap::new();
    for p in &packages {
        *by_source.entry(p.source.clone()).or_default() += 1;
    }
    let supplier = options
        .supplier
        .as_ref()
        .map(|s| s.name.clone())
        .or_else(|| input.supplier.clone());
    let mut warnings = Vec::new();
    if input
        .components
        .iter()
        .any(|c| c.ecosystem != Some(Ecosystem::CratesIo))
        && options.sources.osv_db.is_none()
        && options.osv_api.is_none()
    {
        warnings.push(
            "components of other ecosystems than crates.io are checked against OSV only: pass --osv-db with an OSV export of their ecosystems".to_owned(),
        );
    }
    // The components no database could be asked about, listed as the summary says they are.
    let unchecked = product::unchecked(&coverage);
    Ok(Gathered {
        findings,
        lookups: None,
        coverage,
        inventory: InventoryKind::CyclonedxSbom,
        by_source,
        packages,
        product: Product {
            name: input.product.0.clone(),
            version: input.product.1.clone(),
            purl: input.product.2.clone(),
            repository: None,
            commit: audited_commit(None),
        },
        supplier,
        completeness: completeness(&input.bytes, options)?,
        sbom: Some(input.bytes),
        sources: database.sources,
        registry: None,
        warnings,
        lockfile_path: path.to_path_buf(),
        builder: Builder::from_env(&|name| std::env::var(name).ok()),
        rule_findings: unchecked,
        target: TargetRecord::sbom(),
    })
}

/// The components of a supplier's SBOM, with no registry facts (none are looked up).
fn sbom_packages(components: &[Component]) -> Vec<ComponentFacts> {
    components
        .iter()
        .map(|c| ComponentFacts {
            name: c.name.clone(),
            version: c.version.clone(),
            purl: c.purl.clone().unwrap_or_default(),
            source: c
                .ecosystem
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), Ecosystem::to_string),
            yanked: None,
            published_at: None,
            newest: None,
            registry_note: Some("no registry facts are looked up for a supplier's SBOM".to_owned()),
        })
        .collect()
}

/// With `--osv-api`, asks the OSV API about the public `components`, and adds what it says as
/// a source.
fn ask_osv_api(
    database: &mut advisories::Database,
    options: &Options,
    http: &Http,
    components: &[Component],
) -> Result<(), AuditError> {
    let Some(base) = &options.osv_api else {
        return Ok(());
    };
    let sendable = osv_api::sendable(components, &options.config.private);
    let at = crate::time::clock();
    let cache = http_cache(options.sources.cache_dir.as_deref(), http)?;
    let records = osv_api::query(http, base, &sendable, cache.as_deref())?;
    database.add_api(records, &sendable, base, at)?;
    Ok(())
}

/// The user's cache folder, checked as the advisory download checks it (a planted entry would
/// be a planted fact), when this run will use the network; `None` when there is none to use.
fn http_cache(cache_dir: Option<&Path>, http: &Http) -> Result<Option<PathBuf>, AuditError> {
    match cache_dir {
        Some(dir) if !http.is_offline() => {
            advisories::fetch::secure_cache(dir).map_err(advisories::AdvisoryError::from)?;
            Ok(Some(dir.to_path_buf()))
        }
        _ => Ok(None),
    }
}

/// The folder of compiled files in the user's cache folder, when it is safe to use (this
/// user's, writable by no one else); else none, silently: compiled files only save time.
fn compiled_folder(cache_dir: Option<&Path>) -> Option<PathBuf> {
    let cache_dir = cache_dir?;
    let folder = cache_dir.join("compiled");
    advisories::fetch::secure_cache(cache_dir).ok()?;
    advisories::fetch::secure_cache(&folder).ok()?;
    Some(folder)
}

/// The folder of the index at `base` in the user's cache folder.
fn index_cache(options: &Options, http: &Http, base: &str) -> Result<Option<PathBuf>, AuditError> {
    let root = http_cache(options.sources.cache_dir.as_deref(), http)?;
    Ok(root.map(|root| crate::net::cache::folder(&root, "registry-index", base)))
}

/// The registry index the options name (or crates.io's, or cargo's cache when offline).
enum Index<'a> {
    Http(HttpIndex<'a>),
    Dir(DirIndex),
    Cache(CargoCache),
}

impl Index<'_> {
    fn source(&self) -> &dyn IndexSource {
        match self {
            Index::Http(index) => index,
            Index::Dir(index) => index,
            Index::Cache(cache) => cache,
        }
    }
}

/// The registry index the options name (or crates.io's, or cargo's cache when offline); or,
/// when there is none to use, the warning that says so.
fn choose_index<'a>(
    options: &Options,
    http: &'a Http,
) -> Result<Result<Index<'a>, String>, AuditError> {
    Ok(Ok(match options.registry_index.as_deref() {
        Some(url) if url.contains("://") => Index::Http(HttpIndex {
            base: url.to_owned(),
            http,
            cache: index_cache(options, http, url)?,
        }),
        Some(dir) => {
            let root = PathBuf::from(dir);
            if !root.is_dir() {
                return Err(AuditError::NoIndexFolder(dir.to_owned()));
            }
            Index::Dir(DirIndex { root })
        }
        None if options.offline => match CargoCache::locate() {
            Some(found) => Index::Cache(found),
            None => {
                return Ok(Err(
                    "no registry index with --offline (cargo's index cache was not found): \
                     yanked flags, publication times and fix versions are unknown; pass \
                     --registry-index DIR"
                        .to_owned(),
                ));
            }
        },
        None => Index::Http(HttpIndex {
            base: CRATES_IO_INDEX.to_owned(),
            http,
            cache: index_cache(options, http, CRATES_IO_INDEX)?,
        }),
    }))
}

/// Looks up every crates.io component in the chosen index, with its compiled facts if they
/// were opened.
fn registry_facts(
    index: &Result<Index<'_>, String>,
    opened: Option<registry::Opened>,
    inventory: &Inventory,
    now: time::OffsetDateTime,
    warnings: &mut Vec<String>,
) -> Result<(Option<Lookups>, Option<RegistryRecord>), AuditError> {
    let index = match index {
        Ok(index) => index,
        Err(warning) => {
            warnings.push(warning.clone());
            return Ok((None, None));
        }
    };
    let packages: Vec<(&str, &semver::Version)> = inventory
        .packages
        .iter()
        .filter(|p| p.source == PackageSource::CratesIo)
        .map(|p| (p.name.as_str(), &p.version))
        .collect();
    let source = index.source();
    let looked_up_at = rfc3339(crate::time::clock());
    let lookups = Lookups::fetch_opened(source, packages, now, opened)?;
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
fn audited_commit(root: Option<&Path>) -> Option<String> {
    std::env::var("GITHUB_SHA")
        .ok()
        .filter(|sha| sha.len() >= 40 && sha.chars().all(|c| c.is_ascii_hexdigit()))
        .or_else(|| root.and_then(inventory::head_commit))
}

fn product_of(inventory: &Inventory) -> Product {
    let commit = audited_commit(inventory.lockfile.parent());
    match &inventory.product {
        inventory::Product::Member(i) => {
            let p = &inventory.packages[*i];
            Product {
                name: p.name.clone(),
                version: Some(p.version.to_string()),
                purl: Some(p.purl()),
                repository: p.manifest.repository.clone(),
                commit,
            }
        }
        inventory::Product::Synthetic { name, version, .. } => Product {
            name: name.clone(),
            version: version.clone(),
            purl: None,
            repository: None,
            commit,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use advisories::AdvisoryError;

    fn panic_of(message: &'static str) -> Box<dyn std::any::Any + Send> {
        Box::new(message)
    }

    fn no_sbom() -> AuditError {
        AuditError::SbomNotMade("a test")
    }

    /// The database's error before the facts', the facts' before a panic of the check, and a
    /// panic of the check goes on as itself, never as the database's error.
    #[test]
    fn errors_come_in_the_order_they_did_when_this_thread_checked() {
        let both = ready::<(), ()>(Ok(Err(AdvisoryError::Panicked)), Err(no_sbom()));
        assert!(matches!(both, Err(AuditError::Advisories(_))), "{both:?}");
        let facts = ready::<(), ()>(Err(panic_of("the check")), Err(no_sbom()));
        assert!(
            matches!(facts, Err(AuditError::SbomNotMade(_))),
            "{facts:?}"
        );
        assert!(matches!(ready(Ok(Ok(1)), Ok(2)), Ok((1, 2))));
        let panicked =
            std::panic::catch_unwind(|| ready::<(), ()>(Err(panic_of("the check")), Ok(())));
        let payload = panicked.expect_err("a panic of the check goes on as a panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"the check"));
    }
}
