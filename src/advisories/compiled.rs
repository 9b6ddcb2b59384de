//! The compiled advisory database: what a database folder (or OSV export zip) loaded to, kept
//! in one file in the user's cache folder, so that the next run reads one file instead of
//! parsing every advisory again.
//!
//! **Key.** A database is known by the listing of its files (relative name, type, size,
//! modification and change times to the nanosecond, inode, device), kept in the compiled file
//! itself: the way cargo fingerprints a source tree. A warm run checks the kept listing with one
//! `stat` per entry it names, folders included, each relative to the folder listed, which it
//! holds open ([`crate::compiled::Folder`]), and reads no folder: a folder's modification
//! and change times move whenever an entry is added to it, removed or renamed, so a folder
//! whose stamp is unchanged holds the names it held. (Listing every folder again took 908
//! folder opens and 2,027 `getdents` calls for RustSec's 2,113 entries: about a tenth of a warm
//! audit's time, sampled with `perf`.) A cached database is used only when every entry's stamp
//! is the one it was built from; a file added, removed, resized or touched makes the run parse
//! the folder again and replace the file. A file changed within the same modification time
//! and size would go unseen (as with cargo), so a database with an entry modified in the last
//! two seconds is not cached at all (git's "racy" rule). The report's revision for a plain
//! folder is the content digest recorded when the cache was built from those files. The file's
//! name and header key are the database's kind and canonical path.
//!
//! **Trust.** The file is ours only if it says so: a header with a magic string, the format
//! version and this crate's version, the key, and the SHA-256 of the payload; the read is
//! bounded (`crate::compiled::MAX_BYTES`). Anything else (corrupt, truncated, foreign, another version, another
//! key) is not used, silently, and the database is parsed and the file written again: never
//! an error, never a source of advisories the files do not hold. The folder is the download
//! cache's (`cache::secure`: this user's, writable by no one else); a folder that is not safe
//! is not used. Written atomically (temporary file in the same folder, then rename). Only a
//! database that loaded whole is kept.
//!
//! **Serialisation.** postcard (see [`encode`]), chosen on measurement against serde_json
//! (already a dependency) on the RustSec database (1,205 advisories), in a warm `audit` of
//! nushell's lockfile under `valgrind --tool=callgrind`: reading, checking and decoding the
//! file took 57.4 M instructions with serde_json (a 645 KB file) and 26.1 M with postcard
//! (307 KB: 10.1 M decoding, the rest the payload's SHA-256 and the read); parsing the 1,205
//! advisory files had taken about 160 M. bincode and rmp-serde were not measured.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Loaded;
use super::model::Advisory;

/// Entries listed for a key at most: more and nothing is cached.
const MAX_ENTRIES: usize = 200_000;
/// Folders deep at most.
const MAX_DEPTH: usize = 16;
/// Bumped whenever the payload's shape changes (2: the listing is kept in the payload).
const FORMAT: u32 = 2;

/// What is kept: everything the database loaded to (a database with problems is not kept).
#[derive(Serialize, Deserialize)]
struct Payload {
    digest: Option<String>,
    listing: Vec<Listed>,
    advisories: Vec<Advisory>,
}

/// One entry of a database's listing, in walk order: a folder before what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Listed {
    /// The index of the folder it is in; `None` for the folder (or file) listed itself.
    parent: Option<u32>,
    /// Its name in that folder (empty for the one listed).
    name: String,
    stamp: crate::compiled::Stamp,
}

/// Where one database's compiled file is, and the key it must carry.
#[derive(Debug)]
pub(crate) struct Slot {
    path: PathBuf,
    key: [u8; 32],
}

impl Slot {
    /// The slot of the database at `root` (`kind`: `rustsec` or `osv`), or `None` when there
    /// is no safe cache folder or `root` cannot be named.
    pub(crate) fn of(kind: &str, root: &Path, cache: Option<&Path>) -> Option<Slot> {
        let cache = cache?;
        let dir = cache.join("compiled");
        super::cache::secure(cache).ok()?;
        super::cache::secure(&dir).ok()?;
        let root = std::fs::canonicalize(root).ok()?;
        let mut key = Sha256::new();
        key.update(b"charter-audit compiled advisories\0");
        key.update(kind.as_bytes());
        key.update([0]);
        key.update(root.as_os_str().as_encoded_bytes());
        let key: [u8; 32] = key.finalize().into();
        Some(Slot {
            path: dir.join(format!("{kind}-{}.bin", hex::encode(&key[..16]))),
            key,
        })
    }

