//! Registry facts for crates.io packages, from the sparse index: yanked or not, when each
//! version was published, and from those the fix version, the version to upgrade to and the
//! newest one. The index is reached through one [`IndexSource`]: a folder in the sparse-index
//! layout, cargo's local index cache, or (online) an HTTP sparse index.

pub mod apply;
pub mod compiled;
pub mod facts;
pub mod index;
pub mod locked;
mod wire;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use index::IndexVersion;

/// Why the index could not be asked at all (a crate it does not know is not an error).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry index {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("registry index entry {}: {message}", .path.display())]
    Entry { path: PathBuf, message: String },
    #[error("registry index {url}: {message}")]
    Http { url: String, message: String },
    #[error(
        "no registry index: with --offline, pass --registry-index DIR (a folder in the sparse-index layout), or let cargo fill its index cache first (`cargo fetch`)"
    )]
    NoOfflineIndex,
}

/// Where index entries come from.
pub trait IndexSource: Sync {
    /// The entry (one JSON line per version) of a crate, or `None` when the index has none.
    fn entry(&self, name: &str) -> Result<Option<String>, RegistryError>;
    /// How the report names this source.
    fn describe(&self) -> String;
    /// How many entries may be asked for at once: one for a folder (a read costs no wait),
    /// more for a server (each costs a round trip).
    fn in_flight(&self) -> usize {
        1
    }
    /// [`IndexSource::entry`], with the metadata of the file read (from the open file) for a
    /// source on this machine: what a compiled entry is stamped with.
    fn entry_with_metadata(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<std::fs::Metadata>)>, RegistryError> {
        Ok(self.entry(name)?.map(|text| (text, None)))
    }
    /// The folder whose files are the entries (named by kind), for a source on this machine
    /// whose reads may be compiled (see [`compiled`]); `None` for a server.
    fn local_root(&self) -> Option<(&'static str, &Path)> {
        None
    }
}

/// A folder in the sparse-index layout (`re/ge/regex`), such as a mirror or a test snapshot.
#[derive(Debug)]
pub struct DirIndex {
    pub root: PathBuf,
}

impl IndexSource for DirIndex {
    fn entry(&self, name: &str) -> Result<Option<String>, RegistryError> {
        Ok(self.entry_with_metadata(name)?.map(|(text, _)| text))
    }

    fn entry_with_metadata(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<std::fs::Metadata>)>, RegistryError> {
        let Some(relative) = index::path_of(name) else {
            return Ok(None);
        };
        Ok(read_optional(&self.root.join(relative))?
            .map(|(bytes, meta)| (crate::text::utf8_lossy(bytes), Some(meta))))
    }

    fn describe(&self) -> String {
        crate::text::local_uri(&self.root)
    }

    fn local_root(&self) -> Option<(&'static str, &Path)> {
        Some(("folder", &self.root))
    }
}

/// Cargo's own cache of the crates.io sparse index (`$CARGO_HOME/registry/index/
/// index.crates.io-*/.cache`), as of cargo's last update: the offline default.
#[derive(Debug)]
pub struct CargoCache {
    pub root: PathBuf,
}

impl CargoCache {
    /// Finds the cache of the crates.io sparse index in cargo's home, found as cargo finds it.
    pub fn locate() -> Option<CargoCache> {
        let home = crate::inventory::cargo_home()?;
        let index = home.join("registry").join("index");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&index)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("index.crates.io-"))
            })
            .map(|p| p.join(".cache"))
            .filter(|p| p.is_dir())
            .collect();
        found.sort();
        found.pop().map(|root| CargoCache { root })
    }
}

impl IndexSource for CargoCache {
    fn entry(&self, name: &str) -> Result<Option<String>, RegistryError> {
        Ok(self.entry_with_metadata(name)?.map(|(text, _)| text))
    }

    fn entry_with_metadata(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<std::fs::Metadata>)>, RegistryError> {
        let Some(relative) = index::path_of(name) else {
            return Ok(None);
        };
        let path = self.root.join(relative);
        let Some((bytes, meta)) = read_optional(&path)? else {
            return Ok(None);
        };
        decode_cache(&bytes)
            .map(|text| Some((text, Some(meta))))
            .map_err(|message| RegistryError::Entry { path, message })
    }

