//! Advisories: every advisory that applies to the product's packages, from named and dated
//! databases (RustSec native, OSV exports), merged across sources. Findings are data.

mod archive;
mod cache;
pub mod compiled;
pub mod fetch;
pub mod foreign;
mod matching;
pub mod maven;
pub mod model;
mod osv;
pub mod osv_api;
pub mod platform;
mod rustsec_db;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use matching::{Coverage, Finding, FindingPackage, Unchecked};
pub use model::{Kind, Severity};
pub use osv::OsvError;
pub use rustsec_db::DbFileError;

use crate::inventory::Inventory;
use crate::inventory::purl::{Component, Ecosystem};

pub(crate) const RUSTSEC: &str = "rustsec";
pub(crate) const OSV: &str = "osv";
pub(crate) const OSV_API: &str = "osv-api";

/// Advisories read from one source, and the files that could not be read.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub advisories: Vec<model::Advisory>,
    pub problems: Vec<LoadProblem>,
    /// `sha256:` and the digest of what was read (each file's name and contents, in order,
    /// or the archive's bytes): names a database that has no revision of its own.
    pub digest: Option<String>,
}

/// Digests of the files a database is read from, in the order read.
#[derive(Default)]
pub(crate) struct ContentDigest(sha2::Sha256);

impl ContentDigest {
    pub(crate) fn file(&mut self, name: &str, bytes: &[u8]) {
        use sha2::Digest;
        self.0.update((name.len() as u64).to_be_bytes());
        self.0.update(name.as_bytes());
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
    }

    pub(crate) fn finish(self) -> String {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(self.0.finalize()))
    }
}

/// A file of a database that did not load, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadProblem {
    /// Relative to the database's root.
    pub file: String,
    pub reason: String,
}

/// Where the advisories come from.
#[derive(Clone, Debug, Default)]
pub struct SourceOptions {
    /// `--advisory-db DIR`: a RustSec checkout or plain folder in its layout.
    pub advisory_db: Option<PathBuf>,
    /// `--advisory-db-date`: when a plain folder was last updated.
    pub advisory_db_date: Option<time::Date>,
    /// `--osv-db PATH`: a folder of OSV JSON files or an OSV export zip.
    pub osv_db: Option<PathBuf>,
    /// `--advisory-db-url`: the tarball downloaded when no `--advisory-db` is given.
    pub advisory_db_url: String,
    /// Where downloads are kept; `None`: nowhere (each run downloads into a private folder).
    pub cache_dir: Option<PathBuf>,
    pub offline: bool,
    /// `--allow-partial-db`: list files that do not load instead of failing.
    pub allow_partial: bool,
}

/// What the report says about one source: enough to name and date the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRecord {
    /// `rustsec` or `osv`.
    pub name: String,
    /// `rustsec-advisory-db` (native layout) or `osv-export`.
    pub format: String,
    pub uri: String,
    pub revision: Option<String>,
    /// When the database was last updated (its commit time, or its newest advisory date).
    pub last_updated: Option<String>,
    /// How `last_updated` was found: `git-commit`, `flag` or `newest-advisory`.
    pub last_updated_from: Option<String>,
    pub advisories: usize,
    /// When it was downloaded, for a fetched database.
    pub fetched_at: Option<String>,
    /// Files that did not load (only with `--allow-partial-db`).
    pub skipped: Vec<LoadProblem>,
}

/// All advisories of all sources.
#[derive(Debug)]
pub struct Database {
    pub(crate) advisories: Vec<model::Advisory>,
    /// Ids of the native RustSec database, which names a merged finding when it has it.
    pub(crate) native_ids: BTreeSet<String>,
    pub sources: Vec<SourceRecord>,
    /// The components the OSV API was asked about: (ecosystem, name, version).
    pub(crate) api_sent: BTreeSet<(String, String, String)>,
}

