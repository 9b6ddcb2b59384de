//! Files this tool compiles from others and keeps in the user's cache folder (a parsed advisory
//! database, the registry facts of an index folder), so that the next run reads one file
//! instead of parsing many. One container for all of them, because the rules are the same:
//!
//! - **Ours or nothing.** A header with a magic string, the payload's format, this crate's
//!   version, the key the payload was made for, its length and its SHA-256. A file that is not
//!   exactly that (damaged, truncated, foreign, another version or format, another key) is not
//!   used, silently: the caller parses the sources again and writes the file anew. A compiled
//!   file is never an error and never a source of facts its sources do not hold.
//! - **Bounded**: read as a regular file of at most [`MAX_BYTES`]; nothing larger is written.
//! - **Atomic**: written to a temporary file in the same folder, then renamed.
//! - **Known by stat, not by reading** ([`Stamp`]): a source file is the one compiled while its
//!   size, modification and change times, inode and device are the same, the way cargo
//!   fingerprints a source tree. A file modified within the last two seconds is not trusted to
//!   show a later change in its times (git's "racy" rule), so it is not kept.
//!
//! The payload is postcard (compact, no field names), chosen on measurement: see
//! `advisories::compiled`.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// The most bytes a compiled file may have (its sources are bounded at 256 MiB).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;
const MAGIC: &[u8; 24] = b"charter-audit compiled\n\0";

/// `payload` behind the header that says it is this version's compiled file of `format` for
/// `key`.
pub fn frame(format: u32, payload: &[u8], key: &[u8; 32]) -> Vec<u8> {
    let mut out = header(format, payload, key);
    out.extend_from_slice(payload);
    out
}

/// The header that says `payload` is this version's compiled file of `format` for `key`.
fn header(format: u32, payload: &[u8], key: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&format.to_le_bytes());
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    // A crate version is far shorter than 255 bytes.
    out.push(u8::try_from(version.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(version);
    out.extend_from_slice(key);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out
}

/// The payload of `bytes`, if they are a compiled file this version wrote in `format` for
/// `key`.
pub fn unframe<'a>(bytes: &'a [u8], format: u32, key: &[u8; 32]) -> Option<&'a [u8]> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (stored, rest) = rest.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*stored) != format {
        return None;
    }
    let (length, rest) = rest.split_first()?;
    let (version, rest) = rest.split_at_checked(usize::from(*length))?;
    if version != env!("CARGO_PKG_VERSION").as_bytes() {
        return None;
    }
    let (stored_key, rest) = rest.split_first_chunk::<32>()?;
    if stored_key != key {
        return None;
    }
    let (length, rest) = rest.split_first_chunk::<8>()?;
    let (sum, payload) = rest.split_first_chunk::<32>()?;
    if u64::try_from(payload.len()).ok()? != u64::from_le_bytes(*length)
        || Sha256::digest(payload).as_slice() != sum.as_slice()
    {
        return None;
    }
    Some(payload)
}

/// The value in a payload, if it decodes whole.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Option<T> {
    let (value, rest) = postcard::take_from_bytes::<T>(payload).ok()?;
    rest.is_empty().then_some(value)
}

/// A value in its compact form, or `None` when it would be over [`MAX_BYTES`].
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Option<Vec<u8>> {
    postcard::serialize_with_flavor(value, Capped(Vec::new())).ok()
}

/// The value kept at `path` in `format` for `key`, or `None` (missing, damaged, foreign, stale).
pub fn read<T: DeserializeOwned>(path: &Path, format: u32, key: &[u8; 32]) -> Option<T> {
    let bytes = crate::regular_file::read(path, MAX_BYTES).ok()?;
    decode(unframe(&bytes, format, key)?)
}

/// Writes `value` framed for `format` and `key` to `path` (see [`write_parts`]), its payload
/// encoded into a buffer of `capacity` bytes to begin with (a good guess spares the copies of a
/// growing buffer): header and payload are written one after the other, not copied into one
/// buffer (a cold audit's peak memory holds both compiled files' payloads).
pub fn write<T: Serialize + ?Sized>(
    path: &Path,
    format: u32,
    key: &[u8; 32],
    value: &T,
    capacity: usize,
) {
    let capacity = capacity.min(usize::try_from(MAX_BYTES).unwrap_or(usize::MAX));
    if let Ok(payload) =
        postcard::serialize_with_flavor(value, Capped(Vec::with_capacity(capacity)))
    {
        write_parts(path, &[&header(format, &payload, key), &payload]);
    }
}

