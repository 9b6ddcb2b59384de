//! Downloading the RustSec advisory database as a tarball over HTTPS into a cache folder, and
//! reading the revision and time of a local checkout.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
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
const MAX_UNPACKED_BYTES: u64 = 512 * 1024 * 1024;
const MAX_ENTRIES: usize = 100_000;

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
    let (revision, updated, count) = unpack(&bytes, staging.path(), url)?;
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

/// Unpacks the `crates/**.md` files of the archive into `into/db`, refusing anything that is
/// not a plain file under its top folder. Returns the revision (the pax `comment` GitHub
/// writes), the newest entry time (GitHub stamps every entry with the commit time) and how
/// many advisories it wrote.
fn unpack(
    bytes: &[u8],
    into: &Path,
    url: &str,
) -> Result<(Option<String>, Option<OffsetDateTime>, usize), FetchError> {
    let archive_error = |detail: String| FetchError::Archive {
        url: url.to_owned(),
        detail,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut revision = None;
    let mut newest: Option<u64> = None;
    let mut count = 0;
    let mut total = 0u64;
    let entries = archive
        .entries()
        .map_err(|e| archive_error(e.to_string()))?;
    for (index, entry) in entries.enumerate() {
        if index >= MAX_ENTRIES {
            return Err(archive_error(format!("more than {MAX_ENTRIES} entries")));
        }
        let mut entry = entry.map_err(|e| archive_error(e.to_string()))?;
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| archive_error(e.to_string()))?;
            revision = pax_comment(&text).or(revision);
            continue;
        }
        if let Ok(mtime) = entry.header().mtime() {
            newest = Some(newest.map_or(mtime, |n| n.max(mtime)));
        }
        if kind != tar::EntryType::Regular {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| archive_error(e.to_string()))?
            .into_owned();
        let Some(relative) = advisory_path(&path) else {
            continue;
        };
        total += entry.size();
        if total > MAX_UNPACKED_BYTES {
            return Err(archive_error("more than 512 MiB unpacked".to_owned()));
        }
        let target = into.join("db").join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| FetchError::Cache {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| archive_error(e.to_string()))?;
        std::fs::write(&target, data).map_err(|source| FetchError::Cache {
            path: target.clone(),
            source,
        })?;
        count += 1;
    }
    let updated = newest.and_then(|s| OffsetDateTime::from_unix_timestamp(s as i64).ok());
    Ok((revision, updated, count))
}

/// `advisory-db-main/crates/NAME/RUSTSEC-X.md` → `crates/NAME/RUSTSEC-X.md`; anything else,
/// or anything that is not a plain relative path, is not unpacked.
fn advisory_path(path: &Path) -> Option<PathBuf> {
    let parts: Vec<&str> = path
        .components()
        .map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [_top, "crates", name, file] if file.ends_with(".md") && !file.starts_with('.') => {
            Some(Path::new("crates").join(name).join(file))
        }
        _ => None,
    }
}

/// The `comment` record of a pax header (`NN comment=SHA\n`).
fn pax_comment(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (_, record) = line.split_once(' ')?;
        record.strip_prefix("comment=").map(|v| v.trim().to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_advisories_are_unpacked() {
        assert_eq!(
            advisory_path(Path::new(
                "advisory-db-main/crates/regex/RUSTSEC-2022-0013.md"
            )),
            Some(PathBuf::from("crates/regex/RUSTSEC-2022-0013.md"))
        );
        assert_eq!(advisory_path(Path::new("advisory-db-main/README.md")), None);
        assert_eq!(
            advisory_path(Path::new("x/crates/../../../etc/passwd.md")),
            None
        );
        assert_eq!(advisory_path(Path::new("/crates/a/b.md")), None);
    }

    #[test]
    fn pax_comment_is_the_revision() {
        assert_eq!(
            pax_comment("52 comment=bf5c0d245a92671908518d7e765914d437954ed6\n").as_deref(),
            Some("bf5c0d245a92671908518d7e765914d437954ed6")
        );
    }
}