    /// The database kept here, if its listing is still that of the files at `listed`, else
    /// `None` (missing, damaged, foreign, stale).
    fn current(&self, listed: &Path) -> Option<Payload> {
        let payload: Payload = crate::compiled::read(&self.path, FORMAT, &self.key)?;
        unchanged(listed, &payload.listing).then_some(payload)
    }

    /// Keeps what loaded, if it loaded whole and its files are settled; a failure to write is
    /// not an error (the next run parses again).
    fn write(&self, loaded: &Loaded, listing: &[Listed]) {
        if !loaded.problems.is_empty() {
            return;
        }
        #[derive(Serialize)]
        struct PayloadRef<'a> {
            digest: Option<&'a str>,
            listing: &'a [Listed],
            advisories: &'a [Advisory],
        }
        crate::compiled::write(
            &self.path,
            FORMAT,
            &self.key,
            &PayloadRef {
                digest: loaded.digest.as_deref(),
                listing,
                advisories: &loaded.advisories,
            },
        );
    }
}

/// What `load` gives for the database at `root`, from its compiled form when one was kept for
/// the listing of `listed` (see `compiled`); else loaded, and kept if whole.
pub(super) fn through<E>(
    kind: &str,
    root: &Path,
    listed: &Path,
    cache: Option<&Path>,
    load: impl FnOnce() -> Result<Loaded, E>,
) -> Result<Loaded, E> {
    let slot = Slot::of(kind, root, cache);
    if let Some(kept) = slot.as_ref().and_then(|slot| slot.current(listed)) {
        return Ok(Loaded {
            advisories: kept.advisories,
            problems: Vec::new(),
            digest: kept.digest,
        });
    }
    // The listing is taken before the files are read: a file changed while they are read
    // changes the next run's listing.
    let listing = slot.as_ref().and_then(|_| walk(listed));
    let loaded = load()?;
    if let (Some(slot), Some(listing)) = (slot, listing) {
        slot.write(&loaded, &listing);
    }
    Ok(loaded)
}

/// The content digest the compiled database of `root` records, if it is kept in `cache` and
/// its listing (of `root/crates`, RustSec's) is unchanged: the digest of the files as they are.
pub(crate) fn current_digest(kind: &str, root: &Path, cache: &Path) -> Option<String> {
    let slot = Slot::of(kind, root, Some(cache))?;
    slot.current(&listed_of(kind, root))?.digest
}

/// What keys the database at `root`: RustSec's `crates` folder, an OSV folder or zip itself.
fn listed_of(kind: &str, root: &Path) -> PathBuf {
    if kind == super::RUSTSEC {
        root.join("crates")
    } else {
        root.to_path_buf()
    }
}

/// `payload` behind the header that says it is this version's compiled database for `key`.
pub fn frame(payload: &[u8], key: &[u8; 32]) -> Vec<u8> {
    crate::compiled::frame(FORMAT, payload, key)
}

/// Where the compiled form of the database at `root` would be kept in `cache`, and the key it
/// must carry (`kind`: `rustsec` or `osv`): for tests and the fuzz harness, which plant files
/// there.
pub fn slot_file(kind: &str, root: &Path, cache: &Path) -> Option<(PathBuf, [u8; 32])> {
    Slot::of(kind, root, Some(cache)).map(|slot| (slot.path, slot.key))
}

/// The payload of a compiled database, if `bytes` is one this version wrote for `key`.
fn decode_file(bytes: &[u8], key: &[u8; 32]) -> Option<Payload> {
    crate::compiled::decode(crate::compiled::unframe(bytes, FORMAT, key)?)
}

