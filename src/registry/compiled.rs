//! The compiled registry facts of an index folder or of cargo's index cache: each index entry
//! read (its versions, yanked flags, publication times and the locked versions' dependencies)
//! kept in one file in the user's cache folder, so that the next run looks at each entry's
//! metadata (`stat`, no open) instead of reading and parsing it. Reading the 866 entries of
//! nushell's lockfile was more than half of a warm offline audit (234 M of 433 M instructions
//! under callgrind); the container's rules are `crate::compiled`'s.
//!
//! An entry is used only while its file's [`Stamp`] is the one it was read with, and only if
//! it holds the dependencies of every version the run asks for; anything else is read again.
//! An entry modified in the last two seconds is not kept. The cache folder is the caller's,
//! already checked to be this user's and writable by no one else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::index::Parsed;
use crate::compiled::Stamp;

/// Bumped whenever the payload's shape changes (the advisory database's format is 1).
const FORMAT: u32 = 4;
/// Entries kept at most in one file: a file holds the entries of the projects audited against
/// one index, and a crates.io mirror has fewer than 250,000 crates.
const MAX_ENTRIES: usize = 250_000;

#[derive(Default, Serialize, Deserialize)]
struct Payload {
    /// By index path (`re/ge/regex`).
    entries: BTreeMap<String, Kept>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Kept {
    stamp: Stamp,
    parsed: Parsed,
}

/// The compiled facts of one index folder, as read at the start of a run, and what the run
/// read anew.
pub(crate) struct Compiled {
    path: PathBuf,
    key: [u8; 32],
    root: PathBuf,
    kept: Payload,
    fresh: BTreeMap<String, Kept>,
    racy_after: Option<std::time::SystemTime>,
}

/// What the compiled facts say of one entry.
pub(crate) enum Look {
    /// Kept, and its file has not changed: take it with [`Compiled::take`].
    Kept,
    /// Not kept, or changed: read it (and keep it with [`Compiled::keep`], stamped with the
    /// metadata of the file that was read).
    Read,
}

impl Compiled {
    /// The compiled facts of the index at `root` (`kind` tells a folder from cargo's cache) in
    /// `folder`, or `None` when `root` cannot be named.
    pub(crate) fn open(kind: &str, root: &Path, folder: &Path) -> Option<Compiled> {
        let root = std::fs::canonicalize(root).ok()?;
        let mut name = Sha256::new();
        name.update(b"registry\0");
        name.update(kind.as_bytes());
        name.update([0]);
        name.update(root.as_os_str().as_encoded_bytes());
        let key: [u8; 32] = name.finalize().into();
        let path = folder.join(format!("registry-{}.bin", hex::encode(&key[..16])));
        let kept = crate::compiled::read(&path, FORMAT, &key).unwrap_or_default();
        Some(Compiled {
            path,
            key,
            root,
            kept,
            fresh: BTreeMap::new(),
            racy_after: crate::compiled::racy_after(),
        })
    }

    /// Whether the entry at index path `relative` may be taken as kept, for a run that needs
    /// the dependencies of the versions in `wanted`.
    pub(crate) fn look(&self, relative: &str, wanted: &[&semver::Version]) -> Look {
        let Ok(meta) = std::fs::symlink_metadata(self.root.join(relative)) else {
            return Look::Read;
        };
        if !meta.is_file() {
            return Look::Read;
        }
        let (stamp, _) = Stamp::of(&meta, self.racy_after);
        match self.kept.entries.get(relative) {
            Some(kept)
                if kept.stamp == stamp && kept.parsed.has_requires_of(wanted.iter().copied()) =>
            {
                Look::Kept
            }
            _ => Look::Read,
        }
    }

    /// The kept entry at `relative`: moved out when `keep_all` is false (nothing will be
    /// written), else copied, so that the file written keeps it.
    pub(crate) fn take(&mut self, relative: &str, keep_all: bool) -> Option<Parsed> {
        if keep_all {
            self.kept.entries.get(relative).map(|k| k.parsed.clone())
        } else {
            self.kept.entries.remove(relative).map(|k| k.parsed)
        }
    }

    /// Keeps an entry for the next run, stamped with `meta`, the metadata of the open file its
    /// text was read from (so that a path that led elsewhere while it was read, an index folder
    /// reached through a link that was switched, stamps the file actually read). Not kept: an
    /// entry modified in the last two seconds, an unreadable one (whether it is unreadable
    /// can depend on the versions asked for, which the next run may not share), and one with a
    /// publication time UTC cannot name.
    pub(crate) fn keep(&mut self, relative: &str, meta: &std::fs::Metadata, parsed: &Parsed) {
        let (stamp, settled) = Stamp::of(meta, self.racy_after);
        if settled && parsed.unreadable.is_none() && parsed.compilable() {
            self.fresh.insert(
                relative.to_owned(),
                Kept {
                    stamp,
                    parsed: parsed.clone(),
                },
            );
        }
    }

    /// Writes the file again if anything was read anew; a failure is not an error.
    pub(crate) fn save(self) {
        if self.fresh.is_empty() {
            return;
        }
        let mut payload = self.kept;
        payload.entries.extend(self.fresh);
        if payload.entries.len() > MAX_ENTRIES {
            return;
        }
        crate::compiled::write(&self.path, FORMAT, &self.key, &payload);
    }
}

/// Where the compiled facts of the index at `root` would be kept in `folder`, and the key they
/// must carry: for tests and the fuzz harness, which plant files there.
pub fn slot_file(kind: &str, root: &Path, folder: &Path) -> Option<(PathBuf, [u8; 32])> {
    Compiled::open(kind, root, folder).map(|c| (c.path, c.key))
}

/// The number of entries a compiled file holds, if `bytes` is one for `key`: the reader the
/// fuzz target and the property test drive.
pub fn read_bytes(bytes: &[u8], key: &[u8; 32]) -> Option<usize> {
    let payload: Payload = crate::compiled::decode(crate::compiled::unframe(bytes, FORMAT, key)?)?;
    Some(payload.entries.len())
}

/// Frames `payload` as a compiled file for `key`: for the fuzz harness.
pub fn frame(payload: &[u8], key: &[u8; 32]) -> Vec<u8> {
    crate::compiled::frame(FORMAT, payload, key)
}
