//! Downloading the RustSec advisory database as a tarball over HTTPS into a cache folder, and
//! reading the revision and time of a local checkout. A download is cached only once it has
//! loaded without a problem, with the digest of what loaded; a cached copy is used only while
//! fresh and while its files still have that digest (else it is downloaded again).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::cache::UnsafeCache;
pub use super::cache::cache_dir;

/// Checks the cache folder `dir` as a download into it is checked (creating it if missing),
/// for the other answers kept there: registry index entries, OSV API records.
pub fn secure_cache(dir: &Path) -> Result<(), FetchError> {
    Ok(super::cache::secure(dir)?)
}
use crate::net::{Fetched, Http, HttpError};

/// The advisory-db repository's main-branch archive.
pub const DEFAULT_URL: &str =
    "https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz";
/// A cached download is reused for this long.
pub const FRESH_FOR: Duration = Duration::from_secs(3600);
const MAX_ARCHIVE_BYTES: u64 = 256 * 1024 * 1024;

/// Why the database could not be downloaded or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("downloading the advisory database: {0}")]
    Http(#[from] HttpError),
    #[error("the advisory database at {url} is not there (404): check --advisory-db-url")]
    NotFound { url: String },
    #[error("the advisory database download from {url} is not a gzip'd tar archive: {detail}")]
    Archive { url: String, detail: String },
    #[error(
        "the advisory database download from {url} holds no crates/ advisories: is it the advisory-db repository?"
    )]
    Empty { url: String },
    #[error("advisory database cache {}: {source}", .path.display())]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Unsafe(#[from] UnsafeCache),
    #[error(
        "advisory database cache {}: its files changed while they were read (another charter-audit run?); run again",
        .0.display()
    )]
    Changed(PathBuf),
}

/// A database ready to read, and what is known of it.
#[derive(Debug)]
pub struct FetchedDb {
    pub root: PathBuf,
    pub uri: String,
    pub revision: Option<String>,
    pub updated: Option<OffsetDateTime>,
    pub fetched_at: OffsetDateTime,
    /// For a cached database: the digest it must still have when it is read.
    pub(crate) expected: Option<String>,
    /// For a download: where it was unpacked, to be cached once it has loaded.
    pub(crate) pending: Option<Pending>,
}

/// A download unpacked in a staging folder: kept in the cache only once it has loaded
/// without a problem, so a database that failed to load is never reused.
#[derive(Debug)]
pub(crate) struct Pending {
    staging: tempfile::TempDir,
    /// `None`: the user has no cache folder, and the staging folder is private to this run.
    folder: Option<PathBuf>,
    meta: Meta,
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    url: String,
    revision: Option<String>,
    updated: Option<String>,
    fetched_at: String,
    /// The digest of the database as downloaded and verified (see `rustsec_db::digest`).
    #[serde(default)]
    digest: Option<String>,
}