/// The advisories a compiled database holds, if `bytes` is one for `key`: the reader the
/// fuzz target and the property test drive.
pub fn read_bytes(bytes: &[u8], key: &[u8; 32]) -> Option<usize> {
    decode_file(bytes, key).map(|p| p.advisories.len())
}

/// The listing of the file or folder at `listed` and of everything under it (links not
/// followed), in name order, or `None` when it cannot be made, is too large or too deep, names
/// a file that is not UTF-8, or holds an entry modified in the last two seconds.
fn walk(listed: &Path) -> Option<Vec<Listed>> {
    let racy_after = crate::compiled::racy_after();
    let mut listing = Vec::new();
    // (path, parent, name, depth), taken depth first.
    let mut todo: Vec<(PathBuf, Option<u32>, String, usize)> =
        vec![(listed.to_path_buf(), None, String::new(), 0)];
    while let Some((path, parent, name, depth)) = todo.pop() {
        if listing.len() >= MAX_ENTRIES || depth > MAX_DEPTH {
            return None;
        }
        let meta = std::fs::symlink_metadata(&path).ok()?;
        let (stamp, settled) = crate::compiled::Stamp::of(&meta, racy_after);
        if !settled {
            return None;
        }
        let at = u32::try_from(listing.len()).ok()?;
        listing.push(Listed {
            parent,
            name,
            stamp,
        });
        if !meta.is_dir() {
            continue;
        }
        let mut children = Vec::new();
        for entry in std::fs::read_dir(&path).ok()? {
            children.push(entry.ok()?.file_name().into_string().ok()?);
            if children.len() > MAX_ENTRIES {
                return None;
            }
        }
        // Reversed, so that they are taken off the stack in name order.
        children.sort_unstable_by(|a, b| b.cmp(a));
        for child in children {
            todo.push((path.join(&child), Some(at), child, depth + 1));
        }
    }
    Some(listing)
}

