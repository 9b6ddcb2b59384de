//! Where downloaded databases are kept, and whether that place can be trusted.
//!
//! A cached database is evidence: a planted one would let an audit pass on advisories an
//! attacker chose. So the cache lives only in the user's own cache folder
//! (`CHARTER_AUDIT_CACHE_DIR`, `$XDG_CACHE_HOME/charter-audit`, `~/.cache/charter-audit`),
//! never in the shared temporary folder: with no home there is no cache, and each run
//! downloads into a private folder of its own that it removes. The folder is created `0700`;
//! before use it must be a real folder (not a symbolic link), owned by this user and writable
//! by no one else. What is inside is then checked against the digest recorded when it was
//! downloaded and verified (see `fetch`).

use std::path::{Path, PathBuf};

/// The cache folder, or `None` when the user has none (no usable home): then nothing is
/// cached.
pub fn cache_dir() -> Option<PathBuf> {
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(dir) = std::env::var_os("CHARTER_AUDIT_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    // The XDG base directory specification ignores a relative value.
    if let Some(dir) = absolute("XDG_CACHE_HOME") {
        return Some(dir.join("charter-audit"));
    }
    absolute("HOME").map(|home| home.join(".cache").join("charter-audit"))
}

/// Why a cache folder is not used.
#[derive(Debug, thiserror::Error)]
#[error(
    "advisory database cache {}: {reason}; another user could plant a database there. Remove it, or set CHARTER_AUDIT_CACHE_DIR to a folder of your own (mode 700)",
    .path.display()
)]
pub struct UnsafeCache {
    pub path: PathBuf,
    pub reason: String,
}

/// Creates `dir` (mode `0700`) if it is missing, then checks that it is a folder, not a link,
/// owned by this user and writable by no one else.
pub(crate) fn secure(dir: &Path) -> Result<(), UnsafeCache> {
    let refuse = |reason: String| UnsafeCache {
        path: dir.to_path_buf(),
        reason,
    };
    if std::fs::symlink_metadata(dir).is_err() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .map_err(|e| refuse(format!("could not create it ({e})")))?;
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| refuse(e.to_string()))?;
    if meta.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link".to_owned()));
    }
    if !meta.is_dir() {
        return Err(refuse("it is not a folder".to_owned()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            return Err(refuse(format!(
                "it is owned by another user (uid {}, not {me})",
                meta.uid()
            )));
        }
        // Others may read public advisories; they must not write them.
        if meta.mode() & 0o022 != 0 {
            return Err(refuse(format!(
                "other users may write to it (mode {:o})",
                meta.mode() & 0o777
            )));
        }
    }
    Ok(())
}