/// Why the advisory sources could not be used: the audit cannot give an answer then.
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    #[error(
        "no advisory database: pass --advisory-db DIR (a RustSec advisory-db checkout or folder) or --osv-db PATH (an OSV folder or export zip){}",
        if *.offline { "; --offline forbids downloading one" } else { "" }
    )]
    NoSource { offline: bool },
    #[error("advisory database {}: no such file or folder: {}", .path.display(), if *.osv { "--osv-db names a folder of OSV JSON records or an OSV export zip (e.g. crates.io/all.zip)" } else { "--advisory-db names a checkout of https://github.com/rustsec/advisory-db, or a folder in its layout" })]
    Missing { path: PathBuf, osv: bool },
    #[error("advisory database {} has no crates/ folder: is it a RustSec advisory-db (its `crates/NAME/RUSTSEC-*.md` layout)?", .0.display())]
    NotRustSec(PathBuf),
    #[error("advisory database {}: no advisories in it{}; an empty database would pass every product, so check the path", .path.display(), if *.osv { " (OSV records are `*.json` files, or a zip of them)" } else { " (RustSec advisories are `crates/NAME/RUSTSEC-*.md` files)" })]
    Empty { path: PathBuf, osv: bool },
    #[error(transparent)]
    Osv(#[from] OsvError),
    #[error(transparent)]
    Fetch(#[from] fetch::FetchError),
    #[error(transparent)]
    Files(#[from] DbFileError),
    #[error("loading the advisory database stopped unexpectedly (a bug): please report it")]
    Panicked,
    #[error(
        "{count} advisory file(s) of {} did not load, so the result could hide a vulnerability; first: {}: {}. Fix or update the database, or pass --allow-partial-db to go on and list what was skipped",
        .root.display(), .first.file, .first.reason
    )]
    Partial {
        root: PathBuf,
        count: usize,
        first: LoadProblem,
    },
}

/// Loads every source the options name (downloading RustSec's database when no
/// `--advisory-db` is given and the network is allowed); fails closed on files that do not load.
pub fn load(options: &SourceOptions, http: &crate::net::Http) -> Result<Database, AdvisoryError> {
    if options.advisory_db.is_none() && options.osv_db.is_none() && options.offline {
        return Err(AdvisoryError::NoSource {
            offline: options.offline,
        });
    }
    let mut database = Database {
        advisories: Vec::new(),
        native_ids: BTreeSet::new(),
        sources: Vec::new(),
        api_sent: BTreeSet::new(),
    };
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    match &options.advisory_db {
        Some(root) => sources.push(Box::new(Native::local(
            root,
            options.advisory_db_date,
            options.cache_dir.clone(),
        ))),
        None if !options.offline => {
            let fetched =
                fetch::fetch(http, &options.advisory_db_url, options.cache_dir.as_deref())?;
            sources.push(Box::new(Native::fetched(
                fetched,
                options.cache_dir.clone(),
            )));
        }
        None => {}
    }
    if let Some(path) = &options.osv_db {
        sources.push(Box::new(OsvExport {
            path: path.clone(),
            cache: options.cache_dir.clone(),
        }));
    }
    for source in sources {
        database.add(source.read(options.allow_partial)?);
    }
    Ok(database)
}

/// What one source gave: its advisories, the record that names and dates it, and (for the OSV
/// API) the components it was asked about.
pub(crate) struct Read {
    advisories: Vec<model::Advisory>,
    record: SourceRecord,
    asked: BTreeSet<(String, String, String)>,
}

/// One advisory source: the native RustSec database (a folder, a checkout or a download), an
/// OSV export, the OSV API's answers. Each reads its advisories, failing closed on what does
/// not load, and names and dates itself; the database takes them all alike.
pub(crate) trait Source {
    fn read(self: Box<Self>, allow_partial: bool) -> Result<Read, AdvisoryError>;
}