    fn describe(&self) -> String {
        "cargo-cache:crates.io".to_owned()
    }

    fn local_root(&self) -> Option<(&'static str, &Path)> {
        Some(("cargo-cache", &self.root))
    }
}

/// Cargo's cache file: a version byte, the index format as a little-endian u32, a cache key,
/// then `version NUL json NUL` pairs. Returns the JSON lines.
fn decode_cache(bytes: &[u8]) -> Result<String, String> {
    let rest = bytes
        .get(5..)
        .ok_or_else(|| "too short to be cargo's index cache".to_owned())?;
    let mut parts = rest.split(|b| *b == 0);
    parts.next(); // the cache key (an ETag or Last-Modified value)
    let mut lines = String::new();
    while let (Some(_version), Some(json)) = (parts.next(), parts.next()) {
        if json.is_empty() {
            continue;
        }
        match std::str::from_utf8(json) {
            Ok(json) => lines.push_str(json),
            Err(_) => lines.push_str(&String::from_utf8_lossy(json)),
        }
        lines.push('\n');
    }
    Ok(lines)
}

/// An index entry in a folder: a regular file of bounded size (the folder may be a copy made by
/// anyone, and the crate names come from the audited project's lockfile).
fn read_optional(path: &Path) -> Result<Option<(Vec<u8>, std::fs::Metadata)>, RegistryError> {
    match crate::regular_file::read_with_metadata(path, MAX_ENTRY_BYTES) {
        Ok(read) => Ok(Some(read)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(not_read(path.to_path_buf(), e)),
    }
}

fn not_read(path: PathBuf, error: crate::regular_file::RegularFileError) -> RegistryError {
    match error {
        crate::regular_file::RegularFileError::Io(source) => RegistryError::Io { path, source },
        other => RegistryError::Entry {
            path,
            message: format!(
                "{other}; an index entry is a regular file: replace the index with a plain copy"
            ),
        },
    }
}

/// What the index said of one crate: its versions, or why it said nothing.
#[derive(Clone, Debug)]
pub enum Entry {
    Known(Vec<IndexVersion>),
    Unknown(String),
}

/// The compiled registry facts of a source on this machine, opened (see [`compiled`]).
pub struct Opened(compiled::Compiled);

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opened(..)")
    }
}

impl Opened {
    /// The compiled facts of `source` kept in `folder` (a folder of the user's cache, already
    /// checked), or `None` for a source that is not on this machine or cannot be named.
    pub fn open(source: &dyn IndexSource, folder: &Path) -> Option<Opened> {
        let (kind, root) = source.local_root()?;
        compiled::Compiled::open(kind, root, folder).map(Opened)
    }
}

/// The index entries of every named crate, looked up once each, with the versions that can
/// bear on the locked versions' facts as of one evaluation time (see [`facts::Keep`]).
#[derive(Debug)]
pub struct Lookups {
    pub entries: BTreeMap<String, Entry>,
    /// The evaluation time the versions were kept for.
    now: OffsetDateTime,
}

