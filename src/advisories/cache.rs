//! Where downloaded databases are kept, and whether that place can be trusted.
//!
//! A cached database is evidence: a planted one would let an audit pass on advisories an
//! attacker chose. So the cache lives only in the user's own cache folder
//! (`CHARTER_AUDIT_CACHE_DIR`, `$XDG_CACHE_HOME/charter-audit`, `~/.cache/charter-audit`),
//! never in the shared temporary folder: with no home there is no cache, and each run
//! downloads into a private folder of its own that it removes. The folder is created `0700`;
//! before use it must be a real folder (not a symbolic link), owned by this user and writable
//! by no one else; every folder above it must be root's or this user's and writable by no one
//! else unless sticky (as `/tmp`). What is inside is then checked against the digest recorded
//! when it was downloaded and verified (see `fetch`).

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
        check_parents(dir, me).map_err(refuse)?;
    }
    Ok(())
}

/// Whoever may rename an entry of a folder above the cache can swap the whole cache for one of
/// their own, so each real parent folder (links resolved) must be owned by root or this user
/// and writable by no one else, unless its sticky bit keeps others from renaming what they do
/// not own (as `/tmp`): ssh's `StrictModes` rule.
#[cfg(unix)]
fn check_parents(dir: &Path, me: u32) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let real = std::fs::canonicalize(dir).map_err(|e| e.to_string())?;
    for parent in real.ancestors().skip(1) {
        let meta = std::fs::metadata(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        let sticky = meta.mode() & 0o1000 != 0;
        if meta.uid() != 0 && meta.uid() != me {
            return Err(format!(
                "the folder above it, {}, is owned by another user (uid {})",
                parent.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 && !sticky {
            return Err(format!(
                "other users may rename or replace it: the folder above it, {}, is writable by others (mode {:o}) without the sticky bit",
                parent.display(),
                meta.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_cache_under_a_folder_others_may_write_is_refused() {
        let top = tempfile::tempdir().unwrap();
        let shared = top.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        let cache = shared.join("cache");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = secure(&cache).unwrap_err().to_string();
        assert!(error.contains("without the sticky bit"), "{error}");
        // The sticky bit keeps others from renaming what they do not own, as in /tmp.
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        secure(&cache).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        secure(&cache).unwrap();
        // A link above the cache is judged by the folder it leads to.
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let link = top.path().join("link");
        std::os::unix::fs::symlink(&shared, &link).unwrap();
        let error = secure(&link.join("cache")).unwrap_err().to_string();
        assert!(error.contains("without the sticky bit"), "{error}");
    }
}