impl Source for Native {
    fn read(self: Box<Self>, allow_partial: bool) -> Result<Read, AdvisoryError> {
        let native = *self;
        let root = &native.root;
        if !root.join("crates").is_dir() {
            if !root.exists() {
                return Err(AdvisoryError::Missing {
                    path: root.clone(),
                    osv: false,
                });
            }
            return Err(AdvisoryError::NotRustSec(root.clone()));
        }
        let crates = root.join("crates");
        let loaded = compiled::through(RUSTSEC, root, &crates, native.cache.as_deref(), || {
            rustsec_db::load(root)
        })?;
        let skipped = fail_closed(root, &loaded, allow_partial)?;
        if loaded.advisories.is_empty() {
            return Err(AdvisoryError::Empty {
                path: root.clone(),
                osv: false,
            });
        }
        let digest = loaded.digest.clone().unwrap_or_default();
        if native.expected.as_ref().is_some_and(|d| *d != digest) {
            return Err(fetch::FetchError::Changed(root.clone()).into());
        }
        // A download is kept only once it has loaded whole: never a database that failed.
        if let Some(pending) = native.pending
            && skipped.is_empty()
        {
            pending.commit(&digest)?;
        }
        let (last_updated, from) = match (native.updated, native.updated_from) {
            (Some(time), from) => (Some(crate::time::rfc3339(time)), from),
            (None, _) => (
                loaded.advisories.iter().map(|a| a.date).max().map(midnight),
                "newest-advisory",
            ),
        };
        let record = SourceRecord {
            name: RUSTSEC.to_owned(),
            format: "rustsec-advisory-db".to_owned(),
            uri: native.uri,
            revision: native.revision.or(loaded.digest),
            last_updated_from: last_updated.as_ref().map(|_| from.to_owned()),
            last_updated,
            advisories: loaded.advisories.len(),
            fetched_at: native.fetched_at.map(crate::time::rfc3339),
            skipped,
        };
        Ok(Read {
            advisories: loaded.advisories,
            record,
            asked: BTreeSet::new(),
        })
    }
}

/// An OSV export: a folder of OSV JSON records or a zip of them (`--osv-db`).
struct OsvExport {
    path: PathBuf,
    /// Where its compiled form is kept.
    cache: Option<PathBuf>,
}

impl Source for OsvExport {
    fn read(self: Box<Self>, allow_partial: bool) -> Result<Read, AdvisoryError> {
        let path = &self.path;
        if !path.exists() {
            return Err(AdvisoryError::Missing {
                path: path.clone(),
                osv: true,
            });
        }
        let loaded = compiled::through(OSV, path, path, self.cache.as_deref(), || osv::load(path))?;
        let skipped = fail_closed(path, &loaded, allow_partial)?;
        if loaded.advisories.is_empty() {
            return Err(AdvisoryError::Empty {
                path: path.clone(),
                osv: true,
            });
        }
        let newest = loaded.advisories.iter().map(|a| a.date).max();
        let ids: BTreeSet<&str> = loaded.advisories.iter().map(|a| a.id.as_str()).collect();
        let record = SourceRecord {
            name: OSV.to_owned(),
            format: "osv-export".to_owned(),
            uri: crate::text::local_uri(path),
            revision: loaded.digest,
            last_updated: newest.map(midnight),
            last_updated_from: newest.map(|_| "newest-advisory".to_owned()),
            advisories: ids.len(),
            fetched_at: None,
            skipped,
        };
        Ok(Read {
            advisories: loaded.advisories,
            record,
            asked: BTreeSet::new(),
        })
    }
}

/// What the OSV API answered for the components sent to it, at one time.
struct OsvApiAnswer {
    advisories: Vec<model::Advisory>,
    asked: BTreeSet<(String, String, String)>,
    uri: String,
    at: time::OffsetDateTime,
}

