//! The compiled advisory database: what a database folder (or OSV export zip) loaded to, kept
//! in one file in the user's cache folder, so that the next run reads one file instead of
//! parsing every advisory again.
//!
//! **Key.** A database is known by the listing of its files (relative name, type, size,
//! modification time to the nanosecond, inode), read with one `stat` per file and no open:
//! the way cargo fingerprints a source tree. A cached database is used only when the listing
//! is the one it was built from; a file added, removed, resized or touched makes the next run
//! parse the folder again and replace the file. A file changed within the same modification
//! time and size would go unseen (as with cargo), so a database with a file modified in the
//! last two seconds is not cached at all (git's "racy" rule). The report's revision for a
//! plain folder is the content digest recorded when the cache was built from those files.
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
/// Bumped whenever the payload's shape changes.
const FORMAT: u32 = 1;

/// What is kept: everything the database loaded to (a database with problems is not kept).
#[derive(Serialize, Deserialize)]
struct Payload {
    digest: Option<String>,
    advisories: Vec<Advisory>,
}

/// Where one database's compiled file is, and the key it must carry.
#[derive(Debug)]
pub(crate) struct Slot {
    path: PathBuf,
    key: [u8; 32],
    /// False when a file was modified too recently to trust its modification time.
    settled: bool,
}

impl Slot {
    /// The slot of the database at `root` (`kind`: `rustsec` or `osv`; `listed`: the folder or
    /// file whose listing keys it), or `None` when there is no cache folder or the listing
    /// cannot be made.
    pub(crate) fn of(kind: &str, root: &Path, listed: &Path, cache: Option<&Path>) -> Option<Slot> {
        let cache = cache?;
        let dir = cache.join("compiled");
        super::cache::secure(cache).ok()?;
        super::cache::secure(&dir).ok()?;
        let root = std::fs::canonicalize(root).ok()?;
        let mut name = Sha256::new();
        name.update(kind.as_bytes());
        name.update([0]);
        name.update(root.as_os_str().as_encoded_bytes());
        let name = hex::encode(&name.finalize()[..16]);
        let mut listing = Listing::new(kind, &root);
        listing.walk(listed, Path::new(""), 0)?;
        Some(Slot {
            path: dir.join(format!("{kind}-{name}.bin")),
            key: listing.hash.finalize().into(),
            settled: listing.settled,
        })
    }

    /// The database kept for this key, or `None` (missing, damaged, foreign, stale).
    pub(crate) fn read(&self) -> Option<Loaded> {
        let payload: Payload = crate::compiled::read(&self.path, FORMAT, &self.key)?;
        Some(Loaded {
            advisories: payload.advisories,
            problems: Vec::new(),
            digest: payload.digest,
        })
    }

    /// Keeps what loaded, if it loaded whole and its files are settled; a failure to write is
    /// not an error (the next run parses again).
    pub(crate) fn write(&self, loaded: &Loaded) {
        if !self.settled || !loaded.problems.is_empty() {
            return;
        }
        if let Some(bytes) = encode_file(&loaded.advisories, loaded.digest.as_deref(), &self.key) {
            crate::compiled::write_framed(&self.path, &bytes);
        }
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
    // The listing is taken before the files are read: a file changed while they are read
    // changes the next run's key.
    let slot = Slot::of(kind, root, listed, cache);
    if let Some(kept) = slot.as_ref().and_then(Slot::read) {
        return Ok(kept);
    }
    let loaded = load()?;
    if let Some(slot) = slot {
        slot.write(&loaded);
    }
    Ok(loaded)
}

/// The header and payload of a compiled database for `key`, or `None` when it would be over
/// `crate::compiled::MAX_BYTES`.
pub(crate) fn encode_file(
    advisories: &[Advisory],
    digest: Option<&str>,
    key: &[u8; 32],
) -> Option<Vec<u8>> {
    #[derive(Serialize)]
    struct PayloadRef<'a> {
        digest: Option<&'a str>,
        advisories: &'a [Advisory],
    }
    let payload = crate::compiled::encode(&PayloadRef { digest, advisories })?;
    Some(frame(&payload, key))
}

