//! An on-disk cache of HTTP answers, revalidated on every use: the cached answer's `ETag` and
//! `Last-Modified` are sent back (`If-None-Match`, `If-Modified-Since`), and a `304 Not
//! Modified` (no body) means the cached body is still the server's answer. Nothing is used
//! without the server's word that it is current, so the cache saves bytes, never freshness.
//!
//! Each entry is one file this tool wrote: a format line, a JSON header (the URL it answers,
//! the validators, the body's length and SHA-256) and the body. A file that is not exactly
//! that (truncated, corrupt, another URL's, too large, not a regular file) is discarded and
//! the answer fetched again: a cache entry is never an error and never says what the server
//! did not. Entries are written atomically (a temporary file in the same folder, renamed), so
//! a run that stops halfway, or two runs at once, leave whole entries or none. The caller
//! chooses the file (inside a cache folder it has checked, see `advisories::fetch::cache_dir`)
//! from names that cannot leave it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Fetched, Http, HttpError, Revalidated, Validators};

const FORMAT: &[u8] = b"charter-audit http cache 1\n";
/// The header line, at most (a URL and two validators of at most 1 KiB each).
const MAX_HEADER: u64 = 16 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    length: u64,
    sha256: String,
}

/// An answer as the cache holds it.
struct Entry {
    body: Vec<u8>,
    validators: Validators,
}

/// The folder inside the cache folder `root` for the answers of one server (`kind`, then a
/// digest of its base URL: a URL is no file name).
pub fn folder(root: &Path, kind: &str, base: &str) -> PathBuf {
    root.join(kind)
        .join(hex::encode(&Sha256::digest(base.as_bytes())[..16]))
}

/// GETs `url` as [`Http::get`] does, keeping the answer in `file` (when given) and asking next
/// time only whether it changed. Offline, the cache is not read: the client refuses as ever.
pub fn get(http: &Http, url: &str, limit: u64, file: Option<&Path>) -> Result<Fetched, HttpError> {
    let Some(file) = file.filter(|_| !http.is_offline()) else {
        return http.get(url, limit);
    };
    let cached = read(file, url, limit);
    match http.get_if_changed(url, limit, cached.as_ref().map(|c| &c.validators))? {
        Revalidated::NotModified => match cached {
            Some(entry) => Ok(Fetched::Body(entry.body)),
            // Not reached: without validators the question is not asked.
            None => http.get(url, limit),
        },
        Revalidated::Body(body, validators) => {
            if validators.etag.is_some() || validators.last_modified.is_some() {
                write(file, url, &validators, &body);
            } else if cached.is_some() {
                let _ = std::fs::remove_file(file);
            }
            Ok(Fetched::Body(body))
        }
        Revalidated::NotFound => {
            if cached.is_some() {
                let _ = std::fs::remove_file(file);
            }
            Ok(Fetched::NotFound)
        }
    }
}

/// The entry in `file` for `url`, if it is whole and this tool's; anything else is `None`.
fn read(file: &Path, url: &str, limit: u64) -> Option<Entry> {
    let bytes = crate::regular_file::read(file, FORMAT.len() as u64 + MAX_HEADER + limit).ok()?;
    let rest = bytes.strip_prefix(FORMAT)?;
    let end = rest.iter().position(|b| *b == b'\n')?;
    let header: Header = serde_json::from_slice(&rest[..end]).ok()?;
    let body = &rest[end + 1..];
    let whole = header.url == url
        && body.len() as u64 <= limit
        && header.length == body.len() as u64
        && header.sha256 == hex::encode(Sha256::digest(body));
    whole.then(|| Entry {
        body: body.to_vec(),
        validators: Validators {
            etag: header.etag,
            last_modified: header.last_modified,
        },
    })
}

/// Writes the entry for `url` into `file`, atomically. A cache that cannot be written costs
/// the next run a download, nothing else, so a failure is let go.
fn write(file: &Path, url: &str, validators: &Validators, body: &[u8]) {
    let _ = try_write(file, url, validators, body);
}

fn try_write(file: &Path, url: &str, validators: &Validators, body: &[u8]) -> std::io::Result<()> {
    let header = Header {
        url: url.to_owned(),
        etag: validators.etag.clone(),
        last_modified: validators.last_modified.clone(),
        length: body.len() as u64,
        sha256: hex::encode(Sha256::digest(body)),
    };
    let header = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
    let dir = file
        .parent()
        .ok_or_else(|| std::io::Error::other("a cache entry has a folder"))?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".entry-")
        .tempfile_in(dir)?;
    temp.write_all(FORMAT)?;
    temp.write_all(&header)?;
    temp.write_all(b"\n")?;
    temp.write_all(body)?;
    temp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validators() -> Validators {
        Validators {
            etag: Some("\"abc\"".to_owned()),
            last_modified: None,
        }
    }

    #[test]
    fn an_entry_is_read_back_only_whole_and_for_its_own_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/entry");
        write(&file, "http://x/e", &validators(), b"body\n");
        let entry = read(&file, "http://x/e", 100).unwrap();
        assert_eq!(entry.body, b"body\n");
        assert_eq!(entry.validators, validators());
        // Another URL's entry (a key clash) says nothing of this one.
        assert!(read(&file, "http://x/f", 100).is_none());
        // Over the size limit: not read.
        assert!(read(&file, "http://x/e", 1).is_none());
        let whole = std::fs::read(&file).unwrap();
        // Every truncation, and a changed byte in the body, is refused.
        for cut in 0..whole.len() {
            std::fs::write(&file, &whole[..cut]).unwrap();
            assert!(read(&file, "http://x/e", 100).is_none(), "cut at {cut}");
        }
        let mut changed = whole.clone();
        *changed.last_mut().unwrap() = b'!';
        std::fs::write(&file, &changed).unwrap();
        assert!(read(&file, "http://x/e", 100).is_none());
        // No temporary file is left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("a/b")).unwrap().count(),
            1
        );
    }

    proptest::proptest! {
        /// Whatever a cache file holds, reading it never panics, and gives a body only if the
        /// file is one this module wrote.
        #[test]
        fn any_cache_file_is_read_or_discarded_never_a_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("entry");
            let mut content = FORMAT.to_vec();
            content.extend_from_slice(&bytes);
            std::fs::write(&file, &content).unwrap();
            proptest::prop_assert!(read(&file, "http://x/e", 1000).is_none());
            std::fs::write(&file, &bytes).unwrap();
            proptest::prop_assert!(read(&file, "http://x/e", 1000).is_none());
        }
    }
}