impl Source for OsvApiAnswer {
    fn read(self: Box<Self>, _allow_partial: bool) -> Result<Read, AdvisoryError> {
        let ids: BTreeSet<&str> = self.advisories.iter().map(|a| a.id.as_str()).collect();
        let record = SourceRecord {
            name: OSV_API.to_owned(),
            format: "osv-api".to_owned(),
            uri: self.uri,
            revision: None,
            last_updated: Some(crate::time::rfc3339(self.at)),
            last_updated_from: Some("query-time".to_owned()),
            advisories: ids.len(),
            fetched_at: Some(crate::time::rfc3339(self.at)),
            skipped: Vec::new(),
        };
        Ok(Read {
            advisories: self.advisories,
            record,
            asked: self.asked,
        })
    }
}

/// The native RustSec database to read, and what is known of its provenance.
struct Native {
    root: PathBuf,
    uri: String,
    revision: Option<String>,
    updated: Option<time::OffsetDateTime>,
    updated_from: &'static str,
    fetched_at: Option<time::OffsetDateTime>,
    /// A cached database: the digest it must have.
    expected: Option<String>,
    /// A download: kept in the cache once it has loaded (and its private folder until then).
    pending: Option<fetch::Pending>,
    /// Where its compiled form is kept.
    cache: Option<PathBuf>,
}

impl Native {
    fn local(root: &Path, date: Option<time::Date>, cache: Option<PathBuf>) -> Native {
        let checkout = fetch::checkout_revision(root);
        let (updated, updated_from) = match (&checkout, date) {
            (_, Some(date)) => (Some(date.midnight().assume_utc()), "flag"),
            (Some((_, time)), None) => (Some(*time), "git-commit"),
            (None, None) => (None, "newest-advisory"),
        };
        Native {
            root: root.to_path_buf(),
            uri: crate::text::local_uri(root),
            revision: checkout.map(|(sha, _)| sha),
            updated,
            updated_from,
            fetched_at: None,
            expected: None,
            pending: None,
            cache,
        }
    }

    fn fetched(fetched: fetch::FetchedDb, cache: Option<PathBuf>) -> Native {
        Native {
            root: fetched.root,
            uri: fetched.uri,
            revision: fetched.revision,
            updated: fetched.updated,
            updated_from: "archive-commit-time",
            fetched_at: Some(fetched.fetched_at),
            expected: fetched.expected,
            // A download still in its staging folder is not compiled: it moves when kept.
            cache: cache.filter(|_| fetched.pending.is_none()),
            pending: fetched.pending,
        }
    }
}

impl Database {
    /// Takes what one source read: its advisories, its record, what it was asked about.
    fn add(&mut self, read: Read) {
        if read.record.name == RUSTSEC {
            self.native_ids
                .extend(read.advisories.iter().map(|a| a.id.clone()));
        }
        self.api_sent.extend(read.asked);
        self.sources.push(read.record);
        self.advisories.extend(read.advisories);
    }

    /// Adds the records the OSV API gave, as a source of their own.
    pub fn add_api(
        &mut self,
        advisories: Vec<model::Advisory>,
        sent: &[&Component],
        uri: &str,
        at: time::OffsetDateTime,
    ) -> Result<(), AdvisoryError> {
        let answer = OsvApiAnswer {
            advisories,
            asked: sent
                .iter()
                .map(|c| {
                    (
                        c.ecosystem
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        c.name.clone(),
                        c.version.clone(),
                    )
                })
                .collect(),
            uri: uri.to_owned(),
            at,
        };
        self.add(Box::new(answer).read(false)?);
        Ok(())
    }
}

