//! The advisory database download, unpacked: a gzip'd tar whose `crates/**.md` files are
//! written out, and nothing else.
//!
//! The tar crate reads PAX extensions and GNU long names into memory whole, and skips the
//! bodies of entries it is not asked for: a small download can decompress to gigabytes of
//! either. So every byte of the decompressed stream (headers, bodies, padding) passes through
//! [`Bounded`], which allows [`MAX_STREAM_BYTES`] in all and at most [`MAX_HEADER_BYTES`]
//! between the end of one entry's body and the next entry (its headers and extensions).

use std::cell::Cell;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use time::OffsetDateTime;

use super::fetch::FetchError;

/// Every decompressed byte of the download, headers included (advisory-db is about 10 MiB).
pub const MAX_STREAM_BYTES: u64 = 256 * 1024 * 1024;
/// The headers of one entry, PAX extensions and GNU long names included.
pub const MAX_HEADER_BYTES: u64 = 1024 * 1024;
/// A global PAX header we read for the revision.
const MAX_GLOBAL_PAX: u64 = 64 * 1024;
const MAX_ENTRIES: usize = 100_000;

/// Which limit the stream met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Limit {
    Stream,
    Header,
}

/// A reader that refuses past its limits, and says which it met.
struct Bounded<R> {
    inner: R,
    /// Left of the whole stream.
    left: u64,
    /// Left before the next entry must have begun: its predecessor's unread body and padding
    /// and its own headers.
    segment: Rc<Cell<u64>>,
    met: Rc<Cell<Option<Limit>>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let allowed = self.left.min(self.segment.get());
        if allowed == 0 {
            let limit = if self.left == 0 {
                Limit::Stream
            } else {
                Limit::Header
            };
            self.met.set(Some(limit));
            return Err(std::io::Error::other("over the download limit"));
        }
        let want = buf
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        self.segment.set(self.segment.get() - n as u64);
        Ok(n)
    }
}

/// Turns what went wrong while reading the stream into the error to report: a limit met, if
/// one was (the tar reader only sees a failed read), else what the reader said.
struct ArchiveErrors<'a> {
    url: &'a str,
    met: Rc<Cell<Option<Limit>>>,
}

impl ArchiveErrors<'_> {
    fn error(&self, detail: String) -> FetchError {
        let detail = match self.met.get() {
            Some(Limit::Stream) => format!(
                "it decompresses to more than the {MAX_STREAM_BYTES}-byte limit (headers included); this is not the advisory database"
            ),
            Some(Limit::Header) => format!(
                "an entry's headers (PAX extensions or GNU long names) run past the {MAX_HEADER_BYTES}-byte limit; this is not the advisory database"
            ),
            None => detail,
        };
        FetchError::Archive {
            url: self.url.to_owned(),
            detail,
        }
    }
}

/// Unpacks the `crates/**.md` files of the archive into `into/db`, refusing anything that is
/// not a plain file under its top folder. Returns the revision (the pax `comment` GitHub
/// writes), the newest entry time (GitHub stamps every entry with the commit time) and how
/// many advisories it wrote.
pub(crate) fn unpack(
    bytes: &[u8],
    into: &Path,
    url: &str,
) -> Result<(Option<String>, Option<OffsetDateTime>, usize), FetchError> {
    let segment = Rc::new(Cell::new(MAX_HEADER_BYTES));
    let errors = ArchiveErrors {
        url,
        met: Rc::new(Cell::new(None)),
    };
    let stream = Bounded {
        inner: flate2::read::GzDecoder::new(bytes),
        left: MAX_STREAM_BYTES,
        segment: segment.clone(),
        met: errors.met.clone(),
    };
    let mut archive = tar::Archive::new(stream);
    let mut revision = None;
    let mut newest: Option<u64> = None;
    let mut count = 0;
    let entries = archive.entries().map_err(|e| errors.error(e.to_string()))?;
    for (index, entry) in entries.enumerate() {
        if index >= MAX_ENTRIES {
            return Err(errors.error(format!("more than {MAX_ENTRIES} entries")));
        }
        let mut entry = entry.map_err(|e| errors.error(e.to_string()))?;
        // This entry's body and padding may be read or skipped; then the next one's headers.
        segment.set(
            entry
                .size()
                .div_ceil(512)
                .saturating_mul(512)
                .saturating_add(MAX_HEADER_BYTES),
        );
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            revision = global_comment(&mut entry, &errors)?.or(revision);
            continue;
        }
        if let Ok(mtime) = entry.header().mtime() {
            newest = Some(newest.map_or(mtime, |n| n.max(mtime)));
        }
        if kind == tar::EntryType::Regular && write_advisory(&mut entry, into, &errors)? {
            count += 1;
        }
    }
    let updated = newest.and_then(|s| OffsetDateTime::from_unix_timestamp(s as i64).ok());
    Ok((revision, updated, count))
}

