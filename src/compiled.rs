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

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// The most bytes a compiled file may have (its sources are bounded at 256 MiB).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;
/// The most bytes of payload one may have: the header comes on top, and the file as a whole is
/// read up to [`MAX_BYTES`].
const MAX_PAYLOAD_BYTES: u64 = MAX_BYTES - 4096;
const MAGIC: &[u8; 24] = b"charter-audit compiled\n\0";

/// `payload` behind the header that says it is this version's compiled file of `format` for
/// `key`.
pub fn frame(format: u32, payload: &[u8], key: &[u8; 32]) -> Vec<u8> {
    let digest: [u8; 32] = Sha256::digest(payload).into();
    let mut out = header(format, payload.len() as u64, &digest, key);
    out.extend_from_slice(payload);
    out
}

/// The header that says a payload of `length` bytes with SHA-256 `digest` is this version's
/// compiled file of `format` for `key`.
fn header(format: u32, length: u64, digest: &[u8; 32], key: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&format.to_le_bytes());
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    // A crate version is far shorter than 255 bytes.
    out.push(u8::try_from(version.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(version);
    out.extend_from_slice(key);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(digest);
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

/// Writes `value` framed for `format` and `key` to `path` atomically (a temporary file in the
/// same folder, then renamed); a failure is not an error (the file is a cache). The payload is
/// encoded straight into the file through a 64 KiB buffer (a longer string or byte string
/// directly), digested as it goes, and the header
/// written last in the room left for it at the start: a cold audit's peak memory held both
/// compiled files' whole payloads when they were encoded into buffers first.
pub fn write<T: Serialize + ?Sized>(path: &Path, format: u32, key: &[u8; 32], value: &T) {
    let Some(dir) = path.parent() else {
        return;
    };
    let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut file| {
        let room = header(format, 0, &[0; 32], key).len();
        file.write_all(&vec![0; room])?;
        let (length, digest) =
            postcard::serialize_with_flavor(value, Streamed::new(file.as_file()))
                .map_err(|e| std::io::Error::other(e.to_string()))??;
        let header = header(format, length, &digest, key);
        debug_assert_eq!(header.len(), room);
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header)?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    });
    drop(written);
}

/// How many bytes of a payload [`Streamed`] gathers before it digests and writes them.
const CHUNK: usize = 64 * 1024;

/// A payload on its way into `file`: gathered in a buffer of [`CHUNK`] bytes, each full buffer
/// digested and written; it refuses to grow past [`MAX_PAYLOAD_BYTES`]. A postcard flavour, as
/// [`Capped`] is.
struct Streamed<'a> {
    file: &'a std::fs::File,
    buffer: Vec<u8>,
    digest: Sha256,
    length: u64,
}

impl<'a> Streamed<'a> {
    fn new(file: &'a std::fs::File) -> Self {
        Streamed {
            file,
            buffer: Vec::with_capacity(CHUNK),
            digest: Sha256::new(),
            length: 0,
        }
    }

    /// Digests and writes what the buffer holds.
    fn flush(&mut self) -> std::io::Result<()> {
        self.digest.update(&self.buffer);
        let result = (&mut &*self.file).write_all(&self.buffer);
        self.buffer.clear();
        result
    }
}

impl postcard::ser_flavors::Flavor for Streamed<'_> {
    /// The payload's length and SHA-256, once every byte is in the file.
    type Output = std::io::Result<(u64, [u8; 32])>;

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.try_extend(&[byte])
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        self.length += bytes.len() as u64;
        if self.length > MAX_PAYLOAD_BYTES {
            return Err(postcard::Error::SerializeBufferFull);
        }
        if self.buffer.len() + bytes.len() > CHUNK {
            self.flush()
                .map_err(|_| postcard::Error::SerializeBufferFull)?;
            if bytes.len() >= CHUNK {
                // A long string or byte string goes straight to the file: the buffer stays
                // CHUNK bytes.
                self.digest.update(bytes);
                return (&mut &*self.file)
                    .write_all(bytes)
                    .map_err(|_| postcard::Error::SerializeBufferFull);
            }
        }
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    fn finalize(mut self) -> postcard::Result<Self::Output> {
        Ok(self
            .flush()
            .map(|()| (self.length, self.digest.finalize().into())))
    }
}

/// A buffer that refuses to grow past [`MAX_PAYLOAD_BYTES`]: an OSV record of many packages is held
/// once in memory but written once per package. A postcard flavour, so that each byte costs a
/// push, not an `io::Write` call (writing through `io::Write` was a sixth of a cold audit).
struct Capped(Vec<u8>);

