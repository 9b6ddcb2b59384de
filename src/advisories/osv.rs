//! OSV records (<https://ossf.github.io/osv-schema/>) from a folder of JSON files or an export
//! zip such as `crates.io/all.zip`, read in memory with limits; nothing is extracted.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::model::{
    Advisory, Affected, Event, Kind, RawRange, Score, ScoreKind, Severity, Shared, cvss_score,
};
use super::rustsec_db::parse_date;
use super::{LoadProblem, Loaded};
use crate::inventory::purl::Ecosystem;

/// Limits on what is read, so that a hostile export cannot exhaust memory.
const MAX_ENTRIES: usize = 200_000;
const MAX_RECORD_BYTES: u64 = 4 * 1024 * 1024;
const MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;
/// An export zip is read whole into memory: OSV's crates.io export is a few MiB.
const MAX_ZIP_BYTES: u64 = 512 * 1024 * 1024;
/// OSV ids are short (`GHSA-xxxx-xxxx-xxxx`); each advisory of a record holds its own copy.
const MAX_ID_BYTES: usize = 128;
/// A CVSS vector is under 200 bytes.
const MAX_SCORE_BYTES: usize = 512;
/// Scores on the record itself (each package of it that adds its own holds a copy of these).
const MAX_RECORD_SCORES: usize = 16;

/// Why an OSV source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("OSV source: {0}")]
    File(super::rustsec_db::DbFileError),
    #[error("{}: not a readable zip archive: {message}", .path.display())]
    Zip {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{}: {message}", .path.display())]
    Limit {
        path: std::path::PathBuf,
        message: String,
    },
}

/// Reads a folder of OSV JSON files (recursively) or a zip of them.
pub(crate) fn load(path: &Path) -> Result<Loaded, OsvError> {
    let mut loaded = Loaded::default();
    let mut digest = super::ContentDigest::default();
    if path.is_dir() {
        load_folder(path, &mut loaded, &mut digest)?;
    } else {
        load_zip(path, &mut loaded, &mut digest)?;
    }
    loaded.digest = Some(digest.finish());
    Ok(loaded)
}