/// Whether every entry of a kept listing has the stamp it was listed with: one `stat` each,
/// relative to the folder listed, no folder read (see the module's doc). A listing that is not
/// one [`walk`] writes (a parent after its child, a name that is not one plain part) is not
/// unchanged.
fn unchanged(listed: &Path, listing: &[Listed]) -> bool {
    use crate::compiled::{Folder, Stamp};
    let Some((first, rest)) = listing.split_first() else {
        return false;
    };
    if first.parent.is_some() || !first.name.is_empty() {
        return false;
    }
    if first.stamp.kind != Stamp::FOLDER {
        // A file (an OSV export zip), or a link: nothing under it.
        return rest.is_empty()
            && std::fs::symlink_metadata(listed)
                .is_ok_and(|meta| Stamp::of(&meta, None).0 == first.stamp);
    }
    // Everything below is stamped relative to the folder held open (`Folder`).
    let Some(root) = Folder::open(listed) else {
        return false;
    };
    if root.stamp(None).map(|(stamp, _)| stamp) != Some(first.stamp) {
        return false;
    }
    // The path of each folder listed, relative to the one listed, by index; files need none.
    let mut folders: Vec<Option<String>> = vec![None; listing.len()];
    folders[0] = Some(String::new());
    for (at, entry) in rest.iter().enumerate().map(|(i, e)| (i + 1, e)) {
        let plain = !entry.name.is_empty()
            && entry.name != "."
            && entry.name != ".."
            && !entry.name.bytes().any(|b| matches!(b, b'/' | b'\\' | 0));
        let Some(parent) = entry
            .parent
            .and_then(|p| usize::try_from(p).ok())
            .filter(|p| *p < at)
            .and_then(|p| folders[p].as_deref())
        else {
            return false;
        };
        if !plain {
            return false;
        }
        // Written piece by piece: `format!` and a `contains` of three characters here were
        // 1.5 M of the database thread's instructions (RustSec's 2,113 entries).
        let mut relative = String::with_capacity(parent.len() + 1 + entry.name.len());
        if !parent.is_empty() {
            relative.push_str(parent);
            relative.push('/');
        }
        relative.push_str(&entry.name);
        if root.stamp_of(&relative, None).map(|(stamp, _)| stamp) != Some(entry.stamp) {
            return false;
        }
        if entry.stamp.kind == Stamp::FOLDER {
            folders[at] = Some(relative);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A folder with two files, listed.
    fn listed() -> (tempfile::TempDir, PathBuf, Vec<Listed>) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("crates");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/one.md"), b"1").unwrap();
        std::fs::write(root.join("two.md"), b"2").unwrap();
        // Settled only after two seconds; `unchanged` needs no settling, so the listing is
        // made here as `walk` makes it, without the racy rule.
        let mut listing = Vec::new();
        for (parent, name, path) in [
            (None, "", root.clone()),
            (Some(0), "a", root.join("a")),
            (Some(1), "one.md", root.join("a/one.md")),
            (Some(0), "two.md", root.join("two.md")),
        ] {
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let (stamp, _) = crate::compiled::Stamp::of(&meta, None);
            listing.push(Listed {
                parent,
                name: name.to_owned(),
                stamp,
            });
        }
        (dir, root, listing)
    }

    #[test]
    fn a_listing_is_unchanged_only_while_every_entry_has_its_stamp() {
        let (_dir, root, listing) = listed();
        assert!(unchanged(&root, &listing));
        std::fs::write(root.join("a/three.md"), b"3").unwrap();
        assert!(!unchanged(&root, &listing), "a file added to a folder");
    }

    /// On unix a backslash is a character of a file name, so a listing can name such a file
    /// with its true stamp: only the name check refuses it (elsewhere it separates a path).
    #[cfg(unix)]
    #[test]
    fn a_name_with_a_backslash_is_refused_even_where_such_a_file_exists() {
        let (_dir, root, mut listing) = listed();
        let odd = root.join("a\\one.md");
        std::fs::write(&odd, b"x").unwrap();
        let stamp = |path: &Path| {
            let meta = std::fs::symlink_metadata(path).unwrap();
            crate::compiled::Stamp::of(&meta, None).0
        };
        listing[0].stamp = stamp(&root);
        listing[3].name = "a\\one.md".to_owned();
        listing[3].stamp = stamp(&odd);
        assert!(!unchanged(&root, &listing));
        // The same listing with the file under a plain name is unchanged: the name is why.
        let plain = root.join("plain.md");
        std::fs::rename(&odd, &plain).unwrap();
        listing[0].stamp = stamp(&root);
        listing[3].name = "plain.md".to_owned();
        listing[3].stamp = stamp(&plain);
        assert!(unchanged(&root, &listing));
    }

    #[test]
    fn a_file_listed_is_unchanged_only_while_its_stamp_is_and_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("export.zip");
        std::fs::write(&zip, b"zip").unwrap();
        let meta = std::fs::symlink_metadata(&zip).unwrap();
        let (stamp, _) = crate::compiled::Stamp::of(&meta, None);
        let mut listing = vec![Listed {
            parent: None,
            name: String::new(),
            stamp,
        }];
        assert!(unchanged(&zip, &listing));
        listing.push(Listed {
            parent: Some(0),
            name: "inside".to_owned(),
            stamp,
        });
        assert!(!unchanged(&zip, &listing), "an entry under a file");
        listing.pop();
        std::fs::write(&zip, b"zip2").unwrap();
        assert!(!unchanged(&zip, &listing), "the file changed");
    }

    #[test]
    fn a_listing_walk_would_not_write_is_never_unchanged() {
        let (_dir, root, listing) = listed();
        let mut cases: Vec<(&str, Vec<Listed>)> = Vec::new();
        let mut edit = |what, f: &dyn Fn(&mut Vec<Listed>)| {
            let mut l = listing.clone();
            f(&mut l);
            cases.push((what, l));
        };
        edit("empty", &|l| l.clear());
        edit("first has a parent", &|l| l[0].parent = Some(0));
        edit("parent after child", &|l| l[2].parent = Some(3));
        edit("parent is a file", &|l| l[3].parent = Some(2));
        edit("dot dot", &|l| l[3].name = "..".to_owned());
        edit("a slash", &|l| l[3].name = "a/one.md".to_owned());
        edit("empty name", &|l| l[3].name = String::new());
        for (what, l) in cases {
            assert!(!unchanged(&root, &l), "{what}");
        }
    }
}