/// `payload` behind the header that says it is this version's compiled database for `key`.
pub fn frame(payload: &[u8], key: &[u8; 32]) -> Vec<u8> {
    crate::compiled::frame(FORMAT, payload, key)
}

/// Where the compiled form of the database at `root` would be kept in `cache`, and the key it
/// must carry now (`kind`: `rustsec`, whose listing is of `root/crates`, or `osv`): for tests
/// and the fuzz harness, which plant files there.
pub fn slot_file(kind: &str, root: &Path, cache: &Path) -> Option<(PathBuf, [u8; 32])> {
    let listed = if kind == super::RUSTSEC {
        root.join("crates")
    } else {
        root.to_path_buf()
    };
    Slot::of(kind, root, &listed, Some(cache)).map(|slot| (slot.path, slot.key))
}

/// The payload of a compiled database, if `bytes` is one this version wrote for `key`.
fn decode_file(bytes: &[u8], key: &[u8; 32]) -> Option<Payload> {
    crate::compiled::decode(crate::compiled::unframe(bytes, FORMAT, key)?)
}

/// The content digest recorded in the compiled database at `path` for `key`, if there is one.
pub(crate) fn read_digest(path: &Path, key: &[u8; 32]) -> Option<String> {
    crate::compiled::read::<Payload>(path, FORMAT, key)?.digest
}

/// The advisories a compiled database holds, if `bytes` is one for `key`: the reader the
/// fuzz target and the property test drive.
pub fn read_bytes(bytes: &[u8], key: &[u8; 32]) -> Option<usize> {
    decode_file(bytes, key).map(|p| p.advisories.len())
}

/// The listing a key is made of.
struct Listing {
    hash: Sha256,
    entries: usize,
    settled: bool,
    /// Modification times after this are too recent to trust.
    racy_after: Option<std::time::SystemTime>,
}

impl Listing {
    fn new(kind: &str, root: &Path) -> Listing {
        let mut hash = Sha256::new();
        hash.update(b"charter-audit compiled advisories\0");
        hash.update(FORMAT.to_le_bytes());
        hash.update(env!("CARGO_PKG_VERSION").as_bytes());
        hash.update([0]);
        hash.update(kind.as_bytes());
        hash.update([0]);
        hash.update(root.as_os_str().as_encoded_bytes());
        hash.update([0]);
        Listing {
            hash,
            entries: 0,
            settled: true,
            racy_after: crate::compiled::racy_after(),
        }
    }

    /// Adds `path` (named `name` in the listing) and, for a folder (not a link), everything
    /// under it, in name order.
    fn walk(&mut self, path: &Path, name: &Path, depth: usize) -> Option<()> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES || depth > MAX_DEPTH {
            return None;
        }
        let meta = std::fs::symlink_metadata(path).ok()?;
        self.entry(name, &meta);
        if !meta.is_dir() {
            return Some(());
        }
        let mut children = Vec::new();
        for entry in std::fs::read_dir(path).ok()? {
            children.push(entry.ok()?.file_name());
            if children.len() > MAX_ENTRIES {
                return None;
            }
        }
        children.sort();
        for child in children {
            self.walk(&path.join(&child), &name.join(&child), depth + 1)?;
        }
        Some(())
    }

    fn entry(&mut self, name: &Path, meta: &std::fs::Metadata) {
        let name = name.as_os_str().as_encoded_bytes();
        self.hash.update((name.len() as u64).to_le_bytes());
        self.hash.update(name);
        let (stamp, settled) = crate::compiled::Stamp::of(meta, self.racy_after);
        self.hash.update([stamp.kind]);
        self.hash.update(stamp.len.to_le_bytes());
        self.hash.update(stamp.modified.0.to_le_bytes());
        self.hash.update(stamp.modified.1.to_le_bytes());
        self.hash.update(stamp.inode.to_le_bytes());
        self.hash.update(stamp.device.to_le_bytes());
        self.hash.update(stamp.changed.0.to_le_bytes());
        self.hash.update(stamp.changed.1.to_le_bytes());
        self.settled &= settled;
    }
}