/// Writes `parts` one after the other to `path` atomically (a temporary file in the same
/// folder, then renamed); a failure is not an error (the file is a cache).
fn write_parts(path: &Path, parts: &[&[u8]]) {
    let Some(dir) = path.parent() else {
        return;
    };
    let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut file| {
        for part in parts {
            file.write_all(part)?;
        }
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    });
    drop(written);
}

/// A buffer that refuses to grow past [`MAX_BYTES`]: an OSV record of many packages is held
/// once in memory but written once per package. A postcard flavour, so that each byte costs a
/// push, not an `io::Write` call (writing through `io::Write` was a sixth of a cold audit).
struct Capped(Vec<u8>);

impl postcard::ser_flavors::Flavor for Capped {
    type Output = Vec<u8>;

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.try_extend(&[byte])
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        // The header comes on top, and the file as a whole is read up to MAX_BYTES.
        if (self.0.len() + bytes.len()) as u64 > MAX_BYTES - 4096 {
            return Err(postcard::Error::SerializeBufferFull);
        }
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

/// What identifies a file's content without reading it: its type, size, modification and
/// change times (the change time no one can set back), inode and device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stamp {
    pub kind: u8,
    pub len: u64,
    pub modified: (u64, u32),
    pub changed: (i64, i64),
    pub inode: u64,
    pub device: u64,
}

impl Stamp {
    /// The `kind` of a folder.
    pub const FOLDER: u8 = 2;

    /// The stamp of a file's metadata (from `symlink_metadata`), and whether it is settled:
    /// neither modified nor changed after `racy_after`.
    pub fn of(meta: &std::fs::Metadata, racy_after: Option<SystemTime>) -> (Stamp, bool) {
        let kind = meta.file_type();
        let kind: u8 = if kind.is_symlink() {
            1
        } else if kind.is_dir() {
            Stamp::FOLDER
        } else if kind.is_file() {
            3
        } else {
            4
        };
        let modified = meta.modified().ok();
        let since = modified
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .unwrap_or_default();
        #[cfg(unix)]
        let (changed, inode, device, changed_at) = {
            use std::os::unix::fs::MetadataExt;
            let at = u64::try_from(meta.ctime()).ok().map(|secs| {
                SystemTime::UNIX_EPOCH
                    + Duration::new(secs, u32::try_from(meta.ctime_nsec()).unwrap_or(0))
            });
            (
                (meta.ctime(), meta.ctime_nsec()),
                meta.ino(),
                meta.dev(),
                at,
            )
        };
        #[cfg(not(unix))]
        let (changed, inode, device, changed_at) = ((0, 0), 0, 0, modified);
        let newest = modified.max(changed_at);
        let settled = modified.is_some()
            && newest.is_some_and(|m| racy_after.is_some_and(|after| m <= after));
        let stamp = Stamp {
            kind,
            len: meta.len(),
            modified: (since.as_secs(), since.subsec_nanos()),
            changed,
            inode,
            device,
        };
        (stamp, settled)
    }
}

/// The time after which a modification is too recent to trust (two seconds ago).
pub fn racy_after() -> Option<SystemTime> {
    SystemTime::now().checked_sub(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_was_framed_for_this_format_and_key_is_unframed() {
        let key = [7u8; 32];
        let framed = frame(3, b"payload", &key);
        assert_eq!(unframe(&framed, 3, &key), Some(&b"payload"[..]));
        assert_eq!(unframe(&framed, 4, &key), None);
        assert_eq!(unframe(&framed, 3, &[8u8; 32]), None);
        for cut in 0..framed.len() {
            assert_eq!(unframe(&framed[..cut], 3, &key), None, "{cut}");
        }
        let mut flipped = framed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(unframe(&flipped, 3, &key), None);
    }

    #[test]
    fn a_file_just_written_is_not_settled() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let meta = std::fs::symlink_metadata(&file).unwrap();
        let (stamp, settled) = Stamp::of(&meta, racy_after());
        assert!(!settled);
        assert_eq!((stamp.kind, stamp.len), (3, 1));
        let (_, later) = Stamp::of(&meta, Some(SystemTime::now() + Duration::from_secs(60)));
        assert!(later);
    }
}