impl postcard::ser_flavors::Flavor for Capped {
    type Output = Vec<u8>;

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.try_extend(&[byte])
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        if (self.0.len() + bytes.len()) as u64 > MAX_PAYLOAD_BYTES {
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
    /// The `kind` of a regular file.
    pub const FILE: u8 = 3;

    /// The stamp of a file's metadata (from `symlink_metadata`), and whether it is settled:
    /// neither modified nor changed after `racy_after`.
    pub fn of(meta: &std::fs::Metadata, racy_after: Option<SystemTime>) -> (Stamp, bool) {
        let kind = meta.file_type();
        let kind: u8 = if kind.is_symlink() {
            1
        } else if kind.is_dir() {
            Stamp::FOLDER
        } else if kind.is_file() {
            Stamp::FILE
        } else {
            4
        };
        #[cfg(unix)]
        let (changed, inode, device) = {
            use std::os::unix::fs::MetadataExt;
            ((meta.ctime(), meta.ctime_nsec()), meta.ino(), meta.dev())
        };
        #[cfg(not(unix))]
        let (changed, inode, device) = ((0, 0), 0, 0);
        Stamp::of_parts(
            Parts {
                kind,
                len: meta.len(),
                modified: meta.modified().ok(),
                changed,
                inode,
                device,
            },
            racy_after,
        )
    }

    fn of_parts(parts: Parts, racy_after: Option<SystemTime>) -> (Stamp, bool) {
        let Parts {
            kind,
            len,
            modified,
            changed,
            inode,
            device,
        } = parts;
        let since = modified
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .unwrap_or_default();
        #[cfg(unix)]
        let changed_at = u64::try_from(changed.0).ok().map(|secs| {
            SystemTime::UNIX_EPOCH + Duration::new(secs, u32::try_from(changed.1).unwrap_or(0))
        });
        #[cfg(not(unix))]
        let changed_at = modified;
        let newest = modified.max(changed_at);
        let settled = modified.is_some()
            && newest.is_some_and(|m| racy_after.is_some_and(|after| m <= after));
        let stamp = Stamp {
            kind,
            len,
            modified: (since.as_secs(), since.subsec_nanos()),
            changed,
            inode,
            device,
        };
        (stamp, settled)
    }

    /// The stamp `statx` gives, made as [`Stamp::of`] makes it from the `Metadata` std makes
    /// of the same `statx` (the device as `makedev(major, minor)`, the modification time as
    /// seconds and nanoseconds from the epoch), so that the two agree on every file.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn of_statx(stat: &rustix::fs::Statx, racy_after: Option<SystemTime>) -> (Stamp, bool) {
        use rustix::fs::FileType;
        let kind = match FileType::from_raw_mode(rustix::fs::RawMode::from(stat.stx_mode)) {
            FileType::Symlink => 1,
            FileType::Directory => Stamp::FOLDER,
            FileType::RegularFile => Stamp::FILE,
            _ => 4,
        };
        // std's `SystemTime::new(seconds, nanoseconds)`: the seconds, signed, then the
        // nanoseconds forward.
        let time = |t: &rustix::fs::StatxTimestamp| {
            let whole = Duration::from_secs(t.tv_sec.unsigned_abs());
            let at = if t.tv_sec < 0 {
                SystemTime::UNIX_EPOCH.checked_sub(whole)
            } else {
                SystemTime::UNIX_EPOCH.checked_add(whole)
            };
            at?.checked_add(Duration::from_nanos(u64::from(t.tv_nsec)))
        };
        Stamp::of_parts(
            Parts {
                kind,
                len: stat.stx_size,
                modified: time(&stat.stx_mtime),
                changed: (stat.stx_ctime.tv_sec, i64::from(stat.stx_ctime.tv_nsec)),
                inode: stat.stx_ino,
                device: rustix::fs::makedev(stat.stx_dev_major, stat.stx_dev_minor),
            },
            racy_after,
        )
    }
}

/// What a [`Stamp`] is made of.
struct Parts {
    kind: u8,
    len: u64,
    modified: Option<SystemTime>,
    changed: (i64, i64),
    inode: u64,
    device: u64,
}

