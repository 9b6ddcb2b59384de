//! Downloading the RustSec advisory database as a tarball over HTTPS into a cache folder, and
//! reading the revision and time of a local checkout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

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
}

/// A database ready to read, and what is known of it.
#[derive(Clone, Debug)]
pub struct FetchedDb {
    pub root: PathBuf,
    pub uri: String,
    pub revision: Option<String>,
    pub updated: Option<OffsetDateTime>,
    pub fetched_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    url: String,
    revision: Option<String>,
    updated: Option<String>,
    fetched_at: String,
}

/// The cache folder: `CHARTER_AUDIT_CACHE_DIR`, else `$XDG_CACHE_HOME/charter-audit`, else
/// `~/.cache/charter-audit`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CHARTER_AUDIT_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("charter-audit");
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache").join("charter-audit"))
        .unwrap_or_else(|| std::env::temp_dir().join("charter-audit"))
}

/// Returns the cached database for `url` while fresh, else downloads it.
pub fn fetch(http: &Http, url: &str, cache: &Path) -> Result<FetchedDb, FetchError> {
    let key = hex::encode(&Sha256::digest(url.as_bytes())[..8]);
    let folder = cache.join("advisory-db").join(key);
    let cache_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FetchError::Cache { path, source }
    };
    if let Some(cached) = read_meta(&folder) {
        let age = crate::time::clock() - cached.fetched_at;
        if age >= time::Duration::ZERO && age.unsigned_abs() < FRESH_FOR {
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
    std::fs::create_dir_all(&folder).map_err(cache_error(&folder))?;
    let staging = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(&folder)
        .map_err(cache_error(&folder))?;
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
    };
    let meta_text = serde_json::to_string_pretty(&meta).unwrap_or_default();
    std::fs::write(staging.path().join("meta.json"), meta_text).map_err(cache_error(&folder))?;
    // Swap the new database in: the old one is removed only once the new one is complete.
    let current = folder.join("current");
    let old = folder.join(".old");
    let _ = std::fs::remove_dir_all(&old);
    if current.exists() {
        std::fs::rename(&current, &old).map_err(cache_error(&current))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &current).map_err(cache_error(&current))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(FetchedDb {
        root: current.join("db"),
        uri: url.to_owned(),
        revision,
        updated,
        fetched_at,
    })
}

fn read_meta(folder: &Path) -> Option<FetchedDb> {
    let current = folder.join("current");
    let text = std::fs::read_to_string(current.join("meta.json")).ok()?;
    let meta: Meta = serde_json::from_str(&text).ok()?;
    Some(FetchedDb {
        root: current.join("db"),
        uri: meta.url,
        revision: meta.revision,
        updated: meta
            .updated
            .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok()),
        fetched_at: OffsetDateTime::parse(&meta.fetched_at, &Rfc3339).ok()?,
    })
}

/// The revision and commit time of a git checkout, asking `git` (when it is installed).
pub fn checkout_revision(root: &Path) -> Option<(String, OffsetDateTime)> {
    if !root.join(".git").exists() {
        return None;
    }
    let output = std::process::Command::new("git")
        .env_remove(crate::commands::KEY_VARIABLE)
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