/// Matches the components of a supplier's SBOM against the database.
pub fn check_components(components: &[Component], database: &Database) -> (Vec<Finding>, Coverage) {
    // The ecosystems an offline source covers (an OSV export of that ecosystem, RustSec for
    // crates.io); a component of another one is checked only if the OSV API was asked about it.
    let mut offline: BTreeSet<&Ecosystem> = database
        .advisories
        .iter()
        .filter(|a| a.source != OSV_API)
        .map(|a| &a.ecosystem)
        .collect();
    if database.sources.iter().any(|s| s.name == RUSTSEC) {
        offline.insert(&Ecosystem::CratesIo);
    }
    let api = database.sources.iter().any(|s| s.name == OSV_API);
    let covered = |c: &Component| -> Option<String> {
        let ecosystem = c.ecosystem.as_ref()?;
        let key = (ecosystem.to_string(), c.name.clone(), c.version.clone());
        if offline.contains(ecosystem) || database.api_sent.contains(&key) {
            None
        } else if api {
            Some(format!(
                "not sent to the OSV API (its name matches a `private` pattern, or it has no version), and no offline source covers {ecosystem}"
            ))
        } else {
            Some(format!(
                "no advisory source for {ecosystem} was given: pass --osv-db with an OSV export of {ecosystem}, or --osv-api"
            ))
        }
    };
    let (findings, mut coverage) = foreign::check(
        components,
        &database.advisories,
        &database.native_ids,
        &covered,
    );
    let unchecked: std::collections::HashSet<(&str, &str)> = coverage
        .unchecked
        .iter()
        .map(|u| (u.name.as_str(), u.version.as_str()))
        .collect();
    let checked: Vec<_> = components
        .iter()
        .filter(|c| !unchecked.contains(&(c.name.as_str(), c.version.as_str())))
        .filter_map(|c| {
            let ecosystem = c.ecosystem.as_ref()?;
            Some((
                ecosystem,
                c.name.as_str(),
                c.version.clone(),
                c.purl.clone(),
            ))
        })
        .collect();
    database.mark_partial(&mut coverage, checked);
    (findings, coverage)
}

/// Matches the inventory against the database.
pub fn check(inventory: &Inventory, database: &Database) -> (Vec<Finding>, Coverage) {
    let (findings, mut coverage) =
        matching::check(inventory, &database.advisories, &database.native_ids);
    let checked = inventory
        .packages
        .iter()
        .filter(|p| p.source == crate::inventory::PackageSource::CratesIo)
        .map(|p| {
            (
                &Ecosystem::CratesIo,
                p.name.as_str(),
                crate::text::version(&p.version),
                Some(p.purl()),
            )
        })
        .collect();
    database.mark_partial(&mut coverage, checked);
    (findings, coverage)
}

impl Database {
    /// Under `--allow-partial-db`: a checked component that a skipped advisory file could be
    /// about is not checked after all (its findings still stand). A RustSec file names its crate
    /// by its folder; an OSV record that did not parse could be about anything.
    fn mark_partial(
        &self,
        coverage: &mut Coverage,
        checked: Vec<(&Ecosystem, &str, String, Option<String>)>,
    ) {
        for (ecosystem, name, version, purl) in checked {
            let gap = self.sources.iter().find_map(|source| {
                source
                    .skipped
                    .iter()
                    .find(|problem| {
                        if source.name == RUSTSEC {
                            // `crates/NAME/...` is about NAME; anything else about any crate.
                            *ecosystem == Ecosystem::CratesIo
                                && problem.file.split('/').nth(1).is_none_or(|c| c == name)
                        } else {
                            true
                        }
                    })
                    .map(|problem| (source, problem))
            });
            if let Some((source, problem)) = gap {
                coverage.checked = coverage.checked.saturating_sub(1);
                coverage.unchecked.push(Unchecked {
                    name: name.to_owned(),
                    version,
                    purl: purl.unwrap_or_default(),
                    reason: format!(
                        "the {} advisory file {} could be about it but did not load (--allow-partial-db)",
                        source.name, problem.file
                    ),
                    own_code: false,
                });
            }
        }
    }
}

fn fail_closed(
    root: &Path,
    loaded: &Loaded,
    allow_partial: bool,
) -> Result<Vec<LoadProblem>, AdvisoryError> {
    match loaded.problems.first() {
        Some(first) if !allow_partial => Err(AdvisoryError::Partial {
            root: root.to_path_buf(),
            count: loaded.problems.len(),
            first: first.clone(),
        }),
        _ => Ok(loaded.problems.clone()),
    }
}

fn midnight(date: time::Date) -> String {
    format!("{date}T00:00:00Z")
}