/// A folder held open, under which stamps are taken by a path relative to it: `statx` at the
/// folder's descriptor walks only the relative part of the path. A warm audit stamps every
/// entry of RustSec's listing (2,114) and every index entry it looks up (866 for nushell's
/// lockfile); from the root, the kernel's path walk of the six or seven parts of each path was
/// 12% of the audit's CPU time, `stat`s in all 21% (`perf`, 30 runs). std has no `statx` at a
/// descriptor (only `DirEntry::metadata`, which costs reading the folder), so rustix's is used.
#[derive(Debug)]
pub struct Folder {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fd: rustix::fd::OwnedFd,
    /// Where it was opened: stamps are taken by path where there is no `statx` (a kernel
    /// before 4.11, a sandbox that refuses it), as std does then.
    path: std::path::PathBuf,
}

impl Folder {
    /// The folder at `path` (its last part not followed), or `None` when it is not a folder.
    pub fn open(path: &Path) -> Option<Folder> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            rustix::fs::open(path, flags, Mode::empty())
                .ok()
                .map(|fd| Folder {
                    fd,
                    path: path.to_path_buf(),
                })
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            std::fs::symlink_metadata(path)
                .ok()
                .filter(|meta| meta.is_dir())
                .map(|_| Folder {
                    path: path.to_path_buf(),
                })
        }
    }

    /// The stamp of the folder itself (the one held open), and whether it is settled.
    pub fn stamp(&self, racy_after: Option<SystemTime>) -> Option<(Stamp, bool)> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::{AtFlags, StatxFlags};
            let flags = AtFlags::EMPTY_PATH;
            match rustix::fs::statx(&self.fd, "", flags, StatxFlags::BASIC_STATS) {
                Ok(stat) => Some(Stamp::of_statx(&stat, racy_after)),
                Err(rustix::io::Errno::NOSYS) => by_path(&self.path, racy_after),
                Err(_) => None,
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            by_path(&self.path, racy_after)
        }
    }

    /// The stamp of what `relative` names under the folder (its last part not followed), and
    /// whether it is settled: what `Stamp::of(&symlink_metadata(folder.join(relative)))` gives.
    pub fn stamp_of(
        &self,
        relative: &str,
        racy_after: Option<SystemTime>,
    ) -> Option<(Stamp, bool)> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::{AtFlags, StatxFlags};
            let flags = AtFlags::SYMLINK_NOFOLLOW;
            match rustix::fs::statx(&self.fd, relative, flags, StatxFlags::BASIC_STATS) {
                Ok(stat) => Some(Stamp::of_statx(&stat, racy_after)),
                Err(rustix::io::Errno::NOSYS) => by_path(&self.path.join(relative), racy_after),
                Err(_) => None,
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            by_path(&self.path.join(relative), racy_after)
        }
    }
}

/// The stamp std's `symlink_metadata` gives `path`, and whether it is settled.
fn by_path(path: &Path, racy_after: Option<SystemTime>) -> Option<(Stamp, bool)> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some(Stamp::of(&meta, racy_after))
}