/// Returns the cached database for `url` while fresh and unchanged, else downloads it. With no
/// cache folder (`None`), it downloads into a private folder for this run alone.
pub fn fetch(http: &Http, url: &str, cache: Option<&Path>) -> Result<FetchedDb, FetchError> {
    let key = hex::encode(&Sha256::digest(url.as_bytes())[..8]);
    let folder = match cache {
        Some(cache) => {
            super::cache::secure(cache)?;
            Some(cache.join("advisory-db").join(key))
        }
        None => None,
    };
    if let Some(cached) = folder.as_deref().and_then(read_meta) {
        let age = crate::time::clock() - cached.fetched_at;
        let fresh = age >= time::Duration::ZERO && age.unsigned_abs() < FRESH_FOR;
        // Files removed, changed or added since: not the database that was verified.
        // The compiled database kept for these files, when their listing is unchanged, holds
        // the digest of what was read: then they need not be read twice (here and to load).
        let unchanged = || {
            let compiled = cache.and_then(|cache| {
                super::compiled::current_digest(super::RUSTSEC, &cached.root, cache)
            });
            compiled.or_else(|| super::rustsec_db::digest(&cached.root).ok()) == cached.expected
        };
        if fresh && unchanged() {
            return Ok(cached);
        }
    }
    let bytes = match http.download(
        url,
        MAX_ARCHIVE_BYTES,
        "downloading the RustSec advisory database",
    )? {
        Fetched::Body(bytes) => bytes,
        Fetched::NotFound => {
            return Err(FetchError::NotFound {
                url: url.to_owned(),
            });
        }
    };
    let staging = match &folder {
        Some(folder) => {
            std::fs::create_dir_all(folder).map_err(cache_error(folder))?;
            tempfile::Builder::new()
                .prefix(".unpack-")
                .tempdir_in(folder)
                .map_err(cache_error(folder))?
        }
        // A fresh folder of random name, mode 0700, removed when the run is done.
        None => tempfile::Builder::new()
            .prefix("charter-audit-")
            .tempdir()
            .map_err(cache_error(&std::env::temp_dir()))?,
    };
    let (revision, updated, count) = super::archive::unpack(&bytes, staging.path(), url)?;
    if count == 0 {
        return Err(FetchError::Empty {
            url: url.to_owned(),
        });
    }
    let fetched_at = crate::time::clock();
    let meta = Meta {
        url: url.to_owned(),
        revision: revision.clone(),
        updated: updated.and_then(|t| t.format(&Rfc3339).ok()),
        fetched_at: fetched_at.format(&Rfc3339).unwrap_or_default(),
        digest: None,
    };
    Ok(FetchedDb {
        root: staging.path().join("db"),
        uri: url.to_owned(),
        revision,
        updated,
        fetched_at,
        expected: None,
        pending: Some(Pending {
            staging,
            folder,
            meta,
        }),
    })
}

impl Pending {
    /// Keeps the download in the cache, with the digest of what loaded (a private download is
    /// removed instead). The old database is removed only once the new one is in place.
    pub(crate) fn commit(self, digest: &str) -> Result<(), FetchError> {
        let Some(folder) = self.folder else {
            return Ok(());
        };
        let meta = Meta {
            digest: Some(digest.to_owned()),
            ..self.meta
        };
        let meta_text = serde_json::to_string_pretty(&meta).unwrap_or_default();
        std::fs::write(self.staging.path().join("meta.json"), meta_text)
            .map_err(cache_error(&folder))?;
        let current = folder.join("current");
        let old = folder.join(".old");
        let _ = std::fs::remove_dir_all(&old);
        if std::fs::symlink_metadata(&current).is_ok() {
            std::fs::rename(&current, &old).map_err(cache_error(&current))?;
        }
        let staged = self.staging.keep();
        std::fs::rename(&staged, &current).map_err(cache_error(&current))?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }
}

fn cache_error(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + use<> {
    let path = path.to_path_buf();
    move |source| FetchError::Cache { path, source }
}

fn read_meta(folder: &Path) -> Option<FetchedDb> {
    let current = folder.join("current");
    let bytes = super::rustsec_db::read_regular(&current.join("meta.json"), 64 * 1024).ok()?;
    let meta: Meta = serde_json::from_slice(&bytes).ok()?;
    Some(FetchedDb {
        root: current.join("db"),
        uri: meta.url,
        revision: meta.revision,
        updated: meta
            .updated
            .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok()),
        fetched_at: OffsetDateTime::parse(&meta.fetched_at, &Rfc3339).ok()?,
        // A cache written before digests were recorded is fetched again.
        expected: Some(meta.digest?),
        pending: None,
    })
}

/// The revision and commit time of a git checkout, asking `git` (when it is installed).
pub fn checkout_revision(root: &Path) -> Option<(String, OffsetDateTime)> {
    if !root.join(".git").exists() {
        return None;
    }
    let output = std::process::Command::new("git")
        .env_remove(crate::process::KEY_VARIABLE)
        .arg("-C")
        .arg(root)
        .args(["log", "-1", "--format=%H %cI"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let (sha, when) = text.trim().split_once(' ')?;
    Some((sha.to_owned(), OffsetDateTime::parse(when, &Rfc3339).ok()?))
}