impl Lookups {
    /// Looks up each package's name; a crate the index does not know is recorded, never a
    /// failure. Each index entry is asked for once, however many names share it (`SmallVec`
    /// and `smallvec` have one), up to [`IndexSource::in_flight`] at once; the result is the
    /// same whatever order the answers come in. The dependencies are read of the packages'
    /// versions only, and only the versions that can bear on their facts at `now` are kept.
    /// With `compiled` (a folder of the user's cache, already checked), the entries of a
    /// source on this machine are kept there and taken from there while their files are
    /// unchanged.
    pub fn fetch<'a>(
        source: &dyn IndexSource,
        packages: impl IntoIterator<Item = (&'a str, &'a semver::Version)>,
        now: OffsetDateTime,
        compiled: Option<&Path>,
    ) -> Result<Lookups, RegistryError> {
        let compiled = compiled.and_then(|folder| Opened::open(source, folder));
        Lookups::fetch_opened(source, packages, now, compiled)
    }

    /// [`Lookups::fetch`], with the compiled facts already opened (read while the inventory is
    /// taken: they do not depend on it).
    pub fn fetch_opened<'a>(
        source: &dyn IndexSource,
        packages: impl IntoIterator<Item = (&'a str, &'a semver::Version)>,
        now: OffsetDateTime,
        compiled: Option<Opened>,
    ) -> Result<Lookups, RegistryError> {
        let mut compiled = compiled.map(|opened| opened.0);
        let mut wanted: BTreeMap<&str, Vec<&semver::Version>> = BTreeMap::new();
        for (name, version) in packages {
            wanted.entry(name).or_default().push(version);
        }
        // Names (sorted), each with its versions and the index path it is read from, made once.
        let names: Vec<(&str, Vec<&semver::Version>)> = wanted.into_iter().collect();
        let name_paths: Vec<Option<String>> =
            names.iter().map(|(name, _)| index::path_of(name)).collect();
        // One name for each index path, to ask the source with, and the versions asked of it:
        // the entries in the order of their paths, and which entry each name's is. Kept in
        // vectors by position: ordered maps keyed by path compared strings a hundred thousand
        // times for nushell's lockfile.
        let mut by_path: Vec<(&str, usize)> = name_paths
            .iter()
            .enumerate()
            .filter_map(|(at, path)| path.as_deref().map(|path| (path, at)))
            .collect();
        by_path.sort_unstable();
        let mut paths: Vec<(&str, Asked)> = Vec::new();
        let mut entry_of: Vec<Option<usize>> = vec![None; names.len()];
        for (path, at) in by_path {
            if paths.last().map(|(last, _)| *last) != Some(path) {
                paths.push((
                    path,
                    Asked {
                        name: names[at].0,
                        versions: Vec::new(),
                    },
                ));
            }
            let entry = paths.len() - 1;
            paths[entry].1.versions.extend(names[at].1.iter().copied());
            entry_of[at] = Some(entry);
        }
        // What is kept of each entry's versions.
        let keeps: Vec<facts::Keep> = paths
            .iter()
            .map(|(_, asked)| facts::Keep::new(asked.versions.iter().copied(), now))
            .collect();
        // Which entries are kept unchanged (a `stat` each, no read; decoded, the versions kept
        // only).
        let looks: Vec<compiled::Look> = paths
            .iter()
            .zip(&keeps)
            .map(|((path, asked), keep)| match &mut compiled {
                Some(compiled) => compiled.look(path, &asked.versions, keep),
                None => compiled::Look::Read,
            })
            .collect();
        let to_read: Vec<(&Asked, &facts::Keep)> = paths
            .iter()
            .map(|(_, asked)| asked)
            .zip(&keeps)
            .zip(&looks)
            .filter(|(_, look)| matches!(look, compiled::Look::Read))
            .map(|(asked, _)| asked)
            .collect();
        let compiling = compiled.is_some();
        let bar = crate::progress::items(to_read.len() as u64, "looking up the registry index");
        // Each entry read is parsed, its bytes kept (if compiled) and its versions pruned here,
        // one at a time: never every whole entry in memory at once.
        let read = crate::net::concurrently(&to_read, source.in_flight(), |(asked, keep)| {
            let read = source.entry_with_metadata(asked.name)?;
            bar.inc(1);
            Ok(read.map(|(text, meta)| {
                let mut parsed = index::parse_entry(&text, |v| asked.versions.contains(&v));
                let bytes = meta
                    .as_ref()
                    .filter(|_| compiling)
                    .and_then(|_| compiled::Compiled::encoded(&parsed));
                parsed.versions = keep.prune(parsed.versions);
                (parsed, bytes.zip(meta))
            }))
        })?;
        bar.finish_and_clear();
        let mut read = read.into_iter();
        // Each entry's parsed versions, and how many names share it: the last of them takes
        // it without a copy.
        let mut texts: Vec<(usize, Option<index::Parsed>)> = Vec::with_capacity(paths.len());
        for ((path, _), look) in paths.iter().zip(looks) {
            let parsed = match look {
                compiled::Look::Kept(parsed) => Some(parsed),
                compiled::Look::Read => {
                    let (parsed, kept) = read.next().flatten().unzip();
                    if let (Some(compiled), Some(Some((bytes, meta)))) = (compiled.as_mut(), kept) {
                        compiled.keep(path, &meta, bytes);
                    }
                    parsed
                }
            };
            texts.push((0, parsed));
        }
        if let Some(compiled) = compiled {
            compiled.save();
        }
        for entry in entry_of.iter().flatten() {
            texts[*entry].0 += 1;
        }
        let mut lookups = Lookups {
            entries: BTreeMap::new(),
            now,
        };
        for ((name, _), entry) in names.into_iter().zip(entry_of) {
            let parsed = entry.map(|entry| {
                let (sharing, parsed) = &mut texts[entry];
                *sharing -= 1;
                if *sharing == 0 {
                    parsed.take()
                } else {
                    parsed.clone()
                }
            });
            let entry = match parsed {
                None if !index::is_index_name(name) => {
                    Entry::Unknown("not a crate name a registry index can hold".to_owned())
                }
                None | Some(None) => {
                    Entry::Unknown("the registry index has no entry for this crate".to_owned())
                }
                Some(Some(parsed)) => match parsed.for_name(name) {
                    Ok(versions) => Entry::Known(versions),
                    Err(why) => Entry::Unknown(why),
                },
            };
            lookups.entries.insert(name.to_owned(), entry);
        }
        Ok(lookups)
    }

    /// The versions of a crate kept (see [`facts::Keep`]: every version at or above its lowest
    /// locked version, and the newest release below it), whenever published, yanked or not.
    pub fn all_versions(&self, name: &str) -> Option<&[IndexVersion]> {
        match self.entries.get(name) {
            Some(Entry::Known(versions)) => Some(versions),
            _ => None,
        }
    }

    /// The versions of a crate kept that exist at the evaluation time, or why they are
    /// unknown.
    pub fn versions(&self, name: &str) -> Result<Vec<&IndexVersion>, String> {
        match self.entries.get(name) {
            Some(Entry::Known(versions)) => Ok(facts::as_of(versions, self.now)),
            Some(Entry::Unknown(why)) => Err(why.clone()),
            None => Err("not looked up".to_owned()),
        }
    }

    /// The evaluation time the versions were kept for.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }
}