/// The `comment` of a global PAX header no larger than [`MAX_GLOBAL_PAX`] (a larger one is
/// skipped unread).
fn global_comment<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    errors: &ArchiveErrors<'_>,
) -> Result<Option<String>, FetchError> {
    if entry.size() > MAX_GLOBAL_PAX {
        return Ok(None);
    }
    let mut text = Vec::new();
    entry
        .take(MAX_GLOBAL_PAX)
        .read_to_end(&mut text)
        .map_err(|e| errors.error(e.to_string()))?;
    Ok(pax_comment(&String::from_utf8_lossy(&text)))
}

/// Writes a regular entry out under `into/db` when it is an advisory; whether it was one.
fn write_advisory<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    into: &Path,
    errors: &ArchiveErrors<'_>,
) -> Result<bool, FetchError> {
    let path = entry
        .path()
        .map_err(|e| errors.error(e.to_string()))?
        .into_owned();
    let Some(relative) = advisory_path(&path) else {
        return Ok(false);
    };
    let limit = super::rustsec_db::MAX_FILE_BYTES;
    if entry.size() > limit {
        return Err(errors.error(format!(
            "{} is larger than the {limit}-byte limit for one advisory",
            path.display()
        )));
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
        .take(limit)
        .read_to_end(&mut data)
        .map_err(|e| errors.error(e.to_string()))?;
    std::fs::write(&target, data).map_err(|source| FetchError::Cache {
        path: target.clone(),
        source,
    })?;
    Ok(true)
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

    /// A gzip'd tar of `entries` (type, name, body).
    fn tarball(entries: &[(tar::EntryType, &str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for (kind, name, body) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(*kind);
            header.set_path(name).unwrap_or_else(|e| panic!("{e}"));
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            gz.write_all(header.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
            gz.write_all(body).unwrap_or_else(|e| panic!("{e}"));
            let pad = body.len().next_multiple_of(512) - body.len();
            gz.write_all(&vec![0; pad])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        gz.write_all(&[0; 1024]).unwrap_or_else(|e| panic!("{e}"));
        gz.finish().unwrap_or_else(|e| panic!("{e}"))
    }

    fn unpack_error(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        match unpack(bytes, dir.path(), "http://127.0.0.1/db.tar.gz") {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_gnu_long_name_past_the_header_limit_is_refused() {
        let name = vec![b'a'; 2 << 20];
        let bytes = tarball(&[
            (tar::EntryType::GNULongName, "././@LongLink", &name),
            (tar::EntryType::Regular, "db/crates/a/RUSTSEC-1.md", b"x"),
        ]);
        let error = unpack_error(&bytes);
        assert!(error.contains("1048576-byte limit"), "{error}");
    }

    #[test]
    fn an_advisory_over_the_file_limit_is_refused() {
        let big = vec![b'a'; (2 << 20) as usize];
        let bytes = tarball(&[(tar::EntryType::Regular, "db/crates/a/RUSTSEC-1.md", &big)]);
        let error = unpack_error(&bytes);
        assert!(error.contains("limit for one advisory"), "{error}");
    }

    #[test]
    fn damaged_downloads_are_errors_never_panics() {
        // Every truncation and a spread of single-byte changes of a small valid archive.
        let good = tarball(&[
            (
                tar::EntryType::XGlobalHeader,
                "pax_global_header",
                b"52 comment=bf5c0d245a92671908518d7e765914d437954ed6\n",
            ),
            (
                tar::EntryType::Regular,
                "db/crates/a/RUSTSEC-1.md",
                b"# advisory",
            ),
            (tar::EntryType::Regular, "db/README.md", b"readme"),
        ]);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let decompressed = {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(good.as_slice())
                .read_to_end(&mut out)
                .unwrap_or_else(|e| panic!("{e}"));
            out
        };
        for len in 0..good.len() {
            let _ = unpack(&good[..len], dir.path(), "u");
        }
        // Changes to the tar stream itself (headers, sizes, checksums), recompressed.
        for at in (0..decompressed.len()).step_by(11) {
            for byte in [0u8, b'7', 0xff] {
                let mut changed = decompressed.clone();
                changed[at] = byte;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut gz, &changed).unwrap_or_else(|e| panic!("{e}"));
                let bytes = gz.finish().unwrap_or_else(|e| panic!("{e}"));
                let _ = unpack(&bytes, dir.path(), "u");
            }
        }
    }
}