/// The time after which a modification is too recent to trust (two seconds ago).
pub fn racy_after() -> Option<SystemTime> {
    SystemTime::now().checked_sub(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What std's `symlink_metadata` stamps `path` as, if it can be read.
    fn by_std(path: &Path, racy_after: Option<SystemTime>) -> Option<(Stamp, bool)> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        Some(Stamp::of(&meta, racy_after))
    }

    /// std makes a device number of `statx`'s parts with libc's `makedev`; `Folder` with
    /// rustix's: the two agree on numbers wider than the test machine's own device shows.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_device_number_is_made_as_std_makes_it() {
        for (major, minor) in [(0, 0), (254, 0), (0x1234, 0x5_6789), (u32::MAX, u32::MAX)] {
            assert_eq!(
                rustix::fs::makedev(major, minor),
                libc::makedev(major, minor),
                "{major}:{minor}"
            );
        }
    }

    #[test]
    fn a_stamp_taken_under_an_open_folder_is_the_one_std_gives_for_the_whole_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(root.join("file"), b"12345").unwrap();
        std::fs::write(root.join("sub/deeper/inner"), b"x").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("file", root.join("link")).unwrap();
            std::os::unix::fs::symlink("sub", root.join("folder-link")).unwrap();
        }
        let folder = Folder::open(root).unwrap();
        let now = Some(SystemTime::now() + Duration::from_secs(60));
        for racy_after in [None, racy_after(), now] {
            assert_eq!(folder.stamp(racy_after), by_std(root, racy_after));
            for relative in [
                "file",
                "sub",
                "sub/deeper",
                "sub/deeper/inner",
                "link",
                "folder-link",
                "folder-link/deeper/inner",
            ] {
                let ours = folder.stamp_of(relative, racy_after);
                assert!(ours.is_some(), "{relative}");
                assert_eq!(ours, by_std(&root.join(relative), racy_after), "{relative}");
            }
            for missing in ["nothing", "file/under-a-file", "sub/nothing"] {
                assert_eq!(folder.stamp_of(missing, racy_after), None, "{missing}");
            }
        }
        let (link, _) = folder.stamp_of("link", None).unwrap();
        let (file, settled) = folder.stamp_of("file", now).unwrap();
        assert_eq!((link.kind, file.kind, file.len), (1, Stamp::FILE, 5));
        assert!(settled);
        // A file changed under the open folder has a new stamp.
        std::fs::write(root.join("file"), b"123456").unwrap();
        assert_ne!(folder.stamp_of("file", None).unwrap().0, file);
    }

    #[test]
    fn only_a_folder_is_opened_as_one_and_a_link_to_one_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), b"").unwrap();
        assert!(Folder::open(&dir.path().join("file")).is_none());
        assert!(Folder::open(&dir.path().join("missing")).is_none());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(".", dir.path().join("link")).unwrap();
            assert!(Folder::open(&dir.path().join("link")).is_none());
        }
        assert!(Folder::open(dir.path()).is_some());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Modification times before and after the epoch, to the nanosecond, stamp the same
        /// either way.
        #[test]
        fn any_modification_time_stamps_as_std_stamps_it(
            seconds in -2_000_000_000i64..8_000_000_000,
            nanos in 0u32..1_000_000_000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("file");
            let file = std::fs::File::create(&path).unwrap();
            let whole = Duration::from_secs(seconds.unsigned_abs());
            let at = if seconds < 0 {
                SystemTime::UNIX_EPOCH - whole
            } else {
                SystemTime::UNIX_EPOCH + whole
            } + Duration::from_nanos(u64::from(nanos));
            file.set_modified(at).unwrap();
            drop(file);
            let folder = Folder::open(dir.path()).unwrap();
            for racy_after in [None, Some(at), Some(SystemTime::now() + Duration::from_secs(60))] {
                proptest::prop_assert_eq!(
                    folder.stamp_of("file", racy_after),
                    by_std(&path, racy_after)
                );
            }
        }
    }

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

    proptest::proptest! {
        /// A payload streamed into its file, in chunks, is framed byte for byte as one framed
        /// in memory, and reads back whole: below, at and across the chunk's size.
        #[test]
        fn a_streamed_file_is_the_one_framed_in_memory(
            len in proptest::prop_oneof![
                0usize..300,
                (CHUNK - 8)..(CHUNK + 8),
                (2 * CHUNK)..(3 * CHUNK + 100),
            ],
            text in proptest::prop_oneof![
                0usize..300,
                (CHUNK - 8)..(CHUNK + 8),
                (2 * CHUNK)..(2 * CHUNK + 100),
            ],
            seed in proptest::prelude::any::<u8>(),
        ) {
            // Postcard writes a `Vec<u8>` a byte at a time and a string in one piece: both,
            // below, at and over the buffer's size.
            let bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
            let text: String = (0..text).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let value = (bytes, text, vec![format!("entry {seed}"); 3]);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("compiled.bin");
            let key = [seed; 32];
            write(&path, 9, &key, &value);
            let written = std::fs::read(&path).unwrap();
            proptest::prop_assert_eq!(&written, &frame(9, &encode(&value).unwrap(), &key));
            proptest::prop_assert_eq!(read::<(Vec<u8>, String, Vec<String>)>(&path, 9, &key), Some(value));
            // Nothing left beside it: the temporary file was renamed.
            proptest::prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        }
    }

    /// A payload of `len` bytes in strings of 1 MiB, made as it is written.
    struct Large {
        len: usize,
    }

    impl Serialize for Large {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeTuple;
            const PIECE: usize = 1024 * 1024;
            let piece = "x".repeat(PIECE);
            let mut tuple = s.serialize_tuple(self.len.div_ceil(PIECE))?;
            let mut left = self.len;
            while left > 0 {
                let n = left.min(PIECE);
                tuple.serialize_element(&piece[..n])?;
                left -= n;
            }
            tuple.end()
        }
    }

    #[test]
    fn a_payload_over_the_limit_is_not_written_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compiled.bin");
        let len = usize::try_from(MAX_BYTES).unwrap();
        write(&path, 9, &[0; 32], &Large { len });
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Well under it, the same kind of value is written.
        write(&path, 9, &[0; 32], &Large { len: 3 * CHUNK });
        assert!(path.exists());
    }

    #[test]
    fn a_file_that_cannot_be_written_is_no_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/compiled.bin");
        write(&path, 9, &[0; 32], &vec![1u8; 3 * CHUNK]);
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
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