/// One index entry to look up: a name to ask the source with, and the locked versions of every
/// name that shares the entry.
struct Asked<'a> {
    name: &'a str,
    versions: Vec<&'a semver::Version>,
}

/// What the report says about the registry index it used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryRecord {
    pub uri: String,
    /// Yanked flags are as of this lookup (the index does not say when a version was yanked).
    pub looked_up_at: String,
    pub crates: usize,
    pub unknown: usize,
}

/// A sparse index over HTTP(S), such as crates.io's `https://index.crates.io/`.
#[derive(Debug)]
pub struct HttpIndex<'a> {
    pub base: String,
    pub http: &'a crate::net::Http,
    /// The folder that keeps this index's entries between runs (see `net::cache`), each at its
    /// index path, which no crate name can lead out of; `None` caches nothing.
    pub cache: Option<PathBuf>,
}

/// The largest index entry read (crates.io's largest are a few MiB).
const MAX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;

impl IndexSource for HttpIndex<'_> {
    fn entry(&self, name: &str) -> Result<Option<String>, RegistryError> {
        let base = self
            .base
            .trim_start_matches("sparse+")
            .trim_end_matches('/');
        let Some(relative) = index::path_of(name) else {
            return Ok(None);
        };
        let url = format!("{base}/{relative}");
        let file = self.cache.as_ref().map(|cache| cache.join(&relative));
        match crate::net::cache::get(self.http, &url, MAX_ENTRY_BYTES, file.as_deref()) {
            Ok(crate::net::Fetched::Body(bytes)) => Ok(Some(crate::text::utf8_lossy(bytes))),
            Ok(crate::net::Fetched::NotFound) => Ok(None),
            Err(error) => Err(RegistryError::Http {
                url: base.to_owned(),
                message: error.to_string(),
            }),
        }
    }

    fn describe(&self) -> String {
        self.base.clone()
    }

    fn in_flight(&self) -> usize {
        crate::net::IN_FLIGHT
    }
}

#[cfg(test)]
mod tests;