/// The records of a folder of JSON files, each named by its path under the folder.
fn load_folder(
    path: &Path,
    loaded: &mut Loaded,
    digest: &mut super::ContentDigest,
) -> Result<(), OsvError> {
    let mut files = Vec::new();
    collect_json(path, &mut files).map_err(|source| OsvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    files.sort();
    if files.len() > MAX_ENTRIES {
        return Err(limit(path, format!("more than {MAX_ENTRIES} files")));
    }
    for file in files {
        let name = file
            .strip_prefix(path)
            .unwrap_or(&file)
            .display()
            .to_string();
        // Opened without following a link or waiting on a FIFO, checked on the handle: the
        // folder may have changed since it was listed.
        let bytes = match super::rustsec_db::read_regular(&file, MAX_RECORD_BYTES) {
            Ok(bytes) => bytes,
            Err(super::rustsec_db::DbFileError::TooLarge { .. }) => {
                let size = std::fs::symlink_metadata(&file).map_or(0, |m| m.len());
                loaded.problems.push(too_big(name, size));
                continue;
            }
            Err(error) => return Err(OsvError::File(error)),
        };
        digest.file(&name, &bytes);
        add_record(&bytes, name, loaded);
    }
    Ok(())
}

/// The records of an export zip, each named by its name in the zip.
fn load_zip(
    path: &Path,
    loaded: &mut Loaded,
    digest: &mut super::ContentDigest,
) -> Result<(), OsvError> {
    let bytes = read_zip(path)?;
    digest.file("", &bytes);
    let zip_error = |e: zip::result::ZipError| OsvError::Zip {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zip_error)?;
    if archive.len() > MAX_ENTRIES {
        return Err(limit(path, format!("more than {MAX_ENTRIES} entries")));
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(zip_error)?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() || !is_json(&name) {
            continue;
        }
        if entry.size() > MAX_RECORD_BYTES {
            loaded.problems.push(too_big(name, entry.size()));
            continue;
        }
        total += entry.size();
        if total > MAX_TOTAL_BYTES {
            return Err(limit(path, "more than 1 GiB of records".to_owned()));
        }
        // Read at most the limit, whatever the header claims.
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| OsvError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if bytes.len() as u64 > MAX_RECORD_BYTES {
            loaded.problems.push(too_big(name, bytes.len() as u64));
            continue;
        }
        add_record(&bytes, name, loaded);
    }
    Ok(())
}

/// The bytes of an export zip. The path the user named may be a link to the export; what it
/// names must be a regular file of bounded size (a link to /dev/zero or a FIFO is refused,
/// not read).
fn read_zip(path: &Path) -> Result<Vec<u8>, OsvError> {
    let real = std::fs::canonicalize(path).map_err(|source| OsvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    super::rustsec_db::read_regular(&real, MAX_ZIP_BYTES).map_err(|error| match error {
        super::rustsec_db::DbFileError::TooLarge { .. } => limit(
            path,
            format!(
                "larger than the {} MiB limit for an OSV export zip; use the export of one ecosystem (crates.io/all.zip)",
                MAX_ZIP_BYTES / (1024 * 1024)
            ),
        ),
        other => OsvError::File(other),
    })
}

fn collect_json(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_json(&path, out)?;
        } else if kind.is_file() && is_json(&path.to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

/// `.json`, in any case.
fn is_json(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".json")
}

fn limit(path: &Path, message: String) -> OsvError {
    OsvError::Limit {
        path: path.to_path_buf(),
        message: format!("{message}: not an OSV export this tool will read"),
    }
}

fn too_big(file: String, size: u64) -> LoadProblem {
    LoadProblem {
        file,
        reason: format!("{size} bytes, over the {MAX_RECORD_BYTES}-byte limit for one record"),
    }
}

fn add_record(bytes: &[u8], file: String, loaded: &mut Loaded) {
    match parse_record(bytes) {
        Ok(advisories) => loaded.advisories.extend(advisories),
        Err(reason) => loaded.problems.push(LoadProblem { file, reason }),
    }
}

/// One OSV record (a file of an export, or an answer of the OSV API), as advisories.
pub(crate) fn parse_record(bytes: &[u8]) -> Result<Vec<Advisory>, String> {
    let record = serde_json::from_slice::<Record>(bytes)
        .map_err(|error| format!("not an OSV record: {error}"))?;
    convert(record)
}

#[derive(Deserialize)]
struct Record {
    id: String,
    modified: String,
    published: Option<String>,
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    summary: Option<String>,
    details: Option<String>,
    #[serde(default)]
    severity: Vec<RecordSeverity>,
    #[serde(default)]
    affected: Vec<RecordAffected>,
    #[serde(default)]
    references: Vec<Reference>,
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RecordSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RecordAffected {
    package: Option<PackageId>,
    #[serde(default)]
    severity: Vec<RecordSeverity>,
    #[serde(default)]
    ranges: Vec<Range>,
    #[serde(default)]
    versions: Vec<String>,
    database_specific: Option<serde_json::Value>,
    /// RustSec's export: `affects.os`, `affects.arch`, `affects.functions`.
    ecosystem_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct PackageId {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct Range {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Reference {
    url: String,
}

/// One advisory per affected package of the record: crates.io ones evaluated as semver, the
/// others kept as written for the components of a supplier's SBOM.
fn convert(mut record: Record) -> Result<Vec<Advisory>, String> {
    let date_text = record.published.as_deref().unwrap_or(&record.modified);
    let date = parse_date(date_text)
        .ok_or_else(|| format!("{}: date `{date_text}` is not an RFC 3339 time", record.id))?;
    check_sizes(&record)?;
    let common = Common::of(&mut record);
    let mut out = Vec::new();
    for affected in &record.affected {
        let Some(package) = &affected.package else {
            continue;
        };
        let ecosystem = Ecosystem::parse(&package.ecosystem);
        let crates_io = ecosystem == Ecosystem::CratesIo;
        let affected_versions = if crates_io {
            semver_versions(&record.id, &package.name, affected)?
        } else {
            foreign_versions(affected)
        };
        out.push(Advisory {
            id: record.id.clone(),
            aliases: common.aliases.clone(),
            package: package.name.clone(),
            ecosystem,
            crates_io,
            kind: kind_of(affected),
            title: common.title.clone(),
            date,
            withdrawn: record.withdrawn.is_some(),
            affected: affected_versions,
            scores: common.scores_for(affected),
            references: common.references.clone(),
            source: super::OSV.to_owned(),
            scope: super::platform::Scope::from_osv(affected.ecosystem_specific.as_ref()),
        });
    }
    Ok(out)
}

/// Refuses a record whose id or scores are larger than any real one.
fn check_sizes(record: &Record) -> Result<(), String> {
    if record.id.len() > MAX_ID_BYTES {
        return Err(format!(
            "an id of {} bytes, over the {MAX_ID_BYTES}-byte limit: not an OSV id",
            record.id.len()
        ));
    }
    if let Some(score) = record
        .severity
        .iter()
        .chain(record.affected.iter().flat_map(|a| &a.severity))
        .find(|s| s.score.len() > MAX_SCORE_BYTES)
    {
        return Err(format!(
            "{}: a severity score of {} bytes, over the {MAX_SCORE_BYTES}-byte limit",
            record.id,
            score.score.len()
        ));
    }
    if record.severity.len() > MAX_RECORD_SCORES {
        return Err(format!(
            "{}: {} severity scores, over the limit of {MAX_RECORD_SCORES}",
            record.id,
            record.severity.len()
        ));
    }
    Ok(())
}

/// What the record says once, held once by every advisory made of it.
struct Common {
    title: std::sync::Arc<str>,
    aliases: Shared<String>,
    references: Shared<String>,
    /// The record's own severity word, when it has one.
    rating: Option<Severity>,
    /// The record's CVSS scores, then its rating.
    scores: Shared<Score>,
}

impl Common {
    /// Takes the record's aliases (each advisory holds the shared copy).
    fn of(record: &mut Record) -> Common {
        let title: std::sync::Arc<str> = record
            .summary
            .clone()
            .or_else(|| record.details.as_deref().map(first_line))
            .unwrap_or_default()
            .into();
        let rating = rating(record.database_specific.as_ref());
        Common {
            title,
            aliases: std::mem::take(&mut record.aliases).into(),
            references: record.references.iter().map(|r| r.url.clone()).collect(),
            rating,
            scores: record
                .severity
                .iter()
                .filter(|s| s.kind.starts_with("CVSS_V"))
                .map(|s| cvss_score(&s.score, super::OSV))
                .chain(rating.map(rating_score))
                .collect(),
        }
    }

    /// The record's own scores, shared, unless this package adds some of its own.
    fn scores_for(&self, affected: &RecordAffected) -> Shared<Score> {
        let own_rating = self
            .rating
            .is_none()
            .then(|| rating(affected.database_specific.as_ref()))
            .flatten();
        let own: Vec<Score> = affected
            .severity
            .iter()
            .filter(|s| s.kind.starts_with("CVSS_V"))
            .map(|s| cvss_score(&s.score, super::OSV))
            .chain(own_rating.map(rating_score))
            .collect();
        if own.is_empty() {
            return self.scores.clone();
        }
        let cvss = self.scores.len() - usize::from(self.rating.is_some());
        // As before: the record's CVSS scores, this package's, then the one rating.
        self.scores[..cvss]
            .iter()
            .cloned()
            .chain(own)
            .chain(self.scores[cvss..].iter().cloned())
            .collect()
    }
}

/// A crate's affected versions, read as semver: crates.io versions are semver, so its
/// `ECOSYSTEM` ranges read as `SEMVER` ones; `GIT` ranges name commits, which a registry
/// package does not have.
fn semver_versions(id: &str, name: &str, affected: &RecordAffected) -> Result<Affected, String> {
    let mut ranges = Vec::new();
    for range in &affected.ranges {
        if range.kind == "SEMVER" || range.kind == "ECOSYSTEM" {
            ranges.push(events(id, &range.events)?);
        }
    }
    let mut versions = Vec::new();
    for v in &affected.versions {
        versions.push(
            semver::Version::parse(v)
                .map_err(|e| format!("{id}: affected version `{v}` is not semver: {e}"))?,
        );
    }
    if ranges.is_empty() && versions.is_empty() {
        // Read as affecting nothing, it would hide a vulnerability: fail closed.
        return Err(format!(
            "{id}: no SEMVER or ECOSYSTEM range and no versions for crate `{name}`, so which versions are affected is unknown"
        ));
    }
    Ok(Affected::Osv { ranges, versions })
}

/// Another ecosystem's affected versions, kept as written, for the components of a
/// supplier's SBOM.
fn foreign_versions(affected: &RecordAffected) -> Affected {
    Affected::Foreign {
        ranges: affected
            .ranges
            .iter()
            .map(|r| RawRange {
                kind: r.kind.clone(),
                events: r
                    .events
                    .iter()
                    .flat_map(|e| {
                        e.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    })
                    .collect(),
            })
            .collect(),
        versions: affected.versions.clone(),
    }
}

/// A vulnerability, unless the package's `database_specific.informational` says otherwise.
fn kind_of(affected: &RecordAffected) -> Kind {
    let informational = affected
        .database_specific
        .as_ref()
        .and_then(|d| d.get("informational"))
        .and_then(|i| i.as_str());
    match informational {
        None => Kind::Vulnerability,
        Some("unmaintained") => Kind::Unmaintained,
        Some("unsound") => Kind::Unsound,
        Some(_) => Kind::Notice,
    }
}

fn rating_score(severity: Severity) -> Score {
    Score {
        kind: ScoreKind::Rating,
        vector: None,
        score: None,
        severity,
        source: super::OSV.to_owned(),
    }
}

/// A database's own severity word (`database_specific.severity`, as GHSA writes it).
fn rating(specific: Option<&serde_json::Value>) -> Option<Severity> {
    specific?
        .get("severity")?
        .as_str()
        .and_then(Severity::from_rating)
}

fn events(
    id: &str,
    raw: &[serde_json::Map<String, serde_json::Value>],
) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    for event in raw {
        for (key, value) in event {
            let text = value.as_str().unwrap_or_default();
            let version = || {
                semver::Version::parse(text)
                    .map_err(|e| format!("{id}: {key} `{text}` is not semver: {e}"))
            };
            match key.as_str() {
                "introduced" if text == "0" => out.push(Event::Introduced(None)),
                "introduced" => out.push(Event::Introduced(Some(version()?))),
                "fixed" => out.push(Event::Fixed(version()?)),
                "last_affected" => out.push(Event::LastAffected(version()?)),
                // `limit` only bounds git ranges.
                _ => {}
            }
        }
    }
    Ok(out)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}
